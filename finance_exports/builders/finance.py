"""The 4 pm finance sheet (财务表): every ledger entry since the previous finance sheet, and
the price differences buyers paid on exchanges (补差价) since then.

An entry is claimed by the first finance sheet built after it counts (recorded, and approved
when it needs approval) whose cut-off is after its recording time. Claims are rows of
``FinanceSheetEntry``; the unique key on the entry means no entry can be on two sheets, and
"not yet claimed" (not "recorded since yesterday 16:00") is what makes late commits, back-dated
entries and late approvals land on the next sheet instead of on none.

A price difference (``ExchangeCharge``, and its reversal) is claimed the same way, in the same
transaction, by a ``FinanceSheetCharge``. It is money the shop *received*, so it is never added
to the ledger's totals (what the shop paid out): it has its own totals (``totals["received"]``),
its own lines in 汇总 and its own worksheet (补差价收入).
"""

from decimal import Decimal

from django.db import connection
from django.db.models import Case, Count, DecimalField, F, QuerySet, Sum, Value, When
from django.utils.translation import gettext as _

from aftersales.spreadsheets import (
    MONEY,
    NUMBER,
    TIME,
    WALL_TIME,
    Column,
    SheetBook,
    local_naive,
)
from finance_exports.models import FinanceSheetCharge, FinanceSheetEntry, Sheet
from tickets.models import ExchangeCharge, LedgerEntry, Ticket
from tickets.money import ZERO, cents, counted

from . import SheetBuilder, Summary, read_in_full, register, ticket_number, wall_clock

# A reversal counts negative (LedgerEntry.signed_amount), in SQL.
SIGNED_AMOUNT = Case(
    When(reverses__isnull=False, then=F("amount") * Value(-1)),
    default=F("amount"),
    output_field=DecimalField(max_digits=14, decimal_places=2),
)


