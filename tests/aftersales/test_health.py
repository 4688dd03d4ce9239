"""/healthz tells the truth (issue 12 section 6): a worker busy beyond the staleness window is
alive, a stopped worker is stale; beat records its own heartbeat without waiting for a worker;
the heartbeat task shows scheduled tasks are being run."""

import threading
import time
from datetime import timedelta

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
        assert _health(client)["worker"] == "ok"
        assert Heartbeat.objects.get(name="worker").beat_at > busy_since
        release.set()
        assert result.get(timeout=60) == "built"

    # when: the worker has stopped for longer than the window
    time.sleep(2.5)
    # then: it is stale
    body = _health(client)
    assert body["worker"] == "unavailable"
    assert body["status"] == "degraded"
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
    assert _health(client)["beat"] == "ok"
    assert wait <= 30
    first = Heartbeat.objects.get(name="beat").beat_at
    scheduler.tick()  # within the interval: no second write
    assert Heartbeat.objects.get(name="beat").beat_at == first
    settings.DESK_HEARTBEAT_SECONDS = 0
    scheduler.tick()
    assert Heartbeat.objects.get(name="beat").beat_at > first


# The probes read the heartbeats on a thread of their own, through a connection of its own:
# what a test writes must be committed for them to see it (transaction=True).
@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_task_shows_scheduled_tasks_run(client):
    assert _health(client)["tasks"] == "unavailable"
    heartbeat()
    body = _health(client)
    assert body["tasks"] == "ok"
    assert body["beat"] == "unavailable"  # the task says nothing about beat's own process
    assert body["worker"] == "unavailable"


@pytest.mark.django_db(transaction=True)
def test_the_desk_is_ok_only_when_every_heartbeat_is_fresh(client, settings):
    settings.DESK_HEARTBEAT_STALE_SECONDS = 180
    now = timezone.now()
    for name in ("beat", "worker", "tasks"):
        Heartbeat.objects.update_or_create(name=name, defaults={"beat_at": now})
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "storage": "ok",
        "beat": "ok",
        "worker": "ok",
        "tasks": "ok",
    }
    # when: beat stopped four minutes ago
    Heartbeat.objects.filter(name="beat").update(beat_at=now - timedelta(minutes=4))
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["beat"], body["worker"]) == ("degraded", "unavailable", "ok")
    # an anonymous caller learns ok or unavailable per part, no time a heartbeat was recorded
    text = response.content.decode()
    assert str(now.year) not in text and "last" not in text and "fresh" not in text


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


@pytest.mark.django_db(transaction=True)
def test_readiness_fails_while_a_migration_is_pending_and_then_is_remembered(client, fresh_process):
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    # given: the database lacks the newest migration of tickets (a release deployed before
    # `migrate` ran; committed, as the probe reads through a connection of its own)
    recorded = MigrationRecorder(connection).migration_qs
    newest = recorded.filter(app="tickets").order_by("-id").first()
    app_label, name = newest.app, newest.name
    recorded.filter(pk=newest.pk).delete()
    try:
        _readiness_waits_for_migrate(client, fresh_process, recorded, app_label, name)
    finally:
        recorded.get_or_create(app=app_label, name=name)


def _readiness_waits_for_migrate(client, fresh_process, recorded, app_label, name):
    # then: the node is alive but not ready
    assert client.get("/healthz/web").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["migrations"] == "pending"
    assert response.json()["status"] == "error"
    # when: migrate records it
    recorded.create(app=app_label, name=name)
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
    recorded.filter(app=app_label, name=name).delete()
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


# --- Probes by any Host, a stalled store, WARNING for degraded (issue 15 review) ------------


@pytest.mark.django_db
def test_the_probes_answer_whatever_the_host_in_production(client, settings):
    # given: production settings, and a probe by the node's address or compose's service name
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["desk.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz(/web)?$", r"^readyz$"]
    for host in ("10.0.3.7:8000", "web-1:8000", "evil.example"):
        # then: each probe is answered, over plain http, with the desk's own headers
        for path in ("/healthz/web", "/readyz"):
            response = client.get(path, HTTP_HOST=host)
            assert response.status_code == 200, (host, path)
            assert response.json()["status"] == "ok"
            assert response["X-Content-Type-Options"] == "nosniff"
            assert response["Content-Security-Policy"]
            assert response["X-Request-ID"]
        whole = client.get("/healthz", HTTP_HOST=host)
        assert whole.status_code == 503 and whole.json()["status"] == "degraded"
        # while every other page still refuses a Host outside ALLOWED_HOSTS
        assert client.get("/login/", HTTP_HOST=host).status_code == 400
        assert client.get("/healthz/web/x", HTTP_HOST=host).status_code == 400
    # a probe is still GET only
    assert client.post("/healthz/web", HTTP_HOST="10.0.3.7").status_code == 405


