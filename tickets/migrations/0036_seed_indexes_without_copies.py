"""Fewer indexes for every seed, import and write to build and keep up (issue 14), and one the
month's exchange slips need.

Going (PostgreSQL builds each of them again after every bulk load, ``deferred_upkeep``):

- four single-column foreign-key indexes that a composite index already leads with: a
  timeline event's ticket (``ticket_event_timeline_idx``), a ticket item's ticket
  (``ticket_item_once``), a replacement's ticket item (``exchange_replacement_once_per_sku``)
  and a ledger entry's order (``ledger_order_kind_idx``);
- the ``varchar_pattern_ops`` copies Django adds beside the index of an indexed or unique text
  field, for ``LIKE 'prefix%'``, which no lookup of the desk runs on these columns (each is
  looked up whole: ``normalise_tracking_no``, a form's one-time key, a nickname through
  ``BuyerNick``'s trigram index): the ticket's return tracking number (now a ``Meta`` index,
  as the orders' in 0025), the ticket's and the ledger's one-time keys, the return parcels'
  tracking number and the nickname table's key. The unique ones stay ``unique=True``: their
  copies are dropped by name (PostgreSQL only; SQLite has none), and a later ``AlterField``
  of such a field drops the copy with ``IF EXISTS``.

Coming: ``ticket_event_shipped_idx``, the "shipped" status events by time (a partial index: a
few events in a hundred), which the month's exchange slips read three times per sheet (5
million events read whole at a million tickets, 1.7-2 s each time).

At a million demo tickets the dropped indexes took about a sixth of the seed's index builds
(bench/README.md). SQLite rebuilds the tables for the fields' change: their guards are lifted
and put back around it (``sqlite_guards_lifted``, as in 0033).
"""

import django.db.models.deletion
from django.db import migrations, models

from tickets.db import sqlite_guards_lifted

# (table, column) of the unique text fields whose LIKE copy goes.
UNIQUE_TEXT_COPIES = (
    ("tickets_ticket", "idempotency_key"),
    ("tickets_ledgerentry", "idempotency_key"),
    ("tickets_returnparcel", "tracking_no"),
    ("tickets_buyernick", "nick"),
)


def _copy_name(schema_editor, table: str, column: str) -> str:
    """The name Django gave the copy (``<table>_<column>_<hash>_like``)."""
    return schema_editor._create_index_name(table, [column], suffix="_like")


def drop_like_copies(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in UNIQUE_TEXT_COPIES:
        name = schema_editor.quote_name(_copy_name(schema_editor, table, column))
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def create_like_copies(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    for table, column in UNIQUE_TEXT_COPIES:
        name = quote(_copy_name(schema_editor, table, column))
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {quote(table)} "
            f"({quote(column)} varchar_pattern_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0035_dashboard_covering_indexes"),
    ]

    operations = [
        migrations.RunPython(drop_like_copies, create_like_copies),
        *sqlite_guards_lifted(
            migrations.AlterField(
                model_name="exchangereplacement",
                name="ticket_item",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="replacements",
                    to="tickets.ticketitem",
                    verbose_name="退回商品",
                ),
            ),
            migrations.AlterField(
                model_name="ledgerentry",
                name="order",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.PROTECT,
                    related_name="ledger_entries",
                    to="tickets.order",
                    verbose_name="订单",
                ),
            ),
            migrations.AlterField(
                model_name="ticket",
                name="return_tracking_no",
                field=models.CharField(blank=True, max_length=40, verbose_name="退回运单号"),
            ),
            migrations.AlterField(
                model_name="ticketevent",
                name="ticket",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.PROTECT,
                    related_name="events",
                    to="tickets.ticket",
                    verbose_name="售后单",
                ),
            ),
            migrations.AlterField(
                model_name="ticketitem",
                name="ticket",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="items",
                    to="tickets.ticket",
                    verbose_name="售后单",
                ),
            ),
            migrations.AddIndex(
                model_name="ticket",
                index=models.Index(
                    fields=["return_tracking_no"], name="ticket_return_tracking_idx"
                ),
            ),
            migrations.AddIndex(
                model_name="ticketevent",
                index=models.Index(
                    condition=models.Q(("kind", "status"), ("to_status", "shipped")),
                    fields=["created_at"],
                    name="ticket_event_shipped_idx",
                ),
            ),
        ),
    ]
