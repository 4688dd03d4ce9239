from django.db import migrations

from tickets.db import append_only_backward, append_only_forward
from tickets.reference import create_couriers


def create_roles(apps, schema_editor):
    from tickets.roles import sync_roles

    sync_roles(apps, strict=False)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0001_initial"),
        ("finance_exports", "0002_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(append_only_forward, append_only_backward),
        migrations.RunPython(create_roles, migrations.RunPython.noop),
        migrations.RunPython(create_couriers, migrations.RunPython.noop),
    ]
