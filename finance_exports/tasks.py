"""Celery tasks: each calls one service and holds the retry policy.

Their beat entries come from here as well (``beat_schedule``): one per scheduled sheet builder,
at the time its builder says, the catch-up check every minute and the nightly clean-up. The
catch-up check is the desk's: it also plans the month's VIP follow-ups when beat missed them.
``aftersales/celery.py`` adds them to the fixed entries of ``CELERY_BEAT_SCHEDULE``.

This module imports the services; the services never import it (a service that queues a task
names it, ``services.BUILD_SHEET_TASK``).
"""

import logging
from datetime import date

from celery import shared_task
from celery.schedules import crontab
from django.conf import settings
from django.utils import timezone

from tickets.selectors_registers import vip_follow_ups_pending
from tickets.services.photos import photo_files_clean
from tickets.tasks import plan_vip_follow_ups

from .builders import scheduled_builders
from .selectors import sheets_pending
from .services import (
    BUILD_SHEET_TASK,
    SheetBuildFailed,
    sheet_build,
    sheet_files_clean,
    sheets_catch_up,
)

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 600


def _backoff(retries: int) -> int:
    """30 s, 60 s, 120 s ... at most ten minutes."""
    return min(settings.FINANCE_SHEET_RETRY_SECONDS * 2**retries, MAX_BACKOFF_SECONDS)


# Each failed attempt is counted on its sheet, which is marked failed (and skipped from then
# on) after FINANCE_SHEET_MAX_ATTEMPTS; that is the real bound. max_retries is a backstop for
# a catch-up spanning several sheets; the minutely check starts a new one if anything is left.
MAX_RETRIES = 3 * settings.FINANCE_SHEET_MAX_ATTEMPTS


@shared_task(bind=True, name="finance_exports.tasks.build_due_sheets", max_retries=MAX_RETRIES)
def build_due_sheets(self, kind: str | None = None) -> list[int]:
    """Beat runs this at each sheet's time (with ``kind``); ``catch_up_if_due`` runs it (for
    every kind) when something due is missing. Builds every missing sheet, oldest
    first. After a failed attempt it runs again with backoff: the failing sheet is tried again
    until it is marked failed, then the dates after it are built."""
    try:
        sheets = sheets_catch_up(kinds=[kind] if kind else None)
    except SheetBuildFailed as failure:
        raise self.retry(exc=failure, countdown=_backoff(self.request.retries)) from failure
    return [sheet.pk for sheet in sheets]


@shared_task(bind=True, name=BUILD_SHEET_TASK, max_retries=MAX_RETRIES)
def build_sheet(self, kind: str, business_date: str) -> int:
    """Builds one sheet (a supervisor's rebuild of a failed sheet)."""
    try:
        sheet = sheet_build(kind=kind, business_date=date.fromisoformat(business_date))
    except SheetBuildFailed as failure:
        if failure.final:
            return failure.sheet.pk
        raise self.retry(exc=failure, countdown=_backoff(self.request.retries)) from failure
    return sheet.pk


@shared_task(name="finance_exports.tasks.clean_sheet_tmp_dir")
def clean_sheet_tmp_dir() -> int:
    """The nightly clean-up: temporary and orphaned sheet files (``sheet_files_clean``), and
    photo files no photo row names (``photo_files_clean``). Returns how many it deleted."""
    return sheet_files_clean() + photo_files_clean()


@shared_task(name="finance_exports.tasks.catch_up_if_due")
def catch_up_if_due() -> bool:
    """Every minute from beat, and when a worker starts: the desk's catch-up check. Queues
    the catch-up only when something scheduled is missing (beat was down, a worker died): a
    due sheet (``build_due_sheets``), or this month's VIP follow-ups, which beat plans on the
    1st (``tickets.tasks.plan_vip_follow_ups``). A normal minute costs two small queries per
    sheet kind and one for the VIPs. Returns whether it queued anything."""
    now = timezone.now()
    queued = False
    if sheets_pending(scheduled_builders(), now=now):
        build_due_sheets.delay()
        queued = True
    if vip_follow_ups_pending(now):
        plan_vip_follow_ups.delay()
        queued = True
    return queued


CATCH_UP_CHECK_SECONDS = 60.0


def beat_schedule() -> dict[str, dict]:
    """The beat entries of the sheets: ``sheet-<kind>`` for every registered builder that is
    scheduled, at its due time on its due days (``SheetBuilder.due_time``/``due_days``), plus
    the catch-up check and the clean-up of temporary files. A new kind registered with
    ``@register`` and ``scheduled = True`` gets its entry without a change here."""
    schedule = {}
    for builder in scheduled_builders():
        due = builder.due_time()
        schedule[f"sheet-{builder.kind}"] = {
            "task": build_due_sheets.name,
            "schedule": crontab(hour=due.hour, minute=due.minute, day_of_month=builder.due_days()),
            "kwargs": {"kind": str(builder.kind)},
        }
    schedule["sheet-catch-up"] = {"task": catch_up_if_due.name, "schedule": CATCH_UP_CHECK_SECONDS}
    schedule["sheet-tmp-cleanup"] = {
        "task": clean_sheet_tmp_dir.name,
        "schedule": crontab(hour=3, minute=30),
    }
    return schedule
