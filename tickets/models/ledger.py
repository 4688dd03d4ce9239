"""The money ledger: postage, compensation and refunds, append-only.

Every amount is positive. A correction is a new entry that *reverses* an earlier one (it
counts with the opposite sign); an entry can be reversed once, and no entry is ever
edited or deleted. The database holds these rules too (constraints and, on PostgreSQL,
triggers), not only this module.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tickets.money import CENT, MONEY_MAX_DIGITS, MONEY_PLACES

from .base import AppendOnlyModel, choices_check
from .orders import Order
from .shops import Shop
from .tickets import Ticket


class LedgerEntryKind(models.TextChoices):
    POSTAGE = "postage", _("邮费")
    COMPENSATION = "compensation", _("赔偿")
    REFUND = "refund", _("退款")


class LedgerEntryPaymentMethod(models.TextChoices):
    ALIPAY_TRANSFER = "alipay_transfer", _("支付宝转账")
    PLATFORM_REFUND = "platform_refund", _("平台退款")
    COUPON = "coupon", _("优惠券")
    RED_PACKET = "red_packet", _("红包")
    BANK_TRANSFER = "bank_transfer", _("银行转账")
    OTHER = "other", _("其他")


class LedgerEntry(AppendOnlyModel):
    Kind = LedgerEntryKind
    PaymentMethod = LedgerEntryPaymentMethod

    shop = models.ForeignKey(
        Shop, verbose_name=_("店铺"), on_delete=models.PROTECT, related_name="+"
    )
    # No index of its own: ``ledger_order_kind_idx`` (order, kind) leads with it.
    order = models.ForeignKey(
        Order,
        verbose_name=_("订单"),
        on_delete=models.PROTECT,
        related_name="ledger_entries",
        db_index=False,
    )
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=pgettext_lazy("singular", "售后单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    amount = models.DecimalField(
        _("金额"), max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_PLACES
    )
    payment_method = models.CharField(_("支付方式"), max_length=20, choices=PaymentMethod.choices)
    note = models.CharField(_("备注"), max_length=255, blank=True)
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("冲销的记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversal",
    )
    requires_approval = models.BooleanField(_("需要主管审批"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("登记时间"), default=timezone.now, db_index=True)
    # A server-issued one-time key from the form: the same POST twice makes one row.
    idempotency_key = models.CharField(
        _("提交编号"), max_length=64, null=True, blank=True, unique=True
    )

    class Meta:
        verbose_name = _("资金流水")
        verbose_name_plural = pgettext_lazy("plural", "资金流水")
        ordering = ["recorded_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_amount_positive"),
            choices_check("kind", LedgerEntryKind, "ledger_kind_valid"),
            choices_check(
                "payment_method", LedgerEntryPaymentMethod, "ledger_payment_method_valid"
            ),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True) | ~Q(reverses=F("id")),
                name="ledger_not_reversing_itself",
            ),
        ]
        indexes = [
            models.Index(fields=["order", "kind"], name="ledger_order_kind_idx"),
            # The compensation waiting for a supervisor, oldest first (the inbox, the approvals
            # page): a handful of entries among a million, read without the whole ledger.
            models.Index(
                fields=["recorded_at", "id"],
                condition=Q(requires_approval=True),
                name="ledger_awaiting_approval_idx",
            ),
        ]
        permissions = [("approve_compensation", _("可以审批超额赔偿"))]

    def __str__(self):
        return f"{self.get_kind_display()} {self.signed_amount} ¥ ({self.order_id})"

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None

    @property
    @admin.display(description=_("金额（冲销为负）"))
    def signed_amount(self) -> Decimal:
        """What the entry adds to the totals: a reversal counts negative."""
        return -self.amount if self.is_reversal else self.amount

    def clean(self):
        super().clean()
        if self.amount is None:
            return
        amount = Decimal(self.amount)
        if amount <= 0:
            raise ValidationError({"amount": _("金额必须大于 0。")})
        if amount != amount.quantize(CENT):
            raise ValidationError({"amount": _("金额最多两位小数。")})

    def save(self, *args, **kwargs):
        # The model refuses what the column would silently round (1.234 -> 1.23).
        if self._state.adding:
            self.clean()
        super().save(*args, **kwargs)


class LedgerApproval(AppendOnlyModel):
    """A supervisor's decision on compensation above the threshold. Written once."""

    entry = models.OneToOneField(
        LedgerEntry, verbose_name=_("资金流水"), on_delete=models.PROTECT, related_name="approval"
    )
    approved = models.BooleanField(_("批准"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), default=timezone.now)
    reason = models.CharField(_("理由"), max_length=255, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "赔偿审批")
        verbose_name_plural = _("赔偿审批")

    def __str__(self):
        return f"{self.entry} {'✓' if self.approved else '✗'}"
