from celery import shared_task

from .services.system import heartbeat_record


@shared_task(name="tickets.tasks.heartbeat", ignore_result=False)
def heartbeat(source: str = "tasks") -> str:
    """Runs every minute from beat: proves that what beat schedules reaches a worker through
    the broker and runs; ``/healthz`` reports when it last ran as ``tasks`` (beat and the worker
    record their own heartbeats, ``aftersales/celery.py``). Returns the time recorded (ISO)."""
    beat = heartbeat_record(name=source, detail="celery")
    return beat.beat_at.isoformat()
