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
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from celery import current_app
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.files.storage import storages
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from aftersales.storage import DeskS3Storage
from tickets.models import Heartbeat

logger = logging.getLogger(__name__)

HEARTBEATS = ("beat", "worker", "tasks")
# The key /healthz asks the local folder about (it need not exist: the answer, yes or no, shows
# the folder is readable; an exception shows it is not).
STORAGE_SENTINEL = "healthz/sentinel"
# Seconds the broker check, and the storage check, may take before that part counts as
# unavailable: a store that stalls (accepts the connection, never answers) must not hold the
# probe for its own read timeout times its attempts.
BROKER_TIMEOUT_SECONDS = 2
STORAGE_TIMEOUT_SECONDS = 2
_DATABASE_DOWN = {"status": "error", "database": "unavailable"}
# Set once this process has seen no migration pending: from then on /readyz does not ask again
# (migrations are never un-applied under a running process; a new release is a new process).
_migrated = False


def _database_ok() -> bool:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return False
    return True


def _broker_ok() -> bool:
    """True when Celery's broker accepts a connection within ``BROKER_TIMEOUT_SECONDS``
    (Redis: a connection and its PING; the filesystem broker: its folders)."""
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT_SECONDS)
            conn.default_channel  # noqa: B018 - opening the channel is the check
    except Exception:
        return False
    return True


def _storage_answers() -> None:
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


class _StorageProbe:
    """Runs ``_storage_answers`` on one thread of this process and waits at most
    ``STORAGE_TIMEOUT_SECONDS`` for it. A probe still hanging (the store stalled) is not
    joined by another: the next checks answer "unavailable" at once until it returns, so
    a stalled store never piles up threads or holds a web worker. One per process (a forked
    gunicorn worker makes its own: ``pid``)."""

    def __init__(self):
        self.pid = os.getpid()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="storage-probe")
        self.running: Future | None = None
        self.lock = threading.Lock()

    def ok(self) -> bool:
        with self.lock:
            if self.running is not None and not self.running.done():
                return False  # the last probe has not come back: the store still stalls
            self.running = self.executor.submit(_storage_answers)
            running = self.running
        try:
            running.result(timeout=STORAGE_TIMEOUT_SECONDS)
        except FutureTimeout:
            logger.warning("the file store did not answer within %ss", STORAGE_TIMEOUT_SECONDS)
            return False
        except Exception as exc:
            logger.warning("the file store did not answer: %s", type(exc).__name__)
            return False
        return True


_storage_probe: _StorageProbe | None = None


def _storage_ok() -> bool:
    """True when the default storage (the private files: local folder or object store)
    answers within ``STORAGE_TIMEOUT_SECONDS`` (``_storage_answers``)."""
    global _storage_probe
    if _storage_probe is None or _storage_probe.pid != os.getpid():
        _storage_probe = _StorageProbe()
    return _storage_probe.ok()


def migrations_pending() -> bool:
    """True while the database lacks a migration this code has (``MigrationExecutor``'s plan
    to the leaf nodes is not empty). Once False, kept False for this process (``_migrated``).
    Raises the database's error when it cannot be read."""
    global _migrated
    if _migrated:
        return False
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    _migrated = not plan
    return bool(plan)


def _services() -> dict[str, str]:
    """``{"database", "broker", "storage"}``, each ``"ok"`` or ``"unavailable"``."""
    checks = {"database": _database_ok, "broker": _broker_ok, "storage": _storage_ok}
    return {name: "ok" if check() else "unavailable" for name, check in checks.items()}


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """The whole desk's health as JSON: ``{"status", "database", "broker", "storage", "beat",
    "worker", "tasks", "stale"}``. Each heartbeat is ``{"last": ISO time or null, "fresh":
    bool}``, fresh when recorded within ``DESK_HEARTBEAT_STALE_SECONDS``: ``beat`` and
    ``worker`` are recorded by those processes themselves while they run (busy or not),
    ``tasks`` by the heartbeat task beat sends every minute (stale when no worker has been free
    to run it).

    200 with status ``ok`` only when database, broker and storage answer and every heartbeat is
    fresh; 503 with status ``degraded`` and the names in ``stale`` when one is stale or was
    never recorded (no worker or beat ever ran: the 16:00 sheet would not be built), 503 with
    status ``error`` when the database, the broker or the storage does not answer."""
    services = _services()
    if services["database"] != "ok":
        return JsonResponse({**_DATABASE_DOWN, **services}, status=503)
    try:
        beats = {b.name: b.beat_at for b in Heartbeat.objects.all()}
    except Exception:
        return JsonResponse({**_DATABASE_DOWN, **services}, status=503)
    now = timezone.now()
    stale = settings.DESK_HEARTBEAT_STALE_SECONDS

    def state(name):
        at = beats.get(name)
        if at is None:
            return {"last": None, "fresh": False}
        return {"last": at.isoformat(), "fresh": (now - at).total_seconds() <= stale}

    states = {name: state(name) for name in HEARTBEATS}
    stale = [name for name in HEARTBEATS if not states[name]["fresh"]]
    down = any(value != "ok" for value in services.values())
    status = "error" if down else "degraded" if stale else "ok"
    body = {"status": status, **services, **states, "stale": stale}
    response = JsonResponse(body, status=200 if status == "ok" else 503)
    if status == "degraded":
        # A stale heartbeat is for monitoring to watch, not a server error of this request:
        # written at WARNING (Django's request logger would write every 503 at ERROR, and
        # Sentry would get an event for every probe while a worker is down).
        response._has_been_logged = True
        logger.warning("/healthz: degraded, stale heartbeats %s", ", ".join(stale))
    return response


@login_not_required
@never_cache
@require_GET
def healthz_web(request):
    """This web process's health for a load balancer, as JSON: 200 ``{"status": "ok",
    "database": "ok", "broker": "ok", "storage": "ok"}`` when it answers and its database,
    broker and storage do; 503 with status ``error`` and the part ``unavailable`` when one
    does not. The background processes are ``/healthz``'s business."""
    services = _services()
    if any(value != "ok" for value in services.values()):
        return JsonResponse({"status": "error", **services}, status=503)
    return JsonResponse({"status": "ok", **services})


@login_not_required
@never_cache
@require_GET
def readyz(request):
    """Whether this web process may take traffic, as JSON: ``/healthz/web``'s answer plus
    ``"migrations": "ok"``, or 503 with ``"migrations": "pending"`` while the database lacks a
    migration this code has (a node started with a new release before ``migrate`` ran), or
    503 with status ``error`` when a service does not answer."""
    services = _services()
    if services["database"] != "ok":
        return JsonResponse({"status": "error", **services}, status=503)
    try:
        pending = migrations_pending()
    except Exception:
        return JsonResponse({"status": "error", **services, "database": "unavailable"}, status=503)
    migrations = "pending" if pending else "ok"
    down = any(value != "ok" for value in services.values())
    status = "error" if down or pending else "ok"
    return JsonResponse(
        {"status": status, **services, "migrations": migrations},
        status=200 if status == "ok" else 503,
    )
