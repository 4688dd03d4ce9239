"""``manage.py build_sheet``: build (or return) a sheet by hand and print its file's path."""

from datetime import date, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from openpyxl import load_workbook

from aftersales.spreadsheets import MONEY, Column
from finance_exports.builders import Period, SheetBuilder, Summary, register, unregister
from finance_exports.models import Sheet

from .helpers import at, queued_exchange, record


def run(*args) -> str:
    out = StringIO()
    call_command("build_sheet", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def yesterday() -> str:
    return (timezone.localdate() - timedelta(days=1)).isoformat()


def test_builds_the_finance_sheet_and_prints_its_path(agent, order_a, clock):
    day, now = yesterday(), clock.now
    clock.set(at(date.fromisoformat(day), "10:00:00"))
    entry = record(agent, order_a, "12.00")
    clock.set(now)
    path = run("finance", "--date", day)
    assert Path(path).is_file()
    assert load_workbook(path)["明细"]["A2"].value == entry.pk
    sheet = Sheet.objects.get(kind="finance")
    assert sheet.file.path == path
    # run again: the same sheet, the same file
    assert run("finance", "--date", day) == path
    assert Sheet.objects.count() == 1


def test_builds_the_exchange_list(agent, order_a, settings):
    settings.FINANCE_SHEET_TIMES = {**settings.FINANCE_SHEET_TIMES, "exchanges": (0, 0)}
    ticket = queued_exchange(agent, order_a)
    day = timezone.localdate() + timedelta(days=1)
    with pytest.raises(CommandError, match="才能生成"):
        run("exchanges", "--date", day.isoformat())
    path = run("exchanges", "--date", timezone.localdate().isoformat())
    # queued after today's 00:00 cut-off: this list is empty, the ticket waits for the next
    assert load_workbook(path)["换货清单"].max_row == 5
    ticket.refresh_from_db()
    assert ticket.status == "queued_for_exchange"


def test_records_who_built_it_by_hand(supervisor, db):
    run("finance", "--date", yesterday(), "--user", supervisor.username)
    assert Sheet.objects.get().created_by == supervisor


@pytest.mark.parametrize(
    "args",
    [
        ("finance", "--date", "24-11-2026"),
        ("finance", "--month", "2026-11"),
        ("finance", "--date", "2026-11-24", "--user", "nobody"),
    ],
)
def test_bad_arguments_say_what_is_wrong(db, args):
    with pytest.raises(CommandError):
        run(*args)
    assert not Sheet.objects.exists()


def test_a_failed_sheet_is_started_over_by_hand(db):
    sheet = Sheet.objects.create(
        kind="finance", business_date=date.fromisoformat(yesterday()), status="failed", error="x"
    )
    path = run("finance", "--date", yesterday())
    sheet.refresh_from_db()
    assert sheet.status == Sheet.Status.READY
    assert sheet.file.path == path


class MonthlyLosses(SheetBuilder):
    """A stand-in for the monthly courier-loss settlement: a kind plugs in by registering."""

    kind = Sheet.Kind.COURIER_LOSS
    period = Period.MONTH

    def claim(self, sheet):
        return 0

    def summarize(self, sheet):
        return Summary(row_count=0)

    def write(self, sheet, book):
        book.table("月结", [Column("快递公司", 12), Column("金额", 12, MONEY)]).finish()


@pytest.fixture
def monthly_kind(settings):
    settings.FINANCE_SHEET_TIMES = {**settings.FINANCE_SHEET_TIMES, "courier_loss": (10, 0)}
    # Stand in for the real courier-loss builder, then put it back for the tests after this one.
    from finance_exports.builders import _REGISTRY

    real = _REGISTRY.get(Sheet.Kind.COURIER_LOSS)
    register(MonthlyLosses)
    yield
    unregister(Sheet.Kind.COURIER_LOSS)
    if real is not None:
        _REGISTRY[Sheet.Kind.COURIER_LOSS] = real


def test_a_monthly_kind_plugs_in_and_is_built_with_month(db, monthly_kind):
    last_month = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    two_months_ago = (last_month - timedelta(days=1)).replace(day=1)
    path = run("courier_loss", "--month", f"{two_months_ago:%Y-%m}")
    sheet = Sheet.objects.get(kind="courier_loss")
    assert sheet.business_date == two_months_ago
    assert sheet.cutoff_at == timezone.make_aware(
        timezone.datetime.combine(last_month, timezone.datetime.min.time().replace(hour=10))
    )
    assert load_workbook(path)["月结"]["A1"].value == "快递公司"
    with pytest.raises(CommandError, match="--month"):
        run("courier_loss", "--date", "2026-11-01")


def test_a_kind_it_does_not_know_is_refused_with_the_kinds_one_may_type(db):
    # issue 17: the refusal listed SheetKind.COURIER_LOSS ... instead of what one types
    with pytest.raises(CommandError) as refused:
        run("fianance", "--date", yesterday())
    message = str(refused.value)
    assert "SheetKind" not in message
    for kind in ("courier_loss", "exchange_slips", "exchanges", "finance", "invoices"):
        assert f"'{kind}'" in message


def test_the_help_lists_the_kinds_one_may_type():
    from finance_exports.management.commands.build_sheet import Command

    text = Command().create_parser("manage.py", "build_sheet").format_help()
    assert "{courier_loss,exchange_slips,exchanges,finance,invoices}" in text
    assert "SheetKind" not in text
