"""One rule for "overdue" everywhere, in named scopes (issue 13 review, finding 10): the
agent's dashboard shows "mine" beside "mine" and the shops' figures labelled as such, each
what its link lists; the statistics' overdue column has the unassigned tickets and a total,
and the total is what the ticket list's overdue filter shows for the same shops and days,
and the dashboard's for every shop."""

import re
from datetime import timedelta
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.factories import make_order, make_ticket, make_user
from tickets.models import Ticket
from tickets.roles import Role
from tickets.sla import sla_due_times
from tickets.statistics import StatsRange, overdue_list_query, overdue_summary, per_agent

pytestmark = pytest.mark.django_db


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- one rule for overdue, in named scopes ------------------------------------------------
@pytest.fixture
def late(agent, shop_a, shop_b):
    """Shop A: two overdue tickets of the agent, one of a colleague, one nobody's, one on
    time, one of the agent finished though past its times; shop B (which the agent does not
    serve): one overdue. Two of the agent's are stale too, and one of the colleague's."""
    colleague = make_user("agent-a2", Role.AGENT, shops=[shop_a])
    now = timezone.now()
    five_days = now - timedelta(days=5)
    long_ago = now - timedelta(days=10)

    def ticket(shop, assignee, **extra):
        return make_ticket(make_order(shop), agent, assignee=assignee, **extra)

    made = {
        "mine": [
            ticket(shop_a, agent, created_at=five_days, status_changed_at=long_ago),
            ticket(shop_a, agent, created_at=five_days, status_changed_at=long_ago),
        ],
        "colleague": [ticket(shop_a, colleague, created_at=five_days, status_changed_at=long_ago)],
        "queue": [ticket(shop_a, None, created_at=five_days)],
        "on_time": [ticket(shop_a, agent)],
        "finished": [ticket(shop_a, agent, status=Ticket.Status.CANCELLED)],
        "shop_b": [ticket(shop_b, None, created_at=five_days)],
    }
    # the finished one: past every due time, never answered, unchanged for days
    first_due, resolution_due = sla_due_times(long_ago, Ticket.Reason.NOT_SUITABLE)
    Ticket.objects.filter(pk=made["finished"][0].pk).update(
        created_at=long_ago,
        clock_started_at=long_ago,
        first_response_due=first_due,
        resolution_due=resolution_due,
        first_responded_at=None,
        resolved_at=None,
        status_changed_at=long_ago,
    )
    made["colleague_user"] = colleague
    return made


def listed(client, query: str) -> set[int]:
    page = client.get(reverse("tickets:ticket_list") + "?" + query)
    return {t.pk for t in page.context["tickets"]}


def test_the_agents_cards_name_their_scope_and_match_their_links(client, agent, late):
    client.force_login(agent)
    page = client.get(reverse("tickets:dashboard"))
    counts = page.context["counts"]
    # mine beside mine, the shops' beside the shops' - never one scope beside another
    assert (counts["overdue_mine"], counts["stale_mine"]) == (2, 2)
    assert (counts["overdue"], counts["stale"]) == (4, 3)
    words = text(page.content.decode())
    assert "我的超时" in words and "我的停滞" in words
    assert words.count("所在店铺全部：") == 2
    # each number is what its link lists
    assert len(listed(client, "overdue=true&assignee=me")) == counts["overdue_mine"]
    assert len(listed(client, "stale=on&assignee=me")) == counts["stale_mine"]
    assert len(listed(client, "overdue=true")) == counts["overdue"]
    assert len(listed(client, "stale=on")) == counts["stale"]
    html = page.content.decode()
    for link in ("?overdue=true&amp;assignee=me", "?stale=on&amp;assignee=me", "?overdue=true"):
        assert reverse("tickets:ticket_list") + link in html


def test_overdue_is_one_number_in_the_list_the_dashboard_and_the_statistics(
    client, supervisor, shop_a, late
):
    now = timezone.now()
    client.force_login(supervisor)
    # the supervisor's dashboard: every shop, the queue included, nothing finished
    dashboard = client.get(reverse("tickets:dashboard")).context["counts"]
    every_shop = listed(client, "overdue=true")
    assert dashboard["overdue"] == len(every_shop) == 5
    assert late["finished"][0].pk not in every_shop and late["on_time"][0].pk not in every_shop

    # the statistics of shop A over the days the tickets were made
    start, end = timezone.localdate(now) - timedelta(days=6), timezone.localdate(now)
    query = f"start={start}&end={end}&shop={shop_a.pk}"
    page = client.get(reverse("registers:statistics") + "?" + query)
    agents = {a.agent: a.overdue for a in page.context["agents"]}
    summary = page.context["overdue"]
    assert agents["agent-a"] == 2 and agents["agent-a2"] == 1
    assert (summary.unassigned, summary.total) == (1, 4)
    assert sum(agents.values()) + summary.unassigned == summary.total
    # the total is what the list shows for the same shop and days
    shop_a_list = listed(client, overdue_list_query(StatsRange(start, end, [shop_a.pk])))
    assert len(shop_a_list) == summary.total
    assert shop_a_list == {t.pk for k in ("mine", "colleague", "queue") for t in late[k]}
    # and the page shows the queue's row and the total, each linking to its list
    html = page.content.decode()
    unassigned_row = re.search(r'<tr class="overdue-unassigned">(.*?)</tr>', html, re.S).group(1)
    total_row = re.search(r'<tr class="overdue-total">(.*?)</tr>', html, re.S).group(1)
    assert "未分配" in unassigned_row and ">1</a>" in unassigned_row
    assert "合计" in total_row and ">4</a>" in total_row
    queue = re.search(r'href="([^"]+)"', unassigned_row).group(1).replace("&amp;", "&")
    assert listed(client, queue.split("?", 1)[1]) == {late["queue"][0].pk}
    total_link = re.search(r'href="([^"]+)"', total_row).group(1).replace("&amp;", "&")
    assert listed(client, total_link.split("?", 1)[1]) == shop_a_list

    # every shop: the statistics' total is the dashboard's and the list's
    everything = overdue_summary(supervisor, StatsRange(start, end), now)
    assert everything.total == dashboard["overdue"] == 5
    assert everything.unassigned == 2


def test_a_ticket_made_before_the_range_is_in_neither_the_total_nor_its_list(
    client, supervisor, shop_a, late
):
    # the range starts after the late tickets were made: the statistics count none of them,
    # and the list their total links to lists none either
    today = timezone.localdate()
    range_ = StatsRange(today - timedelta(days=2), today, [shop_a.pk])
    summary = overdue_summary(supervisor, range_)
    client.force_login(supervisor)
    assert summary.total == len(listed(client, overdue_list_query(range_))) == 0
    assert all(a.overdue == 0 for a in per_agent(supervisor, range_))


def test_the_statistics_export_has_the_queue_and_the_total(client, supervisor, shop_a, late):
    today = timezone.localdate()
    client.force_login(supervisor)
    response = client.get(
        reverse("registers:statistics_export", args=["agents"])
        + f"?start={today - timedelta(days=6)}&end={today}&shop={shop_a.pk}"
    )
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    rows = [tuple(r) for r in sheet.iter_rows(values_only=True)]
    by_name = {r[0]: r[4] for r in rows[1:]}
    assert by_name["未分配"] == 1 and by_name["合计"] == 4
