"""No input gives a server error (issue 12, section 1; QUALITY.md: bad input gets a message
and changes nothing, never a 500): a walk of EVERY URL pattern the resolver knows, the admin's
included, GET and POST, as each role (anonymous, agent, supervisor, finance, superuser), with
path parameters, query strings and form fields that real users, scanners, bookmarks and
hand-made requests send: NUL and other control characters, integers far beyond 64 bits, the
first and last days of the calendar, other scripts' digits ('١٢٣', '１２３'), very long strings,
broken percent-encodings and wrong types, mixed with the desk's real ids, order numbers,
choices and one-time keys so detail pages and the forms behind them are reached too.

Per URL pattern:
1. a probe: the pattern with real ids, GET and POST, as each role, recording which query and
   form keys its view reads (``tests.url_walk.Reads``) and which role and method reach it
   (the admin's pages read all their keys at once: there the admin's parameters and the
   model's lookups, as the superuser);
2. floods, as one role that reaches the view: on a GET, each key alone with each value of
   ``ONE_KEY`` (a list applies its filter only when every key is valid, so one bad key would
   hide what another reaches); on a POST, every key at once with each value of ``FLOOD``
   (numbers beyond 64 and 32 bits, negative, the calendar's ends as dates and date-times,
   other digits, too long, invisible characters);
3. a property-based walk (Hypothesis): generated paths, query strings and bodies (mostly the
   keys the view reads, some others, each with a plausible or hostile value and encoding,
   sometimes a file), each sent as every role.
Each request runs in a savepoint that is rolled back, so a POST that succeeds changes nothing
for the next one, and a failure replays the same.

In CI the seed is fixed (``derandomize``) and the examples per pattern are few, so the walk
takes about three minutes per database. A longer run walks more examples per pattern:
``DESK_FUZZ_EXAMPLES=50 make test PYTEST_ARGS=tests/aftersales/test_url_walk.py``, with
``DESK_FUZZ_SEED=<n>`` for other inputs than CI's.
"""

import os
import tempfile

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, note, seed, settings
from hypothesis import strategies as st

from tests.url_walk import (
    ADMIN_FLOOD,
    FLOOD,
    NUL,
    ONE_KEY,
    PARAM,
    ROLES,
    SEGMENT_MODELS,
    Reads,
    Route,
    World,
    admin_route_keys,
    build_world,
    flood,
    parameter_model,
    real_path,
    request_strategy,
    send,
    url_routes,
)

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("DESK_FUZZ_EXAMPLES", "2"))
FUZZ_SEED = os.environ.get("DESK_FUZZ_SEED")
ROUTES = url_routes()


