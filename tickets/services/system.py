from django.utils import timezone

from tickets.models import Heartbeat


def heartbeat_record(*, name: str, detail: str = "") -> Heartbeat:
    """Notes that a component is alive now, for ``/healthz`` and the dashboard: ``beat`` and
    ``worker`` (recorded by those processes, ``aftersales/celery.py``), ``tasks`` (the
    heartbeat task). One row per name, updated in place; ``detail`` is cut to 255 characters."""
    beat, _ = Heartbeat.objects.update_or_create(
        name=name, defaults={"beat_at": timezone.now(), "detail": detail[:255]}
    )
    return beat
