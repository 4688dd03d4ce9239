"""Health checks: the pages besides login that need no login.

``/healthz`` is the whole desk (for monitoring: web, database and the background processes
that build the sheets); ``/healthz/web`` is this web process and its database only (for a load
balancer: a stopped worker must not take every web node out of service)."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from tickets.models import Heartbeat

HEARTBEATS = ("beat", "worker", "tasks")
_DATABASE_DOWN = {"status": "error", "database": "unavailable"}


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """The whole desk's health as JSON: ``{"status", "database", "beat", "worker", "tasks",
    "stale"}``. Each heartbeat is ``{"last": ISO time or null, "fresh": bool}``, fresh when
    recorded within ``DESK_HEARTBEAT_STALE_SECONDS``: ``beat`` and ``worker`` are recorded by
    those processes themselves while they run (busy or not), ``tasks`` by the heartbeat task
    beat sends every minute (stale when no worker has been free to run it).

    200 with status ``ok`` only when the database answers and every heartbeat is fresh; 503
    with status ``degraded`` and the names in ``stale`` when one is stale or was never
    recorded (no worker or beat ever ran: the 16:00 sheet would not be built), 503 with status
    ``error`` when the database does not answer."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        beats = {b.name: b.beat_at for b in Heartbeat.objects.all()}
    except Exception:
        return JsonResponse(_DATABASE_DOWN, status=503)
    now = timezone.now()
    stale = settings.DESK_HEARTBEAT_STALE_SECONDS

    def state(name):
        at = beats.get(name)
        if at is None:
            return {"last": None, "fresh": False}
        return {"last": at.isoformat(), "fresh": (now - at).total_seconds() <= stale}

    states = {name: state(name) for name in HEARTBEATS}
    stale = [name for name in HEARTBEATS if not states[name]["fresh"]]
    body = {"status": "degraded" if stale else "ok", "database": "ok", **states, "stale": stale}
    return JsonResponse(body, status=503 if stale else 200)


@login_not_required
@never_cache
@require_GET
def healthz_web(request):
    """This web process's health for a load balancer, as JSON: 200 ``{"status": "ok",
    "database": "ok"}`` when it answers and its database does, 503 with status ``error``
    when the database does not. The background processes are ``/healthz``'s business."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse(_DATABASE_DOWN, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
