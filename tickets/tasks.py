from celery import shared_task

from .services.system import heartbeat_record
from .services.vips import vip_follow_ups_catch_up


@shared_task(name="tickets.tasks.heartbeat", ignore_result=False)
def heartbeat(source: str = "tasks") -> str:
    """Runs every minute from beat: proves that what beat schedules reaches a worker through
    the broker and runs; ``/healthz`` reports when it last ran as ``tasks`` (beat and the worker
    record their own heartbeats, ``aftersales/celery.py``). Returns the time recorded (ISO)."""
    beat = heartbeat_record(name=source, detail="celery")
    return beat.beat_at.isoformat()


@shared_task(name="tickets.tasks.plan_vip_follow_ups")
def plan_vip_follow_ups() -> int:
    """Beat runs this on the 1st at ``DESK_VIP_FOLLOW_UPS_AT`` (Beijing time, the
    ``vip-follow-ups`` entry of ``CELERY_BEAT_SCHEDULE``); the minutely catch-up check queues
    it when the month's follow-ups are missing (beat was down on the 1st). Creates the month's
    follow-ups, each once; returns how many were created."""
    return vip_follow_ups_catch_up()
