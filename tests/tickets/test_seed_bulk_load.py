"""seed_demo into empty tables on PostgreSQL: indexes, constraints and guards come after the
rows (``tickets.imports.bulk.deferred_upkeep``, issue 14), and the database ends exactly as
the migrations made it, with every rule the per-row path would have enforced."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from tests.factories import make_shop, make_user
from tickets import demo
from tickets.db import (
    SHOP_OF_ORDER_TABLES,
    SHOP_OF_TICKET_TABLES,
    TICKET_OF_ORDER_TABLES,
    guard_violations_sql,
)
from tickets.imports.bulk import deferred_upkeep, insert_rows, row_defaults
from tickets.models import LedgerEntry, Order, Shop, Ticket, TicketEvent
from tickets.roles import Role

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the deferred upkeep is PostgreSQL's"
)

SEED = ["--orders", "120", "--tickets", "90", "--days", "400", "--today", "2026-11-24"]


def _catalogue() -> list[tuple]:
    """Every index, constraint and trigger of the tickets tables, as the catalogue prints
    them (definition, validated, enabled)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT 'index', tablename, indexname, indexdef FROM pg_indexes
            WHERE tablename LIKE 'tickets\\_%%'
            UNION ALL
            SELECT 'constraint', conrelid::regclass::text, conname,
                   pg_get_constraintdef(oid) || ' validated=' || convalidated
            FROM pg_constraint WHERE conrelid::regclass::text LIKE 'tickets\\_%%'
            UNION ALL
            SELECT 'trigger', tgrelid::regclass::text, tgname, tgenabled::text FROM pg_trigger
            WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE 'tickets\\_%%'
            ORDER BY 1, 2, 3
            """
        )
        return cursor.fetchall()


@pytest.fixture
def upkeep_calls(monkeypatch):
    """What each of the demo's ``deferred_upkeep`` blocks yielded (True: indexes and checks
    were deferred)."""
    calls = []
    real = demo.deferred_upkeep

    def spy(models):
        context = real(models)

        class Recording:
            def __enter__(self):
                calls.append(context.__enter__())
                return calls[-1]

            def __exit__(self, *exc):
                return context.__exit__(*exc)

        return Recording()

    monkeypatch.setattr(demo, "deferred_upkeep", spy)
    return calls


@pytest.mark.django_db
def test_a_seed_into_empty_tables_ends_with_the_schema_the_migrations_made(upkeep_calls):
    # given an empty desk and its catalogue
    before = _catalogue()
    assert any(kind == "index" for kind, *_rest in before)
    # when the demo is seeded (into empty tables: the deferred path)
    call_command("seed_demo", *SEED, stdout=StringIO())
    # then every index, constraint and trigger is there again, defined as before, validated
    # and enabled
    assert upkeep_calls == [True]
    assert _catalogue() == before
    assert Order.objects.count() == 120
    assert Ticket.objects.count() == 90


@pytest.mark.django_db
def test_the_deferred_seed_holds_every_rule_the_row_guards_hold(upkeep_calls):
    call_command("seed_demo", *SEED, stdout=StringIO())
    assert upkeep_calls == [True]
    rules = [
        *(("desk_shop_is_order_shop", t) for t in SHOP_OF_ORDER_TABLES),
        *(("desk_ticket_is_of_order", t) for t in TICKET_OF_ORDER_TABLES),
        *(("desk_shop_is_ticket_shop", t) for t in SHOP_OF_TICKET_TABLES),
        ("desk_item_is_of_ticket_order", "tickets_ticketitem"),
    ]
    with connection.cursor() as cursor:
        for function, table in rules:
            cursor.execute(guard_violations_sql(table, [function]))
            assert cursor.fetchall() == [], (function, table)
    assert LedgerEntry.objects.exists()
    # and the guards are on again: a row breaking one is refused as it is written
    ticket = Ticket.objects.first()
    other_shop = Shop.objects.exclude(pk=ticket.shop_id).first()
    event = {**row_defaults(LedgerEntry), "shop_id": other_shop.pk, "order_id": ticket.order_id}
    event |= {"ticket_id": ticket.pk, "kind": LedgerEntry.Kind.POSTAGE, "amount": Decimal("8.00")}
    event |= {"payment_method": "alipay_transfer", "recorded_by_id": ticket.opened_by_id}
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(LedgerEntry, [event])


@pytest.mark.django_db
def test_an_interrupted_seed_leaves_no_rows_and_the_schema_whole(monkeypatch, upkeep_calls):
    # given a seed that fails in its second batch of orders
    before = _catalogue()
    monkeypatch.setattr(demo.DemoBuilder, "batch_size", 50)
    build_batch = demo.DemoBuilder._build_batch
    batches = []

    def failing(self, size, quota):
        batches.append(size)
        if len(batches) == 2:
            raise KeyboardInterrupt  # as a Ctrl-C would, between two COPYs
        build_batch(self, size, quota)

    monkeypatch.setattr(demo.DemoBuilder, "_build_batch", failing)
    # when it runs
    with pytest.raises(KeyboardInterrupt):
        call_command("seed_demo", *SEED, stdout=StringIO())
    # then the first batch is gone with the schema changes: every index, constraint and
    # trigger is in place and enabled
    assert upkeep_calls == [True]
    assert not Order.objects.exists()
    assert not TicketEvent.objects.exists()
    assert _catalogue() == before


@pytest.mark.django_db
def test_a_load_that_breaks_a_guard_rule_is_refused_whole():
    # given rows written with the guards deferred, one ticket in the wrong shop
    before = _catalogue()
    shops = [make_shop("shop-a"), make_shop("shop-b")]
    user = make_user("loader", Role.AGENT, shops=shops)
    with (
        pytest.raises(IntegrityError, match=r"tickets_ticket: row \d+ .*shop_is_order_shop"),
        transaction.atomic(),
        deferred_upkeep(demo.LOADED_MODELS) as deferred,
    ):
        assert deferred
        order = {**row_defaults(Order), "shop_id": shops[0].pk, "order_no": "1", "id": 1}
        at = order["created_at"]
        order |= {"status": "paid", "placed_at": at, "updated_at": at}
        insert_rows(Order, [order], with_pk=True)
        ticket = {**row_defaults(Ticket), "shop_id": shops[1].pk, "order_id": 1}
        ticket |= {"opened_by_id": user.pk, "kind": "return", "reason": "quality"}
        ticket |= {"responsibility": "seller", "updated_at": at}
        ticket |= {"first_response_due": at, "resolution_due": at}
        insert_rows(Ticket, [ticket])
    # then nothing of it stays, and the schema is whole
    assert not Order.objects.exists()
    assert _catalogue() == before


@pytest.mark.django_db
def test_seeding_a_desk_that_has_orders_checks_every_row_as_it_is_written(upkeep_calls):
    call_command("seed_demo", *SEED, stdout=StringIO())
    before = _catalogue()
    call_command("seed_demo", "--orders", "30", "--tickets", "10", stdout=StringIO())
    # the second run never took the indexes or guards off
    assert upkeep_calls == [True]
    assert Order.objects.count() == 150
    assert _catalogue() == before


def _row(instance, **changes) -> dict:
    """A copy of ``instance``'s columns (no id) with ``changes``, as ``insert_rows`` takes it."""
    fields = type(instance)._meta.concrete_fields
    row = {f.attname: getattr(instance, f.attname) for f in fields if not f.primary_key}
    return row | changes


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("table", "function"),
    [
        ("tickets_ticket", "desk_shop_is_order_shop"),
        ("tickets_ledgerentry", "desk_ticket_is_of_order"),
        ("tickets_ledgerentry", "desk_shop_is_ticket_shop"),
        ("tickets_ticketitem", "desk_item_is_of_ticket_order"),
    ],
)
def test_each_guard_query_finds_the_rows_its_trigger_refuses(
    table, function, shop_a, shop_b, supervisor
):
    # given two orders in shop A and one in shop B, each with a ticket
    from tests.factories import make_entry, make_order, make_ticket
    from tickets.models import TicketItem

    first, second, elsewhere = make_order(shop_a), make_order(shop_a), make_order(shop_b)
    ticket = make_ticket(first, supervisor)
    other_ticket = make_ticket(second, supervisor)
    far_ticket = make_ticket(elsewhere, supervisor)
    entry = make_entry(first, supervisor, ticket=ticket)
    model, row = {
        "desk_shop_is_order_shop": (Ticket, _row(ticket, shop_id=shop_b.pk)),
        "desk_ticket_is_of_order": (LedgerEntry, _row(entry, ticket_id=other_ticket.pk)),
        "desk_shop_is_ticket_shop": (LedgerEntry, _row(entry, ticket_id=far_ticket.pk)),
        "desk_item_is_of_ticket_order": (
            TicketItem,
            _row(ticket.items.get(), order_item_id=second.items.get().pk),
        ),
    }[function]
    # when the row is written with the table's guards off, the rule's query finds it
    connection.check_constraints()  # PostgreSQL alters no table with checks pending
    with connection.cursor() as cursor, transaction.atomic():
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor.execute(guard_violations_sql(table, [function]))
        assert cursor.fetchall() == []
        insert_rows(model, [row])
        cursor.execute(guard_violations_sql(table, [function]))
        assert len(cursor.fetchall()) == 1
        transaction.set_rollback(True)
    # and with the guards on, the trigger refuses the same row
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(model, [row])
