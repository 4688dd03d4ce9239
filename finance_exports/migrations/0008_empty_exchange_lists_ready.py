"""An exchange-goods list built with no exchange on it asks for no signature (issue 13
review): those built before, left waiting for a signature with no line, are made ready, as
ExchangeListBuilder.ready_status_for makes them now. Nothing to undo: going back leaves them
ready, which the older code reads as a list finance may download."""

from django.db import migrations


def empty_lists_ready(apps, schema_editor):
    Sheet = apps.get_model("finance_exports", "Sheet")
    Sheet.objects.filter(kind="exchanges", status="awaiting_approval", row_count=0).update(
        status="ready"
    )


class Migration(migrations.Migration):
    dependencies = [("finance_exports", "0007_append_only_no_truncate")]

    operations = [migrations.RunPython(empty_lists_ready, migrations.RunPython.noop)]
