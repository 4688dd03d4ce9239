"""Finance's part of the demo (``seed_demo``, through ``tickets.signals.demo_seeded``): the
sheets a desk that has been running would have, made as the desk makes them.

For each scheduled kind the seed builds the sheets of the last periods due at the demo's end
(``HISTORY``: three days of finance sheets and exchange-goods lists, two invoice batches, the
last month's courier-loss settlement and exchange slips) through ``sheet_build``, oldest
first, as the catch-up check would when the desk starts: the first of each kind claims
everything older. The supervisor signs every exchange-goods list but the newest, which waits
in the inbox; the exchanges on the signed lists are shipped with their new tracking numbers
(at most ``SHIP_PER_LIST`` per list: the backlog the first list takes in a large seed is left
for the desk); finance records the invoice numbers of the batched requests and posts those of
the older batch, and downloads each finance sheet, invoice batch and settlement.

Everything here happens when the seed runs, with the real clock, as on the first morning after
the desk was installed: the build, the signature, the shipping and the downloads are stamped
with that time, as their services stamp them (and as the signed list's file says).
"""

import random
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from finance_exports.builders import Period, scheduled_builders
from finance_exports.models import InvoiceBatchLine, Sheet
from finance_exports.services import (
    exchange_line_ship,
    exchange_list_approve,
    sheet_build,
    sheet_download_record,
)
from tickets.demo_registers import UniqueNumbers
from tickets.models import Courier, InvoiceRequest
from tickets.services import DeskError

# How many periods of each kind the demo builds, newest last.
HISTORY = {Period.DAY: 3, Period.TEN_DAYS: 2, Period.MONTH: 1}
# The most exchanges shipped from one signed list in the seed.
SHIP_PER_LIST = 100


def _previous(builder, business_date: date) -> date:
    return builder.normalise(business_date - timedelta(days=1))


def _due_dates(builder, now: datetime) -> list[date]:
    """The business dates of the last ``HISTORY`` periods of ``builder``'s kind due at
    ``now``, oldest first."""
    dates = [builder.latest_due(now)]
    for _n in range(HISTORY[builder.period] - 1):
        dates.append(_previous(builder, dates[-1]))
    return sorted(dates)


@transaction.atomic
def demo_sheets(sender, *, now: datetime, seed: int, users: dict, **kwargs) -> dict[str, int]:
    """Builds, signs, ships from and downloads the demo's sheets (see the module's text);
    ``now`` the demo's last moment, ``seed`` its random seed, ``users`` its staff by
    username. A kind that already has a newer sheet is left alone (a second seed). Returns
    ``{"sheets": n, ...}``; a failed build raises (``SheetBuildFailed``)."""
    rng = random.Random(f"{seed}-sheets")
    supervisor, finance = users["supervisor"], users["finance"]
    built: list[Sheet] = []
    for builder in scheduled_builders():
        for business_date in _due_dates(builder, now):
            try:
                built.append(sheet_build(kind=builder.kind, business_date=business_date, now=now))
            except DeskError:
                continue  # a newer sheet of the kind exists: this desk was seeded before
    lists = sorted(
        (s for s in built if s.kind == Sheet.Kind.EXCHANGES), key=lambda s: s.business_date
    )
    shipped = 0
    couriers = list(Courier.objects.filter(priced_by_hand=False).order_by("code"))
    for sheet in lists[:-1]:
        if sheet.status != Sheet.Status.AWAITING_APPROVAL:
            continue
        sheet = exchange_list_approve(actor=supervisor, sheet=sheet)
        lines = sheet.exchange_lines.filter(removed_at__isnull=True).order_by("ticket_id")
        for line in lines[:SHIP_PER_LIST]:
            courier = rng.choice(couriers)
            number = f"{courier.code.upper()}{rng.randrange(10**11, 10**12)}"
            exchange_line_ship(actor=supervisor, line=line, tracking_no=number)
            shipped += 1
    invoices = _invoices_issued(
        [s for s in built if s.kind == Sheet.Kind.INVOICES and s.status == Sheet.Status.READY],
        rng,
    )
    downloads = 0
    for sheet in built:
        if sheet.has_file and sheet.kind != Sheet.Kind.EXCHANGES:
            sheet_download_record(actor=finance, sheet=sheet)
            downloads += 1
    return {
        "sheets": len(built),
        "exchanges shipped from signed lists": shipped,
        "invoices issued": invoices,
        "sheet downloads": downloads,
    }


def _invoices_issued(batches: list[Sheet], rng: random.Random) -> int:
    """Finance has posted the invoices of every batch but the newest, and issued half of the
    newest's (the rest are still with finance, "batched"). The invoice number (8 digits, as
    printed on the invoice) and the posting's SF tracking number (12 digits) are drawn from
    the seed's stream through ``UniqueNumbers`` of the request's id: unique, the same for a
    seed, and unrelated to each other. One UPDATE per 500 requests: states
    ``invoice_record_issue`` reaches."""
    batches = sorted(batches, key=lambda s: s.business_date)
    invoice_numbers, tracking_numbers = UniqueNumbers(rng, 8), UniqueNumbers(rng, 12)
    now = timezone.now()
    done = 0
    for n, sheet in enumerate(batches):
        ids = list(
            InvoiceBatchLine.objects.filter(sheet=sheet)
            .order_by("invoice_id")
            .values_list("invoice_id", flat=True)
        )
        posted = n < len(batches) - 1
        requests = []
        for pk in ids if posted else ids[::2]:
            request = InvoiceRequest(pk=pk, invoice_no=str(invoice_numbers.at(pk)), updated_at=now)
            if posted:
                request.status = InvoiceRequest.Status.POSTED
                request.posting_tracking_no = f"SF{tracking_numbers.at(pk)}"
            else:
                request.status = InvoiceRequest.Status.ISSUED
            requests.append(request)
        fields = ["status", "invoice_no", "updated_at"]
        if posted:
            fields.append("posting_tracking_no")
        InvoiceRequest.objects.bulk_update(requests, fields, batch_size=500)
        done += len(requests)
    return done
