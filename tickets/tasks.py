from celery import shared_task
from django.conf import settings

from .services.notifications import (
    ChatSendError,
    intervention_deadline_warnings_send,
    sla_breach_warnings_send,
)
from .services.notifications import chat_send as chat_send_service
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
    follow-ups, each once, and rings the bell of each agent given calls, once per agent and
    month (``services.vips.vip_follow_ups_plan``); returns how many follow-ups were created."""
    return vip_follow_ups_catch_up()


@shared_task(
    name="tickets.tasks.chat_send",
    bind=True,
    autoretry_for=(ChatSendError, OSError),
    retry_backoff=2,
    retry_backoff_max=600,
    retry_jitter=False,
    max_retries=settings.DESK_CHAT_MAX_RETRIES,
)
def chat_send(self, webhook_id: int, card: dict) -> bool:
    """Sends one chat card to one group robot (``services.notifications.chat_send``), queued
    after the event's transaction commits. A refusal or an unreachable / slow robot is retried
    with exponential backoff (2 s, 4 s, 8 s … at most 10 min apart) up to
    ``DESK_CHAT_MAX_RETRIES`` times; the desk's own notification was written with the event
    and is never touched here."""
    return chat_send_service(webhook_id=webhook_id, card=card)


@shared_task(name="tickets.tasks.notifications_due")
def notifications_due() -> int:
    """Beat runs this every minute (``notifications-due``): tells who must know of tickets
    about to breach their service level and interventions whose evidence is due soon, each
    once (``services.notifications``). Returns how many notifications were written."""
    return sla_breach_warnings_send() + intervention_deadline_warnings_send()
