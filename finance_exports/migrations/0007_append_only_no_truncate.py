"""TRUNCATE is refused on finance_exports' append-only tables (issue 12 section 6), as UPDATE and
DELETE are: a ``BEFORE TRUNCATE ... FOR EACH STATEMENT`` trigger on PostgreSQL, and on SQLite,
which has no TRUNCATE, a trigger refusing ``DELETE`` (its way to empty a table). See
``tickets.db.refuse_emptying``; the list is this migration's own, so it never changes.
"""

from django.db import migrations

from tickets.db import allow_emptying, refuse_emptying

TABLES = (
    "finance_exports_financesheetentry",
    "finance_exports_sheetdownload",
    "finance_exports_invoicebatchline",
    "finance_exports_financesheetcharge",
)


def forward(apps, schema_editor):
    refuse_emptying(schema_editor, TABLES)


def backward(apps, schema_editor):
    allow_emptying(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("finance_exports", "0006_finance_sheet_charges"),
        ("tickets", "0020_append_only_no_truncate"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
