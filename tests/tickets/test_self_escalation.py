"""Nobody decides an escalation they raised (issue 13 second review, finding 3): the second-person
rule of compensation approvals, for escalations. A supervisor who escalates a ticket sees it in
the inbox and the dashboard as waiting for another supervisor, without the decision form, and
every door refuses their decision (the inbox's form, the dashboard's, a POST made by hand) with
the reason in their language; another supervisor decides it. The API and the admin have no door
that decides."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from tests.factories import make_order, make_ticket, make_user
from tickets.models import Escalation, Notification, Ticket
from tickets.roles import Role
from tickets.selectors import unread_notification_count

pytestmark = pytest.mark.django_db

REFUSED_ZH = "这次升级是你提出的，不能自己决定，需由另一位主管决定。"
REFUSED_EN = "You raised this escalation and cannot decide it yourself"
DECISIONS = (
    {"decision": "instruct", "note": "按质量问题全额退款"},
    {"decision": "exception", "note": "同意补偿 20 元", "next": "dashboard"},
    {"decision": "take_over", "next": "inbox"},
    {"decision": "return", "note": "先联系买家"},
)


@pytest.fixture
def colleague(shop_a):
    return make_user("boss-2", Role.SUPERVISOR, shops=[shop_a])


def escalate_from_the_ticket_page(client, user, shop) -> Escalation:
    ticket = make_ticket(make_order(shop), user, kind=Ticket.Kind.RETURN)
    client.force_login(user)
    response = client.post(
        reverse("tickets:ticket_escalate", args=[ticket.pk]), {"reason": "买家要求额外补偿"}
    )
    assert response.status_code == 302
    return Escalation.objects.get(ticket=ticket)


def decide_url(escalation):
    return reverse("tickets:escalation_decide", args=[escalation.pk])


def test_a_supervisor_cannot_decide_their_own_escalation(client, supervisor, colleague, shop_a):
    # given a supervisor escalates a ticket from its page
    escalation = escalate_from_the_ticket_page(client, supervisor, shop_a)
    # then their inbox and dashboard show it waiting for another supervisor, with no form
    for name in ("tickets:inbox", "tickets:dashboard"):
        page = client.get(reverse(name)).content.decode()
        assert f'id="escalation-{escalation.pk}"' in page
        assert "等待另一位主管决定" in page
        assert decide_url(escalation) not in page
    # and the ticket page sends them nowhere to decide it
    ticket_page = client.get(
        reverse("tickets:ticket_detail", args=[escalation.ticket_id])
    ).content.decode()
    assert "等待另一位主管决定" in ticket_page and "去决定" not in ticket_page
    # and only the colleague's bell asks for it
    assert unread_notification_count(supervisor) == 0
    assert unread_notification_count(colleague) == 1

    # when they post each decision by hand anyway, from each page it could come from
    for data in DECISIONS:
        response = client.post(decide_url(escalation), data, follow=True)
        # then it is refused, and says why in Chinese
        assert REFUSED_ZH in response.content.decode()
    escalation.refresh_from_db()
    assert escalation.is_open and escalation.decided_by is None
    ticket = Ticket.objects.get(pk=escalation.ticket_id)
    assert ticket.escalated and ticket.assignee_id != supervisor.pk  # no take-over either

    # and in English for a supervisor working in English
    client.cookies["django_language"] = "en"
    response = client.post(decide_url(escalation), DECISIONS[0], follow=True)
    assert REFUSED_EN in response.content.decode()
    assert "Waiting for another supervisor to decide" in (
        client.get(reverse("tickets:inbox")).content.decode()
    )
    escalation.refresh_from_db()
    assert escalation.is_open

    # when the colleague decides it from their inbox
    client.cookies["django_language"] = "zh-hans"
    client.force_login(colleague)
    assert decide_url(escalation) in client.get(reverse("tickets:inbox")).content.decode()
    client.post(decide_url(escalation), {**DECISIONS[2]})
    # then it is decided by the colleague, who takes the ticket over; the raiser is told
    escalation.refresh_from_db()
    assert escalation.decision == Escalation.Decision.TAKE_OVER
    assert escalation.decided_by == colleague
    assert Ticket.objects.get(pk=escalation.ticket_id).assignee == colleague
    assert unread_notification_count(colleague) == 0
    assert Notification.objects.filter(
        recipient=supervisor, kind=Notification.Kind.ESCALATION_DECIDED
    ).exists()


def test_an_agents_escalation_is_decided_as_before(client, agent, supervisor, shop_a):
    escalation = escalate_from_the_ticket_page(client, agent, shop_a)
    client.force_login(supervisor)
    inbox = client.get(reverse("tickets:inbox")).content.decode()
    assert decide_url(escalation) in inbox and "等待另一位主管决定" not in inbox
    client.post(decide_url(escalation), DECISIONS[0])
    escalation.refresh_from_db()
    assert escalation.decision == Escalation.Decision.INSTRUCT


def test_a_role_gained_after_raising_does_not_open_the_door(client, agent, shop_a, colleague):
    # trying to get around it: an agent escalates, is then made a supervisor and decides it;
    # the rule is who raised it, not the role they hold now
    escalation = escalate_from_the_ticket_page(client, agent, shop_a)
    agent.groups.add(Group.objects.get(name=Role.SUPERVISOR.value))
    client.force_login(agent)
    inbox = client.get(reverse("tickets:inbox")).content.decode()
    assert "等待另一位主管决定" in inbox and decide_url(escalation) not in inbox
    response = client.post(decide_url(escalation), DECISIONS[3], follow=True)
    assert REFUSED_ZH in response.content.decode()
    escalation.refresh_from_db()
    assert escalation.is_open


def test_a_superuser_is_refused_too_and_no_other_door_decides(client, shop_a, colleague):
    boss = make_user("root-boss", Role.SUPERVISOR, all_shops=True, is_staff=True)
    boss.is_superuser = True
    boss.save()
    escalation = escalate_from_the_ticket_page(client, boss, shop_a)
    response = client.post(decide_url(escalation), DECISIONS[0], follow=True)
    assert REFUSED_ZH in response.content.decode()
    # the API reads tickets only; a POST with the desk's session decides nothing
    response = client.post(
        reverse("api:ticket_list"),
        {"id": escalation.ticket_id, "escalated": False},
        content_type="application/json",
    )
    assert response.status_code in (401, 403, 405)
    escalation.refresh_from_db()
    assert escalation.is_open
    assert Ticket.objects.get(pk=escalation.ticket_id).escalated
