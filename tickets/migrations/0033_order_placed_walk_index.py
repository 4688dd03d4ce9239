"""The orders newest first with their nickname and shop, for the nickname-part search to walk
(issue 11, ``tickets.selectors.nick_way``); the order's own shop_id index goes, as
two other indexes start with the shop. SQLite rebuilds the table for the change: its guards
are lifted and put back around it (as in 0025)."""

import django.db.models.deletion
from django.db import migrations, models

from tickets.db import sqlite_guards_lifted


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0032_intervention_deadline_label"),
    ]

    operations = sqlite_guards_lifted(
        migrations.AlterField(
            model_name="order",
            name="shop",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="orders",
                to="tickets.shop",
                verbose_name="店铺",
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                fields=["-placed_at", "-id"],
                include=("buyer_nick", "shop"),
                name="order_placed_walk_idx",
            ),
        ),
    )
