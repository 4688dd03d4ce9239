"""The supervisor's inbox, escalation decisions and the bell (issue 13 sections 1 and 2),
every form posted through its view."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_order, make_ticket, make_user
from tickets.models import Escalation, LedgerEntry, Notification, Ticket, TicketEvent
from tickets.roles import Role
from tickets.selectors import unread_notification_count
from tickets.services.notifications import sla_breach_warnings_send
from tickets.services.tickets import ticket_await_buyer
from tickets.sla import sla_due_times

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(order_a, agent):
    return make_ticket(order_a, agent, assignee=agent)


def escalate(client, agent, ticket, reason="买家不接受补偿方案，要求全额退款"):
    client.force_login(agent)
    return client.post(reverse("tickets:ticket_escalate", args=[ticket.pk]), {"reason": reason})


def test_escalation_reaches_the_inbox_and_the_decision_reaches_the_agent(
    client, agent, supervisor, ticket
):
    # given an agent escalates through the ticket page
    escalate(client, agent, ticket)
    escalation = Escalation.objects.get()
    assert escalation.is_open and escalation.raised_by == agent
    assert unread_notification_count(supervisor) == 1
    assert unread_notification_count(agent) == 0

    # when the supervisor opens the inbox
    client.force_login(supervisor)
    page = client.get(reverse("tickets:inbox")).content.decode()
    assert ticket.number in page and "买家不接受补偿方案" in page
    assert f'id="escalation-{escalation.pk}"' in page
    # and the dashboard shows it too, with the bell's count
    dashboard = client.get(reverse("tickets:dashboard")).content.decode()
    assert f'id="escalation-{escalation.pk}"' in dashboard
    assert 'class="bell-count"' in dashboard

    # and decides
    response = client.post(
        reverse("tickets:escalation_decide", args=[escalation.pk]),
        {"decision": "instruct", "note": "先补偿 20 元优惠券，买家不同意再找我"},
    )
    assert response.status_code == 302 and response.url == reverse("tickets:inbox")

    # then the escalation is closed, on the timeline, and the agent is told
    escalation.refresh_from_db()
    ticket.refresh_from_db()
    assert escalation.decision == "instruct" and escalation.decided_by == supervisor
    assert not ticket.escalated
    line = ticket.events.filter(kind=TicketEvent.Kind.ESCALATED).last()
    assert "指示客服" in line.message and "20 元优惠券" in line.message
    assert unread_notification_count(agent) == 1
    told = Notification.objects.get(recipient=agent)
    assert told.kind == Notification.Kind.ESCALATION_DECIDED and ticket.number in told.message
    assert (
        f'id="escalation-{escalation.pk}"'
        not in client.get(reverse("tickets:inbox")).content.decode()
    )
    # and the agent sees the decision on the ticket page
    client.force_login(agent)
    detail = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    assert "指示客服" in detail and "20 元优惠券" in detail


def test_take_over_assigns_the_ticket_to_the_supervisor(client, agent, supervisor, ticket):
    escalate(client, agent, ticket)
    client.force_login(supervisor)
    client.post(
        reverse("tickets:escalation_decide", args=[Escalation.objects.get().pk]),
        {"decision": "take_over"},
    )
    ticket.refresh_from_db()
    assert ticket.assignee == supervisor
    assert Notification.objects.filter(recipient=agent, kind="escalation_decided").count() == 1
    assert not Notification.objects.filter(recipient=supervisor, kind="assigned").exists()


def test_return_needs_a_reason(client, agent, supervisor, ticket):
    escalate(client, agent, ticket)
    client.force_login(supervisor)
    escalation = Escalation.objects.get()
    client.post(reverse("tickets:escalation_decide", args=[escalation.pk]), {"decision": "return"})
    escalation.refresh_from_db()
    assert escalation.is_open


def test_decisions_are_the_supervisors_and_made_once(client, agent, supervisor, shop_b, ticket):
    escalate(client, agent, ticket)
    escalation = Escalation.objects.get()
    url = reverse("tickets:escalation_decide", args=[escalation.pk])
    # an agent posting a supervisor's decision by hand
    client.force_login(agent)
    assert client.post(url, {"decision": "exception", "note": "自己批准"}).status_code == 403
    assert client.get(reverse("tickets:inbox")).status_code == 403
    # a supervisor of another shop
    other = make_user("boss-b", Role.SUPERVISOR, shops=[shop_b])
    client.force_login(other)
    assert client.post(url, {"decision": "exception", "note": "x"}).status_code == 404
    escalation.refresh_from_db()
    assert escalation.is_open
    # a second decision on a closed escalation
    client.force_login(supervisor)
    client.post(url, {"decision": "exception", "note": "同意退全款"})
    response = client.post(url, {"decision": "return", "note": "改主意"}, follow=True)
    escalation.refresh_from_db()
    assert escalation.decision == "exception"
    assert "已由" in response.content.decode()
    assert ticket.events.filter(kind=TicketEvent.Kind.ESCALATED).count() == 2
    # a GET never decides
    assert client.get(url).status_code == 405


def test_compensation_waiting_appears_and_disappears(client, agent, supervisor, shop_a, settings):
    settings.DESK_COMPENSATION_APPROVAL_THRESHOLD = Decimal("50")
    order = make_order(shop_a, items=((Decimal("300.00"), 1),))
    ticket = make_ticket(order, agent, kind=Ticket.Kind.COMPENSATION, reason=Ticket.Reason.QUALITY)
    client.force_login(agent)
    form = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    submission = form.split('name="submission" value="')[1].split('"')[0]
    client.post(
        reverse("tickets:ledger_record", args=[ticket.pk]),
        {
            "kind": "compensation",
            "amount": "80",
            "payment_method": LedgerEntry.PaymentMethod.ALIPAY_TRANSFER,
            "note": "",
            "submission": submission,
        },
    )
    entry = LedgerEntry.objects.get(kind="compensation")
    assert entry.requires_approval
    assert unread_notification_count(supervisor) == 1

    client.force_login(supervisor)
    inbox = client.get(reverse("tickets:inbox")).content.decode()
    assert reverse("tickets:approval_decide", args=[entry.pk]) in inbox
    response = client.post(
        reverse("tickets:approval_decide", args=[entry.pk]), {"approved": "1", "next": "inbox"}
    )
    assert response.url == reverse("tickets:inbox")
    inbox = client.get(reverse("tickets:inbox")).content.decode()
    assert reverse("tickets:approval_decide", args=[entry.pk]) not in inbox
    assert Notification.objects.filter(recipient=agent, kind="approval_decided").count() == 1
    # next= names a page; a URL the client writes is ignored
    client.force_login(supervisor)
    assert client.post(
        reverse("tickets:approval_decide", args=[entry.pk]),
        {"approved": "1", "next": "https://evil.example/"},
    ).url == reverse("tickets:approval_list")


def test_overdue_and_stale_per_agent_use_the_queryset_rules(client, agent, supervisor, order_a):
    make_ticket(order_a, agent, assignee=agent, created_at=timezone.now() - timedelta(days=5))
    client.force_login(supervisor)
    page = client.get(reverse("tickets:inbox")).content.decode()
    assert f"?overdue=true&amp;assignee={agent.pk}" in page


def _by_agent_rows(html: str) -> list[tuple[str, ...]]:
    """The per-agent table's rows as the page shows them: (agent, overdue, stale) words."""
    table = re.search(r'<section class="[^"]*by-agent".*?</section>', html, re.S).group(0)
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)
    return [
        tuple(re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td.*?</td>", r, re.S))
        for r in rows
    ]


def test_the_dashboard_and_the_inbox_show_one_per_agent_table(client, agent, supervisor, shop_a):
    # given overdue and stale tickets of two agents and the queue
    colleague = make_user("agent-a2", Role.AGENT, shops=[shop_a])
    now = timezone.now()
    long_ago = now - timedelta(days=10)

    def ticket(assignee, **extra):
        return make_ticket(make_order(shop_a), agent, assignee=assignee, **extra)

    ticket(agent, created_at=now - timedelta(days=5))  # overdue
    ticket(agent, created_at=now - timedelta(days=5))  # overdue
    ticket(agent, kind=Ticket.Kind.RETURN, status=Ticket.Status.AWAITING_RETURN)
    Ticket.objects.filter(status=Ticket.Status.AWAITING_RETURN).update(
        status_changed_at=long_ago
    )  # stale, never overdue: its clock stopped when it began to wait
    ticket(colleague, created_at=long_ago, status_changed_at=long_ago)  # overdue and stale
    ticket(None, created_at=now - timedelta(days=5))  # overdue, nobody's
    ticket(agent)  # on time
    # and finished tickets that would be both if they were open: past every due time, never
    # answered, unchanged for days
    finished = [
        ticket(agent, status=Ticket.Status.CANCELLED),
        ticket(colleague, kind=Ticket.Kind.COMPENSATION, status=Ticket.Status.CLOSED),
        ticket(None, status=Ticket.Status.CANCELLED),
    ]
    first_due, resolution_due = sla_due_times(long_ago, Ticket.Reason.NOT_SUITABLE)
    Ticket.objects.filter(pk__in=[t.pk for t in finished]).update(
        created_at=long_ago,
        clock_started_at=long_ago,
        first_response_due=first_due,
        resolution_due=resolution_due,
        first_responded_at=None,
        resolved_at=None,
        status_changed_at=long_ago,
    )

    # when the supervisor opens the dashboard and the inbox
    client.force_login(supervisor)
    dashboard = client.get(reverse("tickets:dashboard"))
    inbox = client.get(reverse("tickets:inbox"))

    # then both hold the same table, counted by the list's rules
    expected = [(agent, 2, 1), (colleague, 1, 1), (None, 1, 0)]
    assert dashboard.context["by_agent"] == inbox.context["by_agent"] == expected
    shown = [("agent-a", "2", "1"), ("agent-a2", "1", "1"), ("未分配", "1", "0")]
    assert _by_agent_rows(dashboard.content.decode()) == shown
    assert _by_agent_rows(inbox.content.decode()) == shown
    # and the dashboard's totals are the table's, which are the list's filters
    assert dashboard.context["counts"]["overdue"] == 4
    assert dashboard.context["counts"]["stale"] == 2
    overdue_list = client.get(reverse("tickets:ticket_list") + "?overdue=true")
    stale_list = client.get(reverse("tickets:ticket_list") + "?stale=on")
    assert len(overdue_list.context["tickets"]) == 4
    assert len(stale_list.context["tickets"]) == 2
    # and a finished ticket counts nowhere
    for page in (dashboard, inbox, overdue_list, stale_list):
        html = page.content.decode()
        assert not any(t.number in html for t in finished)
    # a supervisor with nothing late sees the table empty on both pages
    Ticket.objects.exclude(pk__in=[t.pk for t in finished]).update(
        status=Ticket.Status.CANCELLED, paused_at=None
    )
    for url in (reverse("tickets:dashboard"), reverse("tickets:inbox")):
        page = client.get(url)
        assert page.context["by_agent"] == []
        assert "没有超时或停滞的售后单。" in page.content.decode()


def test_the_bell_list_and_marking_read(client, agent, supervisor, order_a):
    # given three tickets assigned to the agent by the supervisor
    client.force_login(supervisor)
    tickets = [make_ticket(order_a, supervisor, kind=Ticket.Kind.COMPENSATION) for _ in range(3)]
    for t in tickets:
        client.post(reverse("tickets:ticket_assign", args=[t.pk]), {"assignee": str(agent.pk)})
    assert unread_notification_count(agent) == 3
    # the agent's bell shows 3; the list shows them
    client.force_login(agent)
    page = client.get(reverse("tickets:notification_list")).content.decode()
    assert '<span class="bell-count"' in page and ">3</span>" in page
    assert all(t.number in page for t in tickets)
    # opening one marks it read and goes to the ticket
    first = Notification.objects.filter(recipient=agent).order_by("id").first()
    response = client.post(reverse("tickets:notification_open", args=[first.pk]), {"go": "1"})
    assert response.url == reverse("tickets:ticket_detail", args=[first.ticket_id])
    assert unread_notification_count(agent) == 2
    # another person's notification is not theirs to read
    client.force_login(supervisor)
    second = Notification.objects.filter(recipient=agent, read_at__isnull=True).first()
    assert client.post(reverse("tickets:notification_open", args=[second.pk])).status_code == 404
    # all read, up to the newest the page showed (a newer one stays unread)
    client.force_login(agent)
    newest = Notification.objects.filter(recipient=agent).order_by("-id").first().pk
    Notification.objects.create(recipient=agent, kind="assigned", text="later")
    client.post(reverse("tickets:notifications_read_all"), {"up_to": str(newest)})
    assert unread_notification_count(agent) == 1
    client.post(reverse("tickets:notifications_read_all"))
    assert unread_notification_count(agent) == 0
    assert client.get(reverse("tickets:notifications_read_all")).status_code == 405


def test_sla_warning_once_per_ticket_and_due_time(agent, supervisor, order_a, settings):
    settings.DESK_SLA_WARNING_MINUTES = 30
    now = timezone.now()
    ticket = make_ticket(order_a, agent, assignee=agent, first_responded_at=now)
    Ticket.objects.filter(pk=ticket.pk).update(resolution_due=now + timedelta(minutes=20))
    assert sla_breach_warnings_send(now=now) == 1
    assert sla_breach_warnings_send(now=now + timedelta(minutes=1)) == 0
    assert unread_notification_count(agent) == 1
    # a due time that moves is a new breach
    Ticket.objects.filter(pk=ticket.pk).update(resolution_due=now + timedelta(minutes=25))
    assert sla_breach_warnings_send(now=now + timedelta(minutes=2)) == 1
    assert unread_notification_count(agent) == 2
    # a ticket whose clock is paused (waiting for the buyer) is not about to breach
    waiting = make_ticket(order_a, agent, kind=Ticket.Kind.COMPENSATION, assignee=agent)
    ticket_await_buyer(actor=agent, ticket=waiting)
    Ticket.objects.filter(pk=waiting.pk).update(resolution_due=now + timedelta(minutes=10))
    assert sla_breach_warnings_send(now=now + timedelta(minutes=2)) == 0
    # a finished ticket is never warned about
    other = make_ticket(
        order_a,
        agent,
        kind=Ticket.Kind.COMPENSATION,
        assignee=agent,
        status=Ticket.Status.CANCELLED,
    )
    Ticket.objects.filter(pk=other.pk).update(resolution_due=now + timedelta(minutes=10))
    assert sla_breach_warnings_send(now=now + timedelta(minutes=3)) == 0


def test_finance_dashboard_is_the_sheets_not_a_queue(client, finance):
    client.force_login(finance)
    page = client.get(reverse("tickets:dashboard")).content.decode()
    assert "财务工作台" in page and "今日报表" in page and "最近的下载" in page
    assert "我的售后单" not in page


def test_the_notifications_page_counts_the_unread_once(client, agent, supervisor, order_a):
    # given two tickets assigned to the agent (two unread notifications)
    client.force_login(supervisor)
    for _n in range(2):
        t = make_ticket(order_a, supervisor, kind=Ticket.Kind.COMPENSATION)
        client.post(reverse("tickets:ticket_assign", args=[t.pk]), {"assignee": str(agent.pk)})
    client.force_login(agent)
    url = reverse("tickets:notification_list")
    with CaptureQueriesContext(connection) as captured:
        page = client.get(url).content.decode()
    # then the top bar and the list's heading show 2 from one count
    counts = [q for q in captured.captured_queries if '"read_at" IS NULL' in q["sql"]]
    assert len(counts) == 1
    assert '<span class="bell-count"' in page and ">2</span>" in page
    assert page.count("2 条未读") == 2
    # and one opened (read) shows 1 in both on the next page
    first = Notification.objects.filter(recipient=agent).order_by("id").first()
    client.post(reverse("tickets:notification_open", args=[first.pk]))
    page = client.get(url).content.decode()
    assert ">1</span>" in page and page.count("1 条未读") == 2
