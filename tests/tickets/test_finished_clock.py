"""A finished ticket's service-level clock has stopped (hostile review of issue 13): the page of a
cancelled ticket said "时效计时: 计时中" and showed "解决时限 …" as a live deadline. Closed and
cancelled tickets now say the clock stopped, when, and whether the reply and the resolution
came within their service levels where that is known."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_order, make_ticket
from tickets.models import Ticket
from tickets.services.tickets import ticket_await_buyer, ticket_transition

pytestmark = pytest.mark.django_db
S = Ticket.Status


def page_of(client, ticket, language="zh-hans") -> str:
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(reverse("tickets:ticket_detail", args=[ticket.pk]))
    assert response.status_code == 200
    return response.content.decode()


def clock_text(html: str) -> str:
    start = html.index('id="clock"')
    return html[start : html.index("</dd>", start)]


def test_a_cancelled_ticket_says_its_clock_stopped(client, agent, shop_a):
    # given a ticket whose clock stood still waiting for the buyer, then cancelled
    ticket = make_ticket(make_order(shop_a), agent, kind=Ticket.Kind.RETURN)
    ticket_await_buyer(actor=agent, ticket=ticket, note="问买家要照片")
    ticket_transition(actor=agent, ticket=ticket, to_status=S.CANCELLED)
    ticket.refresh_from_db()
    client.force_login(agent)
    # when its page is read
    html = page_of(client, ticket)
    # then the clock is stopped at the cancellation, with no live deadline
    clock = clock_text(html)
    assert "已停止计时" in clock and "已撤销" in clock
    assert timezone.localtime(ticket.closed_at).strftime("%m-%d %H:%M") in clock
    assert "计时中" not in html and "暂停计时" not in clock
    assert "解决时限" not in html
    assert "没有解决" in html and "时限原为" in html
    # nothing was resolved: whether it was in time is not made up
    assert "时效内" not in clock and "超出时效" not in clock


def test_a_ticket_cancelled_unanswered_says_no_reply_came(client, agent, shop_a):
    ticket = make_ticket(make_order(shop_a), agent)
    ticket_transition(actor=None, ticket=ticket, to_status=S.CANCELLED)  # the refund import
    client.force_login(agent)
    html = page_of(client, ticket)
    assert "没有回复" in html and "已停止计时" in clock_text(html)


def test_a_ticket_closed_in_time_says_so(client, agent, shop_a):
    ticket = make_ticket(make_order(shop_a), agent, kind=Ticket.Kind.RETURN, status=S.CLOSED)
    client.force_login(agent)
    clock = clock_text(page_of(client, ticket))
    assert "已停止计时" in clock and "已完结" in clock
    assert "在时效内解决" in clock and "超出时效" not in clock


def test_a_ticket_closed_late_says_so_without_a_live_deadline(client, agent, shop_a):
    # given a ticket opened ten days ago and closed now, past its 72 business hours
    opened = timezone.now() - timedelta(days=10)
    ticket = make_ticket(
        make_order(shop_a), agent, kind=Ticket.Kind.RETURN, status=S.CLOSED, created_at=opened
    )
    client.force_login(agent)
    html = page_of(client, ticket)
    clock = clock_text(html)
    assert "超出时效解决" in clock
    assert "danger-text" not in html.split('id="clock"')[0].rsplit("<dl", 1)[1]
    assert "计时中" not in html
    assert not ticket.is_overdue()  # and the list's rule agrees: a finished ticket never is


def test_the_english_page_says_the_clock_stopped(client, agent, shop_a):
    ticket = make_ticket(make_order(shop_a), agent, status=S.CANCELLED)
    client.force_login(agent)
    html = page_of(client, ticket, "en")
    clock = clock_text(html)
    assert "Clock stopped" in clock and "Cancelled" in clock
    assert "Running" not in clock and "Resolve by" not in html
    assert "was due" in html


def test_an_open_ticket_still_shows_its_running_clock(client, agent, shop_a):
    ticket = make_ticket(make_order(shop_a), agent)
    client.force_login(agent)
    html = page_of(client, ticket)
    assert "计时中" in clock_text(html) and "解决时限" in html and "已停止计时" not in html
