"""The API tested against its own generated OpenAPI schema by Schemathesis (issue 16, "Done
when"): every operation, with requests generated from the schema, sent with every kind of
token, finds no 5xx, no answer that breaks the schema (status, content type, body) and no
answer carrying another shop's data.

A normal pytest test, so `make test` runs it in CI on both databases. In CI it sends a few
generated requests per operation with a fixed seed; a longer run:
``DESK_API_FUZZ_EXAMPLES=200 make test PYTEST_ARGS=tests/api/test_schema.py``.
"""

import json
import os
import re

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.scopes import Scope
from api.throttling import RefusedTokenThrottle, TokenRateThrottle
from api.tokens import token_issue, token_revoke
from tests.factories import make_entry, make_order, make_ticket, make_user
from tickets.models import Ticket
from tickets.roles import Role

EXAMPLES = int(os.environ.get("DESK_API_FUZZ_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _spec() -> dict:
    """The schema as the API serves it (``/api/v1/schema/``), generated from the code."""
    return json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True)))


SPEC = _spec()
OPERATIONS = [
    (path, method)
    for path, methods in SPEC["paths"].items()
    for method in methods
    if method in ("get", "post", "put", "patch", "delete")
]


@pytest.fixture
def api_schema(db, settings, monkeypatch):
    """Schemathesis over the schema, answering through Django's own WSGI handler in this
    process (so inside the test's transaction), rate limits out of the way."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "st"}
    }
    unlimited = {"api": "100000/min", "api_batch": "100000/min", "api_refused": "100000/min"}
    # the revoked token is refused on every example: its address would be held back too
    for throttle in (TokenRateThrottle, RefusedTokenThrottle):
        monkeypatch.setattr(throttle, "THROTTLE_RATES", unlimited)
    schema = schemathesis.openapi.from_dict(json.loads(json.dumps(SPEC)))
    schema.app = WSGIHandler()
    # As Django's test client does: a request's end must not close the test's connection
    # (on PostgreSQL, close_old_connections closes one inside a transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schema
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, shop_a, shop_b):
    """Two shops with tickets and money in each, and a token of every kind for shop A (one of
    them revoked) plus finance's token of every shop. ``foreign`` is what no shop-A token may
    ever be shown: shop B's order and ticket numbers."""
    root = make_user("root-st", None, is_superuser=True, is_staff=True)
    erp = make_user("erp-st", Role.AGENT, shops=[shop_a, shop_b])
    finance = make_user("fin-st", Role.FINANCE, all_shops=True)
    mine = [make_ticket(make_order(shop_a), erp, kind=Ticket.Kind.RETURN) for _ in range(3)]
    theirs = [
        make_ticket(make_order(shop_b, buyer_nick="B店的买家"), erp, kind=Ticket.Kind.RETURN)
        for _ in range(2)
    ]
    for ticket in mine + theirs:
        make_entry(ticket.order, erp, "12.00")

    def token(user, scopes, **shops):
        return token_issue(actor=root, name="st", user=user, scopes=scopes, **shops)

    tokens = {
        "orders": token(erp, [Scope.ORDERS_WRITE], shops=[shop_a]),
        "refunds": token(erp, [Scope.REFUNDS_WRITE], shops=[shop_a]),
        "tickets": token(erp, [Scope.TICKETS_READ], shops=[shop_a]),
        "personal": token(erp, [Scope.TICKETS_READ, Scope.PERSONAL_DATA_READ], shops=[shop_a]),
        "money": token(erp, [Scope.MONEY_READ], shops=[shop_a]),
        "finance": token(finance, [Scope.MONEY_READ], all_shops=True),
        "revoked": token(erp, list(Scope.values), shops=[shop_a]),
    }
    token_revoke(actor=root, token=tokens["revoked"].token)
    foreign = [t.order.order_no for t in theirs] + [t.number for t in theirs] + ["B店的买家"]
    return {"tokens": {k: v.raw for k, v in tokens.items()}, "foreign": foreign}


def _shops_named(body) -> set[str]:
    """Every value of a "shop" key anywhere in a JSON body."""
    found = set()
    if isinstance(body, dict):
        for key, value in body.items():
            if key == "shop" and isinstance(value, str):
                found.add(value)
            found |= _shops_named(value)
    elif isinstance(body, list):
        for value in body:
            found |= _shops_named(value)
    return found


def no_other_shops_data(kind: str, response, foreign: list[str]) -> None:
    """A shop-A token's answer names no other shop and holds none of shop B's numbers."""
    if kind == "finance" or "json" not in response.headers.get("Content-Type", [""])[0]:
        return
    text = response.content.decode("utf-8", "replace") if response.content else ""
    body = json.loads(text) if text else None
    assert _shops_named(body) <= {"shop-a"}, (kind, _shops_named(body))
    for number in foreign:
        assert not re.search(re.escape(number), text), (kind, number)


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_the_api_keeps_to_its_schema_for_every_token(api_schema, world, path, method):
    operation = api_schema[path][method.upper()]

    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def each_token(case):
        for kind, raw in world["tokens"].items():
            response = case.call(headers={"Authorization": f"Bearer {raw}"})
            case.validate_response(response, checks=CHECKS)
            no_other_shops_data(kind, response, world["foreign"])
            if kind == "revoked":
                assert response.status_code in (401, 404), response.status_code

    each_token()


def test_every_endpoint_is_walked():
    assert {path for path, _method in OPERATIONS} == {
        "/api/v1/token/",
        "/api/v1/orders/batches/",
        "/api/v1/refunds/batches/",
        "/api/v1/tickets/",
        "/api/v1/tickets/changes/",
        "/api/v1/tickets/{id}/",
        "/api/v1/ledger/",
        "/api/v1/sheets/",
        "/api/v1/sheets/{id}/file/",
    }
