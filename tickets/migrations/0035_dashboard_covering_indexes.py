"""The dashboard's counts from their indexes alone (issue 14, bench/README.md "The dashboard at
a million tickets"): the open tickets' due-time index carries ``status_changed_at`` too (the
stale rule), so the queue, overdue and stale counts per assignee are one index-only pass; the
indexes on ``created_at`` and ``resolved_at`` carry the shop, so "opened today" and "resolved
today" of an agent's shops read no table page. ``created_at``'s own single-column index
(TimeStampedModel's ``db_index``) goes for the covering one. SQLite rebuilds the table for
the field's change: its guards are lifted and put back around it (as in 0033); it makes no
index with INCLUDE (PostgreSQL only), as for 0034's."""

import django.utils.timezone
from django.db import migrations, models

from tickets.db import sqlite_guards_lifted

OPEN_STATUSES = (
    "open",
    "awaiting_return",
    "received",
    "queued_for_exchange",
    "on_exchange_list",
    "in_repair",
    "shipped",
    "refunded",
    "compensated",
)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0034_dashboard_indexes"),
    ]

    operations = sqlite_guards_lifted(
        migrations.RemoveIndex(model_name="ticket", name="ticket_resolved_at_idx"),
        migrations.RemoveIndex(model_name="ticket", name="ticket_open_due_idx"),
        migrations.AlterField(
            model_name="ticket",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="创建时间"),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("status__in", OPEN_STATUSES)),
                fields=["resolution_due", "id"],
                include=(
                    "shop",
                    "assignee",
                    "first_response_due",
                    "first_responded_at",
                    "resolved_at",
                    "paused_at",
                    "status_changed_at",
                ),
                name="ticket_open_due_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                fields=["created_at"], include=("shop",), name="ticket_created_at_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                fields=["resolved_at"], include=("shop",), name="ticket_resolved_at_idx"
            ),
        ),
    )
