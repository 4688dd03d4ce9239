"""Domain rules held by the model layer: service levels, auto-confirm, overdue, workflows."""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import make_order, make_ticket
from tickets.models import Order, Ticket
from tickets.sla import sla_due_times
from tickets.workflow import WORKFLOWS, allowed_next, happy_path


def test_first_reply_is_due_in_five_minutes_and_logistics_in_48_hours():
    opened = timezone.now()
    first, resolution = sla_due_times(opened, Ticket.Reason.LOGISTICS)
    assert first - opened == timedelta(minutes=5)
    assert resolution - opened == timedelta(hours=48)
    _, other = sla_due_times(opened, Ticket.Reason.QUALITY)
    assert other - opened == timedelta(hours=72)


def test_service_levels_come_from_settings(settings):
    settings.DESK_FIRST_RESPONSE_MINUTES = 10
    settings.DESK_LOGISTICS_RESOLUTION_HOURS = 24
    opened = timezone.now()
    first, resolution = sla_due_times(opened, Ticket.Reason.LOGISTICS)
    assert (first - opened, resolution - opened) == (timedelta(minutes=10), timedelta(hours=24))


def test_auto_confirm_is_ten_days_after_shipping_plus_extension(shop_a):
    order = make_order(shop_a, status=Order.Status.SHIPPED)
    assert order.auto_confirm_at == order.shipped_at + timedelta(days=10)
    order.receipt_extended_days = 3
    assert order.auto_confirm_at == order.shipped_at + timedelta(days=13)
    assert make_order(shop_a, status=Order.Status.PAID).auto_confirm_at is None
    assert make_order(shop_a, status=Order.Status.SUCCESS).auto_confirm_at is None


def test_phone_tail_is_kept_for_search(shop_a):
    order = make_order(shop_a, phone="'13912345678")
    assert order.receiver_phone_tail == "5678"


def test_overdue_query_and_overdue_method_agree(order_a, agent):
    order_a = make_order(order_a.shop, items=((Decimal("99.00"), 5),))  # one piece per ticket
    now = timezone.now()
    long_ago = now - timedelta(days=5)
    cases = [
        make_ticket(order_a, agent, created_at=now),  # fresh
        make_ticket(order_a, agent, created_at=long_ago),  # never answered
        make_ticket(order_a, agent, created_at=long_ago, first_responded_at=long_ago),  # unresolved
        make_ticket(
            order_a,
            agent,
            created_at=long_ago,
            first_responded_at=long_ago,
            resolved_at=now,
            kind=Ticket.Kind.REFUND_ONLY,
            status=Ticket.Status.REFUNDED,
        ),
        make_ticket(order_a, agent, created_at=long_ago, status=Ticket.Status.CLOSED),
    ]
    in_python = {t.pk for t in cases if t.is_overdue(now)}
    in_sql = set(Ticket.objects.overdue(now).values_list("pk", flat=True))
    assert in_python == in_sql == {cases[1].pk, cases[2].pk}


@pytest.mark.parametrize("kind", list(Ticket.Kind))
def test_every_kind_has_a_road_from_open_to_closed(kind):
    path = happy_path(kind)
    assert path[0] == Ticket.Status.OPEN
    assert path[-1] == Ticket.Status.CLOSED
    for before, after in itertools.pairwise(path):
        assert after in allowed_next(kind, before)


def test_workflows_only_name_declared_statuses_and_finished_tickets_stay_finished():
    for transitions in WORKFLOWS.values():
        for source, targets in transitions.items():
            assert source in Ticket.Status.values
            assert set(targets) <= set(Ticket.Status.values)
    for kind in Ticket.Kind:
        assert allowed_next(kind, Ticket.Status.CLOSED) == ()
        assert Ticket.Status.CANCELLED in allowed_next(kind, Ticket.Status.OPEN)


def test_exchange_follows_the_exchange_road():
    assert happy_path(Ticket.Kind.EXCHANGE) == [
        "open",
        "awaiting_return",
        "received",
        "queued_for_exchange",
        "on_exchange_list",
        "shipped",
        "closed",
    ]
    assert happy_path(Ticket.Kind.RETURN) == [
        "open",
        "awaiting_return",
        "received",
        "refunded",
        "closed",
    ]


def test_open_and_finished_statuses_cover_every_status_once():
    assert set(Ticket.OPEN_STATUSES) | set(Ticket.FINISHED_STATUSES) == set(Ticket.Status.values)
    assert not set(Ticket.OPEN_STATUSES) & set(Ticket.FINISHED_STATUSES)
