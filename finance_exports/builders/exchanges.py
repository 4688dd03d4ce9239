"""The 5 pm exchange-goods list (换货清单): what the warehouse ships as exchanges.

The list claims every exchange ticket that entered "queued for exchange" before the cut-off
and is on no list, and moves it to "on exchange list" - through ``ticket_transition``, the one
door for status changes, so each ticket's timeline says which list took it. A supervisor signs
the list in the browser and may first take lines off (the ticket goes back to the queue and
onto a later list). Only a signed list is shipped from.
"""

from django.db.models import Count, Exists, OuterRef, QuerySet, Sum
from django.utils.translation import gettext as _

from aftersales.spreadsheets import MONEY, NUMBER, TIME, Column, SheetBook, local_naive
from finance_exports.models import ExchangeLine, Sheet
from tickets.models import Ticket, TicketEvent, TicketItem
from tickets.selectors_exchanges import (
    exchange_price_positions,
    goods_lines,
    items_with_replacements,
    price_settlement,
)
from tickets.services.tickets import ticket_transition

from . import SheetBuilder, Summary, register

S = Ticket.Status


def receiver_address(order) -> str:
    parts = (
        order.receiver_province,
        order.receiver_city,
        order.receiver_district,
        order.receiver_address,
    )
    return " ".join(part for part in parts if part)


