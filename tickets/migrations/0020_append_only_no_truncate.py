"""TRUNCATE is refused on the append-only tables, like UPDATE and DELETE (issue 12 section 6).

A row trigger never sees TRUNCATE, so ``TRUNCATE tickets_ledgerentry`` emptied the money ledger
that no UPDATE or DELETE could touch. Each table gets a ``BEFORE TRUNCATE ... FOR EACH
STATEMENT`` trigger calling the same ``desk_refuse_change()``. SQLite has no TRUNCATE: its way to
empty a table is ``DELETE FROM t``, now refused by a DELETE trigger as PostgreSQL's row trigger
refuses it. ``refuse_changes`` makes these guards itself from now on, so databases built from
scratch already have them; this puts them on databases migrated before (it replaces a guard
that exists).
"""

from django.db import migrations

from tickets.db import allow_emptying, refuse_emptying

# tickets.db.APPEND_ONLY_TABLES and LATER_APPEND_ONLY_TABLES as they are now: this migration's
# own list, so a table added to those later never reaches a database before it exists.
TABLES = (
    "tickets_ledgerentry",
    "tickets_ledgerapproval",
    "tickets_ticketevent",
    "tickets_personaldataaccess",
    "tickets_reviewcontact",
    "tickets_exchangecharge",
    "tickets_orderchange",
)


def forward(apps, schema_editor):
    refuse_emptying(schema_editor, TABLES)


def backward(apps, schema_editor):
    allow_emptying(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0019_all_status_sort_indexes"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
