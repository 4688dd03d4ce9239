"""Health checks: the pages besides login that need no login.

- ``/healthz`` is the whole desk (for monitoring: web, database, broker, object store and the
  background processes that build the sheets);
- ``/healthz/web`` is this web process and what it serves from: database, broker, storage (for
  a load balancer: a stopped worker must not take every web node out of service);
- ``/readyz`` is ``/healthz/web`` and no migration pending (for a deploy: a node started with
  new code before ``migrate`` ran is kept out of service; issue 15).

None of them says more than ``ok``/``unavailable`` per part: no error text, host, bucket or
credential reaches an anonymous caller."""

from celery import current_app
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from tickets.models import Heartbeat

HEARTBEATS = ("beat", "worker", "tasks")
# The key /healthz asks the default storage about (it need not exist: the answer, yes or no,
# shows the store is reachable; an exception shows it is not). Under the storage's own prefix.
STORAGE_SENTINEL = "healthz/sentinel"
# Seconds the broker check may take before the broker counts as unavailable.
BROKER_TIMEOUT_SECONDS = 2
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


def _storage_ok() -> bool:
    """True when the default storage (the private files: local folder or object store) answers
    whether ``STORAGE_SENTINEL`` exists; whichever it answers."""
    try:
        default_storage.exists(STORAGE_SENTINEL)
    except Exception:
        return False
    return True


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
    return JsonResponse(body, status=200 if status == "ok" else 503)


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
