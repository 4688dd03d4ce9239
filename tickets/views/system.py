"""Health check: the one page besides login that needs no login."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from tickets.models import Heartbeat


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """``{"status", "database", "beat", "worker", "tasks"}`` as JSON, 503 when the database
    does not answer. Each heartbeat is ``{"last": ISO time or null, "fresh": bool}``, fresh
    when recorded within ``DESK_HEARTBEAT_STALE_SECONDS``: ``beat`` and ``worker`` are recorded
    by those processes themselves while they run (busy or not), ``tasks`` by the heartbeat task
    beat sends every minute (stale when no worker has been free to run it)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        beats = {b.name: b.beat_at for b in Heartbeat.objects.all()}
    except Exception:
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    now = timezone.now()
    stale = settings.DESK_HEARTBEAT_STALE_SECONDS

    def state(name):
        at = beats.get(name)
        if at is None:
            return {"last": None, "fresh": False}
        return {"last": at.isoformat(), "fresh": (now - at).total_seconds() <= stale}

    return JsonResponse(
        {
            "status": "ok",
            "database": "ok",
            "beat": state("beat"),
            "worker": state("worker"),
            "tasks": state("tasks"),
        }
    )
