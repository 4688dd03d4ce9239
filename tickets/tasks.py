import logging
import random

from celery import shared_task
from django.conf import settings

from .services.notifications import (
    ChatRefused,
    ChatRetry,
    intervention_deadline_warnings_send,
    sla_breach_warnings_send,
)
from .services.notifications import chat_send as chat_send_service
from .services.system import heartbeat_record
from .services.vips import vip_follow_ups_catch_up

logger = logging.getLogger(__name__)


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


def chat_retry_countdown(retries: int) -> float:
    """Seconds to wait before the retry that follows ``retries`` earlier ones (0 for the
    first): ``DESK_CHAT_RETRY_SECONDS * 2**retries`` with +-25 % jitter, so robots that failed
    together are not all tried again at the same second (60 s, 2, 4, 8, 16 min by default)."""
    base = settings.DESK_CHAT_RETRY_SECONDS * 2**retries
    return base * random.uniform(0.75, 1.25)  # noqa: S311 - spreading retries, not a secret


@shared_task(
    name="tickets.tasks.chat_send",
    bind=True,
    max_retries=settings.DESK_CHAT_MAX_RETRIES,
    soft_time_limit=settings.DESK_CHAT_TIMEOUT_SECONDS + 15,
    time_limit=settings.DESK_CHAT_TIMEOUT_SECONDS + 30,
)
def chat_send(self, webhook_id: int, card: dict) -> bool:
    """Sends one chat card to one group robot (``services.notifications.chat_send``), queued
    after the event's transaction commits to the ``chat`` queue (``CELERY_TASK_ROUTES``), so
    a robot that does not answer never delays a sheet or an import. One attempt ends within
    ``DESK_CHAT_TIMEOUT_SECONDS`` (the soft and hard time limits are a backstop a little
    above it), and every attempt is recorded on the robot.

    Retry policy (issue 13 section 2): a failure that may pass (``ChatRetry``: HTTP
    408/429/5xx, a rate-limit errcode, a network error or dropped connection, the deadline)
    is retried ``DESK_CHAT_MAX_RETRIES`` times with exponential backoff and jitter
    (``chat_retry_countdown``: 1, 2, 4, 8, 16 minutes +-25 %, so 6 attempts over about half
    an hour by default), then the task fails with the last error. A refusal (``ChatRefused``:
    a refused URL or address, a redirect, another 4xx, another errcode such as a wrong token
    or signature) is not retried. Returns True when delivered, False when refused or the
    robot is gone; the desk's own notification was written with the event and is never
    touched here."""
    try:
        return chat_send_service(webhook_id=webhook_id, card=card)
    except ChatRetry as exc:
        raise self.retry(exc=exc, countdown=chat_retry_countdown(self.request.retries)) from exc
    except ChatRefused as exc:
        logger.warning("chat robot %s refused, not retried: %s", webhook_id, exc)
        return False


@shared_task(name="tickets.tasks.notifications_due")
def notifications_due() -> int:
    """Beat runs this every minute (``notifications-due``): tells who must know of tickets
    about to breach their service level and interventions whose evidence is due soon, each
    once (``services.notifications``). Returns how many notifications were written."""
    return sla_breach_warnings_send() + intervention_deadline_warnings_send()
