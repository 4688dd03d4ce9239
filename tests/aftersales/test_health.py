"""/healthz tells the truth (issue 12 section 6): a worker busy beyond the staleness window is
alive, a stopped worker is stale; beat records its own heartbeat without waiting for a worker;
the heartbeat task shows scheduled tasks are being run."""

import threading
import time
from datetime import datetime, timedelta

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from aftersales.celery import DeskScheduler, app
from tickets.models import Heartbeat
from tickets.tasks import heartbeat

started = threading.Event()
release = threading.Event()


@app.task(name="tests.aftersales.test_health.long_build")
def long_build() -> str:
    """Keeps the worker busy, as a long sheet build does, until the test lets it finish."""
    started.set()
    release.wait(timeout=60)
    return "built"


def _health(client) -> dict:
    # The SQLite test database is shared in memory between threads, where a read that meets
    # the heartbeat thread's write is refused at once (503, database unavailable) instead of
    # waiting: ask again.
    for _ in range(20):
        response = client.get("/healthz")
        body = response.json()
        if body.get("database") == "ok":
            assert response.status_code == (200 if body["status"] == "ok" else 503)
            return body
        time.sleep(0.1)
    raise AssertionError(f"/healthz answered {response.status_code}")


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_busy_worker_is_alive_and_a_stopped_worker_is_stale(client, settings):
    # given: heartbeats every 0.2 s, stale after 2 s
    settings.DESK_HEARTBEAT_SECONDS = 0.2
    settings.DESK_HEARTBEAT_STALE_SECONDS = 2
    started.clear()
    release.clear()
    app.control.purge()  # tasks earlier tests queued would keep the worker busy instead
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=60):
        # when: the worker's only slot runs a long build, longer than the staleness window
        result = long_build.delay()
        assert started.wait(timeout=60)
        busy_since = timezone.now()
        time.sleep(3)
        # then: it is alive, seen while busy
        worker = _health(client)["worker"]
        assert worker["fresh"] is True
        assert datetime.fromisoformat(worker["last"]) > busy_since
        release.set()
        assert result.get(timeout=60) == "built"

    # when: the worker has stopped for longer than the window
    time.sleep(2.5)
    # then: it is stale
    body = _health(client)
    assert body["worker"]["fresh"] is False
    assert body["status"] == "degraded"
    assert "worker" in body["stale"]
    assert Heartbeat.objects.get(name="worker").detail  # which worker was seen last


@pytest.mark.django_db(transaction=True)
def test_beat_records_its_own_heartbeat_at_each_tick(client, settings, tmp_path):
    # given: beat's scheduler with nothing due (no worker runs anything here)
    settings.DESK_HEARTBEAT_SECONDS = 30
    beat_app = Celery("beat-only", set_as_current=False)
    scheduler = DeskScheduler(app=beat_app, schedule_filename=str(tmp_path / "schedule"))
    # when
    wait = scheduler.tick()
    # then: beat is fresh, and beat wakes up again within the heartbeat interval
    assert _health(client)["beat"]["fresh"] is True
    assert wait <= 30
    first = Heartbeat.objects.get(name="beat").beat_at
    scheduler.tick()  # within the interval: no second write
    assert Heartbeat.objects.get(name="beat").beat_at == first
    settings.DESK_HEARTBEAT_SECONDS = 0
    scheduler.tick()
    assert Heartbeat.objects.get(name="beat").beat_at > first


@pytest.mark.django_db
def test_the_heartbeat_task_shows_scheduled_tasks_run(client):
    assert _health(client)["tasks"] == {"last": None, "fresh": False}
    heartbeat()
    body = _health(client)
    assert body["tasks"]["fresh"] is True
    assert body["beat"]["last"] is None  # the task says nothing about beat's own process
    assert body["stale"] == ["beat", "worker"]


@pytest.mark.django_db
def test_the_desk_is_ok_only_when_every_heartbeat_is_fresh(client, settings):
    settings.DESK_HEARTBEAT_STALE_SECONDS = 180
    now = timezone.now()
    for name in ("beat", "worker", "tasks"):
        Heartbeat.objects.update_or_create(name=name, defaults={"beat_at": now})
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["stale"] == []
    # when: beat stopped four minutes ago
    Heartbeat.objects.filter(name="beat").update(beat_at=now - timedelta(minutes=4))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["stale"] == ["beat"]