def _storage(folder: str) -> dict:
    storages = {**django_settings.STORAGES}
    storages["default"] = {
        **storages["default"],
        "OPTIONS": {"location": f"{folder}/private", "base_url": None},
    }
    return {
        "STORAGES": storages,
        "MEDIA_ROOT": f"{folder}/private",
        "FINANCE_SHEET_TMP_DIR": f"{folder}/sheet-tmp",
        # Logging in (the login pages are walked too) checks a password: cheaply here.
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
    }


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The walk's data (``tests.url_walk.build_world``), built once for the module inside a
    transaction that is rolled back after its last test."""
    with (
        tempfile.TemporaryDirectory() as folder,
        override_settings(**_storage(folder)),
        django_db_blocker.unblock(),
    ):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world(folder)
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def walk(world, settings, monkeypatch):
    """The world, its files readable (the autouse ``private_files`` points elsewhere), and a
    recorder of the keys views read."""
    for name, value in _storage(world.folder).items():
        setattr(settings, name, value)
    return world, Reads(monkeypatch)


def _check(world: World, role: str, request: dict):
    """Sends ``request`` as ``role``; fails on a 5xx answer or an exception in the view, saying
    which request did it."""
    try:
        response = send(world, role, request)
    except Exception as exc:
        raise AssertionError(f"server error as {role}: {_shown(request)}") from exc
    if request["path"] == "/healthz" and response.status_code == 503:
        # by design: no worker or beat runs in the walk (tests/aftersales/test_health.py)
        assert response.json()["status"] == "degraded", _shown(request)
        return response
    assert response.status_code < 500, f"{response.status_code} as {role}: {_shown(request)}"
    return response


def _shown(request: dict) -> str:
    return repr({k: v if len(str(v)) < 400 else f"{str(v)[:400]}…" for k, v in request.items()})


def _reached(response) -> bool:
    """The request got past the login and permission checks to the view."""
    if response.status_code in (403, 405):
        return False
    return response.status_code != 302 or "login/" not in response.get("Location", "")


def _probe(world: World, route: Route, reads: Reads) -> tuple[list[str], list[tuple]]:
    """The keys the route's view reads, and the (role, method) pairs that reach the view (not
    sent to log in, not refused, not the wrong method). The admin's pages read their keys all
    at once (``request.GET.items()``): there, the admin's parameters and the model's lookups,
    sent as the superuser, GET to a list and POST to a form."""
    path = real_path(world, route)
    if path is None:
        return [], []
    if route.admin:
        if route.name.rstrip("/").rsplit("/", 1)[-1] in ("add", "change"):
            return admin_route_keys(route), [("admin", "POST")]
        if route.name.count("/") == 3 and PARAM.search(route.name) is None:  # a model's list
            return admin_route_keys(route), [("admin", "GET")]
        return [], []
    reached = []
    reads.on = True
    try:
        for role in ROLES:
            for method in ("GET", "POST"):
                if _reached(_check(world, role, {"method": method, "path": path})):
                    reached.append((role, method))
    finally:
        reads.on = False
    return sorted(reads.keys), reached


def _flood(world: World, route: Route, keys: list[str], reached: list[tuple]) -> None:
    """Hostile values where the view reads its keys, as one role that reaches the view (the
    supervisor where it may, the superuser in the admin), with each method it answers:
    - a GET: each key alone with each value of ``ONE_KEY``;
    - a POST, and the admin's lists: every key at once with each value of ``FLOOD``
      (``ADMIN_FLOOD``)."""
    path = real_path(world, route)
    if path is None or not keys:
        return
    for method in ("GET", "POST"):
        roles = [role for role, reaching in reached if reaching == method]
        if not roles:
            continue
        role = "supervisor" if "supervisor" in roles else roles[0]
        if method == "GET" and not route.admin:
            for key in keys:
                for value in ONE_KEY:
                    query = flood([key], value)
                    _check(world, role, {"method": "GET", "path": path, "query": query})
            continue
        for value in ADMIN_FLOOD if route.admin else FLOOD:
            data = flood(keys, value)
            _check(world, role, {"method": method, "path": path, "query": data, "body": data})


def _generated(world: World, route: Route, keys: list[str]) -> None:
    examples = max(1, EXAMPLES // 2) if route.admin else EXAMPLES

    @settings(
        max_examples=examples,
        derandomize=FUZZ_SEED is None,
        database=None,
        deadline=None,
        print_blob=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def walk_route(data):
        request = data.draw(request_strategy(world, route, keys), label="request")
        for role in ROLES:
            note(f"as {role}")
            _check(world, role, request)

    if FUZZ_SEED is not None:
        walk_route = seed(int(FUZZ_SEED))(walk_route)
    walk_route()


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_no_input_gives_a_server_error(route, walk):
    world, reads = walk
    keys, reached = _probe(world, route, reads)
    _flood(world, route, keys, reached)
    _generated(world, route, keys)


def test_nul_anywhere_is_refused_before_any_view(walk):
    """PostgreSQL refuses NUL in any text: a NUL in a query or a form never reaches a view,
    on any URL (the middleware answers 400 with a message)."""
    world, _reads = walk
    for route in ROUTES[:: max(1, len(ROUTES) // 20)]:
        path = real_path(world, route)
        if path is None:
            continue
        for value in NUL[1:3]:
            body = f"q={value}&note={value}".replace("\x00", "%00")
            response = _check(world, "supervisor", {"method": "POST", "path": path, "body": body})
            if route.name.startswith("api/"):
                # The API refuses a form body before any view, in its JSON error shape
                # (api/middleware.py): 415, as it does for every body that is not JSON.
                assert response.status_code == 415, (route.name, response.status_code)
                assert response["Content-Type"].startswith("application/json"), route.name
                continue
            assert response.status_code == 400, (route.name, response.status_code)


def test_the_walk_covers_every_pattern_and_role(world):
    """The walk is only as good as its list: every leaf of the resolver (the admin's too),
    the five roles each with a session, the names views read by hand, and a model for every
    id in a desk URL, so its real ids are used."""
    assert any(r.admin for r in ROUTES) and len(ROUTES) > 250
    assert {"/", "tickets/", "parcels/unpack/", "admin/", "login/"} <= {r.name for r in ROUTES}
    assert set(world.cookies) == set(ROLES[1:])
    assert {"q", "page", "tracking_no", "created_min", "amount", "order_no"} <= set(world.desk_keys)
    for route in ROUTES:
        for match in PARAM.finditer(route.name):
            if route.admin or match.group("converter") == "slug":
                continue
            model = parameter_model(route.name, match.start())
            assert model in SEGMENT_MODELS.values(), f"{route.name}: add its segment"
            assert world.ids_of(model), route.name
