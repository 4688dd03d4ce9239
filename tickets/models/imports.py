"""What came in from the seller centre: import batches, their files, and refund requests.

An import is previewed first (everything is checked and counted, nothing is kept) and then
applied as one transaction. The uploaded files are kept privately only while a preview waits
for its confirmation; the batch row, with its report, stays as the record of who imported
what.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .base import DeskModel, MoneyField, TimeStampedModel, choices_check
from .orders import Order
from .shops import Shop
from .tickets import Ticket


class OrderImportStatus(models.TextChoices):
    PREVIEWED = "previewed", _("待确认")
    REFUSED = "refused", _("有错误，未导入")
    APPLIED = "applied", _("已导入")
    DISCARDED = "discarded", _("已放弃")


class OrderImportSource(models.TextChoices):
    WEB = "web", _("网页上传")
    COMMAND = "command", _("命令行")


class OrderImport(TimeStampedModel):
    Status = OrderImportStatus
    Source = OrderImportSource

    shop = models.ForeignKey(
        Shop, verbose_name=_("店铺"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PREVIEWED
    )
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices, default=Source.WEB)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Counts, bad rows and warnings as the last run (preview or import) found them.
    report = models.JSONField(_("检查结果"), default=dict, blank=True)
    error_count = models.PositiveIntegerField(_("错误行数"), default=0)
    applied_at = models.DateTimeField(_("导入时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("订单导入")
        verbose_name_plural = pgettext_lazy("plural", "订单导入")
        ordering = ["-created_at"]
        constraints = [
            choices_check("status", OrderImportStatus, "order_import_status_valid"),
            choices_check("source", OrderImportSource, "order_import_source_valid"),
        ]

    def __str__(self):
        return f"{self.shop} {timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"


class OrderImportFileKind(models.TextChoices):
    ORDERS = "orders", _("订单文件")
    ITEMS = "items", _("宝贝明细文件")
    REFUNDS = "refunds", _("退款文件")


def import_file_path(instance: "OrderImportFile", filename: str) -> str:
    """A generated name in private storage; the client's file name is kept only as data."""
    return f"imports/{uuid.uuid4().hex}.csv"


class OrderImportFile(DeskModel):
    Kind = OrderImportFileKind

    batch = models.ForeignKey(
        OrderImport, verbose_name=_("导入批次"), on_delete=models.CASCADE, related_name="files"
    )
    kind = models.CharField(_("文件类型"), max_length=16, choices=Kind.choices)
    # Emptied once the batch is applied or given up: buyers' data is not kept longer.
    file = models.FileField(_("文件"), upload_to=import_file_path, max_length=255, blank=True)
    original_name = models.CharField(_("原文件名"), max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size_bytes = models.PositiveBigIntegerField(_("大小"))
    encoding = models.CharField(_("编码"), max_length=20, blank=True)
    row_count = models.PositiveIntegerField(_("数据行数"), default=0)
    column_count = models.PositiveIntegerField(_("列数"), default=0)

    class Meta:
        verbose_name = _("导入文件")
        verbose_name_plural = pgettext_lazy("plural", "导入文件")
        ordering = ["batch", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "kind"], name="import_file_one_per_kind"),
            choices_check("kind", OrderImportFileKind, "import_file_kind_valid"),
        ]

    def __str__(self):
        return self.original_name or self.get_kind_display()


class RefundRequest(TimeStampedModel):
    """A refund request from the seller centre's refund export (退款编号) and the ticket it
    opened. Re-importing the export updates it; the ticket follows through the services."""

    shop = models.ForeignKey(
        Shop, verbose_name=_("店铺"), on_delete=models.PROTECT, related_name="+"
    )
    order = models.ForeignKey(
        Order, verbose_name=_("订单"), on_delete=models.PROTECT, related_name="refund_requests"
    )
    ticket = models.OneToOneField(
        Ticket,
        verbose_name=pgettext_lazy("singular", "售后单"),
        on_delete=models.PROTECT,
        related_name="refund_request",
    )
    refund_no = models.CharField(_("退款编号"), max_length=32)
    status = models.CharField(_("退款状态"), max_length=60)
    goods_status = models.CharField(_("货物状态"), max_length=60, blank=True)
    needs_return = models.BooleanField(_("需要退货"), default=False)
    amount = MoneyField(_("买家退款金额"))
    reason = models.CharField(_("买家退款原因"), max_length=100, blank=True)
    description = models.TextField(_("买家退款说明"), blank=True)
    return_courier_name = models.CharField(_("退货物流公司"), max_length=50, blank=True)
    return_tracking_no = models.CharField(_("退货物流单号"), max_length=40, blank=True)
    intervention_status = models.CharField(_("客服介入状态"), max_length=60, blank=True)
    timeout_at = models.DateTimeField(_("超时时间"), null=True, blank=True)
    evidence_deadline = models.DateTimeField(_("举证超时"), null=True, blank=True)

    class Meta:
        verbose_name = _("平台退款申请")
        verbose_name_plural = pgettext_lazy("plural", "平台退款申请")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "refund_no"], name="refund_no_unique_per_shop"),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="refund_request_amount_not_negative"
            ),
        ]

    def __str__(self):
        return self.refund_no


__all__ = ["OrderImport", "OrderImportFile", "RefundRequest"]
