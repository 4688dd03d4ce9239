"""The dashboard's work does not grow with the tickets (issue 14): its queries stay the same
in number whatever the number of tickets, assignees and overdue or stale ones, and the cards
counted in one pass (``selectors_inbox.open_ticket_counts``) are the counts of the list's
own rules (``TicketQuerySet.overdue`` / ``.stale``) for every scope they show; the
registers' counts made from their lists are those of their queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_order, make_ticket, make_user
from tickets.models import HandoverNote, Ticket, VipCustomer
from tickets.roles import Role
from tickets.selectors import visible_tickets
from tickets.selectors_inbox import (
    NO_OPEN_TICKETS,
    open_ticket_counts,
    overdue_and_stale_by_assignee,
)
from tickets.selectors_registers import (
    dashboard_registers,
    handover_flagged_filter,
    my_vip_follow_ups,
)
from tickets.services.handover import handover_add
from tickets.services.vips import vip_add, vip_follow_ups_plan

pytestmark = pytest.mark.django_db


def add_tickets(shops, people, n: int) -> None:
    """``n`` tickets per shop, spread over ``people`` and the queue: some overdue, some
    stale, some both, some closed, some opened days ago."""
    now = timezone.now()
    opener = people[0]
    for shop in shops:
        for i in range(n):
            ticket = make_ticket(
                make_order(shop),
                opener,
                status=Ticket.Status.CANCELLED if i % 5 == 4 else Ticket.Status.OPEN,
                **({"created_at": now - timedelta(days=5)} if i % 2 else {}),
            )
            Ticket.objects.filter(pk=ticket.pk).update(
                assignee=people[i % len(people)] if i % 4 else None,
                status_changed_at=now - timedelta(days=30) if i % 3 == 0 else now,
            )


def dashboard_queries(client, user) -> int:
    client.force_login(user)
    client.get(reverse("tickets:dashboard"))  # sessions, caches: what every request has
    with CaptureQueriesContext(connection) as captured:
        page = client.get(reverse("tickets:dashboard"))
    assert page.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_the_dashboard_runs_as_many_queries_with_more_tickets(
    client, role, agent, supervisor, shop_a, shop_b
):
    colleague = make_user("agent-a2", Role.AGENT, shops=[shop_a])
    user = agent if role == "agent" else supervisor
    # given a few tickets of every kind the counts tell apart
    add_tickets([shop_a, shop_b], [agent, colleague], 4)
    few = dashboard_queries(client, user)
    # when there are many more, with more assignees among them
    third = make_user("agent-a3", Role.AGENT, shops=[shop_a, shop_b])
    add_tickets([shop_a, shop_b], [agent, colleague, third], 12)
    # then the page asks the database as many times
    assert dashboard_queries(client, user) == few


def test_the_counts_in_one_pass_are_the_rules_counts_in_every_scope(
    agent, supervisor, shop_a, shop_b
):
    colleague = make_user("agent-a2", Role.AGENT, shops=[shop_a])
    add_tickets([shop_a, shop_b], [agent, colleague, supervisor], 10)
    now = timezone.now()
    for user in (agent, supervisor):
        tickets = visible_tickets(user)
        counts = open_ticket_counts(user, now)
        assert sum(c.open for c in counts.values()) == tickets.open().count()
        assert sum(c.overdue for c in counts.values()) == tickets.overdue(now).count() > 0
        assert sum(c.stale for c in counts.values()) == tickets.stale(now).count() > 0
        for person in (None, agent, colleague, supervisor):
            own = tickets.filter(assignee=person)
            got = counts.get(person.pk if person else None, NO_OPEN_TICKETS)
            assert got == (own.open().count(), own.overdue(now).count(), own.stale(now).count())
        # the per-agent table is made of the same figures, the people with none left out
        table = overdue_and_stale_by_assignee(user, now)
        assert {(p.pk if p else None): (o, s) for p, o, s in table} == {
            k: (c.overdue, c.stale) for k, c in counts.items() if c.overdue or c.stale
        }
    # the agent sees shop A only
    assert sum(c.open for c in open_ticket_counts(agent, now).values()) < sum(
        c.open for c in open_ticket_counts(supervisor, now).values()
    )


@pytest.mark.parametrize("n", [3, 25])
def test_the_registers_counts_are_every_row_whether_the_list_is_short_or_full(
    agent, supervisor, shop_a, n
):
    """The flagged handover items and the VIP calls are counted from their lists when the list
    holds them all, by a query otherwise: the same number either way."""
    now = timezone.now()
    today = timezone.localdate(now)
    for i in range(n):
        # every other item from a night whose noon has passed (flagged), the rest tonight's
        night = today - timedelta(days=3 + i) if i % 2 else today
        handover_add(
            actor=agent, shop=shop_a, order=make_order(shop_a), note=f"交接 {i}", shift_date=night
        )
        vip = vip_add(actor=supervisor, shop=shop_a, buyer_nick=f"vip-{i}")
        VipCustomer.objects.filter(pk=vip.pk).update(created_at=now - timedelta(days=40))
    vip_follow_ups_plan()
    got = dashboard_registers(agent, now)
    flagged = HandoverNote.objects.filter(handover_flagged_filter(now)).count()
    assert got["handover_flagged"] == flagged == n // 2
    assert got["vip_follow_ups_count"] == my_vip_follow_ups(agent, now).count() == n
    assert len(got["vip_follow_ups"]) == min(n, 20) and len(got["handover"]) == min(n, 10)
