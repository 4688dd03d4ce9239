from celery import shared_task

from .services.system import heartbeat_record


@shared_task(name="tickets.tasks.heartbeat", ignore_result=False)
def heartbeat(source: str = "beat") -> str:
    """Runs every minute from beat (and once when a worker starts): proves the scheduler, the
    broker and a worker all work; ``/healthz`` reports when it last ran."""
    beat = heartbeat_record(name=source, detail="celery")
    return beat.beat_at.isoformat()
