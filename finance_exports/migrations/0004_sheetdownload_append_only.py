"""The download log's append-only trigger, now made by finance_exports itself.

Until now tickets' migration 0002 put it on finance_exports_sheetdownload, so tickets named a
finance_exports table. Databases migrated before this already have it: it is dropped if present
and made again, so every database ends with the same one trigger.
"""

from django.db import migrations

from tickets.db import allow_changes, refuse_changes

TABLES = ["finance_exports_sheetdownload"]


def forward(apps, schema_editor):
    allow_changes(schema_editor, TABLES)
    refuse_changes(schema_editor, TABLES)


def backward(apps, schema_editor):
    allow_changes(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("finance_exports", "0003_claims_and_exchange_lines"),
        ("tickets", "0002_append_only_roles_couriers"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
