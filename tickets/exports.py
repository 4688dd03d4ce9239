"""The ticket list as a spreadsheet: write-only openpyxl, streamed, safe for Excel."""

import tempfile

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from tickets.privacy import mask_nick

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def text_cell(sheet, value) -> WriteOnlyCell:
    """A cell for text someone typed: if Excel could read it as a formula, it stays text."""
    value = "" if value is None else str(value)
    cell = WriteOnlyCell(sheet, value=value)
    if value.startswith(_FORMULA_STARTS):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def ticket_list_workbook(tickets, *, limit: int):
    """Writes up to ``limit`` tickets (already filtered and ordered) to a temporary .xlsx;
    returns (open file, rows written). Buyers' personal data is not in it."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("售后单"))
    headers = [
        _("单号"),
        _("店铺"),
        _("订单编号"),
        _("买家"),
        _("类型"),
        _("原因"),
        _("责任方"),
        _("状态"),
        _("处理人"),
        _("创建时间"),
        _("首次响应时限"),
        _("解决时限"),
        _("超时"),
        _("退回运单号"),
    ]
    widths = [12, 18, 22, 14, 10, 16, 8, 12, 10, 17, 17, 17, 6, 20]
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"
    sheet.append(headers)
    now = timezone.now()
    rows = 0
    for ticket in tickets[:limit].iterator(chunk_size=2000):
        local = timezone.localtime
        sheet.append(
            [
                ticket.number,
                text_cell(sheet, ticket.shop.name),
                text_cell(sheet, ticket.order.order_no),
                text_cell(sheet, mask_nick(ticket.order.buyer_nick)),
                ticket.get_kind_display(),
                ticket.get_reason_display(),
                ticket.get_responsibility_display(),
                ticket.get_status_display(),
                text_cell(sheet, ticket.assignee or ""),
                local(ticket.created_at).replace(tzinfo=None),
                local(ticket.first_response_due).replace(tzinfo=None),
                local(ticket.resolution_due).replace(tzinfo=None),
                _("是") if ticket.is_overdue(now) else "",
                text_cell(sheet, ticket.return_tracking_no),
            ]
        )
        rows += 1
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - the response closes it
    workbook.save(handle)
    handle.seek(0)
    return handle, rows
