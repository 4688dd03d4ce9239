"""Health checks: the pages besides login that need no login.

- ``/healthz`` is the whole desk (for monitoring: web, database, broker, object store and the
  background processes that build the sheets);
- ``/healthz/web`` is this web process and what it serves from: database, broker, storage (for
  a load balancer: a stopped worker must not take every web node out of service);
- ``/readyz`` is ``/healthz/web`` and no migration pending (for a deploy: a node started with
  new code before ``migrate`` ran is kept out of service; issue 15).

None of them says more than ``ok``/``unavailable`` per part: no error text, host, bucket or
credential reaches an anonymous caller."""

import logging
import threading
import time
from collections.abc import Callable

from celery import current_app
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.files.storage import storages
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from aftersales.storage import DeskS3Storage
from tickets.models import Heartbeat

logger = logging.getLogger(__name__)

HEARTBEATS = ("beat", "worker", "tasks")
# The key /healthz asks the local folder about (it need not exist: the answer, yes or no, shows
# the folder is readable; an exception shows it is not).
STORAGE_SENTINEL = "healthz/sentinel"
# Seconds every part of a probe (database, broker, storage, the heartbeats' and migrations'
# reads) may take before it counts as unavailable: a server that stalls (accepts the
# connection, never answers) must not hold the probe - and the load balancer's check, and a
# web worker - for its own timeouts times its attempts, or for ever.
PROBE_TIMEOUT_SECONDS = 2
# The database the probes ask (a test points it at a server that never answers).
PROBE_DATABASE = DEFAULT_DB_ALIAS
# Set once this process has seen no migration pending: from then on /readyz does not ask again
# (migrations are never un-applied under a running process; a new release is a new process).
_migrated = False
# Each part's last thread, while it has not come back (the server still stalls).
_running: dict[str, threading.Thread] = {}
_running_lock = threading.Lock()


class Unavailable:
    """What ``probe_parts`` answers for a part that failed or did not answer in time."""

    def __bool__(self) -> bool:
        return False


UNAVAILABLE = Unavailable()


def probe_parts(parts: dict[str, Callable[[], object]]) -> dict[str, object]:
    """Runs each of ``parts`` (name -> a callable that raises when that part cannot be used) at
    once, each on a daemon thread of its own, and waits at most ``PROBE_TIMEOUT_SECONDS`` in
    all. Returns name -> the callable's result, or ``UNAVAILABLE`` when it raised or had not
    returned by then (logged at WARNING with the exception's type, never its text).

    A part whose previous thread has not come back (the server still stalls) is not started
    again: it is ``UNAVAILABLE`` at once, so a stalled server never piles up threads. Daemon
    threads: one still hanging never holds the process at exit (gunicorn's restart, a
    command). Each thread closes the database connections it opened (its own, not the
    request's). One helper for every probe and part (issue 15 second review)."""
    results: dict[str, object] = {}

    def run(name: str, check: Callable[[], object]) -> None:
        try:
            results[name] = check()
        except Exception as exc:
            logger.warning("health probe: %s did not answer: %s", name, type(exc).__name__)
        finally:
            connections.close_all()

    started: dict[str, threading.Thread] = {}
    with _running_lock:
        for name, check in parts.items():
            previous = _running.get(name)
            if previous is not None and previous.is_alive():
                logger.warning("health probe: %s still has not answered", name)
                continue
            thread = threading.Thread(
                target=run, args=(name, check), name=f"probe-{name}", daemon=True
            )
            _running[name] = thread
            started[name] = thread
            thread.start()
    deadline = time.monotonic() + PROBE_TIMEOUT_SECONDS
    for name, thread in started.items():
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            logger.warning(
                "health probe: %s did not answer within %ss", name, PROBE_TIMEOUT_SECONDS
            )
    return {name: results.get(name, UNAVAILABLE) for name in parts}


def _database_answers() -> bool:
    with connections[PROBE_DATABASE].cursor() as cursor:
        cursor.execute("SELECT 1")
    return True


def _heartbeats_read() -> dict:
    """name -> when it was last recorded (reading them is /healthz's database check)."""
    return {b.name: b.beat_at for b in Heartbeat.objects.using(PROBE_DATABASE)}


def _broker_answers() -> bool:
    """Celery's broker accepts a connection (Redis: a connection and its PING; the filesystem
    broker: its folders). Raises when it does not."""
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=0, timeout=PROBE_TIMEOUT_SECONDS)
        conn.default_channel  # noqa: B018 - opening the channel is the check
    return True


def _storage_answers() -> bool:
    """Asks the default storage whether it can be used; raises when it cannot. An object store
    is asked about its bucket (``HeadBucket`` through the storage's own client, with its
    credentials): a bucket that does not exist, or that the credentials may not reach, fails
    - ``exists()`` would turn that 404 into an answer. The local folder is asked whether
    ``STORAGE_SENTINEL`` exists."""
    storage = storages["default"]
    if isinstance(storage, DeskS3Storage):
        storage.connection.meta.client.head_bucket(Bucket=storage.bucket_name)
    else:
        storage.exists(STORAGE_SENTINEL)
    return True


