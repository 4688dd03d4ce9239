"""Every endpoint refuses a token without its scope (403) and never shows another shop's
object (404, or a refusal naming the shop), walked from the URL patterns so a new endpoint is
checked too (QUALITY.md 1: walk every URL pattern, not just the list pages)."""

import pytest
from django.urls import get_resolver

from api.scopes import Scope
from tests.factories import make_entry, make_order, make_ticket

from .conftest import ApiClient, issue

pytestmark = pytest.mark.django_db

# (route name, method, path with {id}, the scope it needs)
DOORS = [
    ("order_batch", "post", "/api/v1/orders/batches/", Scope.ORDERS_WRITE),
    ("refund_batch", "post", "/api/v1/refunds/batches/", Scope.REFUNDS_WRITE),
    ("ticket_list", "get", "/api/v1/tickets/", Scope.TICKETS_READ),
    (
        "ticket_changes",
        "get",
        "/api/v1/tickets/changes/?since=2026-01-01T00:00:00Z",
        Scope.TICKETS_READ,
    ),
    ("ticket_detail", "get", "/api/v1/tickets/{ticket}/", Scope.TICKETS_READ),
    ("ledger", "get", "/api/v1/ledger/", Scope.MONEY_READ),
    ("sheet_list", "get", "/api/v1/sheets/", Scope.MONEY_READ),
    ("sheet_file", "get", "/api/v1/sheets/1/file/", Scope.MONEY_READ),
]
# Routes with no scope of their own: the token itself, the schema, the docs, the 404.
OPEN = {"token", "schema", "docs", "not_found"}


def test_every_route_of_the_api_is_walked_here():
    names = {
        pattern.name
        for pattern in get_resolver().url_patterns
        if getattr(pattern, "namespace", None) == "api"
        for pattern in pattern.url_patterns
    }
    assert names == {door[0] for door in DOORS} | OPEN


@pytest.fixture
def world(erp_user, shop_a, shop_b):
    ticket_b = make_ticket(make_order(shop_b), erp_user)
    make_entry(ticket_b.order, erp_user)
    return {"ticket": ticket_b.pk}


@pytest.mark.parametrize(("name", "method", "path", "scope"), DOORS)
def test_a_token_without_the_scope_gets_403(
    root, erp_user, shop_a, world, name, method, path, scope
):
    others = [s for s in Scope.values if s != scope and s != Scope.PERSONAL_DATA_READ]
    client = ApiClient(issue(root, erp_user, others, shops=[shop_a]))
    url = path.format(**world)
    if method == "post":
        response = client.post_json(url, {"shop": "shop-a", "orders": [], "refunds": []})
    else:
        response = client.get(url)
    assert response.status_code == 403, (name, response.content)
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("name", "method", "path", "scope"), DOORS)
def test_a_token_of_shop_a_never_reaches_shop_b(
    root, erp_user, shop_a, world, name, method, path, scope
):
    client = ApiClient(issue(root, erp_user, [scope], shops=[shop_a]))
    url = path.format(**world)
    if method == "post":
        # naming shop B's code is refused as naming no shop at all, and writes nothing
        response = client.post_json(url, {"shop": "shop-b", "orders": [], "refunds": []})
        assert response.status_code == 400
        assert response.json()["error"]["details"][0]["field"] == "shop"
        return
    response = client.get(url)
    if name == "ticket_detail":
        assert response.status_code == 404
        return
    if name == "sheet_file":
        # an agent's account may not download sheets at all; a finance account's token of
        # some shops reads no sheet (a sheet covers every shop): test_money_out
        assert response.status_code in (403, 404)
        return
    assert response.status_code == 200
    assert all(row.get("shop", "shop-a") == "shop-a" for row in response.json()["results"])
    assert client.get(url + ("&" if "?" in url else "?") + "shop=shop-b").status_code in (200, 400)