@register
class FinanceSheetBuilder(SheetBuilder):
    kind = Sheet.Kind.FINANCE
    scheduled = True

    # -- claiming -----------------------------------------------------------------------
    def claimable(self, sheet: Sheet) -> QuerySet[LedgerEntry]:
        """Entries that count, were recorded before the cut-off and are on no sheet yet."""
        return counted(
            LedgerEntry.objects.filter(
                recorded_at__lt=sheet.cutoff_at, finance_sheet_claim__isnull=True
            )
        )

    @staticmethod
    def claimable_charges(sheet: Sheet) -> QuerySet[ExchangeCharge]:
        """Price differences (and reversals) recorded before the cut-off, on no sheet yet."""
        return ExchangeCharge.objects.filter(
            recorded_at__lt=sheet.cutoff_at, finance_sheet_claim__isnull=True
        )

    def claim(self, sheet: Sheet) -> int:
        return _insert_claims(
            sheet, FinanceSheetEntry, "entry_id", self.claimable(sheet)
        ) + _insert_claims(sheet, FinanceSheetCharge, "charge_id", self.claimable_charges(sheet))

    # -- reading the claims ---------------------------------------------------------------
    @staticmethod
    def entries(sheet: Sheet) -> QuerySet[LedgerEntry]:
        return LedgerEntry.objects.filter(finance_sheet_claim__sheet=sheet)

    @staticmethod
    def charges(sheet: Sheet) -> QuerySet[ExchangeCharge]:
        return ExchangeCharge.objects.filter(finance_sheet_claim__sheet=sheet)

    def summarize(self, sheet: Sheet) -> Summary:
        entries = self.entries(sheet)
        by_kind = {
            row["kind"]: row
            for row in entries.values("kind")
            .annotate(count=Count("pk"), amount=Sum(SIGNED_AMOUNT))
            .order_by()
        }
        by_shop = (
            entries.values("shop__name")
            .annotate(count=Count("pk"), amount=Sum(SIGNED_AMOUNT))
            .order_by("shop__name")
        )
        kinds = [
            {
                "kind": kind,
                "count": by_kind[kind]["count"],
                "amount": str(cents(by_kind[kind]["amount"])),
            }
            for kind in LedgerEntry.Kind.values
            if kind in by_kind
        ]
        shops = [
            {"shop": row["shop__name"], "count": row["count"], "amount": str(cents(row["amount"]))}
            for row in by_shop
        ]
        count = sum(row["count"] for row in kinds)
        total = sum((Decimal(row["amount"]) for row in kinds), ZERO)
        return Summary(
            row_count=count,
            total_amount=total,
            totals={
                "by_kind": kinds,
                "by_shop": shops,
                "count": count,
                "total": str(total),
                "received": self._summarize_charges(sheet),
            },
        )

    def _summarize_charges(self, sheet: Sheet) -> dict:
        """Money in: the price differences, per shop and in all (reversals negative). Kept
        apart from ``count``/``total`` (and the sheet's ``row_count``/``total_amount``), which
        are what the shop paid out."""
        by_shop = [
            {
                "shop": row["ticket__shop__name"],
                "count": row["count"],
                "amount": str(cents(row["amount"])),
            }
            for row in self.charges(sheet)
            .values("ticket__shop__name")
            .annotate(count=Count("pk"), amount=Sum(SIGNED_AMOUNT))
            .order_by("ticket__shop__name")
        ]
        count = sum(row["count"] for row in by_shop)
        total = sum((Decimal(row["amount"]) for row in by_shop), ZERO)
        return {"by_shop": by_shop, "count": count, "total": str(cents(total))}

    # -- the workbook ---------------------------------------------------------------------
    @staticmethod
    def columns() -> list[Column]:
        return [
            Column(_("流水号"), 10, NUMBER),
            Column(_("登记时间"), 19, WALL_TIME),  # read with ``wall_clock``
            Column(_("店铺"), 18),
            Column(_("订单编号"), 21),
            Column(_("买家会员名"), 16),
            Column(_("售后单号"), 11),
            Column(_("类型"), 9),
            Column(_("原因"), 14),
            Column(_("金额"), 12, MONEY),
            Column(_("支付方式"), 11),
            Column(_("登记人"), 10),
            Column(_("备注"), 36),
            Column(_("冲销原流水号"), 13, NUMBER),
        ]

    @staticmethod
    def charge_columns() -> list[Column]:
        return [
            Column(_("记录号"), 10, NUMBER),
            Column(_("店铺"), 18),
            Column(_("售后单号"), 11),
            Column(_("订单编号"), 21),
            Column(_("补差价订单号"), 21),
            Column(_("金额"), 12, MONEY),
            Column(_("登记人"), 10),
            Column(_("登记时间"), 19, TIME),
            Column(_("备注"), 36),
            Column(_("冲销原记录号"), 13, NUMBER),
        ]

    def write(self, sheet: Sheet, book: SheetBook) -> None:
        self._write_summary(sheet, book)
        self._write_detail(sheet, book)
        self._write_charges(sheet, book)

    def _write_summary(self, sheet: Sheet, book: SheetBook) -> None:
        totals = sheet.totals
        writer = book.table(
            _("汇总"),
            [Column(_("项目"), 24), Column(_("笔数"), 10, NUMBER), Column(_("金额"), 16, MONEY)],
            preamble=[
                _("财务表 %(date)s") % {"date": f"{sheet.business_date:%Y-%m-%d}"},
                _("收录 %(cutoff)s（北京时间）之前登记、此前未上过财务表的资金流水；冲销为负数。")
                % {"cutoff": f"{local_naive(sheet.cutoff_at):%Y-%m-%d %H:%M}"},
            ],
        )
        labels = {value: str(label) for value, label in LedgerEntry.Kind.choices}
        writer.append_cells([writer.bold(_("按类型"))])
        for row in totals["by_kind"]:
            writer.append([str(labels[row["kind"]]), row["count"], Decimal(row["amount"])])
        writer.append_cells([None])
        writer.append_cells([writer.bold(_("按店铺"))])
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
        # Money in, after the payouts' total and never added to it.
        received = totals.get("received") or {"by_shop": [], "count": 0, "total": "0.00"}
        writer.append_cells([None])
        writer.append_cells([writer.bold(_("补差价收入（买家付给店铺，不计入上面的合计）"))])
        for row in received["by_shop"]:
            writer.append([row["shop"], row["count"], Decimal(row["amount"])])
        writer.append_cells(
            [
                writer.bold(_("补差价收入合计")),
                writer.bold(received["count"]),
                writer.money(Decimal(received["total"]), bold=True),
            ]
        )
        writer.finish(filter_rows=False)

    def _write_detail(self, sheet: Sheet, book: SheetBook) -> None:
        writer = book.table(_("明细"), self.columns(), big=True)
        kinds = {value: str(label) for value, label in LedgerEntry.Kind.choices}
        reversals = {value: _("%(kind)s冲销") % {"kind": label} for value, label in kinds.items()}
        reasons = {value: str(label) for value, label in Ticket.Reason.choices}
        methods = {value: str(label) for value, label in LedgerEntry.PaymentMethod.choices}
        rows = read_in_full(
            self.entries(sheet)
            .annotate(recorded_local=wall_clock("recorded_at"))
            .order_by("recorded_at", "pk")
            .values_list(
                "pk",
                "recorded_local",
                "shop__name",
                "order__order_no",
                "order__buyer_nick",
                "ticket_id",
                "kind",
                "ticket__reason",
                "amount",
                "payment_method",
                "recorded_by__username",
                "recorded_by__last_name",
                "recorded_by__first_name",
                "note",
                "reverses_id",
            )
            .iterator(chunk_size=2000)
        )
        append = writer.append
        for (
            pk,
            recorded_at,
            shop,
            order_no,
            nick,
            ticket_id,
            kind,
            reason,
            amount,
            method,
            username,
            last_name,
            first_name,
            note,
            reverses_id,
        ) in rows:
            append(
                (
                    pk,
                    recorded_at,
                    shop,
                    order_no,
                    nick,
                    ticket_number(ticket_id),
                    reversals[kind] if reverses_id else kinds[kind],
                    reasons.get(reason),
                    -amount if reverses_id else amount,
                    methods.get(method, method),
                    f"{last_name}{first_name}".strip() or username,
                    note,
                    reverses_id,
                )
            )
        writer.finish()

    def _write_charges(self, sheet: Sheet, book: SheetBook) -> None:
        """补差价收入: one row per price difference a buyer paid (a reversal negative)."""
        writer = book.table(_("补差价收入"), self.charge_columns())
        rows = read_in_full(
            self.charges(sheet)
            .order_by("recorded_at", "pk")
            .values_list(
                "pk",
                "ticket__shop__name",
                "ticket_id",
                "ticket__order__order_no",
                "reference",
                "amount",
                "recorded_by__username",
                "recorded_by__last_name",
                "recorded_by__first_name",
                "recorded_at",
                "note",
                "reverses_id",
            )
            .iterator(chunk_size=2000)
        )
        for (
            pk,
            shop,
            ticket_id,
            order_no,
            reference,
            amount,
            username,
            last_name,
            first_name,
            recorded_at,
            note,
            reverses_id,
        ) in rows:
            writer.append(
                (
                    pk,
                    shop,
                    ticket_number(ticket_id),
                    order_no,
                    reference,
                    -amount if reverses_id else amount,
                    f"{last_name}{first_name}".strip() or username,
                    recorded_at,
                    note,
                    reverses_id,
                )
            )
        writer.finish()


def _insert_claims(sheet: Sheet, claim_model, column: str, claimable: QuerySet) -> int:
    """Claims every row of ``claimable`` for ``sheet`` with one INSERT ... SELECT (the
    database copies the ids, however many there are); the claim's unique key on ``column``
    keeps a row on one sheet. Returns how many were claimed."""
    select_sql, params = claimable.order_by().values(claim_id=F("pk")).query.sql_with_params()
    quote = connection.ops.quote_name
    table = quote(claim_model._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({quote('sheet_id')}, {quote(column)}) "  # noqa: S608 - names from the model
        f"SELECT %s, claimable.claim_id FROM ({select_sql}) claimable"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [sheet.pk, *params])
        return cursor.rowcount
