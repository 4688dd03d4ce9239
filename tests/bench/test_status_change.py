"""bench/status_change.py moves queued exchanges onto the list through the real door and
leaves the database as it found it. Untimed (QUALITY.md 27): only that it ran, counted and
rolled back."""

from decimal import Decimal

import pytest
from django.db import connection

from tests.factories import make_order
from tests.finance_exports.helpers import queued_exchange
from tickets.models import Order, Ticket, TicketEvent

S = Ticket.Status


@pytest.mark.django_db
def test_a_round_moves_each_ticket_and_rolls_back(agent, shop_a):
    if connection.vendor != "postgresql":
        pytest.skip("the script reads the PostgreSQL backend's CPU")
    from bench.status_change import one_round

    tickets = [
        queued_exchange(
            agent, make_order(shop_a, status=Order.Status.SUCCESS, items=((Decimal("80.00"), 1),))
        )
        for _ in range(3)
    ]
    events = TicketEvent.objects.count()
    walls, cpu, server, queries = one_round(tickets)
    assert len(walls) == 3 and all(ms > 0 for ms in walls)
    assert cpu > 0 and server is not None and queries > 0
    # nothing of it stays
    assert TicketEvent.objects.count() == events
    assert set(Ticket.objects.values_list("status", flat=True)) == {S.QUEUED_FOR_EXCHANGE}
