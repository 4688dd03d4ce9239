"""Tokens of every kind, a client that sends them, and a cache of the test's own (the API's
rate limits count there)."""

import pytest
from django.test import Client

from api.scopes import Scope
from api.tokens import token_issue
from tests.factories import make_user
from tickets.roles import Role

# Where the rate limits' clock stands in a test: half a minute into a window, so a test's
# calls all fall in one window (the limits count in fixed minutes: a test that crossed a
# minute's edge would find its count back at zero).
THROTTLE_NOW = 1_800_000_030.0


@pytest.fixture(autouse=True)
def own_cache(settings, request, monkeypatch):
    """Each test counts its rate limits from zero, in memory (the desk's cache may be Redis,
    shared with other runs), on a clock held still (``THROTTLE_NOW``)."""
    from api.throttling import _WindowThrottle

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"api-{request.node.nodeid}",
        }
    }
    monkeypatch.setattr(_WindowThrottle, "timer", staticmethod(lambda: THROTTLE_NOW))


@pytest.fixture
def root(db):
    return make_user("root", None, is_superuser=True, is_staff=True)


@pytest.fixture
def erp_user(shop_a, shop_b):
    """The account an ERP's token acts for: an agent of both test shops."""
    return make_user("erp", Role.AGENT, shops=[shop_a, shop_b])


@pytest.fixture
def finance_user(db):
    return make_user("erp-finance", Role.FINANCE, all_shops=True)


def issue(root, user, scopes, shops=(), all_shops=False, name="ERP"):
    """A token's text, issued through the service as an administrator would."""
    return token_issue(
        actor=root,
        name=name,
        user=user,
        scopes=list(scopes),
        shops=list(shops),
        all_shops=all_shops,
    ).raw


class ApiClient(Client):
    """The test client with a bearer token on every request, JSON bodies by default."""

    def __init__(self, token: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.token = token

    def _base_environ(self, **request):
        environ = super()._base_environ(**request)
        if self.token:
            environ.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.token}")
        return environ

    def post_json(self, path, data, **extra):
        return self.post(path, data, content_type="application/json", **extra)


@pytest.fixture
def api(root, erp_user, shop_a):
    """A client whose token may import orders and refunds and read tickets of shop A."""
    token = issue(
        root,
        erp_user,
        [Scope.ORDERS_WRITE, Scope.REFUNDS_WRITE, Scope.TICKETS_READ],
        shops=[shop_a],
    )
    return ApiClient(token)


@pytest.fixture
def api_b(root, erp_user, shop_b):
    """The same account, a token for shop B only, every scope it may hold."""
    token = issue(
        root,
        erp_user,
        [Scope.ORDERS_WRITE, Scope.REFUNDS_WRITE, Scope.TICKETS_READ, Scope.MONEY_READ],
        shops=[shop_b],
        name="ERP B",
    )
    return ApiClient(token)
