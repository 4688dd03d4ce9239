"""The dashboard's counts and "my work" that a time or the assignee drives check the shop as
a filter (``visible_tickets(shop_as_filter=True)``, bench/README.md "The dashboard at a
million tickets"): still only the shops the agent serves."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_order, make_ticket, make_user
from tickets.models import Ticket
from tickets.roles import Role
from tickets.selectors import visible_tickets

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_shops(shop_a, shop_b, agent):
    """The agent serves shop A. Each shop has a ticket opened and one resolved today, and
    one open ticket assigned to the agent and stale; shop B's were given to the agent
    before they stopped serving it."""
    now = timezone.now()
    boss = make_user("boss", Role.SUPERVISOR, all_shops=True)
    made = {}
    for shop in (shop_a, shop_b):
        opened, resolved, stale = (make_ticket(make_order(shop), boss) for _ in range(3))
        Ticket.objects.filter(pk__in=[opened.pk, resolved.pk, stale.pk]).update(assignee=agent)
        Ticket.objects.filter(pk=resolved.pk).update(resolved_at=now, status="closed")
        Ticket.objects.filter(pk=stale.pk).update(status_changed_at=now - timedelta(days=30))
        made[shop.code] = [Ticket.objects.get(pk=t.pk) for t in (opened, resolved, stale)]
    return made


def test_the_counts_and_my_work_leave_out_a_shop_the_agent_does_not_serve(client, agent, two_shops):
    client.force_login(agent)
    page = client.get(reverse("tickets:dashboard"))
    assert page.status_code == 200
    counts = page.context["counts"]
    assert counts["opened_today"] == 3
    assert counts["resolved_today"] == 1
    assert counts["stale"] == 1
    mine = {t.pk for t in page.context["mine"]}
    assert mine == {t.pk for t in two_shops["shop-a"] if t.status != "closed"}
    html = page.content.decode()
    assert not any(t.number in html for t in two_shops["shop-b"])


def test_the_shop_as_a_filter_gives_the_same_rows(agent, two_shops):
    today = timezone.now() - timedelta(hours=1)
    for query in (
        lambda qs: qs.filter(created_at__gte=today),
        lambda qs: qs.open().filter(assignee=agent),
        lambda qs: qs.stale(timezone.now()),
    ):
        plain = set(query(visible_tickets(agent)).values_list("pk", flat=True))
        driven = set(
            query(visible_tickets(agent, shop_as_filter=True)).values_list("pk", flat=True)
        )
        assert plain == driven and plain


def test_my_work_and_the_queue_come_in_due_order_and_stop_at_their_size(client, agent, shop_a):
    """ "My work" (25, by resolution due) and the unassigned queue (10, by first-response
    due) read their ids first and their rows after (``page_of``): the rows keep the order and
    the count, with their order and shop."""
    now = timezone.now()
    boss = make_user("boss2", Role.SUPERVISOR, all_shops=True)
    made = [make_ticket(make_order(shop_a), boss) for _ in range(40)]
    for n, ticket in enumerate(made):
        Ticket.objects.filter(pk=ticket.pk).update(
            resolution_due=now + timedelta(hours=40 - n),
            first_response_due=now + timedelta(minutes=40 - n),
            assignee=agent if n % 2 else None,
        )
    client.force_login(agent)
    page = client.get(reverse("tickets:dashboard"))
    mine, queue = page.context["mine"], page.context["unassigned"]
    assert [t.resolution_due for t in mine] == sorted(t.resolution_due for t in mine)
    assert [t.first_response_due for t in queue] == sorted(t.first_response_due for t in queue)
    assert len(mine) == 20 and len(queue) == 10
    assert {t.pk for t in queue} == {t.pk for t in made[::2][-10:]}  # the soonest due
    assert all(t.order.shop_id == shop_a.pk and t.shop == shop_a for t in mine + queue)
