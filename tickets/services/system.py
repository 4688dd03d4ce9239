from django.utils import timezone

from tickets.models import Heartbeat


def heartbeat_record(*, name: str, detail: str = "") -> Heartbeat:
    """Notes that a component (beat, worker) is alive, for the health check and dashboard."""
    beat, _ = Heartbeat.objects.update_or_create(
        name=name, defaults={"beat_at": timezone.now(), "detail": detail[:255]}
    )
    return beat