@register
class ExchangeListBuilder(SheetBuilder):
    kind = Sheet.Kind.EXCHANGES
    ready_status = Sheet.Status.AWAITING_APPROVAL
    scheduled = True
    carries_personal_data = True

    def ready_status_for(self, sheet: Sheet) -> str:
        """A list with exchanges waits for the supervisor's signature; a list with none (no
        exchange was queued before the cut-off) is simply ready: the signature lets the
        warehouse send goods out (DOMAIN.md "The daily routine" 5), and there are none, so
        nobody is asked to sign it (issue 13 review) and ``exchange_list_approve`` refuses."""
        return Sheet.Status.AWAITING_APPROVAL if sheet.row_count else Sheet.Status.READY

    # -- claiming -----------------------------------------------------------------------
    def claimable(self, sheet: Sheet) -> QuerySet[Ticket]:
        """Exchange tickets waiting in the queue since before the cut-off. A ticket that came
        back to the queue after the cut-off (taken off a list, say) waits for the next list."""
        queued = TicketEvent.objects.filter(ticket=OuterRef("pk"), to_status=S.QUEUED_FOR_EXCHANGE)
        return Ticket.objects.filter(
            kind=Ticket.Kind.EXCHANGE, status=S.QUEUED_FOR_EXCHANGE
        ).filter(
            Exists(queued.filter(created_at__lt=sheet.cutoff_at)),
            ~Exists(queued.filter(created_at__gte=sheet.cutoff_at)),
        )

    def claim(self, sheet: Sheet) -> int:
        on_list = ("exchange_list_added", {"date": sheet.business_date.isoformat()})
        tickets = list(self.claimable(sheet).select_for_update().order_by("shop__code", "pk"))
        for ticket in tickets:
            # Only taking a line off a list puts a ticket back in the queue, and that closes
            # its line: a ticket is on one list at a time (and the database holds it to that).
            ticket_transition(
                actor=None,
                ticket=ticket,
                to_status=S.ON_EXCHANGE_LIST,
                note_line=on_list,
                by_list=True,
            )
            ExchangeLine.objects.create(sheet=sheet, ticket=ticket)
        return len(tickets)

    # -- reading the claims ---------------------------------------------------------------
    @staticmethod
    def lines(sheet: Sheet) -> QuerySet[ExchangeLine]:
        """The list's lines with everything a page or the file shows, in a fixed number of
        queries whatever the length of the list."""
        return (
            sheet.exchange_lines.select_related("ticket__order__shop", "removed_by")
            .prefetch_related(items_with_replacements("ticket__items"))
            .order_by("ticket__shop__code", "ticket_id")
        )

    def summarize(self, sheet: Sheet) -> Summary:
        active = sheet.exchange_lines.filter(removed_at__isnull=True)
        quantity = TicketItem.objects.filter(ticket__exchange_lines__in=active).aggregate(
            n=Sum("quantity")
        )["n"]
        by_shop = [
            {"shop": row["ticket__shop__name"], "count": row["count"]}
            for row in active.values("ticket__shop__name")
            .annotate(count=Count("pk"))
            .order_by("ticket__shop__name")
        ]
        count = active.count()
        return Summary(
            row_count=count,
            totals={
                "tickets": count,
                "quantity": quantity or 0,
                "removed": sheet.exchange_lines.filter(removed_at__isnull=False).count(),
                "by_shop": by_shop,
            },
        )

    # -- the workbook ---------------------------------------------------------------------
    @staticmethod
    def columns() -> list[Column]:
        return [
            Column(_("售后单号"), 11),
            Column(_("店铺"), 16),
            Column(_("订单编号"), 21),
            Column(_("买家会员名"), 15),
            # What goes out, in the order a picker reads it...
            Column(_("发出商家编码"), 16),
            Column(_("发出商品"), 30),
            Column(_("发出颜色"), 8),
            Column(_("发出尺码"), 7),
            Column(_("发出数量"), 7, NUMBER),
            # ... beside what came back, so a wrong size is seen before it is packed.
            Column(_("退回商家编码"), 16),
            Column(_("退回颜色"), 8),
            Column(_("退回尺码"), 7),
            Column(_("换码/换款"), 8),
            Column(_("差价"), 10, MONEY),
            Column(_("差价结清"), 14),
            Column(_("收货人"), 9),
            Column(_("联系电话"), 14),
            Column(_("收货地址"), 40),
            Column(_("售后说明"), 30),
            Column(_("新运单号"), 18),
        ]

    def signature(self, sheet: Sheet) -> str:
        if sheet.status == Sheet.Status.APPROVED:
            return _("已签字：%(name)s，%(at)s") % {
                "name": sheet.approved_by,
                "at": f"{local_naive(sheet.approved_at):%Y-%m-%d %H:%M}",
            }
        if not sheet.row_count:
            return _("没有要发出的换货，不需要签字。")
        return _("未签字：主管签字之前不要发货。")

    def write(self, sheet: Sheet, book: SheetBook) -> None:
        lines = list(self.lines(sheet))
        totals = sheet.totals
        writer = book.table(
            _("换货清单"),
            self.columns(),
            preamble=[
                _("换货清单 %(date)s") % {"date": f"{sheet.business_date:%Y-%m-%d}"},
                self.signature(sheet),
                _(
                    "收录 %(cutoff)s 之前进入待换货的换货单，共 %(tickets)s 单 %(items)s 件。"
                    "发货后请把运单号填在最后一列，上传回售后工作台。"
                )
                % {
                    "cutoff": f"{local_naive(sheet.cutoff_at):%Y-%m-%d %H:%M}",
                    "tickets": totals.get("tickets", 0),
                    "items": totals.get("quantity", 0),
                },
                "",
            ],
        )
        prices = exchange_price_positions(line.ticket_id for line in lines if line.is_active)
        for line in lines:
            if not line.is_active:
                continue
            ticket, order = line.ticket, line.ticket.order
            settled = price_settlement(prices[ticket.pk])
            for row in goods_lines(ticket.items.all()):
                goods = row.item.order_item
                writer.append(
                    (
                        ticket.number,
                        order.shop.name,
                        order.order_no,
                        order.buyer_nick,
                        row.code,
                        row.title,
                        row.colour,
                        row.size,
                        row.quantity,
                        goods.sku_code,
                        goods.colour,
                        goods.size,
                        _("换款")
                        if row.product_changed
                        else _("换码/换色")
                        if row.changed
                        else _("同款"),
                        row.replacement.price_difference if row.replacement else None,
                        settled,
                        order.receiver_name,
                        order.receiver_phone,
                        receiver_address(order),
                        ticket.description[:200],
                        ticket.outbound_tracking_no,
                    )
                )
        writer.finish()
        removed = [line for line in lines if not line.is_active]
        if removed:
            self._write_removed(book, removed)

    @staticmethod
    def _write_removed(book: SheetBook, removed: list[ExchangeLine]) -> None:
        writer = book.table(
            _("已移出"),
            [
                Column(_("售后单号"), 11),
                Column(_("店铺"), 16),
                Column(_("订单编号"), 21),
                Column(_("移出人"), 10),
                Column(_("移出时间"), 19, TIME),
                Column(_("原因"), 40),
            ],
        )
        for line in removed:
            writer.append(
                (
                    line.ticket.number,
                    line.ticket.order.shop.name,
                    line.ticket.order.order_no,
                    str(line.removed_by) if line.removed_by else _("系统"),
                    line.removed_at,
                    line.removed_reason,
                )
            )
        writer.finish()
