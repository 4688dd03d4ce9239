"""Courier losses (快递丢件/遗失): a report per parcel, settled with the courier monthly."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .base import MoneyField, TimeStampedModel, choices_check
from .orders import Order
from .shops import Courier, Shop
from .tickets import Ticket


class CourierLossReportStatus(models.TextChoices):
    DRAFTED = "drafted", _("草稿")
    HANDED = "handed", _("已交快递")
    ACCEPTED = "accepted", _("快递已认可")
    REJECTED = "rejected", _("快递拒赔")
    SETTLED = "settled", _("已结算")


class CourierLossReportShopAction(models.TextChoices):
    RESHIP = "reship", _("补发")
    REFUND = "refund", _("退款")


class CourierLossReportDamage(models.TextChoices):
    LOST = "lost", _("丢件")
    DAMAGED = "damaged", _("破损")


class CourierLossReport(TimeStampedModel):
    Status = CourierLossReportStatus
    ShopAction = CourierLossReportShopAction
    Damage = CourierLossReportDamage

    shop = models.ForeignKey(
        Shop, verbose_name=_("店铺"), on_delete=models.PROTECT, related_name="+"
    )
    courier = models.ForeignKey(Courier, verbose_name=_("快递公司"), on_delete=models.PROTECT)
    tracking_no = models.CharField(_("运单号"), max_length=40)
    order = models.ForeignKey(
        Order, verbose_name=_("订单"), on_delete=models.PROTECT, related_name="+"
    )
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=pgettext_lazy("singular", "售后单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    damage = models.CharField(
        _("丢件/破损"), max_length=16, choices=Damage.choices, default=Damage.LOST
    )
    items_description = models.TextField(_("物品"))
    items_value = MoneyField(_("物品价值"))
    shop_action = models.CharField(_("店铺处理"), max_length=16, choices=ShopAction.choices)
    claimed_amount = MoneyField(_("索赔金额"))
    received_amount = MoneyField(_("实收赔款"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.DRAFTED
    )
    handed_at = models.DateTimeField(_("交快递时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("快递答复时间"), null=True, blank=True)
    settled_at = models.DateTimeField(_("结算时间"), null=True, blank=True)
    note = models.TextField(_("备注"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("快递丢件报告")
        verbose_name_plural = pgettext_lazy("plural", "快递丢件报告")
        ordering = ["-created_at"]
        constraints = [
            choices_check("status", CourierLossReportStatus, "loss_status_valid"),
            choices_check("shop_action", CourierLossReportShopAction, "loss_shop_action_valid"),
            choices_check("damage", CourierLossReportDamage, "loss_damage_valid"),
            models.UniqueConstraint(fields=["courier", "tracking_no"], name="loss_one_per_parcel"),
            models.CheckConstraint(
                condition=Q(items_value__gte=0)
                & Q(claimed_amount__gte=0)
                & (Q(received_amount__isnull=True) | Q(received_amount__gte=0)),
                name="loss_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=~Q(status="settled")
                | Q(received_amount__isnull=False, settled_at__isnull=False),
                name="loss_settled_has_amount",
            ),
        ]

    def __str__(self):
        return f"{self.courier} {self.tracking_no}"
