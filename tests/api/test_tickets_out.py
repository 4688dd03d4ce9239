"""Tickets out (issue 16): the ticket list's filters over the token's shops, cursor pages with
no count, one ticket with items, timeline and promises, changes since a time; another shop's
ticket is a 404; personal data masked unless the token may read it, and that read recorded."""

from datetime import timedelta

import pytest
from django.utils import timezone

from api.scopes import Scope
from tests.factories import make_order, make_ticket
from tickets.models import PersonalDataAccess, Ticket
from tickets.services.tickets import promise_add

from .conftest import ApiClient, issue

pytestmark = pytest.mark.django_db
LIST, CHANGES = "/api/v1/tickets/", "/api/v1/tickets/changes/"


@pytest.fixture
def tickets(erp_user, shop_a, shop_b):
    """Five open tickets of shop A (two kinds), one closed, and two tickets of shop B."""
    made = {"a": [], "b": []}
    for n in range(5):
        kind = Ticket.Kind.EXCHANGE if n % 2 else Ticket.Kind.RETURN
        made["a"].append(make_ticket(make_order(shop_a), erp_user, kind=kind))
    made["a_closed"] = make_ticket(
        make_order(shop_a), erp_user, kind=Ticket.Kind.REFUND_ONLY, status=Ticket.Status.CANCELLED
    )
    made["b"] = [make_ticket(make_order(shop_b), erp_user) for _ in range(2)]
    return made


def test_the_list_pages_by_cursor_over_the_tokens_shops_only(api, tickets):
    seen, url, pages = [], LIST + "?page_size=2", 0
    while url:
        body = api.get(url).json()
        assert set(body) == {"results", "next"}  # no count
        seen += [row["id"] for row in body["results"]]
        url, pages = body["next"], pages + 1
    assert pages == 3
    # every open ticket of shop A once, due first (the list's default), none of shop B
    expected = [t.pk for t in sorted(tickets["a"], key=lambda t: (t.resolution_due, t.pk))]
    assert seen == expected


def test_the_lists_filters_apply(api, tickets):
    exchanges = api.get(LIST + "?kind=exchange&status=").json()["results"]
    assert {row["id"] for row in exchanges} == {
        t.pk for t in tickets["a"] if t.kind == Ticket.Kind.EXCHANGE
    }
    cancelled = api.get(LIST + "?status=cancelled").json()["results"]
    assert [row["id"] for row in cancelled] == [tickets["a_closed"].pk]
    by_number = api.get(LIST + f"?q=T{tickets['a'][0].pk}").json()["results"]
    assert [row["id"] for row in by_number] == [tickets["a"][0].pk]
    newest = api.get(LIST + "?sort=-created&page_size=1").json()
    assert newest["results"][0]["id"] == max(t.pk for t in tickets["a"])
    assert api.get(LIST + "?shop=shop-a").status_code == 200


def test_a_search_never_reaches_another_shop(api, erp_user, shop_b, tickets):
    other = make_ticket(make_order(shop_b, buyer_nick="只在B店买过"), erp_user)
    for term in (f"T{other.pk}", other.order.order_no, other.order.buyer_nick, "只在B"):
        assert api.get(LIST, {"q": term, "status": ""}).json()["results"] == []


@pytest.mark.parametrize(
    "query",
    [
        "shop=shop-b",
        "shop=nope",
        "status=nonsense",
        "sort=price",
        "created_min=yesterday",
        "page_size=0",
        "page_size=201",
        "cursor=abc",
        "assignee=999999999999999999999",
    ],
)
def test_a_filter_it_can_not_read_is_a_400(api, tickets, query):
    response = api.get(LIST + "?" + query)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid"


def test_a_token_for_shop_a_gets_404_for_shop_bs_ticket(api, api_b, tickets):
    mine, theirs = tickets["a"][0], tickets["b"][0]
    assert api.get(f"{LIST}{mine.pk}/").status_code == 200
    response = api.get(f"{LIST}{theirs.pk}/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert api_b.get(f"{LIST}{mine.pk}/").status_code == 404
    assert api.get(f"{LIST}99999999999999999999999/").status_code == 404


def test_one_ticket_with_items_timeline_promises_and_masked_receiver(api, erp_user, tickets):
    ticket = tickets["a"][0]
    promise_add(actor=erp_user, ticket=ticket, kind="postage", text="退回运费报销", due_on=None)
    body = api.get(f"{LIST}{ticket.pk}/").json()
    assert body["number"] == ticket.number and body["shop"] == "shop-a"
    assert body["items"][0]["quantity"] == 1
    assert [e["kind"] for e in body["timeline"]][:1] == ["opened"]
    assert body["promises"][0]["text"] == "退回运费报销"
    receiver = body["order"]["receiver"]
    assert receiver["masked"] is True and receiver["phone"] == "138****5678"
    assert "13812345678" not in str(body)
    assert not PersonalDataAccess.objects.exists()


def test_a_token_that_may_read_personal_data_reads_it_and_the_read_is_recorded(
    root, erp_user, shop_a, tickets
):
    reader = ApiClient(
        issue(root, erp_user, [Scope.TICKETS_READ, Scope.PERSONAL_DATA_READ], shops=[shop_a])
    )
    ticket = tickets["a"][0]
    receiver = reader.get(f"{LIST}{ticket.pk}/").json()["order"]["receiver"]
    assert receiver == {
        "name": ticket.order.receiver_name,
        "phone": "13812345678",
        "address": receiver["address"],
        "masked": False,
    }
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.order) == (erp_user, ticket.order)


def test_changes_since_a_time_oldest_first(api, erp_user, tickets):
    since = timezone.now()
    later = tickets["a"][2]
    Ticket.objects.filter(pk=later.pk).update(updated_at=since + timedelta(seconds=5))
    earlier = tickets["a"][4]
    Ticket.objects.filter(pk=earlier.pk).update(updated_at=since + timedelta(seconds=1))
    Ticket.objects.filter(pk=tickets["b"][0].pk).update(updated_at=since + timedelta(seconds=2))
    body = api.get(CHANGES, {"since": since.isoformat()}).json()
    assert [row["id"] for row in body["results"]] == [earlier.pk, later.pk]
    for bad in ("", "2026-03-01", "2026-03-01T10:00:00", "0001-01-01T00:00:00Z", "x"):
        assert api.get(CHANGES, {"since": bad}).status_code == 400
    # the README's example typed into a URL as it is: its "+" arrives as a space
    typed = since.astimezone(timezone.get_current_timezone()).isoformat()
    assert "+08:00" in typed
    answer = api.get(f"{CHANGES}?since={typed}")
    assert answer.status_code == 200, answer.json()
    assert [row["id"] for row in answer.json()["results"]] == [earlier.pk, later.pk]


def test_tickets_need_their_scope(root, erp_user, shop_a, tickets):
    writer = ApiClient(issue(root, erp_user, [Scope.ORDERS_WRITE], shops=[shop_a]))
    for url in (LIST, f"{LIST}{tickets['a'][0].pk}/", CHANGES + "?since=2026-01-01T00:00:00Z"):
        assert writer.get(url).status_code == 403


def test_the_list_costs_the_same_queries_for_more_tickets(
    api, erp_user, shop_a, tickets, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        api.get(LIST + "?page_size=50")
    for _ in range(10):
        make_ticket(make_order(shop_a), erp_user)
    with django_assert_max_num_queries(12):
        assert len(api.get(LIST + "?page_size=50").json()["results"]) == 15
