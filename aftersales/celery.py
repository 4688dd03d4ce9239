"""The desk's Celery app: configured from Django settings (CELERY_*), tasks autodiscovered.

The beat schedule is ``CELERY_BEAT_SCHEDULE`` plus the sheets' entries, which
``finance_exports.tasks.beat_schedule()`` derives from the registered sheet builders.
"""

import os
from pathlib import Path

from celery import Celery
from celery.signals import beat_init, setup_logging, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")

app = Celery("aftersales")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


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
    sender.app.send_task("tickets.tasks.heartbeat", kwargs={"source": "worker"})
    sender.app.send_task("finance_exports.tasks.catch_up_if_due")


@beat_init.connect
def _announce_beat(sender, **kwargs):
    _make_filesystem_broker_dirs()
