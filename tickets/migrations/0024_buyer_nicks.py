"""The nickname searches read a table of distinct nicknames (issue 11, section 3).

At a million orders the search by part of a nickname cost about 60 ms, most of it reading the
orders the trigram index on ``tickets_order`` named (one heap page per candidate order, about
5,000 for a three-character part). Now the trigram index is on ``tickets_buyernick`` (one row
per buyer, kept by triggers: ``tickets.db.buyer_nicks_install``), and a matching buyer's orders
come from ``order_nick_placed_idx``, which holds (nickname, placed, id) and the shop, so they
are read from the index alone. The single-column nickname index and ``order_nick_trgm_idx``
go: the new index serves every lookup by the whole nickname. On SQLite (no trigram index) the
same table and triggers give the same answers.
"""

from django.db import migrations, models

from tickets.db import (
    buyer_nicks_install,
    buyer_nicks_remove,
    sqlite_guards_restore,
    sqlite_guards_suspend,
)

ORDERS_TRGM = "order_nick_trgm_idx"
NICKS_TRGM = "buyernick_trgm_idx"


def guards_suspend(apps, schema_editor):
    sqlite_guards_suspend(schema_editor)


def guards_restore(apps, schema_editor):
    sqlite_guards_restore(schema_editor)


def install(apps, schema_editor):
    buyer_nicks_install(schema_editor)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {NICKS_TRGM} ON tickets_buyernick "
            'USING gin (UPPER("nick"::text) gin_trgm_ops)'
        )
        schema_editor.execute(f"DROP INDEX IF EXISTS {ORDERS_TRGM}")


def remove(apps, schema_editor):
    buyer_nicks_remove(schema_editor)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NICKS_TRGM}")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {ORDERS_TRGM} ON tickets_order "
            'USING gin (UPPER("buyer_nick"::text) gin_trgm_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0023_service_level_clock"),
    ]

    operations = [
        migrations.RunPython(guards_suspend, guards_restore),
        migrations.CreateModel(
            name="BuyerNick",
            fields=[
                (
                    "nick",
                    models.CharField(
                        max_length=64,
                        primary_key=True,
                        serialize=False,
                        verbose_name="买家会员名",
                    ),
                ),
            ],
            options={
                "verbose_name": "买家会员名",
                "verbose_name_plural": "买家会员名",
            },
        ),
        migrations.AlterField(
            model_name="order",
            name="buyer_nick",
            field=models.CharField(max_length=64, verbose_name="买家会员名"),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                fields=["buyer_nick", "-placed_at", "-id"],
                include=("shop",),
                name="order_nick_placed_idx",
            ),
        ),
        migrations.RunPython(install, remove),
        migrations.RunPython(guards_restore, guards_suspend),
    ]