@pytest.mark.django_db
def test_a_degraded_desk_is_logged_as_a_warning_not_an_error(client, caplog):
    # given: no worker or beat ever ran
    with caplog.at_level("INFO"):
        response = client.get("/healthz")
    assert response.status_code == 503
    # then: one WARNING naming the stale heartbeats, and no ERROR for the 503
    assert [r.levelname for r in caplog.records if r.levelno >= 30] == ["WARNING"]
    assert "beat, worker, tasks" in caplog.records[-1].getMessage()


class _Stall:
    """A server that takes connections and never answers: a store stopped with kill -STOP."""

    def __init__(self):
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self):
        self.sock.close()


@pytest.mark.django_db
def test_a_stalled_store_takes_the_node_out_within_seconds(client, settings, monkeypatch):
    from aftersales.settings import s3_storage
    from tickets.views import system

    # given: the object store accepts connections and never answers
    monkeypatch.setattr(system, "_running", {})  # this test's own probe threads
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "desk-tests")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "desk-tests-secret")
    stall = _Stall()
    try:
        settings.STORAGES = {
            **settings.STORAGES,
            "default": s3_storage(
                bucket="desk", endpoint_url=stall.url, region="us-east-1", prefix=""
            ),
        }
        # when: the load balancer asks, twice
        for _ in range(2):
            started = time.monotonic()
            response = client.get("/healthz/web")
            # then: within the storage check's bound, not the store's timeouts and retries
            assert time.monotonic() - started < system.PROBE_TIMEOUT_SECONDS + 1
            assert response.status_code == 503
            assert response.json()["storage"] == "unavailable"
    finally:
        stall.close()


@pytest.mark.django_db
def test_beats_own_health_check_reads_its_heartbeat(settings):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from tickets.services.system import heartbeat_record

    settings.DESK_HEARTBEAT_STALE_SECONDS = 180
    # never recorded: unhealthy, saying so
    with pytest.raises(CommandError, match="从未记录"):
        call_command("heartbeat_check", "beat")
    # recorded now: healthy (no output, exit 0)
    heartbeat_record(name="beat", detail="celery beat")
    call_command("heartbeat_check", "beat")
    # another heartbeat (a worker's) does not stand for beat's
    Heartbeat.objects.filter(name="beat").update(beat_at=timezone.now() - timedelta(minutes=4))
    heartbeat_record(name="worker")
    with pytest.raises(CommandError, match=r"2[4-9]\d 秒"):
        call_command("heartbeat_check", "beat")
    call_command("heartbeat_check", "worker")


# --- Every part bounded, HEAD, WARNING for every 503 (issue 15 second review) -------------


PROBES = ("/healthz/web", "/readyz", "/healthz")


@pytest.fixture
def stall():
    server = _Stall()
    yield server
    server.close()  # the probe threads still waiting on it are answered (connection reset)


@pytest.fixture
def own_threads(monkeypatch):
    """This test's probe threads, none left hanging by an earlier test."""
    from tickets.views import system

    monkeypatch.setattr(system, "_running", {})
    return system


def _timed(client, path, method="get"):
    started = time.monotonic()
    response = getattr(client, method)(path)
    return response, time.monotonic() - started


@pytest.mark.django_db
def test_a_stalled_broker_takes_each_probe_out_within_seconds(
    client, monkeypatch, stall, own_threads
):
    # given: Redis accepts the connection and never answers (kill -STOP, a full network path);
    # kombu's own timeout covers only a refused connection
    port = stall.url.rsplit(":", 1)[1]
    monkeypatch.setitem(app.conf, "broker_url", f"redis://127.0.0.1:{port}/11")
    monkeypatch.setitem(app.conf, "broker_write_url", None)
    # when: each probe is asked, twice (the second while the first's check still hangs)
    for path in PROBES * 2:
        response, took = _timed(client, path)
        # then: answered within the bound, the broker unavailable, the rest as they are
        assert took < own_threads.PROBE_TIMEOUT_SECONDS + 1, (path, took)
        assert response.status_code == 503, path
        body = response.json()
        assert (body["status"], body["broker"], body["storage"]) == ("error", "unavailable", "ok")
    # the hanging check is not started again while it hangs: one thread, not one per probe
    hanging = [t for t in threading.enumerate() if t.name == "probe-broker" and t.is_alive()]
    assert len(hanging) == 1 and hanging[0].daemon


