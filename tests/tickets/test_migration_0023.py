"""Migration 0023 on a desk that already has tickets (issue 13 section 3): its fill gives every
existing ticket the clock its docstring promises. The database is taken back to 0022, rows are
written through that state's own models, and 0023 is applied over them; then the rest of the
migrations, so the next test finds the schema it expects."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tickets.db import guards_ensure
from tickets.models.tickets import overdue_q

BEFORE = ("tickets", "0022_escalations_notifications_chat")
AFTER = ("tickets", "0023_service_level_clock")

# What the fill must not touch: the ticket's own history and its due times, which 0023 does
# not recompute.
KEPT = (
    "status",
    "created_at",
    "updated_at",
    "status_changed_at",
    "first_response_due",
    "first_responded_at",
    "resolution_due",
    "resolved_at",
    "closed_at",
)


def _migrate(executor: MigrationExecutor, targets) -> MigrationExecutor:
    executor.loader.build_graph()  # what the last run applied
    executor.migrate(targets)
    return MigrationExecutor(connection)


def _desk_before_0023(apps, now):
    """Tickets as a desk at 0022 held them, written through 0022's models: opened by hand and
    by the refund import (with its ``RefundRequest``), answered or not, waiting for their
    return parcel, finished. Returns {name: ticket id}."""
    User = apps.get_model("tickets", "User")
    Shop = apps.get_model("tickets", "Shop")
    Order = apps.get_model("tickets", "Order")
    Ticket = apps.get_model("tickets", "Ticket")
    RefundRequest = apps.get_model("tickets", "RefundRequest")

    agent = User.objects.create(username="mig-agent")
    importer = User.objects.create(username="mig-importer")
    shop = Shop.objects.create(code="mig", name="迁移测试店", kind="c_store", location="wuhan")
    order = Order.objects.create(
        shop=shop,
        order_no="880000000000000001",
        buyer_nick="tb_migration",
        status="success",
        placed_at=now - timedelta(days=30),
        paid_amount=Decimal("99.00"),
    )

    def ticket(opened, *, by=agent, status="open", changed=None, answered=None, **extra):
        return Ticket.objects.create(
            shop=shop,
            order=order,
            kind=extra.pop("kind", "return"),
            reason="not_suitable",
            responsibility="buyer",
            status=status,
            opened_by=by,
            created_at=opened,
            status_changed_at=changed or opened,
            first_response_due=opened + timedelta(minutes=5),
            first_responded_at=answered,
            resolution_due=opened + timedelta(hours=72),
            **extra,
        )

    day = now - timedelta(days=12)
    rows = {
        "by hand, open, unanswered": ticket(day),
        "by hand, open, answered": ticket(day, answered=day + timedelta(minutes=3)),
        "by hand, awaiting return": ticket(
            day,
            status="awaiting_return",
            changed=day + timedelta(hours=5),
            answered=day + timedelta(minutes=2),
        ),
        "by hand, received": ticket(
            day, status="received", changed=day + timedelta(days=4), answered=day
        ),
        "by hand, closed": ticket(
            day,
            status="closed",
            changed=day + timedelta(days=6),
            answered=day + timedelta(minutes=1),
            resolved_at=day + timedelta(days=5),
            closed_at=day + timedelta(days=6),
        ),
        "by hand, cancelled": ticket(
            day, kind="exchange", status="cancelled", changed=day + timedelta(days=1)
        ),
        "import, open, unanswered": ticket(day + timedelta(days=1), by=importer),
        # the import's own status change was taken for a reply before 0023
        "import, awaiting return": ticket(
            day + timedelta(days=2),
            by=importer,
            status="awaiting_return",
            changed=day + timedelta(days=2, hours=1),
            answered=day + timedelta(days=2, hours=1),
        ),
        "import, refunded": ticket(
            day + timedelta(days=3),
            by=importer,
            kind="refund_only",
            status="refunded",
            changed=day + timedelta(days=4),
            answered=day + timedelta(days=3, minutes=30),
            resolved_at=day + timedelta(days=4),
        ),
    }
    for n, (name, row) in enumerate(rows.items()):
        if name.startswith("import"):
            RefundRequest.objects.create(
                shop=shop,
                order=order,
                ticket=row,
                refund_no=f"RF{n:04d}",
                status="买家已经申请退款，等待卖家同意",
                amount=Decimal("10.00"),
            )
    return {name: row.pk for name, row in rows.items()}


@pytest.mark.django_db(transaction=True)
def test_0023_fills_the_clock_of_existing_tickets_as_its_docstring_says():
    # given a desk at 0022 with tickets of every sort
    executor = _migrate(MigrationExecutor(connection), [BEFORE])
    try:
        now = timezone.now()
        old_apps = executor.loader.project_state([BEFORE]).apps
        ids = _desk_before_0023(old_apps, now)
        OldTicket = old_apps.get_model("tickets", "Ticket")
        before = {row["pk"]: row for row in OldTicket.objects.values("pk", *KEPT)}

        # when 0023 is applied
        executor = _migrate(executor, [AFTER])
        Ticket = executor.loader.project_state([AFTER]).apps.get_model("tickets", "Ticket")
        after = {
            row["pk"]: row
            for row in Ticket.objects.values(
                "pk", *KEPT, "clock_started_at", "paused_at", "paused_seconds", "awaiting_buyer"
            )
        }

        # then every clock started at the ticket's opening, the refund import's included
        assert set(after) == set(ids.values())
        for name, pk in ids.items():
            row = after[pk]
            assert row["clock_started_at"] == row["created_at"], name
            # a ticket waiting for its return parcel is paused since it began to wait; no
            # other is, and no past pause is made up
            if row["status"] == "awaiting_return":
                assert row["paused_at"] == row["status_changed_at"], name
            else:
                assert row["paused_at"] is None, name
            assert row["paused_seconds"] == 0 and row["awaiting_buyer"] is False, name
            # and nothing the ticket already had changes
            assert {key: row[key] for key in KEPT} == {key: before[pk][key] for key in KEPT}, name
        assert after[ids["by hand, awaiting return"]]["paused_at"] == now - timedelta(
            days=12, hours=-5
        )
        # and the desk's one overdue rule reads the filled rows as the README says: a wait
        # for the parcel that began before a due time stops it; finished tickets never count
        overdue = set(Ticket.objects.filter(overdue_q(now)).values_list("pk", flat=True))
        assert overdue == {
            ids[name]
            for name in (
                "by hand, open, unanswered",
                "by hand, open, answered",  # never resolved, 72 hours long past
                "by hand, received",
                "import, open, unanswered",
            )
        }
    finally:
        # the rest of the migrations, and the guards a migrate run puts back after itself
        executor = _migrate(executor, executor.loader.graph.leaf_nodes())
        guards_ensure(connection)