# --- Broker, storage and the readiness check (issue 15) ---------------------------------


@pytest.fixture
def broker_down(monkeypatch):
    """The broker a web process was configured with stops answering: a closed port, its URL
    holding a password that must not reach the answer."""
    monkeypatch.setitem(app.conf, "broker_url", "redis://:s3cret-pass@127.0.0.1:1/0")
    monkeypatch.setitem(app.conf, "broker_write_url", None)


@pytest.mark.django_db
def test_a_load_balancer_is_told_the_broker_is_down_and_nothing_more(client, broker_down):
    for path in ("/healthz/web", "/healthz", "/readyz"):
        response = client.get(path)
        assert response.status_code == 503, path
        body = response.json()
        assert body["status"] == "error"
        assert body["broker"] == "unavailable"
        assert body["database"] == "ok"
        assert body["storage"] == "ok"
        # no password, host, port or error text for an anonymous caller
        text = response.content.decode()
        assert "s3cret" not in text
        assert "127.0.0.1" not in text
        assert "Error" not in text and "refused" not in text.lower()


@pytest.mark.django_db
def test_a_store_that_does_not_answer_takes_the_node_out(client, monkeypatch):
    from django.core.files.storage import storages

    def unreachable(name):
        raise OSError("Could not connect to the endpoint URL: 'http://oss.internal:9000/'")

    monkeypatch.setattr(storages["default"], "exists", unreachable)
    response = client.get("/healthz/web")
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "ok",
        "broker": "ok",
        "storage": "unavailable",
    }
    assert "oss.internal" not in response.content.decode()


@pytest.mark.django_db
def test_the_storage_check_asks_the_store_for_its_sentinel(client, monkeypatch):
    from django.core.files.storage import storages

    from tickets.views.system import STORAGE_SENTINEL

    asked = []
    original = storages["default"].exists
    monkeypatch.setattr(
        storages["default"], "exists", lambda name: asked.append(name) or original(name)
    )
    assert client.get("/healthz/web").status_code == 200
    assert asked == [STORAGE_SENTINEL]


@pytest.fixture
def fresh_process(monkeypatch):
    """A web process that has not yet seen its migrations applied."""
    from tickets.views import system

    monkeypatch.setattr(system, "_migrated", False)
    return system


@pytest.mark.django_db
def test_readiness_fails_while_a_migration_is_pending_and_then_is_remembered(client, fresh_process):
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    # given: the database lacks the newest migration of tickets (a release deployed before
    # `migrate` ran)
    recorded = MigrationRecorder(connection).migration_qs
    newest = recorded.filter(app="tickets").order_by("-id").first()
    recorded.filter(pk=newest.pk).delete()
    # then: the node is alive but not ready
    assert client.get("/healthz/web").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["migrations"] == "pending"
    assert response.json()["status"] == "error"
    # when: migrate records it
    recorded.create(app=newest.app, name=newest.name)
    # then: ready, and the answer is kept for this process (no plan computed again)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "storage": "ok",
        "migrations": "ok",
    }
    assert fresh_process._migrated is True
    recorded.filter(app=newest.app, name=newest.name).delete()
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_the_probes_are_answered_over_plain_http_in_production(client, settings):
    import json
    import os
    import subprocess
    import sys

    # given: the production settings' https redirect (DEBUG=0), read from a real start
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SECURE_SSL_REDIRECT, s.SECURE_REDIRECT_EXEMPT]))"
    )
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "desk.example"}
    env["DJANGO_SETTINGS_MODULE"] = "aftersales.settings"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    settings.SECURE_SSL_REDIRECT, settings.SECURE_REDIRECT_EXEMPT = json.loads(out.stdout)
    assert settings.SECURE_SSL_REDIRECT is True
    # then: a load balancer's plain-http probe gets the answer, not a redirect to https
    for path in ("/healthz/web", "/readyz"):
        assert client.get(path).status_code == 200, path
    assert client.get("/login/").status_code == 301
