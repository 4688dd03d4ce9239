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


def test_a_fork_waits_for_the_heartbeats_database_work(monkeypatch):
    """The prefork pool forks its children from the process where the worker's heartbeat thread
    writes. Forked in the middle of that write (inside ``sqlite3.connect`` on ``make run``), a
    child inherited a locked library mutex and hung at its first query; the fork now waits."""
    import os
    import threading
    import time

    from aftersales import celery as desk_celery

    inside, done = threading.Event(), []

    def slow_record(**kwargs):
        inside.set()
        time.sleep(0.3)  # the thread is in the middle of its database work
        done.append(kwargs["name"])

    monkeypatch.setattr("tickets.services.system.heartbeat_record", slow_record)
    thread = threading.Thread(target=desk_celery._record_heartbeat, args=("worker", "test"))
    thread.start()
    assert inside.wait(5)
    pid = os.fork()
    if pid == 0:  # the child: nothing to do
        os._exit(0)
    forked_after = list(done)
    os.waitpid(pid, 0)
    thread.join(5)
    assert forked_after == ["worker"]  # the fork happened after the write, not during it
    assert desk_celery._DATABASE_WORK.acquire(blocking=False)  # and left the lock free
    desk_celery._DATABASE_WORK.release()
