"""Spreadsheets the agent's pages hand out (the ticket list, the statistics tables), written
with the desk's one sheet writer (``aftersales.spreadsheets``: write-only, text Excel never
runs)."""

import os
import tempfile

from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.spreadsheets import TIME, Column, SheetBook
from tickets.privacy import mask_nick


def book_file(book: SheetBook):
    """Saves ``book`` to a temporary file and returns it open for reading, already unlinked:
    the file disappears when the response that streams it closes it."""
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        book.save(path)
        stream = open(path, "rb")  # noqa: SIM115 - the response closes it
    finally:
        book.close()
        os.unlink(path)
    return stream


def ticket_list_workbook(tickets, *, limit: int, notice: str = ""):
    """Writes up to ``limit`` tickets (already filtered and ordered) to a temporary .xlsx;
    returns (open file, rows written). Buyers' personal data is not in it. ``notice`` (the
    search was cut short) goes above the table, so the file never passes for complete."""
    book = SheetBook()
    writer = book.table(
        _("售后单"),
        [
            Column(_("单号"), 12),
            Column(_("店铺"), 18),
            Column(_("订单编号"), 22),
            Column(_("买家"), 14),
            Column(_("类型"), 10),
            Column(_("原因"), 16),
            Column(_("责任方"), 8),
            Column(_("状态"), 12),
            Column(_("处理人"), 10),
            Column(_("创建时间"), 18, TIME),
            Column(_("首次响应时限"), 18, TIME),
            Column(_("解决时限"), 18, TIME),
            Column(_("超时"), 6),
            Column(_("退回运单号"), 20),
        ],
        preamble=[notice, ""] if notice else (),
        big=True,
    )
    now = timezone.now()
    for ticket in tickets[:limit].iterator(chunk_size=2000):
        writer.append(
            [
                ticket.number,
                ticket.shop.name,
                ticket.order.order_no,
                mask_nick(ticket.order.buyer_nick),
                ticket.get_kind_display(),
                ticket.get_reason_display(),
                ticket.get_responsibility_display(),
                ticket.get_status_display(),
                str(ticket.assignee or ""),
                ticket.created_at,
                ticket.first_response_due,
                ticket.resolution_due,
                _("是") if ticket.is_overdue(now) else "",
                ticket.return_tracking_no,
            ]
        )
    rows = writer.finish()
    return book_file(book), rows
