"""A searched ticket list checks its other filters on the rows the search found
(``TicketFilter.fenced``, issue 11): on PostgreSQL through expressions no index serves.
Whatever the form, a search with a filter lists exactly the tickets both list on their own."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_order, make_ticket, make_user
from tickets.models import Ticket
from tickets.roles import Role

S = Ticket.Status
K = Ticket.Kind
LIST = reverse("tickets:ticket_list")
TERM = "bcx"  # part of the searched buyers' nicknames (three characters: anywhere in it)

FILTERS = [
    {},
    {"status": ""},
    {"status": S.OPEN},
    {"status": S.CLOSED},
    {"status": S.REFUNDED},
    {"overdue": "on"},
    {"overdue": "on", "status": ""},
    {"stale": "on", "status": ""},
    {"stale": "on", "status": S.REFUNDED},
    {"assignee": "me", "status": ""},
    {"assignee": "none", "status": ""},
    {"kind": K.RETURN, "status": ""},
    {"sort": "-updated", "status": ""},
    {"sort": "-created"},
]


@pytest.fixture
def desk(shop_a, shop_b):
    """Tickets of buyers whose nickname holds TERM and of one who does not, in two shops, in
    several statuses, some past their due time or stale, some assigned, some not."""
    agent = make_user(shops=[shop_a])
    supervisor = make_user(role=Role.SUPERVISOR, all_shops=True)
    long_ago = timezone.now() - timedelta(days=40)
    rows = [
        (shop_a, "AbcXyz1", S.OPEN, K.EXCHANGE, None),
        (shop_a, "zzABCX", S.CLOSED, K.RETURN, None),
        (shop_a, "abcx呀", S.REFUNDED, K.RETURN, long_ago),
        (shop_a, "小abcx", S.OPEN, K.RETURN, long_ago),
        (shop_a, "nobody", S.OPEN, K.EXCHANGE, long_ago),
        (shop_a, "nobody", S.REFUNDED, K.RETURN, None),
        (shop_b, "ABCX-b", S.OPEN, K.EXCHANGE, long_ago),
        (shop_b, "abcx-b2", S.CLOSED, K.EXCHANGE, None),
    ]
    for n, (shop, nick, status, kind, opened) in enumerate(rows):
        order = make_order(shop, buyer_nick=nick, order_no=f"88{n:04d}")
        extra = {"created_at": opened, "status_changed_at": opened} if opened else {}
        ticket = make_ticket(order, supervisor, kind=kind, status=status, **extra)
        Ticket.objects.filter(pk=ticket.pk).update(assignee=agent if n % 2 else None)
    return agent, supervisor


def _listed(client, query) -> list[int]:
    response = client.get(LIST, query)
    assert response.status_code == 200
    return [ticket.pk for ticket in response.context["tickets"]]


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_a_search_with_a_filter_lists_what_both_list(client, desk, role):
    agent, supervisor = desk
    client.force_login(agent if role == "agent" else supervisor)
    searched_alone = set(_listed(client, {"q": TERM, "status": ""}))
    assert searched_alone  # the fixture's searched buyers are found at all
    for query in FILTERS:
        filtered_alone = _listed(client, query)
        both = _listed(client, {**query, "q": TERM})
        assert both == [pk for pk in filtered_alone if pk in searched_alone], query


def test_every_filter_of_a_searched_list_is_met(client, desk):
    """Not vacuous: the search alone finds tickets that each filter leaves out."""
    _agent, supervisor = desk
    client.force_login(supervisor)
    searched_alone = set(_listed(client, {"q": TERM, "status": ""}))
    for query in ({"status": S.CLOSED}, {"overdue": "on"}, {"assignee": "none", "status": ""}):
        assert set(_listed(client, {**query, "q": TERM})) < searched_alone


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the fence is PostgreSQL's")
def test_a_searched_list_checks_status_and_shop_through_no_index(client, desk):
    agent, _supervisor = desk
    client.force_login(agent)
    with CaptureQueriesContext(connection) as queries:
        client.get(LIST, {"q": TERM, "assignee": "me"})
    listing = [q["sql"] for q in queries.captured_queries if 'FROM "tickets_ticket"' in q["sql"]]
    first = listing[0]  # the page's ids (``page_of``)
    assert '"tickets_ticket"."status" || \'\')' in first
    assert '("tickets_ticket"."shop_id" + 0)' in first
    assert '("tickets_ticket"."assignee_id" + 0)' in first
    assert '"tickets_ticket"."status" IN' not in first

    with CaptureQueriesContext(connection) as queries:
        client.get(LIST, {"assignee": "me"})  # not searched: the indexes serve the list
    first = next(q["sql"] for q in queries.captured_queries if "tickets_ticket" in q["sql"])
    assert '"tickets_ticket"."status" IN' in first


def test_list_rows_read_no_column_later(client, shop_a):
    """The rows read only what they show (``LIST_ROW_FIELDS``): a row that needed a column
    left out would read it with a query of its own. Handlers with full names, buyers, shops,
    stale and searched rows: as many queries for 12 rows as for 2, and every cell there."""
    agent = make_user(shops=[shop_a], first_name="小红", last_name="王")
    client.force_login(agent)
    long_ago = timezone.now() - timedelta(days=40)

    def add(n):
        for _ in range(n):
            ticket = make_ticket(
                make_order(shop_a, buyer_nick="bcx买家"),
                agent,
                created_at=long_ago,
                status_changed_at=long_ago,
            )
            Ticket.objects.filter(pk=ticket.pk).update(assignee=agent)

    add(2)
    client.get(LIST, {"q": TERM})  # the process's first search reads the table sizes
    with CaptureQueriesContext(connection) as few:
        client.get(LIST, {"q": TERM})
    add(10)
    with CaptureQueriesContext(connection) as many:
        html = client.get(LIST, {"q": TERM}).content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)
    assert html.count("王小红") >= 12 and html.count("bcx买家") >= 12
    assert html.count(shop_a.name) >= 12 and html.count("停滞") >= 12


def test_list_rows_escape_every_text(client, shop_a):
    """The rows are written as f-strings (``desk_rows.ticket_rows``): every text a buyer, an
    import or an administrator wrote is escaped; the buyer links for a user who may read
    orders, plain text for one who may not."""
    shop_a.name = "店<b>&'\""
    shop_a.save()
    agent = make_user(shops=[shop_a], first_name="<i>'")
    order = make_order(shop_a, buyer_nick="<script>x</script>&'\"")
    ticket = make_ticket(order, agent)
    Ticket.objects.filter(pk=ticket.pk).update(assignee=agent)
    client.force_login(agent)

    html = client.get(LIST, {"status": ""}).content.decode()

    assert "<script>x" not in html and "<b>&" not in html and "<i>'" not in html
    assert "&lt;script&gt;x&lt;/script&gt;&amp;&#x27;&quot;" in html
    assert "店&lt;b&gt;&amp;&#x27;&quot;" in html
    link = 'class="buyer-link nick" href="/buyers/?nick=%3Cscript%3Ex%3C%2Fscript%3E%26%27%22"'
    assert link in html
