"""The database (and the models) refuse what must never be wrong."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from finance_exports.models import Sheet
from tests.factories import make_entry, make_order, make_ticket
from tickets.models import AppendOnlyError, LedgerEntry, Order, Ticket, TicketEvent, TicketItem


def _insert_raw_entry(order, user, amount):
    """Bypasses the model's own checks, so only the database is left to refuse."""
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                shop=order.shop,
                order=order,
                kind="postage",
                amount=Decimal(amount),
                payment_method="alipay_transfer",
                recorded_by=user,
            )
        ]
    )


@pytest.mark.parametrize("amount", ["-5.00", "0.00"])
def test_ledger_amount_must_be_positive_in_the_database(order_a, agent, amount):
    with pytest.raises(IntegrityError), transaction.atomic():
        _insert_raw_entry(order_a, agent, amount)
    assert LedgerEntry.objects.count() == 0


@pytest.mark.parametrize("amount", ["-5.00", "0", "1.234"])
def test_ledger_model_refuses_bad_amounts_with_a_message(order_a, agent, amount):
    with pytest.raises(ValidationError) as refused:
        make_entry(order_a, agent, amount)
    assert "amount" in refused.value.message_dict
    assert LedgerEntry.objects.count() == 0


def test_ledger_entry_cannot_be_saved_again_or_deleted(order_a, agent):
    entry = make_entry(order_a, agent, "12.00")
    entry.amount = Decimal("1.00")
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=Decimal("1.00"))
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    assert LedgerEntry.objects.get(pk=entry.pk).amount == Decimal("12.00")


def test_ledger_raw_sql_update_is_refused_by_the_database(order_a, agent):
    entry = make_entry(order_a, agent, "12.00")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE tickets_ledgerentry SET amount = 1 WHERE id = %s", [entry.pk])
    assert LedgerEntry.objects.get(pk=entry.pk).amount == Decimal("12.00")


def test_ledger_raw_sql_delete_is_refused_by_the_database(order_a, agent):
    # SQLite too, now that the test flush lifts the guard for itself (tests/conftest.py).
    entry = make_entry(order_a, agent, "12.00")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM tickets_ledgerentry WHERE id = %s", [entry.pk])
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_a_correction_is_a_reversing_entry_and_reverses_only_once(order_a, agent):
    original = make_entry(order_a, agent, "30.00", kind=LedgerEntry.Kind.REFUND)
    reversal = make_entry(order_a, agent, "30.00", kind=LedgerEntry.Kind.REFUND, reverses=original)
    assert reversal.signed_amount == Decimal("-30.00")
    assert original.signed_amount + reversal.signed_amount == 0
    with pytest.raises(IntegrityError), transaction.atomic():
        make_entry(order_a, agent, "30.00", kind=LedgerEntry.Kind.REFUND, reverses=original)


def test_ledger_idempotency_key_makes_one_row(order_a, agent):
    make_entry(order_a, agent, "8.00", idempotency_key="form-key-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_entry(order_a, agent, "8.00", idempotency_key="form-key-1")
    assert LedgerEntry.objects.count() == 1


def test_timeline_events_are_append_only(order_a, agent):
    ticket = make_ticket(order_a, agent)
    event = TicketEvent.objects.create(
        ticket=ticket, actor=agent, kind="note", message="已联系买家"
    )
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE tickets_ticketevent SET message = 'x' WHERE id = %s", [event.pk])


@pytest.mark.django_db
def test_one_sheet_per_kind_and_date():
    day = dt.date(2026, 11, 24)
    Sheet.objects.create(kind=Sheet.Kind.FINANCE, business_date=day)
    Sheet.objects.create(kind=Sheet.Kind.EXCHANGES, business_date=day)
    with pytest.raises(IntegrityError), transaction.atomic():
        Sheet.objects.create(kind=Sheet.Kind.FINANCE, business_date=day)
    assert Sheet.objects.filter(kind=Sheet.Kind.FINANCE).count() == 1


@pytest.mark.django_db
def test_sheet_cannot_be_ready_without_a_file_or_approved_without_who():
    with pytest.raises(IntegrityError), transaction.atomic():
        Sheet.objects.create(kind="finance", business_date=dt.date(2026, 11, 1), status="ready")
    with pytest.raises(IntegrityError), transaction.atomic():
        Sheet.objects.create(
            kind="exchanges",
            business_date=dt.date(2026, 11, 1),
            status="approved",
            file="sheets/x.xlsx",
        )


def test_order_number_is_unique_per_shop(shop_a, shop_b):
    make_order(shop_a, order_no="3515000000000000001")
    make_order(shop_b, order_no="3515000000000000001")  # another shop may have the same number
    with pytest.raises(IntegrityError), transaction.atomic():
        make_order(shop_a, order_no="3515000000000000001")


@pytest.mark.parametrize(
    ("model", "column"),
    [
        (Order, "status"),
        (Ticket, "status"),
        (Ticket, "kind"),
        (Sheet, "status"),
        (LedgerEntry, "kind"),
    ],
)
def test_status_columns_only_hold_declared_values(order_a, agent, model, column):
    ticket = make_ticket(order_a, agent)
    entry = make_entry(order_a, agent)
    sheet = Sheet.objects.create(kind="finance", business_date=dt.date(2026, 11, 2))
    row = {Order: order_a, Ticket: ticket, Sheet: sheet, LedgerEntry: entry}[model]
    table = model._meta.db_table
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        # Ledger rows cannot be updated at all; the others fail on the CHECK constraint.
        cursor.execute(f"UPDATE {table} SET {column} = 'nonsense' WHERE id = %s", [row.pk])


def test_ticket_item_quantity_must_be_positive(order_a, agent):
    ticket = make_ticket(order_a, agent)
    with pytest.raises(IntegrityError), transaction.atomic():
        TicketItem.objects.bulk_create(
            [TicketItem(ticket=ticket, order_item=order_a.items.first(), quantity=0)]
        )


def test_order_amounts_cannot_be_negative(shop_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_order(shop_a, items=((Decimal("-1.00"), 1),))
