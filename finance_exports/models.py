"""The spreadsheets the desk hands to finance, one row per (kind, business date).

A sheet *claims* what it reports in the same transaction that creates it: a finance sheet
claims ledger entries (``FinanceSheetEntry``, one sheet per entry, held by a unique key) and
the buyers' price-difference payments on exchanges (``FinanceSheetCharge``, likewise), an
exchange-goods list claims exchange tickets (``ExchangeLine``), an invoice batch claims invoice
requests (``InvoiceBatchLine``, one batch per request). The file is written afterwards from
those claims, so a retry writes the same content and nothing is ever claimed twice.

The claims point at the desk's rows from here; the desk's models know nothing of sheets
(``tickets`` never imports ``finance_exports``).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tickets.models.base import AppendOnlyModel, MoneyField, TimeStampedModel, choices_check


def sheet_path(instance: "Sheet", filename: str) -> str:
    return f"sheets/{instance.kind}/{filename}"


class SheetKind(models.TextChoices):
    FINANCE = "finance", _("财务表")
    EXCHANGES = "exchanges", _("换货清单")
    COURIER_LOSS = "courier_loss", _("快递丢件月结")
    INVOICES = "invoices", _("开票批次")
    EXCHANGE_SLIPS = "exchange_slips", _("换货蓝单月表")


class SheetStatus(models.TextChoices):
    BUILDING = "building", _("生成中")
    READY = "ready", _("可下载")
    AWAITING_APPROVAL = "awaiting_approval", _("待主管签字")
    APPROVED = "approved", _("已签字")
    FAILED = "failed", _("失败")


# Statuses in which the sheet's file is complete and may be downloaded.
FILE_READY_STATUSES = (SheetStatus.READY, SheetStatus.AWAITING_APPROVAL, SheetStatus.APPROVED)


class SheetQuerySet(models.QuerySet):
    def downloadable(self):
        return self.filter(status__in=FILE_READY_STATUSES)


class Sheet(TimeStampedModel):
    Kind = SheetKind
    Status = SheetStatus

    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    business_date = models.DateField(
        _("业务日期"), help_text=_("日表为当天；月表为当月第一天；开票批次为批次日期。")
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.BUILDING
    )
    file = models.FileField(_("文件"), upload_to=sheet_path, max_length=255, blank=True)
    row_count = models.PositiveIntegerField(_("行数"), default=0)
    total_amount = MoneyField(_("合计金额"), default=0, validators=[])
    totals = models.JSONField(_("分项合计"), default=dict, blank=True)
    error = models.TextField(_("失败原因"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("生成次数"), default=0)
    ready_at = models.DateTimeField(_("生成完成时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("手动生成人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签字人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("签字时间"), null=True, blank=True)
    cutoff_at = models.DateTimeField(
        _("截止时间"), null=True, blank=True, help_text=_("在此时间之前登记的内容进入这张表。")
    )
    claimed_at = models.DateTimeField(_("归集时间"), null=True, blank=True)

    objects = SheetQuerySet.as_manager()

    class Meta:
        verbose_name = _("报表")
        verbose_name_plural = pgettext_lazy("plural", "报表")
        ordering = ["-business_date", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "business_date"], name="sheet_one_per_kind_and_date"
            ),
            choices_check("kind", SheetKind, "sheet_kind_valid"),
            choices_check("status", SheetStatus, "sheet_status_valid"),
            models.CheckConstraint(
                condition=~Q(status="approved")
                | Q(approved_by__isnull=False, approved_at__isnull=False),
                name="sheet_approved_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["ready", "awaiting_approval", "approved"]) | ~Q(file=""),
                name="sheet_ready_has_file",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["ready", "awaiting_approval", "approved"])
                | Q(claimed_at__isnull=False, cutoff_at__isnull=False),
                name="sheet_ready_was_claimed",
            ),
        ]
        permissions = [
            ("download_sheet", _("可以下载报表")),
            ("approve_sheet", _("可以签字确认换货清单")),
            ("rebuild_sheet", _("可以重新生成失败的报表")),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.business_date:%Y-%m-%d}"

    def get_absolute_url(self):
        return reverse("finance_exports:sheet_detail", args=[self.pk])

    @property
    def has_file(self) -> bool:
        return self.status in FILE_READY_STATUSES and bool(self.file)

    @property
    def download_name(self) -> str:
        """The file name finance sees: "财务表-2026-11-24.xlsx"."""
        return f"{self.get_kind_display()}-{self.business_date:%Y-%m-%d}.xlsx"


class SheetDownload(AppendOnlyModel):
    """Every download of a sheet: who and when. Never edited."""

    sheet = models.ForeignKey(
        Sheet, verbose_name=_("报表"), on_delete=models.PROTECT, related_name="downloads"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("下载人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    downloaded_at = models.DateTimeField(_("下载时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("报表下载记录")
        verbose_name_plural = pgettext_lazy("plural", "报表下载记录")
        ordering = ["-downloaded_at"]

    def __str__(self):
        return f"{self.sheet} {self.user}"


class FinanceSheetEntry(AppendOnlyModel):
    """A ledger entry claimed by the finance sheet it is reported on.

    The unique key on ``entry`` is what makes "never on two sheets" a fact of the database.
    """

    sheet = models.ForeignKey(
        Sheet, verbose_name=_("报表"), on_delete=models.PROTECT, related_name="ledger_claims"
    )
    entry = models.OneToOneField(
        "tickets.LedgerEntry",
        verbose_name=_("资金流水"),
        on_delete=models.PROTECT,
        related_name="finance_sheet_claim",
    )

    class Meta:
        verbose_name = _("财务表流水")
        verbose_name_plural = pgettext_lazy("plural", "财务表流水")

    def __str__(self):
        return f"{self.sheet} #{self.entry_id}"


class FinanceSheetCharge(AppendOnlyModel):
    """A price difference a buyer paid on an exchange (补差价, money in), or its reversal,
    claimed by the finance sheet it is reported on.

    Like ``FinanceSheetEntry``: the unique key on ``charge`` makes "never on two sheets" a
    fact of the database. Never edited or deleted.
    """

    sheet = models.ForeignKey(
        Sheet, verbose_name=_("报表"), on_delete=models.PROTECT, related_name="charge_claims"
    )
    charge = models.OneToOneField(
        "tickets.ExchangeCharge",
        verbose_name=_("换货补差价"),
        on_delete=models.PROTECT,
        related_name="finance_sheet_claim",
    )

    class Meta:
        verbose_name = _("财务表补差价")
        verbose_name_plural = pgettext_lazy("plural", "财务表补差价")

    def __str__(self):
        return f"{self.sheet} #{self.charge_id}"


class InvoiceBatchLine(AppendOnlyModel):
    """An invoice request claimed by the ten-day invoice batch it goes to finance on.

    The unique key on ``invoice`` is what makes "a request is on one batch" a fact of the
    database. Never edited or deleted.
    """

    sheet = models.ForeignKey(
        Sheet, verbose_name=_("开票批次表"), on_delete=models.PROTECT, related_name="invoice_claims"
    )
    invoice = models.OneToOneField(
        "tickets.InvoiceRequest",
        verbose_name=_("发票申请"),
        on_delete=models.PROTECT,
        related_name="batch_claim",
    )

    class Meta:
        verbose_name = _("开票批次行")
        verbose_name_plural = pgettext_lazy("plural", "开票批次行")

    def __str__(self):
        return f"{self.sheet} #{self.invoice_id}"


class ExchangeLine(TimeStampedModel):
    """An exchange ticket on an exchange-goods list. A supervisor may take it off the list
    before signing (it goes back to the queue and onto a later list); the row stays, with who,
    when and why."""

    sheet = models.ForeignKey(
        Sheet, verbose_name=_("换货清单"), on_delete=models.PROTECT, related_name="exchange_lines"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=pgettext_lazy("singular", "售后单"),
        on_delete=models.PROTECT,
        related_name="exchange_lines",
    )
    removed_at = models.DateTimeField(_("移出时间"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("移出人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    removed_reason = models.CharField(_("移出原因"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("换货清单行")
        verbose_name_plural = pgettext_lazy("plural", "换货清单行")
        ordering = ["sheet", "id"]
        constraints = [
            models.UniqueConstraint(fields=["sheet", "ticket"], name="exchange_line_once_per_list"),
            # A ticket is on at most one list at a time.
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(removed_at__isnull=True),
                name="exchange_line_one_active_per_ticket",
            ),
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True, removed_by__isnull=True, removed_reason="")
                | (Q(removed_at__isnull=False) & ~Q(removed_reason="")),
                name="exchange_line_removed_with_when_and_why",
            ),
        ]

    def __str__(self):
        return f"{self.sheet} {self.ticket}"

    @property
    def is_active(self) -> bool:
        return self.removed_at is None
