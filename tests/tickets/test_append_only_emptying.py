"""The append-only tables cannot be emptied at once either (issue 12 section 6): TRUNCATE is
refused on PostgreSQL like UPDATE and DELETE, and on SQLite, which has no TRUNCATE, ``DELETE
FROM t`` is. The list of tables is read from the code (both apps' lists) and checked against
the guards the database really has, so a new append-only table is covered by these tests as
soon as it is guarded. The test suite's own flush still empties them (conftest)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from finance_exports.builders import get_builder
from finance_exports.db import APPEND_ONLY_TABLES as FINANCE_APPEND_ONLY_TABLES
from finance_exports.models import FinanceSheetEntry, SheetDownload
from finance_exports.services import sheet_build, sheet_download_record
from tests.factories import make_ticket
from tickets.db import APPEND_ONLY_TABLES, LATER_APPEND_ONLY_TABLES
from tickets.models import LedgerEntry, PersonalDataAccess, TicketEvent
from tickets.services.ledger import ledger_record
from tickets.services.privacy import order_reveal_personal_data

EVERY_APPEND_ONLY_TABLE = (
    *APPEND_ONLY_TABLES,
    *LATER_APPEND_ONLY_TABLES,
    *FINANCE_APPEND_ONLY_TABLES,
)
POSTGRES = connection.vendor == "postgresql"
postgres_only = pytest.mark.skipif(not POSTGRES, reason="SQLite has no TRUNCATE")


def guarded_tables(suffix: str) -> set[str]:
    """The tables that have a guard trigger named ``<table><suffix>`` in the database."""
    with connection.cursor() as cursor:
        if POSTGRES:
            cursor.execute(
                "SELECT c.relname, t.tgname FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
            )
        else:
            cursor.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
        return {table for table, name in cursor.fetchall() if name == f"{table}{suffix}"}


def test_the_code_lists_every_table_the_database_keeps_append_only(db):
    """A table guarded by ``refuse_changes`` but missing from the lists would escape the
    TRUNCATE test below; one listed but not guarded would be a hole."""
    assert guarded_tables("_append_only") == set(EVERY_APPEND_ONLY_TABLE)
    emptying_guard = "_no_truncate" if POSTGRES else "_no_delete"
    assert guarded_tables(emptying_guard) == set(EVERY_APPEND_ONLY_TABLE)


@pytest.fixture
def one_of_each(agent, finance, order_a):
    """Rows in the ledger, the timeline, the personal-data audit, a finance sheet's claims and
    its download log, made through the desk's services."""
    ticket = make_ticket(order_a, agent)
    ledger_record(
        actor=agent,
        order=order_a,
        ticket=ticket,
        kind=LedgerEntry.Kind.POSTAGE,
        amount="12.00",
        payment_method=LedgerEntry.PaymentMethod.ALIPAY_TRANSFER,
    )
    order_reveal_personal_data(actor=agent, order=order_a)
    day = timezone.localdate() + timedelta(days=1)
    sheet = sheet_build(
        kind="finance",
        business_date=day,
        now=get_builder("finance").cutoff(day) + timedelta(minutes=1),
    )
    sheet_download_record(actor=finance, sheet=sheet)
    models = (LedgerEntry, TicketEvent, PersonalDataAccess, FinanceSheetEntry, SheetDownload)
    counts = {model._meta.db_table: model.objects.count() for model in models}
    assert all(counts.values()), counts
    return counts


def refused(sql: str, table: str, operation: str) -> None:
    with (
        pytest.raises(IntegrityError) as caught,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert f"table {table} is append-only: {operation} refused" in str(caught.value)


@postgres_only
@pytest.mark.parametrize("table", EVERY_APPEND_ONLY_TABLE)
def test_truncate_is_refused_on_every_append_only_table(db, table):
    # CASCADE, the form that gets past the foreign keys, so only the guard can stop it.
    refused(f"TRUNCATE {table} CASCADE", table, "TRUNCATE")
    refused(f"TRUNCATE TABLE ONLY {table} RESTART IDENTITY CASCADE", table, "TRUNCATE")


@postgres_only
@pytest.mark.django_db(transaction=True)  # committed rows, as in production (no pending checks)
def test_a_refused_truncate_leaves_every_row(one_of_each):
    for table in one_of_each:
        refused(f"TRUNCATE {table} CASCADE", table, "TRUNCATE")
    refused(f"TRUNCATE {', '.join(one_of_each)} CASCADE", next(iter(one_of_each)), "TRUNCATE")
    models = (LedgerEntry, TicketEvent, PersonalDataAccess, FinanceSheetEntry, SheetDownload)
    assert {m._meta.db_table: m.objects.count() for m in models} == one_of_each


def test_emptying_a_table_with_delete_is_refused(one_of_each):
    """SQLite's way to empty a table (and PostgreSQL's other one)."""
    for table, count in one_of_each.items():
        refused(f"DELETE FROM {table}", table, "DELETE")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            assert cursor.fetchone()[0] == count


@pytest.mark.django_db(transaction=True)
def test_the_test_suites_flush_still_empties_them_and_leaves_the_guards_on(one_of_each):
    """Every transactional test ends with Django's flush (TRUNCATE on PostgreSQL, DELETE on
    SQLite) over these tables; it lifts the guards for its own transaction only."""
    call_command("flush", "--no-input", verbosity=0)
    models = (LedgerEntry, TicketEvent, PersonalDataAccess, FinanceSheetEntry, SheetDownload)
    assert not any(model.objects.exists() for model in models)
    emptying_guard = "_no_truncate" if POSTGRES else "_no_delete"
    assert guarded_tables(emptying_guard) == set(EVERY_APPEND_ONLY_TABLE)
    if POSTGRES:
        refused("TRUNCATE tickets_ledgerentry CASCADE", "tickets_ledgerentry", "TRUNCATE")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM pg_trigger WHERE tgname LIKE '%_no_truncate' "
                "AND tgenabled = 'D'"
            )
            assert cursor.fetchone()[0] == 0  # none left disabled
