"""The desk's Celery app: configured from Django settings (CELERY_*), tasks autodiscovered.

The beat schedule is ``CELERY_BEAT_SCHEDULE`` plus the sheets' entries, which
``finance_exports.tasks.beat_schedule()`` derives from the registered sheet builders.

Heartbeats (what ``/healthz`` reports, issue 12 section 6): a worker records its own from a
thread of its own (``WorkerHeartbeat``), beat its own at each tick (``DeskScheduler``), every
``DESK_HEARTBEAT_SECONDS``; neither waits for a free worker, so a worker busy with a long sheet
build is still seen alive and a stopped one is not. The ``heartbeat`` task beat sends every
minute shows that scheduled tasks are being run.
"""

import logging
import os
import threading
import time
from pathlib import Path

from celery import Celery, bootsteps
from celery.beat import PersistentScheduler
from celery.signals import beat_init, setup_logging, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")

logger = logging.getLogger(__name__)

app = Celery("aftersales")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Held while a heartbeat talks to the database, and by a fork (``os.register_at_fork``) while
# it copies the process: the prefork pool forks its children from the worker's main process,
# where the heartbeat thread runs. Forked in the middle of the thread's ``sqlite3.connect`` (or
# any driver call holding a library mutex), a child inherits that mutex locked, with no thread
# left to release it, and hangs at its first query for ever - seen on ``make run``'s SQLite: one
# pool process stuck in ``connect`` and the other's tasks failing with "database is locked".
# The fork now waits for the heartbeat's few milliseconds of database work to end.
_DATABASE_WORK = threading.Lock()


def _fork_after(*_args) -> None:
    _DATABASE_WORK.release()


os.register_at_fork(
    before=_DATABASE_WORK.acquire, after_in_parent=_fork_after, after_in_child=_fork_after
)


def _record_heartbeat(name: str, detail: str) -> None:
    """Writes the heartbeat ``name`` now; a failure (database down) is logged, never raised,
    so it cannot stop a worker or beat. Opens and closes this thread's database connection
    while holding ``_DATABASE_WORK``, so no fork happens in the middle of it."""
    from django.db import connection

    from tickets.services.system import heartbeat_record

    with _DATABASE_WORK:
        try:
            heartbeat_record(name=name, detail=detail)
        except Exception:
            logger.warning("heartbeat %s not recorded", name, exc_info=True)
        finally:
            connection.close()


class _Pulse:
    """A daemon thread that records heartbeat ``name`` at start and every
    ``DESK_HEARTBEAT_SECONDS`` until stopped."""

    def __init__(self, name: str, detail: str):
        self.name, self.detail = name, detail
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.stopping.clear()
        self.thread = threading.Thread(target=self._run, name=f"{self.name}-heartbeat", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        from django.conf import settings

        while True:
            _record_heartbeat(self.name, self.detail)
            if self.stopping.wait(settings.DESK_HEARTBEAT_SECONDS):
                return

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=10)
            self.thread = None


class WorkerHeartbeat(bootsteps.StartStopStep):
    """The worker's heartbeat: a step of every worker (``celery worker`` and the test suite's
    ``start_worker``), started with it and stopped with it, recording ``worker`` from its own
    thread whatever the pool is doing."""

    def create(self, worker):
        return _Pulse("worker", detail=str(worker.hostname or "")[:255])


app.steps["worker"].add(WorkerHeartbeat)


class DeskScheduler(PersistentScheduler):
    """Beat's scheduler (``CELERY_BEAT_SCHEDULER``): Celery's persistent one, which also
    records beat's heartbeat from beat's own loop at least every ``DESK_HEARTBEAT_SECONDS`` -
    so it stops when the loop stops, and does not wait for a free worker."""

    _last_heartbeat: float | None = None

    def tick(self, *args, **kwargs) -> float:
        """Runs the due entries (Celery's tick), then the heartbeat when due; returns the
        seconds until beat should tick again, never longer than the heartbeat interval."""
        from django.conf import settings

        interval = super().tick(*args, **kwargs)
        now = time.monotonic()
        every = settings.DESK_HEARTBEAT_SECONDS
        if self._last_heartbeat is None or now - self._last_heartbeat >= every:
            _record_heartbeat("beat", detail="celery beat")
            self._last_heartbeat = now
        return min(interval, every)


def _make_filesystem_broker_dirs() -> None:
    """The filesystem transport needs its folders before the first message."""
    options = app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
    backend = str(app.conf.result_backend or "")
    if backend.startswith("file://"):
        Path(backend.removeprefix("file://")).mkdir(parents=True, exist_ok=True)


@setup_logging.connect
def _keep_the_desks_logging(**kwargs):
    """The worker and beat log through ``settings.LOGGING`` like the web, so through the filter
    that keeps phone numbers, query strings and session ids out (QUALITY.md section 8). With a
    receiver here Celery leaves logging alone instead of replacing the root logger's handlers
    with its own, unfiltered ones; Django's configuration is applied if it is not yet."""
    import logging

    from django.conf import settings
    from django.utils.log import configure_logging

    from aftersales.logging import handler_redacts

    if not any(handler_redacts(h) for h in logging.getLogger().handlers):
        configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)


@app.on_after_configure.connect
def _prepare(sender, **kwargs):
    _make_filesystem_broker_dirs()


@app.on_after_finalize.connect
def _schedule_sheets(sender, **kwargs):
    """Adds the sheets' beat entries. Beat finalizes the app before it reads the schedule, and
    Django is set up by then (imported here, not at the top: this module loads with settings)."""
    from finance_exports.tasks import beat_schedule

    sender.conf.beat_schedule = {**sender.conf.beat_schedule, **beat_schedule()}


@worker_ready.connect
def _catch_up_on_worker_start(sender, **kwargs):
    """Work missed while the desk was down is caught up as soon as a worker is back."""
    sender.app.send_task("finance_exports.tasks.catch_up_if_due")


@beat_init.connect
def _announce_beat(sender, **kwargs):
    _make_filesystem_broker_dirs()
