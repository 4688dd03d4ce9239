"""The beat task end to end: through the configured broker (Redis in CI) to a real worker."""

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from aftersales.celery import app
from finance_exports.builders import get_builder
from finance_exports.models import Sheet
from finance_exports.tasks import beat_schedule, catch_up_if_due

from .helpers import detail_rows, record

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _wait_for(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_beat_task_and_the_catch_up_check_build_the_sheets_on_a_real_worker(
    clock, agent, rich_order
):
    # given: money recorded before the latest 16:00 that has passed
    real_now = clock.now
    finance = get_builder("finance")
    due_day = finance.latest_due(real_now)
    clock.set(finance.cutoff(due_day) - timedelta(hours=2))
    entry = record(agent, rich_order, "18.80", note="worker")
    clock.set(real_now)
    assert not app.conf.task_always_eager
    # a catch-up an earlier test's check queued would otherwise build the sheet first
    app.control.purge()

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        # when: beat's 16:00 entry, exactly as configured
        scheduled = beat_schedule()["sheet-finance"]
        sheet_ids = app.send_task(scheduled["task"], kwargs=scheduled["kwargs"]).get(timeout=90)
        # and the exchange list that beat "missed": the minutely check (also sent when a worker
        # starts) sees it
        assert catch_up_if_due.delay().get(timeout=60) is True
        assert _wait_for(
            lambda: Sheet.objects.filter(kind="exchanges").exclude(status="building").exists()
        )

    # then
    sheet = Sheet.objects.get(pk=sheet_ids[-1], kind="finance")
    assert sheet.business_date == due_day
    assert sheet.status == Sheet.Status.READY
    [row] = detail_rows(sheet)
    assert (row["流水号"], row["备注"]) == (entry.pk, "worker")
    exchanges = Sheet.objects.get(kind="exchanges")
    assert exchanges.business_date == get_builder("exchanges").latest_due(timezone.now())
    # no exchange was queued: the list is ready and asks for no signature
    assert (exchanges.status, exchanges.row_count) == (Sheet.Status.READY, 0)
