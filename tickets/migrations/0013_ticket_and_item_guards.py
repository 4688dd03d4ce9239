# The database also refuses a row whose shop is not its ticket's shop (a register entry with
# no order but another shop's ticket), a ticket holding an item of another order, and a ticket
# or an order item moved to another order.

from django.db import migrations

from tickets.db import keeps_parent_install, keeps_parent_remove, row_guard_install, row_guard_remove

GUARDS = ("shop_is_ticket_shop", "item_is_of_ticket_order")


def forward(apps, schema_editor):
    for name in GUARDS:
        row_guard_install(schema_editor, name)
    keeps_parent_install(schema_editor)


def backward(apps, schema_editor):
    for name in GUARDS:
        row_guard_remove(schema_editor, name)
    keeps_parent_remove(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0012_invoice_request_without_sheet")]

    operations = [migrations.RunPython(forward, backward)]
