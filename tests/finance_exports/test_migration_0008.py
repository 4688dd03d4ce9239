"""Migration 0008 on a desk holding exchange-goods lists built before an empty list was made
ready: a list left "waiting for a signature" with no line becomes ready; one with lines, and
every other sheet, is left as it was."""

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

AFTER = ("finance_exports", "0008_empty_exchange_lists_ready")


def _migrate(executor: MigrationExecutor, targets) -> MigrationExecutor:
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


@pytest.mark.django_db(transaction=True)
def test_0008_makes_the_empty_lists_waiting_for_a_signature_ready():
    executor = MigrationExecutor(connection)
    (before,) = executor.loader.get_migration(*AFTER).dependencies
    executor = _migrate(executor, [before])
    try:
        # given lists and a finance sheet as the desk built them before
        Sheet = executor.loader.project_state([before]).apps.get_model("finance_exports", "Sheet")
        now = timezone.now()
        made = {}
        for name, kind, status, rows in (
            ("empty list", "exchanges", "awaiting_approval", 0),
            ("list with lines", "exchanges", "awaiting_approval", 2),
            ("empty finance sheet", "finance", "ready", 0),
        ):
            made[name] = Sheet.objects.create(
                kind=kind,
                business_date=date(2026, 11, 20 + len(made)),
                status=status,
                row_count=rows,
                file=f"sheets/{kind}/{name}.xlsx",
                cutoff_at=now,
                claimed_at=now,
                ready_at=now,
            ).pk
        # when 0008 is applied
        executor = _migrate(executor, [AFTER])
        Sheet = executor.loader.project_state([AFTER]).apps.get_model("finance_exports", "Sheet")
        # then only the empty list waiting for a signature is ready
        status = dict(Sheet.objects.values_list("pk", "status"))
        assert status[made["empty list"]] == "ready"
        assert status[made["list with lines"]] == "awaiting_approval"
        assert status[made["empty finance sheet"]] == "ready"
    finally:
        _migrate(MigrationExecutor(connection), executor.loader.graph.leaf_nodes())
