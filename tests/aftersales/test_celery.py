"""A real round-trip through the configured broker (Redis in CI) and a real worker."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from aftersales.celery import app
from tickets.models import Heartbeat
from tickets.tasks import heartbeat


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_heartbeat_task_round_trip_through_a_real_worker():
    assert not app.conf.task_always_eager
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        result = heartbeat.delay()
        returned = result.get(timeout=60)
    tasks = Heartbeat.objects.get(name="tasks")
    assert returned == tasks.beat_at.isoformat()
    assert Heartbeat.objects.filter(name="worker").exists()  # the worker's own heartbeat


def test_broker_is_redis_when_redis_url_is_set():
    if settings.REDIS_URL:
        assert app.conf.broker_url.startswith("redis")
        # Longer than the longest task, so Redis never hands a running task to a second worker.
        assert (
            app.conf.broker_transport_options["visibility_timeout"]
            > settings.CELERY_TASK_TIME_LIMIT
        )
    else:
        assert app.conf.broker_url == "filesystem://"


def test_beat_schedule_runs_the_heartbeat_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["heartbeat"]
    assert entry["task"] == heartbeat.name
    assert entry["schedule"] == 60.0
    assert app.conf.timezone == "Asia/Shanghai"
    # beat's own heartbeat comes from its scheduler
    assert app.conf.beat_scheduler == "aftersales.celery:DeskScheduler"
