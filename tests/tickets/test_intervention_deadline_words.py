"""Words read on the desk (issue 13 review): an intervention deadline's warning says whether
the deadline is near or has passed when it is read, and the inbox's English headers name the
item column "Item", not "Waiting" next to "Waiting for"."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_ticket
from tests.finance_exports.helpers import Clock, at
from tickets.models import Notification, Ticket
from tickets.services.interventions import intervention_register
from tickets.services.notifications import intervention_deadline_warnings_send
from tickets.services.tickets import ticket_escalate

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 24)


@pytest.fixture
def clock(monkeypatch):
    fake = Clock(timezone.now())
    monkeypatch.setattr(timezone, "now", fake)
    return fake


def bell(client, user, language="zh-hans") -> str:
    client.force_login(user)  # the clock moves by days: a fresh session each time
    client.cookies["django_language"] = language
    return client.get(reverse("tickets:notification_list")).content.decode()


def test_a_deadline_warning_says_near_then_passed(
    client, clock, agent, supervisor, order_a, settings
):
    settings.DESK_INTERVENTION_WARNING_HOURS = 24
    clock.set(at(DAY, "10:00:00"))
    ticket = make_ticket(order_a, agent, assignee=agent)
    intervention_register(
        actor=agent,
        order=order_a,
        ticket=ticket,
        case_no="C-88",
        reason="买家申请小二介入",
        deadline=at(DAY, "18:00:00"),
    )
    # when the check warns while the deadline is near
    assert intervention_deadline_warnings_send(now=timezone.now()) == 2
    # then the agent reads that it is near
    page = bell(client, agent)
    assert "小二介入 C-88 举证即将到期（截止 11-24 18:00）" in page and "已过期" not in page
    assert "Intervention C-88: evidence due soon (deadline 11-24 18:00)" in bell(
        client, agent, "en"
    )
    # and read after the deadline, the same row says it has passed
    clock.set(at(DAY, "18:00:00"))
    page = bell(client, supervisor)
    assert "小二介入 C-88 举证已过期（截止 11-24 18:00）" in page and "即将到期（" not in page
    assert "Intervention C-88: evidence deadline passed (11-24 18:00)" in bell(
        client, supervisor, "en"
    )
    assert Notification.objects.filter(kind=Notification.Kind.INTERVENTION_DEADLINE).count() == 2


def test_a_case_registered_after_its_deadline_is_announced_as_passed(client, clock, agent, order_a):
    clock.set(at(DAY, "10:00:00"))
    ticket = make_ticket(order_a, agent, assignee=agent)
    intervention_register(
        actor=agent,
        order=order_a,
        ticket=ticket,
        case_no="C-89",
        reason="买家申请小二介入",
        deadline=timezone.now() - timedelta(hours=1),
    )
    assert intervention_deadline_warnings_send(now=timezone.now()) == 1
    page = bell(client, agent)
    assert "小二介入 C-89 举证已过期（截止 11-24 09:00）" in page and "即将到期（" not in page


def test_the_inbox_names_its_item_column_item_in_english(client, agent, supervisor, order_a):
    ticket = make_ticket(order_a, agent, kind=Ticket.Kind.COMPENSATION, assignee=agent)
    ticket_escalate(actor=agent, ticket=ticket, reason="请主管决定")
    bell(client, supervisor, "en")  # logs in with English chosen
    page = client.get(reverse("tickets:inbox")).content.decode()
    assert "<th>Item</th>" in page and "<th>Waiting for</th>" in page
    assert "<th>Waiting</th>" not in page
    del client.cookies["django_language"]
    assert "<th>待办事项</th>" in client.get(reverse("tickets:inbox")).content.decode()
