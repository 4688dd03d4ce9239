"""Migration 0026 on a desk whose shops hold hours the new rule refuses: the database is taken
back to the migration before it, shops are written through that state's models (its
constraint allowed seconds and a one-minute day), and 0026 is applied over them."""

from datetime import time

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tickets.db import guards_ensure

AFTER = ("tickets", "0026_shop_hours_whole_minutes")

# name: (stored before, kept after)
SHOPS = {
    "seconds in a long day": ((time(9, 0, 30), time(18, 0, 15)), (time(9), time(18))),
    "a day of no minutes": ((time(9, 0, 10), time(9, 0, 50)), (None, None)),
    "a minute to midnight": ((time(23, 59, 30), time(0)), (None, None)),
    "half an hour": ((time(9), time(9, 30)), (None, None)),
    "an ordinary day": ((time(8), time(20)), (time(8), time(20))),
    "the last hour": ((time(23), time(0)), (time(23), time(0))),
    "the default hours": ((None, None), (None, None)),
}
CHANGED = {"seconds in a long day", "a day of no minutes", "a minute to midnight", "half an hour"}


def _migrate(executor: MigrationExecutor, targets) -> MigrationExecutor:
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


@pytest.mark.django_db(transaction=True)
def test_0026_fits_stored_hours_to_the_rule_and_says_so_in_the_history():
    executor = MigrationExecutor(connection)
    (before,) = executor.loader.get_migration(*AFTER).dependencies
    executor = _migrate(executor, [before])
    try:
        # given shops with every sort of hours 0023's constraint let through
        Shop = executor.loader.project_state([before]).apps.get_model("tickets", "Shop")
        ids = {}
        for n, (name, ((opens, closes), _kept)) in enumerate(SHOPS.items()):
            ids[name] = Shop.objects.create(
                code=f"mig{n}",
                name=name,
                kind="c_store",
                location="wuhan",
                service_opens_at=opens,
                service_closes_at=closes,
            ).pk

        # when 0026 is applied
        executor = _migrate(executor, [AFTER])
        apps = executor.loader.project_state([AFTER]).apps
        Shop = apps.get_model("tickets", "Shop")
        History = apps.get_model("tickets", "HistoricalShop")

        # then each shop holds hours the rule allows: cut to the minute when a day is left,
        # else the default hours
        for name, (_stored, kept) in SHOPS.items():
            shop = Shop.objects.get(pk=ids[name])
            assert (shop.service_opens_at, shop.service_closes_at) == kept, name
        # and every change is in the shop's history with its reason, nothing else is
        changed = History.objects.filter(history_change_reason__startswith="0026")
        assert {row.name for row in changed} == CHANGED
        assert all(row.history_type == "~" for row in changed)
    finally:
        executor = _migrate(executor, executor.loader.graph.leaf_nodes())
        guards_ensure(connection)