def migrations_pending() -> bool:
    """True while the database lacks a migration this code has (``MigrationExecutor``'s plan
    to the leaf nodes is not empty). Once False, kept False for this process (``_migrated``).
    Raises the database's error when it cannot be read."""
    global _migrated
    if _migrated:
        return False
    executor = MigrationExecutor(connections[PROBE_DATABASE])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    _migrated = not plan
    return bool(plan)


def _ready_read() -> bool:
    """The database answers and has no migration pending (False) or has (True)."""
    _database_answers()
    return migrations_pending()


def _state(value: object) -> str:
    return "unavailable" if value is UNAVAILABLE else "ok"


def _answer(request, body: dict, *, status: int = 200) -> JsonResponse:
    """The probe's JSON answer; for HEAD (a cloud load balancer's HTTP check may send one) the
    same status and headers without the body. A 503 is logged once at WARNING with the
    parts that are not ok - not at ERROR by Django's request logger (a probe failing every few
    seconds while a server is down is for monitoring to watch, not a server error of this
    request, and would otherwise send Sentry an event each time)."""
    response = JsonResponse(body, status=status)
    if status >= 500:
        response._has_been_logged = True
        parts = [name for name, value in body.items() if name != "status" and value != "ok"]
        logger.warning("%s: %s, %s", request.path, body["status"], ", ".join(parts))
    if request.method == "HEAD":
        response.content = b""
    return response


@login_not_required
@never_cache
@require_safe
def healthz(request):
    """The whole desk's health as JSON: ``{"status", "database", "broker", "storage", "beat",
    "worker", "tasks"}``, each part ``"ok"`` or ``"unavailable"`` (no times: the probe needs no
    login). A heartbeat is ok when recorded within ``DESK_HEARTBEAT_STALE_SECONDS``: ``beat``
    and ``worker`` are recorded by those processes themselves while they run (busy or not),
    ``tasks`` by the heartbeat task beat sends every minute (unavailable when no worker has
    been free to run it).

    200 with status ``ok`` only when database, broker and storage answer and every heartbeat is
    fresh; 503 with status ``degraded`` when one is stale or was never recorded (no worker or
    beat ever ran: the 16:00 sheet would not be built), 503 with status ``error`` when the
    database, the broker or the storage does not answer within ``PROBE_TIMEOUT_SECONDS``
    (the heartbeats are then ``unavailable`` too when the database is). GET or HEAD."""
    found = probe_parts(
        {"database": _heartbeats_read, "broker": _broker_answers, "storage": _storage_answers}
    )
    services = {name: _state(value) for name, value in found.items()}
    beats = found["database"] or {}
    now = timezone.now()
    stale_after = settings.DESK_HEARTBEAT_STALE_SECONDS
    states = {
        name: "ok"
        if beats.get(name) is not None and (now - beats[name]).total_seconds() <= stale_after
        else "unavailable"
        for name in HEARTBEATS
    }
    down = any(value != "ok" for value in services.values())
    stale = any(value != "ok" for value in states.values())
    status = "error" if down else "degraded" if stale else "ok"
    return _answer(
        request, {"status": status, **services, **states}, status=200 if status == "ok" else 503
    )


@login_not_required
@never_cache
@require_safe
def healthz_web(request):
    """This web process's health for a load balancer, as JSON: 200 ``{"status": "ok",
    "database": "ok", "broker": "ok", "storage": "ok"}`` when it answers and its database,
    broker and storage do within ``PROBE_TIMEOUT_SECONDS``; 503 with status ``error`` and the
    part ``unavailable`` when one does not. The background processes are ``/healthz``'s
    business. GET or HEAD."""
    found = probe_parts(
        {"database": _database_answers, "broker": _broker_answers, "storage": _storage_answers}
    )
    services = {name: _state(value) for name, value in found.items()}
    if any(value != "ok" for value in services.values()):
        return _answer(request, {"status": "error", **services}, status=503)
    return _answer(request, {"status": "ok", **services})


@login_not_required
@never_cache
@require_safe
def readyz(request):
    """Whether this web process may take traffic, as JSON: ``/healthz/web``'s answer plus
    ``"migrations": "ok"``, or 503 with ``"migrations": "pending"`` while the database lacks a
    migration this code has (a node started with a new release before ``migrate`` ran), or
    503 with status ``error`` when a service does not answer within
    ``PROBE_TIMEOUT_SECONDS`` (``"migrations": "unavailable"`` when the database does not).
    GET or HEAD."""
    found = probe_parts(
        {"database": _ready_read, "broker": _broker_answers, "storage": _storage_answers}
    )
    services = {name: _state(value) for name, value in found.items()}
    pending = found["database"]
    migrations = "unavailable" if pending is UNAVAILABLE else "pending" if pending else "ok"
    down = any(value != "ok" for value in services.values())
    status = "error" if down or pending else "ok"
    return _answer(
        request,
        {"status": status, **services, "migrations": migrations},
        status=200 if status == "ok" else 503,
    )