@pytest.fixture
def stalled_database(monkeypatch, stall, own_threads):
    """The probes' database is a PostgreSQL server that takes the connection and never
    answers (a second alias; the test's own database stays as it is)."""
    from django.db import connections

    port = int(stall.url.rsplit(":", 1)[1])
    configured = connections.configure_settings(
        {
            "default": dict(connections.settings["default"]),
            "stalled": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "desk",
                "USER": "desk",
                "HOST": "127.0.0.1",
                "PORT": port,
                "OPTIONS": {"connect_timeout": 5},
            },
        }
    )
    monkeypatch.setitem(connections.settings, "stalled", configured["stalled"])
    monkeypatch.setattr(own_threads, "PROBE_DATABASE", "stalled")
    return own_threads


@pytest.mark.django_db
def test_a_stalled_database_takes_each_probe_out_within_seconds(client, stalled_database):
    for path in PROBES * 2:
        response, took = _timed(client, path)
        assert took < stalled_database.PROBE_TIMEOUT_SECONDS + 1, (path, took)
        assert response.status_code == 503, path
        body = response.json()
        assert (body["status"], body["database"], body["broker"]) == ("error", "unavailable", "ok")
        if path == "/readyz":
            assert body["migrations"] == "unavailable"
        if path == "/healthz":
            # heartbeats that cannot be read are not fresh
            assert body["worker"] == "unavailable"


def test_the_database_has_a_connect_timeout():
    import os
    import subprocess
    import sys

    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['OPTIONS']['connect_timeout'])"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aftersales.settings",
        "DATABASE_URL": "postgres://desk@127.0.0.1:5432/desk",
    }
    for extra, expected in (({}, "5"), ({"DATABASE_CONNECT_TIMEOUT_SECONDS": "3"}, "3")):
        out = subprocess.run(
            [sys.executable, "-c", code], env={**env, **extra}, capture_output=True, text=True
        )
        assert out.stdout.strip() == expected, out.stderr


def test_a_hanging_probe_does_not_hold_the_process_at_exit(tmp_path, stall):
    import os
    import subprocess
    import sys

    # given: a process whose broker probe hangs (the stalled Redis)
    port = stall.url.rsplit(":", 1)[1]
    code = (
        "import django; django.setup(); from tickets.views import system; "
        "print(system.probe_parts({'broker': system._broker_answers})['broker'] "
        "is system.UNAVAILABLE)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "aftersales.settings", "DEBUG": "1"}
    env.pop("DATABASE_URL", None)
    env.update(VAR_DIR=str(tmp_path), REDIS_URL=f"redis://127.0.0.1:{port}/11")
    # when: it has its answer and ends; then: it exits (the thread is a daemon), not waits
    # for the hanging check (a non-daemon thread held it here until the server went away)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


@pytest.mark.django_db
def test_a_load_balancer_may_ask_with_head(client, broker_down, own_threads):
    # a failing probe: the same 503 as GET, no body
    for path in PROBES:
        response = client.head(path, HTTP_HOST="10.0.3.7:8000")
        assert response.status_code == 503, path
        assert response.content == b""
    assert client.post("/healthz/web").status_code == 405
    assert "HEAD" in client.put("/readyz")["Allow"]


@pytest.mark.django_db
def test_a_healthy_node_answers_head_with_200(client):
    for path in ("/healthz/web", "/readyz"):
        response = client.head(path, HTTP_HOST="10.0.3.7:8000")
        assert response.status_code == 200, path
        assert response.content == b""
        assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_a_failing_probe_is_a_warning_not_a_server_error(client, broker_down, own_threads, caplog):
    with caplog.at_level("INFO"):
        for path in PROBES:
            assert client.get(path).status_code == 503
    # then: no ERROR (Django's request logger writes every 5xx at ERROR, Sentry would get an
    # event for each probe while the broker is down); the probes' WARNINGs name the part
    assert not [r for r in caplog.records if r.levelno >= 40]
    answers = [r.getMessage() for r in caplog.records if r.name == "tickets.views.system"]
    assert "/healthz/web: error, broker" in answers
    assert any(m.startswith("/readyz: error, broker") for m in answers)
