"""Returned parcels unpacked at the desk (拆件登记)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .base import TimeStampedModel, choices_check
from .orders import Order
from .shops import Courier, Shop
from .tickets import Ticket


class ReturnParcelCondition(models.TextChoices):
    INTACT = "intact", _("完好")
    WORN = "worn", _("有穿着/使用痕迹")
    DAMAGED = "damaged", _("破损")
    INCOMPLETE = "incomplete", _("缺件")
    WRONG_GOODS = "wrong_goods", _("非本店商品")


class ReturnParcel(TimeStampedModel):
    Condition = ReturnParcelCondition

    tracking_no = models.CharField(_("退回运单号"), max_length=40, unique=True)
    courier = models.ForeignKey(
        Courier, verbose_name=_("物流公司"), null=True, blank=True, on_delete=models.PROTECT
    )
    # A parcel that matches nothing has no shop, order or ticket yet: it is "unknown".
    shop = models.ForeignKey(
        Shop, verbose_name=_("店铺"), null=True, blank=True, on_delete=models.PROTECT
    )
    order = models.ForeignKey(
        Order,
        verbose_name=_("订单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=pgettext_lazy("singular", "售后单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="parcels",
    )
    condition = models.CharField(_("状况"), max_length=16, choices=Condition.choices)
    contents = models.TextField(_("包裹内容"), blank=True)
    buyer_note = models.TextField(_("买家留条"), blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("拆件人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    matched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("匹配人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    matched_at = models.DateTimeField(_("匹配时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("退回包裹")
        verbose_name_plural = pgettext_lazy("plural", "退回包裹")
        ordering = ["-created_at"]
        constraints = [
            choices_check("condition", ReturnParcelCondition, "parcel_condition_valid"),
            models.CheckConstraint(
                condition=Q(ticket__isnull=True) | Q(order__isnull=False),
                name="parcel_ticket_implies_order",
            ),
            models.CheckConstraint(
                condition=Q(order__isnull=True) | Q(shop__isnull=False),
                name="parcel_order_implies_shop",
            ),
        ]

    def __str__(self):
        return self.tracking_no

    @property
    def is_unknown(self) -> bool:
        return self.order_id is None
