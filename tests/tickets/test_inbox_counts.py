"""The supervisor's inbox says how many items of each kind wait and leads to all of them
(issue 13 review, finding 6): a kind with more than a page shows "N of M - see all", and the
link lists every item of that kind a page at a time; nothing is dropped silently."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_order, make_ticket, make_user
from tickets import selectors_inbox
from tickets.inbox import InboxItem
from tickets.models import Escalation
from tickets.roles import Role
from tickets.services.tickets import ticket_escalate

pytestmark = pytest.mark.django_db


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def escalation_rows(html: str) -> list[str]:
    """The ids of the escalation rows the inbox's table shows, in order."""
    return re.findall(r'id="escalation-(\d+)"', html)


# --- the inbox says how many wait ---------------------------------------------------------
@pytest.fixture
def five_escalations(agent, shop_a, monkeypatch):
    """Five open escalations, raised an hour apart (oldest first), with a page of three."""
    monkeypatch.setattr(selectors_inbox, "PER_KIND", 3)
    now = timezone.now()
    made = []
    for n in range(5):
        ticket = make_ticket(make_order(shop_a), agent, assignee=agent)
        escalation = ticket_escalate(actor=agent, ticket=ticket, reason=f"第{n}个原因")
        Escalation.objects.filter(pk=escalation.pk).update(raised_at=now - timedelta(hours=10 - n))
        made.append(escalation)
    return made


def test_the_inbox_says_how_many_wait_and_leads_to_the_rest(client, supervisor, five_escalations):
    client.force_login(supervisor)
    page = client.get(reverse("tickets:inbox"))
    html = page.content.decode()
    # the page shows the oldest three, and says there are five, with a link to them all
    assert escalation_rows(html) == [str(e.pk) for e in five_escalations[:3]]
    counts = {c.kind: (c.shown, c.total) for c in page.context["inbox_page"].counts}
    assert counts["escalation"] == (3, 5)
    words = text(html)
    assert "升级：显示 3 项，共 5 项" in words
    assert f'href="{reverse("tickets:inbox")}?kind=escalation"' in html
    assert "5 项，最早的在前" in words
    # the link lists every escalation, a page at a time, oldest first
    first = client.get(reverse("tickets:inbox") + "?kind=escalation").content.decode()
    second = client.get(reverse("tickets:inbox") + "?kind=escalation&page=2").content.decode()
    assert escalation_rows(first) == [str(e.pk) for e in five_escalations[:3]]
    assert escalation_rows(second) == [str(e.pk) for e in five_escalations[3:]]
    assert "升级：共 5 项，第 2 / 2 页" in text(second)
    assert "?kind=escalation&amp;page=1" in second and "page=3" not in second
    # a page past the end, or no number, shows the nearest page; an unknown kind, all
    past = client.get(reverse("tickets:inbox") + "?kind=escalation&page=99").content.decode()
    assert escalation_rows(past) == escalation_rows(second)
    # a page number past any database integer too (it was a 500: the offset overflowed)
    huge = client.get(reverse("tickets:inbox") + "?kind=escalation&page=" + "9" * 23)
    assert huge.status_code == 200
    assert escalation_rows(huge.content.decode()) == escalation_rows(second)
    junk = client.get(reverse("tickets:inbox") + "?kind=escalation&page=x").content.decode()
    assert escalation_rows(junk) == escalation_rows(first)
    unknown = client.get(reverse("tickets:inbox") + "?kind=nothing")
    assert unknown.context["inbox_page"].kind is None


def test_the_dashboard_counts_every_waiting_item_not_the_page(client, supervisor, five_escalations):
    client.force_login(supervisor)
    html = client.get(reverse("tickets:dashboard")).content.decode()
    assert "5 项，最早的在前" in text(html)


def test_nothing_cut_nothing_said(client, supervisor, agent, order_a, monkeypatch):
    monkeypatch.setattr(selectors_inbox, "PER_KIND", 3)
    ticket = make_ticket(order_a, agent, assignee=agent)
    ticket_escalate(actor=agent, ticket=ticket, reason="买家要求退款")
    client.force_login(supervisor)
    page = client.get(reverse("tickets:inbox"))
    assert page.context["inbox_page"].truncated == []
    assert "查看全部" not in page.content.decode()


def test_the_count_of_a_kind_is_the_users_shops_only(client, shop_b, five_escalations):
    # a supervisor of shop B sees none of shop A's five, nor their count
    boss_b = make_user("boss-b", Role.SUPERVISOR, shops=[shop_b])
    client.force_login(boss_b)
    page = client.get(reverse("tickets:inbox") + "?kind=escalation")
    assert page.context["inbox_page"].counts == []
    assert escalation_rows(page.content.decode()) == []
    assert selectors_inbox.inbox_count(boss_b) == 0


def test_a_source_of_another_app_that_gives_a_full_page_is_said_to_maybe_hold_more(
    client, supervisor, monkeypatch
):
    # given another app's source (the exchange lists to sign) that gives its first three
    # items and no count
    monkeypatch.setattr(selectors_inbox, "PER_KIND", 3)
    now = timezone.now()

    def signatures(user, now_):
        return [
            InboxItem(kind="signature", since=now - timedelta(hours=n), title=f"清单{n}", url="/")
            for n in range(3)
        ]

    monkeypatch.setattr(selectors_inbox, "INBOX_SOURCES", [signatures])
    client.force_login(supervisor)
    page = client.get(reverse("tickets:inbox"))
    # then the page does not claim it shows them all
    (count,) = page.context["inbox_page"].counts
    assert (count.kind, count.shown, count.total, count.truncated) == ("signature", 3, None, True)
    assert "换货清单签字：显示前 3 项，可能还有更多" in text(page.content.decode())
