"""Helpers for the sheet tests: times, money and tickets made through the real services, and
reading the produced workbooks back with openpyxl."""

from dataclasses import dataclass
from datetime import date, datetime, time

from django.utils import timezone
from openpyxl import load_workbook

from finance_exports.models import Sheet
from tickets.models import LedgerEntry, Ticket
from tickets.services.ledger import ledger_record
from tickets.services.tickets import ItemRequest, ticket_open, ticket_transition

S = Ticket.Status


def at(day: date, hh_mm_ss: str) -> datetime:
    """An aware Beijing time on ``day``: at(day, "15:59:59.999")."""
    return timezone.make_aware(datetime.combine(day, time.fromisoformat(hh_mm_ss)))


@dataclass
class Clock:
    """What ``django.utils.timezone.now()`` returns while the test runs."""

    now: datetime

    def set(self, moment: datetime) -> None:
        self.now = moment

    def __call__(self) -> datetime:
        return self.now


def record(
    actor, order, amount, kind=LedgerEntry.Kind.POSTAGE, *, ticket=None, note="", method=None
):
    return ledger_record(
        actor=actor,
        order=order,
        kind=kind,
        amount=amount,
        payment_method=method or LedgerEntry.PaymentMethod.ALIPAY_TRANSFER,
        ticket=ticket,
        note=note,
    )


def queued_exchange(actor, order, *, description="换成 L 码") -> Ticket:
    """An exchange ticket waiting in the queue, through the real services."""
    ticket = ticket_open(
        actor=actor,
        order=order,
        kind=Ticket.Kind.EXCHANGE,
        reason=Ticket.Reason.NOT_SUITABLE,
        responsibility=Ticket.Responsibility.BUYER,
        items=[ItemRequest(order_item=order.items.first(), quantity=1)],
        description=description,
    )
    ticket = ticket_transition(actor=actor, ticket=ticket, to_status=S.AWAITING_RETURN)
    return ticket_transition(actor=actor, ticket=ticket, to_status=S.QUEUED_FOR_EXCHANGE)


def workbook(sheet: Sheet):
    with sheet.file.open("rb") as handle:
        return load_workbook(handle)


def table(worksheet, header_row: int) -> list[dict]:
    """The rows under ``header_row`` as dicts keyed by the Chinese headers."""
    rows = list(worksheet.iter_rows(min_row=header_row, values_only=True))
    headers = rows[0]
    return [
        dict(zip(headers, row, strict=False)) for row in rows[1:] if any(v is not None for v in row)
    ]


def detail_rows(sheet: Sheet) -> list[dict]:
    return table(workbook(sheet)["明细"], 1)


def file_bytes(sheet: Sheet) -> bytes:
    with sheet.file.open("rb") as handle:
        return handle.read()
