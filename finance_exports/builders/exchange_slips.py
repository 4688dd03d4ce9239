"""The month-end list of exchange slips (换货蓝单月表): built on the 1st for the month before.

The after-sales team keeps the slip (蓝单) of every exchange that goes out, lists them, and at
month end hands the list to finance (DOMAIN.md "The daily routine" 8). In the desk an exchange
goes out once, from a signed exchange-goods list, with its new tracking number
(``exchange_line_ship``); that moment is the ticket's "shipped" timeline event. Every exchange
shipped in the month (Beijing time) is on that month's list: what came back and what went out,
the list it was shipped from and who signed it, the tracking number, and its price difference
(差价): what the goods make it, what the buyer paid (补差价, net of reversals) and what the shop
refunded, as recorded before the sheet's cut-off, so a rebuild writes the same money.

Like the courier-loss settlement, nothing is claimed: the month is over when the sheet is due
(the 1st, at ``FINANCE_EXCHANGE_SLIPS_AT``), and an exchange ships once, so a slip belongs to
exactly one month. The sheet covers every shop, like the other finance sheets.

**Months before the first sheet.** Beat and the catch-up build forward from the newest sheet,
so exchanges shipped before the desk's first month-end list (or in a month missed beyond the
catch-up's reach) had no list at all. Finance may ask for such a month by hand
(``manage.py build_sheet exchange_slips --month 2026-09``), on these terms:

- only a month that is over: its sheet's cut-off (the 1st of the next month, at the sheet's
  time) has passed, so no slip can still join it;
- once: the sheet is the one row of (kind, month), as for every sheet, so asking again returns
  the sheet already built, its file unchanged; a month that has a sheet is never rebuilt (a
  failed one is started over, as for any sheet);
- it takes nothing from another sheet: a slip is on the sheet of the month it shipped in
  (Beijing time, the 1st 00:00 to the next 1st 00:00), so months never share a slip whatever
  the order they are built in, December's and January's included; its money is what was
  recorded before the month's cut-off, as if it had been built on time.

Beat never goes back by itself: a month before the newest sheet is built only when asked.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.utils.translation import gettext as _

from aftersales.spreadsheets import MONEY, NUMBER, TIME, Column, SheetBook, local_naive
from finance_exports.models import ExchangeLine, Sheet
from tickets.models import ExchangeReplacement, Ticket, TicketEvent, TicketItem, User
from tickets.money import ZERO, cents
from tickets.selectors_exchanges import (
    PricePosition,
    exchange_price_positions,
    goods_lines,
    items_with_replacements,
    price_settlement,
)
from tickets.selectors_registers import month_bounds

from . import Period, SheetBuilder, Summary, register

S = Ticket.Status

# How many slips' tickets (with their goods and money) are read and held at once.
SLIPS_PER_READ = 1000
# What a slip's row reads of its ticket, order and shop (besides the goods): their other
# columns (forty-odd, a dozen of them times) were read and converted for nothing.
_SLIP_FIELDS = ("outbound_tracking_no", "order__order_no", "order__buyer_nick", "order__shop__name")
# The money columns of the summary, in the order finance reads them, with what each sums.
_MONEY_TOTALS = ("charge_due", "charged", "refund_due", "refunded", "to_charge", "to_refund")


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), SLIPS_PER_READ):
        yield ids[start : start + SLIPS_PER_READ]


@dataclass
class Slip:
    """One exchange that went out in the month, with what the sheet says about it."""

    ticket: Ticket
    shipped_at: datetime
    shipped_by: User | None
    line: ExchangeLine | None
    price: PricePosition


@register
class ExchangeSlipsSheetBuilder(SheetBuilder):
    kind = Sheet.Kind.EXCHANGE_SLIPS
    period = Period.MONTH
    scheduled = True
    past_periods_by_hand = True

    # -- the month's slips ---------------------------------------------------------------
    @staticmethod
    def shipments(sheet: Sheet) -> QuerySet[TicketEvent]:
        """The "shipped" events of exchange tickets in the sheet's month, Beijing time."""
        start, end = month_bounds(sheet.business_date)
        return TicketEvent.objects.filter(
            kind=TicketEvent.Kind.STATUS,
            to_status=S.SHIPPED,
            ticket__kind=Ticket.Kind.EXCHANGE,
            created_at__gte=start,
            created_at__lt=end,
        )

    def slips(self, sheet: Sheet) -> Iterator[Slip]:
        """The month's slips by shop, then by the time they went out, read ``SLIPS_PER_READ``
        tickets at a time: a fixed number of queries per thousand slips, and memory for a
        thousand tickets with their goods whatever the month's size (at a million demo
        orders the month's 11,389 slips read at once took 230 MB)."""
        events = (
            self.shipments(sheet)
            .select_related("actor")
            .order_by("ticket__shop__code", "created_at", "ticket_id")
        )
        first: dict[int, TicketEvent] = {}
        for event in events:
            first.setdefault(event.ticket_id, event)
        for chunk in _chunks(list(first)):
            tickets = (
                Ticket.objects.filter(pk__in=chunk)
                .select_related("order__shop")
                .only(*_SLIP_FIELDS)
                .prefetch_related(items_with_replacements())
                .in_bulk()
            )
            lines = {
                line.ticket_id: line
                for line in ExchangeLine.objects.filter(
                    ticket_id__in=chunk, removed_at__isnull=True
                )
                .select_related("sheet__approved_by")
                .order_by("sheet__business_date")
            }
            prices = exchange_price_positions(chunk, before=sheet.cutoff_at)
            for pk in chunk:
                event = first[pk]
                yield Slip(
                    ticket=tickets[pk],
                    shipped_at=event.created_at,
                    shipped_by=event.actor,
                    line=lines.get(pk),
                    price=prices[pk],
                )

    def _slip_figures(self, sheet: Sheet) -> Iterator[tuple[str, int, PricePosition]]:
        """``(shop name, pieces sent out, price position)`` of each of the month's slips, in
        no particular order: what the summary adds up, read as plain values
        ``SLIPS_PER_READ`` tickets at a time (three small queries and the three of
        ``exchange_price_positions`` per chunk). The pieces follow ``goods_lines``: an
        item's replacements' quantities, or the item's own quantity when it has none.

        Not ``slips()``: building each ticket with its order, shop, goods and replacements
        as model instances cost two thirds of the summary's time (1.8 of 2.9 s for 1,998
        slips at 100,000 orders, pyinstrument), to read three figures; ``write`` builds them
        once, for the detail rows that need them."""
        ids = list(self.shipments(sheet).order_by().values_list("ticket_id", flat=True).distinct())
        for chunk in _chunks(ids):
            shop_of = dict(
                Ticket.objects.filter(pk__in=chunk).values_list("pk", "order__shop__name")
            )
            sent: dict[int, int] = dict.fromkeys(chunk, 0)
            replaced = dict(
                ExchangeReplacement.objects.filter(ticket_item__ticket_id__in=chunk)
                .order_by()
                .values("ticket_item_id")
                .annotate(pieces=Sum("quantity"))
                .values_list("ticket_item_id", "pieces")
            )
            items = TicketItem.objects.filter(ticket_id__in=chunk).values_list(
                "pk", "ticket_id", "quantity"
            )
            for item_id, ticket_id, quantity in items:
                sent[ticket_id] += replaced.get(item_id, quantity)
            prices = exchange_price_positions(chunk, before=sheet.cutoff_at)
            for pk in chunk:
                yield shop_of[pk], sent[pk], prices[pk]

    # -- claiming -----------------------------------------------------------------------
    def claim(self, sheet: Sheet) -> int:
        """Nothing to mark: an exchange goes out once, in one month, and the month is over
        before the sheet is due. Returns how many slips the month has."""
        return self.shipments(sheet).values("ticket_id").distinct().count()

    # -- reading ------------------------------------------------------------------------
    def summarize(self, sheet: Sheet) -> Summary:
        """Per shop and in all: slips, pieces sent out, and the price differences. The sheet's
        total amount is the price difference buyers paid (补差价 received, net of reversals)."""
        shops: dict[str, dict] = {}
        for shop, quantity, price in self._slip_figures(sheet):
            row = shops.setdefault(
                shop, {"slips": 0, "quantity": 0, **dict.fromkeys(_MONEY_TOTALS, ZERO)}
            )
            row["slips"] += 1
            row["quantity"] += quantity
            for key in _MONEY_TOTALS:
                row[key] += getattr(price, key)
        total = {"slips": 0, "quantity": 0, **dict.fromkeys(_MONEY_TOTALS, ZERO)}
        for row in shops.values():
            for key in total:
                total[key] += row[key]

        def as_json(row: dict) -> dict:
            return {k: str(cents(v)) if k in _MONEY_TOTALS else v for k, v in row.items()}

        return Summary(
            row_count=total["slips"],
            total_amount=cents(total["charged"]),
            totals={
                "by_shop": [{"shop": name, **as_json(row)} for name, row in sorted(shops.items())],
                **as_json(total),
            },
        )

    # -- the workbook ---------------------------------------------------------------------
    @staticmethod
    def summary_columns() -> list[Column]:
        return [
            Column(_("店铺"), 16),
            Column(_("换货单数"), 10, NUMBER),
            Column(_("发出件数"), 10, NUMBER),
            Column(_("应收补差价"), 13, MONEY),
            Column(_("已收补差价"), 13, MONEY),
            Column(_("应退差价"), 13, MONEY),
            Column(_("已退差价"), 13, MONEY),
            Column(_("未收差价"), 13, MONEY),
            Column(_("未退差价"), 13, MONEY),
        ]

    @staticmethod
    def columns() -> list[Column]:
        return [
            Column(_("发货时间"), 19, TIME),
            Column(_("店铺"), 16),
            Column(_("售后单号"), 11),
            Column(_("订单编号"), 21),
            Column(_("买家会员名"), 15),
            Column(_("换货清单"), 11),
            Column(_("签字人"), 10),
            Column(_("退回商家编码"), 16),
            Column(_("退回商品"), 30),
            Column(_("退回颜色"), 8),
            Column(_("退回尺码"), 7),
            Column(_("发出商家编码"), 16),
            Column(_("发出商品"), 30),
            Column(_("发出颜色"), 8),
            Column(_("发出尺码"), 7),
            Column(_("发出数量"), 8, NUMBER),
            Column(_("差价"), 11, MONEY),
            Column(_("已收补差价"), 12, MONEY),
            Column(_("已退差价"), 12, MONEY),
            Column(_("差价结清"), 14),
            Column(_("新运单号"), 18),
            Column(_("发货登记人"), 10),
        ]

    def write(self, sheet: Sheet, book: SheetBook) -> None:
        self._write_summary(sheet, book)
        self._write_detail(book, self.slips(sheet))

    def _write_summary(self, sheet: Sheet, book: SheetBook) -> None:
        totals = sheet.totals
        writer = book.table(
            _("汇总"),
            self.summary_columns(),
            preamble=[
                _("换货蓝单月表 %(month)s") % {"month": f"{sheet.business_date:%Y-%m}"},
                _(
                    "收录本月（北京时间）按签字的换货清单发出的全部换货，每单一张蓝单；"
                    "补差价与退差价按 %(cutoff)s 之前的登记计算。"
                )
                % {"cutoff": f"{local_naive(sheet.cutoff_at):%Y-%m-%d %H:%M}"},
            ],
        )
        for row in totals["by_shop"]:
            writer.append(
                [row["shop"], row["slips"], row["quantity"]]
                + [Decimal(row[key]) for key in _MONEY_TOTALS]
            )
        writer.append_cells([None])
        writer.append_cells(
            [writer.bold(_("合计")), writer.bold(totals["slips"]), writer.bold(totals["quantity"])]
            + [writer.money(Decimal(totals[key]), bold=True) for key in _MONEY_TOTALS]
        )
        writer.finish(filter_rows=False)

    def _write_detail(self, book: SheetBook, slips: Iterable[Slip]) -> None:
        # Streamed (``big``): a month's slips at a million demo orders are 11,000 rows and
        # more; through openpyxl's cells they took 2.1 of the detail's 4.7 s for 1,998 slips
        # at 100,000 (pyinstrument), the streamed rows the same cells (test_spreadsheets).
        writer = book.table(_("明细"), self.columns(), big=True)
        for slip in slips:
            ticket, order, line = slip.ticket, slip.ticket.order, slip.line
            settled = price_settlement(slip.price)
            for index, row in enumerate(goods_lines(ticket.items.all())):
                goods = row.item.order_item
                # The ticket's money once, on its first row, so a column adds up in Excel.
                first = index == 0
                writer.append(
                    (
                        slip.shipped_at,
                        order.shop.name,
                        ticket.number,
                        order.order_no,
                        order.buyer_nick,
                        f"{line.sheet.business_date:%Y-%m-%d}" if line else None,
                        str(line.sheet.approved_by) if line and line.sheet.approved_by else None,
                        goods.sku_code,
                        goods.title,
                        goods.colour,
                        goods.size,
                        row.code,
                        row.title,
                        row.colour,
                        row.size,
                        row.quantity,
                        row.difference,
                        slip.price.charged if first else None,
                        slip.price.refunded if first else None,
                        settled if first else None,
                        ticket.outbound_tracking_no,
                        str(slip.shipped_by) if slip.shipped_by else None,
                    )
                )
        writer.finish()
