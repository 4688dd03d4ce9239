"""Hostile input through the API's door (issue 16 review): whatever a client sends, the answer
is the documented JSON error shape (``{"error": {"code", "message", "details"}}``), never a
500 or an HTML page, it stays small, nothing is changed, and the call is on the record."""

import base64
import json

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from api.models import ApiCall
from api.parsers import MAX_DEPTH
from api.scopes import Scope
from api.throttling import TokenRateThrottle
from tests.factories import make_entry, make_order, make_ticket
from tickets.models import Order, OrderItem

from .conftest import ApiClient, issue
from .records import order

pytestmark = pytest.mark.django_db
ORDERS = "/api/v1/orders/batches/"
NO_1 = "3515012345678901200"
PAGED = [
    "/api/v1/tickets/",
    "/api/v1/tickets/?sort=-created",
    "/api/v1/tickets/changes/?since=2020-01-01T00:00:00%2B08:00",
    "/api/v1/ledger/",
    "/api/v1/sheets/",
]


def error_of(response, status: int, code: str) -> dict:
    """The error body of ``response``, checked to be the documented JSON shape."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and isinstance(error["details"], list)
    return error


def send_raw(client, path: str, body: str, **extra):
    return client.post(path, data=body.encode("utf-8"), content_type="application/json", **extra)


@pytest.fixture
def every_reader(root, erp_user, finance_user, shop_a):
    """A client for each paged endpoint (tickets: a shop A token; money: a finance token of
    every shop, the only kind that reads sheets), with a row on each list."""
    make_ticket(make_order(shop_a), erp_user)
    make_entry(make_order(shop_a), erp_user, "1.00")
    tickets = ApiClient(issue(root, erp_user, [Scope.TICKETS_READ], shops=[shop_a]))
    money = ApiClient(issue(root, finance_user, [Scope.MONEY_READ], all_shops=True, name="F"))
    return {path: money if "ledger" in path or "sheets" in path else tickets for path in PAGED}


def with_cursor(path: str, cursor: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}cursor={cursor}"


# --- 1. bad shape: capped --------------------------------------------------------------------
def test_a_record_with_too_many_keys_is_refused_at_once_with_one_problem(api, shop_a):
    record = {f"k{n}": "x" for n in range(100_000)}
    record["order_no"] = NO_1
    response = api.post_json(ORDERS, {"shop": "shop-a", "orders": [record, order(NO_1)]})
    error = error_of(response, 400, "invalid")
    assert error["error_count"] == 1 and len(response.content) < 2_000
    assert error["details"][0]["record"] == "orders[0]" and "100" in error["details"][0]["message"]
    assert not Order.objects.exists()


def test_bad_shape_problems_are_capped_at_200_with_their_count(api, shop_a):
    records = [{**order(f"35150123456789{n:05d}"), "x1": 1, "x2": 2} for n in range(400)]
    response = api.post_json(ORDERS, {"shop": "shop-a", "orders": records})
    error = error_of(response, 400, "invalid")
    assert len(error["details"]) == 200 and error["error_count"] == 800
    assert error["details"][0] == {
        "record": "orders[0]",
        "field": "x1",
        "message": "不认识的字段。",
    }
    assert not Order.objects.exists()


def test_a_number_of_a_thousand_digits_is_a_problem_not_a_long_cell(api, shop_a):
    body = '{"shop": "shop-a", "orders": [{"order_no": 1%s}]}' % ("0" * 1000)
    error = error_of(send_raw(api, ORDERS, body), 400, "invalid")
    assert error["details"][0]["field"] == "order_no"


# --- 2. cursors ------------------------------------------------------------------------------
def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        b64('[["dt","2026-01-01T00:00:00+00:00"]]'),  # a time for the ledger's id key
        b64('[["dt","2026-01-01T00:00:00+00:00"],["dt","2026-01-01T00:00:00+00:00"]]'),
        b64('[["i",1],["i",2]]'),  # an id for a time key
        b64('[["dt","0001-01-01T00:00:00+23:59"],["i",1]]'),
        b64('[["d","0001-01-01"],["i",1]]'),
        b64('[["dt","9999-12-31T23:59:59-23:59"],["i",1]]'),
        b64("[" * 3000 + "]" * 3000),
        b64("[" * 300 + "]" * 300),
        b64('[["i",1e400]]'),
        b64('[["i",' + "9" * 400 + "]]"),
        "A" * 5000,
        "%%%",
    ],
)
def test_a_tampered_cursor_is_a_400_on_cursor(every_reader, cursor):
    for path, client in every_reader.items():
        error = error_of(client.get(with_cursor(path, cursor)), 400, "invalid")
        assert error["details"] == [
            {"field": "cursor", "message": "翻页游标无效，请从第一页重新开始。"}
        ], path


def test_a_cursor_the_api_made_still_pages(every_reader, erp_user, shop_a):
    make_ticket(make_order(shop_a), erp_user)
    client = every_reader["/api/v1/tickets/"]
    first = client.get("/api/v1/tickets/?page_size=1").json()
    assert first["next"] and client.get(first["next"]).status_code == 200


@hypothesis_settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    raw=st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=30),
            lambda inner: st.lists(inner, max_size=3),
            max_leaves=8,
        ).map(lambda value: json.dumps(value).encode()),
        st.tuples(
            st.sampled_from(["dt", "d", "i", "x"]),
            st.one_of(st.integers(), st.text(max_size=40), st.datetimes().map(str)),
        ).map(lambda part: json.dumps([list(part), ["i", 1]]).encode()),
    )
)
def test_no_cursor_whatever_it_holds_gives_a_500(every_reader, raw):
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    for path, client in every_reader.items():
        response = client.get(with_cursor(path, cursor))
        assert response.status_code in (200, 400), (path, raw, response.content[:300])
        if response.status_code == 400:
            assert response.json()["error"]["details"][0]["field"] == "cursor"


# --- 3. nesting ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 5_000 + "1" + "}" * 5_000,
        '{"shop": "shop-a", "orders": ' + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "}",
    ],
)
def test_a_deeply_nested_body_is_a_400(api, shop_a, body):
    error = error_of(send_raw(api, ORDERS, body), 400, "invalid")
    assert str(MAX_DEPTH) in error["message"]
    assert not Order.objects.exists()


def test_a_key_given_twice_is_refused_naming_it(api, shop_a):
    body = '{"shop": "shop-b", "shop": "shop-a", "orders": []}'
    error = error_of(send_raw(api, ORDERS, body), 400, "invalid")
    assert "“shop”" in error["message"]
    body = json.dumps({"shop": "shop-a", "orders": [order(NO_1)]})
    twice = body.replace('"remark": ""', '"remark": "", "remark": "x"')
    assert twice != body
    assert "“remark”" in error_of(send_raw(api, ORDERS, twice), 400, "invalid")["message"]
    assert not Order.objects.exists()


# --- 4. lone surrogates ----------------------------------------------------------------------
def test_a_lone_surrogate_key_is_named_without_it(api, shop_a):
    body = json.dumps({"shop": "shop-a", "orders": [order(NO_1)]})
    body = body.replace('"remark": ""', '"remark": "", "bad\\ud800key": "x"')
    error = error_of(send_raw(api, ORDERS, body), 400, "invalid")
    assert error["details"] == [
        {"record": "orders[0]", "field": "badkey", "message": "不认识的字段。"}
    ]
    assert not Order.objects.exists()


@pytest.mark.parametrize("shop", ["\\ud800", "shop-a\\udfff", "shop-a\\u0000", "x" * 1000])
def test_a_shop_no_shop_can_have_is_refused_on_shop(api, shop_a, shop):
    body = '{"shop": "' + shop + '", "orders": []}'
    error = error_of(send_raw(api, ORDERS, body), 400, "invalid")
    assert error["details"][0]["field"] == "shop"


def test_a_lone_surrogate_in_a_value_is_dropped_as_the_file_reader_drops_it(api, shop_a):
    body = json.dumps({"shop": "shop-a", "orders": [order(NO_1, items=[])]})
    body = body.replace('"remark": ""', '"remark": "\\ud800\\u52a0\\u6025"')
    response = send_raw(api, ORDERS, body)
    assert response.status_code == 200, response.json()
    assert Order.objects.get(order_no=NO_1).remark == "加急"


# --- 5. JSON, never a page -------------------------------------------------------------------
def test_a_post_to_an_unknown_path_is_a_json_404_not_the_csrf_page(root, erp_user, shop_a):
    client = ApiClient(
        issue(root, erp_user, [Scope.ORDERS_WRITE], shops=[shop_a]), enforce_csrf_checks=True
    )
    response = client.post_json("/api/v1/orders/batch/", {"shop": "shop-a", "orders": []})
    error_of(response, 404, "not_found")


def test_too_many_query_parameters_are_a_json_400(api):
    query = "&".join(f"p{n}=1" for n in range(1_500))
    error_of(api.get(f"/api/v1/tickets/?{query}"), 400, "invalid")
    assert ApiCall.objects.get().status_code == 400


def test_an_unknown_host_is_a_json_400(api):
    error_of(api.get("/api/v1/token/", HTTP_HOST="evil.example"), 400, "invalid")


def test_a_500_is_json_and_recorded(root, erp_user, shop_a, monkeypatch):
    def broken(self, request):
        raise RuntimeError("a bug")

    monkeypatch.setattr("api.views.TokenView.get", broken)
    client = ApiClient(
        issue(root, erp_user, [Scope.TICKETS_READ], shops=[shop_a]),
        raise_request_exception=False,
    )
    error_of(client.get("/api/v1/token/"), 500, "server_error")
    call = ApiCall.objects.get()
    assert (call.endpoint, call.status_code) == ("token", 500)


def test_the_desks_own_pages_still_get_pages(client):
    response = client.get("/no-such-page/", HTTP_HOST="evil.example")
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")


# --- 11, 12. refused before any view: JSON and recorded ---------------------------------------
def test_a_chunked_body_without_a_length_is_a_411(api, shop_a):
    response = api.generic(
        "POST", ORDERS, b"", content_type="application/json", HTTP_TRANSFER_ENCODING="chunked"
    )
    error_of(response, 411, "length_required")
    assert not Order.objects.exists()
    assert ApiCall.objects.get().status_code == 411


@pytest.mark.parametrize(
    ("extra", "status", "code"),
    [
        ({"CONTENT_LENGTH": str(10**12)}, 413, "too_large"),
        ({"content_type": "text/plain"}, 415, "unsupported_media_type"),
        ({"QUERY_STRING": "a=%00"}, 400, "invalid"),
    ],
)
def test_a_call_refused_by_the_middleware_is_recorded(api, shop_a, extra, status, code):
    options = {"content_type": "application/json", **extra}
    response = api.post(ORDERS, data=b'{"shop": "shop-a"}', **options)
    error_of(response, status, code)
    call = ApiCall.objects.get()
    assert (call.endpoint, call.status_code, call.method) == ("orders.batch", status, "POST")


def test_a_refused_call_without_a_known_token_is_not_recorded(shop_a):
    client = ApiClient("dsk_not-a-token")
    error_of(
        client.post(ORDERS, data=b"x", content_type="text/plain"), 415, "unsupported_media_type"
    )
    assert not ApiCall.objects.exists()


def test_the_schema_is_recorded_and_rate_limited(api, monkeypatch):
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"api": "2/min", "api_batch": "1/min"})
    statuses = [api.get("/api/v1/schema/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert list(ApiCall.objects.order_by("id").values_list("endpoint", "status_code")) == [
        ("schema", 200),
        ("schema", 200),
        ("schema", 429),
    ]


def test_the_schema_offers_paging_on_every_paged_list():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for path in (
        "/api/v1/tickets/",
        "/api/v1/tickets/changes/",
        "/api/v1/ledger/",
        "/api/v1/sheets/",
    ):
        names = {parameter["name"] for parameter in paths[path]["get"]["parameters"]}
        assert {"cursor", "page_size"} <= names, path


# --- 13. small ones ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["created_min", "created_max", "updated_min", "updated_max"])
def test_a_bad_date_is_reported_on_its_own_parameter(api, name):
    error = error_of(api.get(f"/api/v1/tickets/?{name}=garbage"), 400, "invalid")
    assert [d["field"] for d in error["details"]] == [name]


@pytest.mark.parametrize(
    ("sent", "beijing"),
    [
        ("2026-11-01T10:00:00Z", "2026-11-01 18:00:00"),
        ("2026-11-01T10:00:00+08:00", "2026-11-01 10:00:00"),
        ("2026-11-01T02:00:00.123-05:00", "2026-11-01 15:00:00"),
        ("2026-11-01T10:00:00", "2026-11-01 10:00:00"),
        ("2026-11-01 10:00:00", "2026-11-01 10:00:00"),
    ],
)
def test_iso_8601_times_are_taken_in_beijing_time(api, shop_a, sent, beijing):
    from tickets.imports.cleaning import SELLER_CENTRE_TZ

    record = order(NO_1, placed_at=sent, paid_at=sent, shipped_at="")
    response = api.post_json(ORDERS, {"shop": "shop-a", "orders": [record]})
    assert response.status_code == 200, response.json()
    saved = Order.objects.get(order_no=NO_1)
    assert saved.placed_at.astimezone(SELLER_CENTRE_TZ).strftime("%Y-%m-%d %H:%M:%S") == beijing
    assert saved.paid_at == saved.placed_at


@pytest.mark.parametrize("time", ["2026-13-01T10:00:00Z", "0001-01-01T00:00:00+23:59"])
def test_an_iso_time_that_is_no_time_is_refused_by_the_import(api, shop_a, time):
    record = order(NO_1, placed_at=time)
    error = error_of(api.post_json(ORDERS, {"shop": "shop-a", "orders": [record]}), 422, "refused")
    assert error["details"][0]["field"] == "placed_at"
    assert not Order.objects.exists()


@pytest.mark.parametrize("quantity", [2147483648, "2147483648", 10**20])
def test_a_quantity_too_large_is_said_to_be_too_large(api, shop_a, quantity):
    record = order(NO_1)
    record["items"][0]["quantity"] = quantity
    response = api.post_json(ORDERS, {"shop": "shop-a", "orders": [record]})
    error = error_of(response, 422, "refused")
    assert "必须在 1 到 100000 之间" in error["details"][0]["message"]
    assert "不是整数" not in error["details"][0]["message"]
    assert not OrderItem.objects.exists()
