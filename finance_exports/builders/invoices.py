"""The invoice batch (开票批次), every ten days: dated the 1st, 11th and 21st.

A batch claims every invoice request still "requested" that was recorded before its cut-off
(its due time on the batch date) and is on no batch: in the transaction that creates the
sheet it writes an ``InvoiceBatchLine`` for the request (unique per request) and moves it to
"batched". A request can therefore be on one batch only, a declined one never, and one
recorded after the cut-off (or committed late) waits for the next batch.
"""

from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.spreadsheets import MONEY, NUMBER, TIME, Column, SheetBook, local_naive
from finance_exports.models import InvoiceBatchLine, Sheet
from tickets.models import InvoiceRequest
from tickets.money import ZERO, cents

from . import Period, SheetBuilder, Summary, register

INV = InvoiceRequest.Status


@register
class InvoiceBatchBuilder(SheetBuilder):
    kind = Sheet.Kind.INVOICES
    period = Period.TEN_DAYS
    scheduled = True

    # -- claiming -----------------------------------------------------------------------
    def claimable(self, sheet: Sheet) -> QuerySet[InvoiceRequest]:
        on_a_batch = InvoiceBatchLine.objects.filter(invoice=OuterRef("pk"))
        return InvoiceRequest.objects.filter(
            ~Exists(on_a_batch), status=INV.REQUESTED, created_at__lt=sheet.cutoff_at
        )

    def claim(self, sheet: Sheet) -> int:
        # The requests are locked, and a request another transaction changed while we waited
        # for its lock is checked again (PostgreSQL re-reads it): one declined meanwhile is no
        # longer "requested" and stays off the batch.
        claimed = list(
            self.claimable(sheet).select_for_update().order_by("pk").values_list("pk", flat=True)
        )
        InvoiceBatchLine.objects.bulk_create(
            [InvoiceBatchLine(sheet=sheet, invoice_id=pk) for pk in claimed], batch_size=1000
        )
        # Marked through the lines just written: no list of ids in the query, however long
        # the backlog (one query takes at most 65,535 parameters, 32,766 on SQLite).
        InvoiceRequest.objects.filter(batch_claim__sheet=sheet).update(
            status=INV.BATCHED, updated_at=timezone.now()
        )
        return len(claimed)

    # -- reading the claims ---------------------------------------------------------------
    @staticmethod
    def requests(sheet: Sheet) -> QuerySet[InvoiceRequest]:
        return InvoiceRequest.objects.filter(batch_claim__sheet=sheet)

    def summarize(self, sheet: Sheet) -> Summary:
        requests = self.requests(sheet)
        by_shop = [
            {"shop": row["shop__name"], "count": row["count"], "amount": str(cents(row["amount"]))}
            for row in requests.values("shop__name")
            .annotate(count=Count("pk"), amount=Sum("amount"))
            .order_by("shop__name")
        ]
        count = sum(row["count"] for row in by_shop)
        total = sum((Decimal(row["amount"]) for row in by_shop), ZERO)
        return Summary(
            row_count=count,
            total_amount=total,
            totals={"by_shop": by_shop, "count": count, "total": str(total)},
        )

    # -- the workbook ---------------------------------------------------------------------
    @staticmethod
    def columns() -> list[Column]:
        return [
            Column(_("店铺"), 16),
            Column(_("订单编号"), 21),
            Column(_("买家会员名"), 15),
            Column(_("发票抬头"), 30),
            Column(_("税号"), 22),
            Column(_("开票金额"), 12, MONEY),
            Column(_("申请时间"), 19, TIME),
            Column(_("登记人"), 10),
        ]

    def write(self, sheet: Sheet, book: SheetBook) -> None:
        self._write_summary(sheet, book)
        self._write_detail(sheet, book)

    def _write_summary(self, sheet: Sheet, book: SheetBook) -> None:
        totals = sheet.totals
        writer = book.table(
            _("汇总"),
            [Column(_("店铺"), 24), Column(_("笔数"), 10, NUMBER), Column(_("金额"), 16, MONEY)],
            preamble=[
                _("开票批次 %(date)s") % {"date": f"{sheet.business_date:%Y-%m-%d}"},
                _("收录 %(cutoff)s（北京时间）之前登记、尚未交给财务的发票申请。")
                % {"cutoff": f"{local_naive(sheet.cutoff_at):%Y-%m-%d %H:%M}"},
            ],
        )
        for row in totals["by_shop"]:
            writer.append([row["shop"], row["count"], Decimal(row["amount"])])
        writer.append_cells([None])
        writer.append_cells(
            [
                writer.bold(_("合计")),
                writer.bold(totals["count"]),
                writer.money(Decimal(totals["total"]), bold=True),
            ]
        )
        writer.finish(filter_rows=False)

    def _write_detail(self, sheet: Sheet, book: SheetBook) -> None:
        writer = book.table(_("明细"), self.columns())
        rows = (
            self.requests(sheet)
            .order_by("shop__name", "created_at", "pk")
            .values_list(
                "shop__name",
                "order__order_no",
                "order__buyer_nick",
                "title",
                "tax_no",
                "amount",
                "created_at",
                "recorded_by__username",
                "recorded_by__last_name",
                "recorded_by__first_name",
            )
        )
        for shop, order_no, nick, title, tax_no, amount, at, username, last, first in rows:
            writer.append(
                (
                    shop,
                    order_no,
                    nick,
                    title,
                    tax_no,
                    amount,
                    at,
                    f"{last}{first}".strip() or username,
                )
            )
        writer.finish()
