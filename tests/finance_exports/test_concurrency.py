"""Sheets under concurrency, on PostgreSQL (SQLite ignores FOR UPDATE and serialises writers):
two signatures at once, two builds at once, money committed while a sheet is being built."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from finance_exports.builders import get_builder
from finance_exports.builders.finance import FinanceSheetBuilder
from finance_exports.models import FinanceSheetEntry, Sheet
from finance_exports.services import exchange_list_approve, sheet_build
from tests.concurrency import run_together
from tests.factories import make_order, make_shop, make_user
from tickets.models import LedgerEntry, Order
from tickets.money import counted_total
from tickets.roles import Role
from tickets.services import DeskError

from .helpers import file_bytes, queued_exchange, record

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]

TOMORROW = timezone.localdate() + timedelta(days=1)


def due(kind, day=TOMORROW):
    """Just after ``day``'s cut-off: money recorded now is before it."""
    return get_builder(kind).cutoff(day) + timedelta(minutes=1)


@pytest.fixture
def people():
    shop = make_shop("conc-sheets")
    agent = make_user(role=Role.AGENT, shops=[shop])
    order = make_order(shop, status=Order.Status.SUCCESS, items=((Decimal("9000.00"), 1),))
    return agent, order


def test_two_supervisors_signing_at_once_give_one_signature(people):
    agent, order = people
    queued_exchange(agent, order)
    sheet = sheet_build(kind="exchanges", business_date=TOMORROW, now=due("exchanges"))
    bosses = [make_user(role=Role.SUPERVISOR, all_shops=True) for _ in range(2)]

    results, errors = run_together(
        *[lambda boss=boss: exchange_list_approve(actor=boss, sheet=sheet) for boss in bosses]
    )

    assert len(errors) == 1 and isinstance(errors[0], DeskError)
    winner = next(result for result in results if result is not None)
    sheet.refresh_from_db()
    assert sheet.status == Sheet.Status.APPROVED
    assert sheet.approved_by == winner.approved_by


def test_two_builds_of_the_same_day_at_once_give_one_sheet_and_one_file(people):
    agent, order = people
    for amount in ("1.00", "2.00", "3.00"):
        record(agent, order, amount)

    results, errors = run_together(
        *[
            lambda: sheet_build(kind="finance", business_date=TOMORROW, now=due("finance"))
            for _ in range(3)
        ]
    )

    assert errors == []
    assert len({sheet.pk for sheet in results}) == 1
    assert Sheet.objects.filter(kind="finance").count() == 1
    assert FinanceSheetEntry.objects.count() == 3
    sheet = Sheet.objects.get()
    assert sheet.status == Sheet.Status.READY
    assert {file_bytes(result) for result in results} == {file_bytes(sheet)}


def test_builds_of_two_days_at_once_never_put_an_entry_on_both(people):
    agent, order = people
    entries = [record(agent, order, f"{n}.00") for n in range(1, 6)]
    day_after = TOMORROW + timedelta(days=1)

    _results, errors = run_together(
        lambda: sheet_build(kind="finance", business_date=TOMORROW, now=due("finance", day_after)),
        lambda: sheet_build(kind="finance", business_date=day_after, now=due("finance", day_after)),
    )

    # whichever claimed first took the money; the other found nothing left, or was refused
    # because a later sheet already exists
    assert all(isinstance(error, DeskError) for error in errors)
    claimed = list(FinanceSheetEntry.objects.values_list("entry_id", flat=True))
    assert sorted(claimed) == sorted(entry.pk for entry in entries)


def test_money_committed_while_the_sheet_is_claiming_goes_on_the_next_sheet(people, monkeypatch):
    # given: the build pauses inside its claim transaction, after the claim
    agent, order = people
    on_time = record(agent, order, "10.00")
    claimed, go_on = threading.Event(), threading.Event()
    claim = FinanceSheetBuilder.claim

    def pausing_claim(builder, sheet):
        count = claim(builder, sheet)
        claimed.set()
        assert go_on.wait(timeout=20)
        return count

    monkeypatch.setattr(FinanceSheetBuilder, "claim", pausing_claim)

    def build():
        return sheet_build(kind="finance", business_date=TOMORROW, now=due("finance"))

    def record_meanwhile():
        # begun before the claim, committed after it: recorded before the cut-off all the same
        with transaction.atomic():
            entry = record(agent, order, "20.00")
            assert claimed.wait(timeout=20)
        go_on.set()
        return entry

    # when
    (sheet, late), errors = run_together(build, record_meanwhile)

    # then: not on this sheet (it could not see it), on the next one
    assert errors == []
    assert late.recorded_at < sheet.cutoff_at
    assert list(sheet.ledger_claims.values_list("entry_id", flat=True)) == [on_time.pk]
    monkeypatch.undo()
    following = TOMORROW + timedelta(days=1)
    next_sheet = sheet_build(kind="finance", business_date=following, now=due("finance", following))
    assert list(next_sheet.ledger_claims.values_list("entry_id", flat=True)) == [late.pk]
    assert sheet.total_amount + next_sheet.total_amount == counted_total(LedgerEntry.objects.all())
