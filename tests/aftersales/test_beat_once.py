"""Beat once (issue 15): a second beat started by mistake enqueues every scheduled task twice,
at the same moment. Each scheduled job, run twice (one after the other on both databases, at
the same moment on PostgreSQL, each run in its own thread and connection like two workers),
creates nothing twice: one heartbeat row, one bell row per person and one chat message per
warning, one sheet per kind and date, one follow-up per VIP and month.

Every entry of the beat schedule must be proven here (``PROVEN``): a new entry fails
``test_every_scheduled_job_is_proven`` until it is."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from finance_exports import tasks as finance_tasks
from finance_exports.builders import scheduled_builders
from finance_exports.models import Sheet
from finance_exports.tasks import beat_schedule, build_due_sheets, catch_up_if_due
from tests.concurrency import run_together
from tests.factories import make_order, make_shop, make_ticket, make_user
from tickets.models import ChatWebhook, Heartbeat, Notification, Ticket
from tickets.roles import Role
from tickets.services import notifications
from tickets.tasks import heartbeat, notifications_due

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="two runs at once need PostgreSQL's row locks"
)
concurrent_db = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# Each scheduled task and the test that proves a second run creates nothing twice.
PROVEN = {
    "tickets.tasks.heartbeat": "test_heartbeat_twice_keeps_one_row",
    "tickets.tasks.notifications_due": "test_warnings_twice_ring_each_bell_and_chat_once",
    "tickets.tasks.plan_vip_follow_ups": (
        "tests/tickets/test_vip_follow_ups.py: test_the_task_run_twice_creates_each_follow_up_"
        "once, test_two_runs_at_the_same_moment_create_each_follow_up_once"
    ),
    "api.tasks.webhook_catch_up": (
        "tests/api/test_webhook_catch_up.py: test_two_beats_at_once_queue_each_delivery_once"
    ),
    "finance_exports.tasks.build_due_sheets": "test_a_sheet_built_twice_is_one_sheet",
    "finance_exports.tasks.catch_up_if_due": "test_the_catch_up_twice_builds_each_sheet_once",
    "finance_exports.tasks.clean_sheet_tmp_dir": "test_the_clean_up_twice_at_once_fails_neither",
}


def test_every_scheduled_job_is_proven():
    schedule = {**django_settings.CELERY_BEAT_SCHEDULE, **beat_schedule()}
    tasks = {entry["task"] for entry in schedule.values()}
    assert tasks <= set(PROVEN), f"prove a second run of {sorted(tasks - set(PROVEN))} here"
    # every sheet kind beat builds is one case of the sheet test below
    kinds = {e["kwargs"]["kind"] for e in schedule.values() if e.get("kwargs", {}).get("kind")}
    assert kinds == {str(b.kind) for b in scheduled_builders()}
    assert {"finance", "exchanges", "courier_loss", "exchange_slips"} <= kinds
    for name in PROVEN.values():
        if name.startswith("test_"):
            assert name in globals(), name


# --- heartbeat ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_heartbeat_twice_keeps_one_row():
    heartbeat.apply()
    heartbeat.apply()
    assert Heartbeat.objects.filter(name="tasks").count() == 1


@on_postgresql
@concurrent_db
def test_heartbeat_twice_at_once_keeps_one_row():
    _results, errors = run_together(heartbeat, heartbeat, heartbeat)
    assert errors == []
    assert Heartbeat.objects.filter(name="tasks").count() == 1


# --- the minutely warnings (service level, intervention deadlines) ---------------------------


@pytest.fixture
def near_breach(settings, monkeypatch):
    """A ticket due in 20 minutes, its agent, a supervisor and the shop's chat robot for the
    warning; the chat messages the runs queue are recorded (after commit) instead of sent."""
    settings.DESK_SLA_WARNING_MINUTES = 30
    shop = make_shop("beat-once")
    agent = make_user(role=Role.AGENT, shops=[shop])
    make_user(role=Role.SUPERVISOR, shops=[shop])
    ticket = make_ticket(make_order(shop), agent, assignee=agent, first_responded_at=timezone.now())
    Ticket.objects.filter(pk=ticket.pk).update(
        resolution_due=timezone.now() + timedelta(minutes=20)
    )
    ChatWebhook.objects.create(
        name="售后群",
        provider="wecom",
        shop=shop,
        kind="sla_breach_soon",
        url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1",
    )
    queued = []

    class Recorded:
        def __init__(self, task, args):
            self.task, self.args = task, args

        def apply_async(self):
            queued.append(self.args)

    monkeypatch.setattr(notifications, "signature", Recorded)
    return agent, queued


@pytest.mark.django_db
def test_warnings_twice_ring_each_bell_and_chat_once(
    near_breach, django_capture_on_commit_callbacks
):
    agent, queued = near_breach
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_due.apply().get() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_due.apply().get() == 0
    assert Notification.objects.filter(recipient=agent, kind="sla_breach_soon").count() == 1
    assert len(queued) == 1


@on_postgresql
@concurrent_db
def test_warnings_twice_at_once_ring_each_bell_and_chat_once(near_breach):
    agent, queued = near_breach
    results, errors = run_together(notifications_due, notifications_due)
    assert errors == []
    # told once between the two runs, and the chat queued only by the run that told
    assert sorted(results) == [0, 1]
    assert Notification.objects.filter(recipient=agent, kind="sla_breach_soon").count() == 1
    assert len(queued) == 1


# --- the sheets (each scheduled kind) and the catch-up ---------------------------------------

KINDS = [str(b.kind) for b in scheduled_builders()]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.django_db
def test_a_sheet_built_twice_is_one_sheet(kind):
    first = build_due_sheets.apply(kwargs={"kind": kind}).get()
    second = build_due_sheets.apply(kwargs={"kind": kind}).get()
    assert len(first) == 1 and second == []
    assert Sheet.objects.filter(kind=kind).count() == 1


@pytest.mark.parametrize("kind", KINDS)
@on_postgresql
@concurrent_db
def test_a_sheet_built_twice_at_once_is_one_sheet(kind):
    results, errors = run_together(
        *[lambda: build_due_sheets.apply(kwargs={"kind": kind}).get() for _ in range(2)]
    )
    assert errors == []
    assert Sheet.objects.filter(kind=kind).count() == 1
    sheet = Sheet.objects.get(kind=kind)
    assert sheet.status != Sheet.Status.BUILDING
    assert [pk for result in results for pk in result] in ([sheet.pk], [sheet.pk, sheet.pk])


@pytest.mark.django_db
def test_the_catch_up_twice_builds_each_sheet_once(monkeypatch):
    # the build each check queues runs at once (as a free worker would)
    monkeypatch.setattr(build_due_sheets, "delay", lambda: build_due_sheets.apply().get())
    monkeypatch.setattr(finance_tasks.plan_vip_follow_ups, "delay", lambda: None)
    assert catch_up_if_due() is True
    assert catch_up_if_due() is False  # nothing missing any more: nothing queued
    for kind in KINDS:
        assert Sheet.objects.filter(kind=kind).count() == 1, kind


@on_postgresql
@concurrent_db
def test_the_catch_up_twice_at_once_builds_each_sheet_once(monkeypatch):
    monkeypatch.setattr(build_due_sheets, "delay", lambda: build_due_sheets.apply().get())
    monkeypatch.setattr(finance_tasks.plan_vip_follow_ups, "delay", lambda: None)
    _results, errors = run_together(catch_up_if_due, catch_up_if_due)
    assert errors == []
    for kind in KINDS:
        assert Sheet.objects.filter(kind=kind).count() == 1, kind


@on_postgresql
@concurrent_db
def test_the_clean_up_twice_at_once_fails_neither(settings, tmp_path):
    settings.FINANCE_SHEET_TMP_DIR = tmp_path / "sheets"
    settings.FINANCE_SHEET_TMP_MAX_AGE_HOURS = 0
    settings.FINANCE_SHEET_TMP_DIR.mkdir()
    for n in range(50):
        (settings.FINANCE_SHEET_TMP_DIR / f"old-{n}.xlsx").write_bytes(b"x")
    _results, errors = run_together(
        finance_tasks.clean_sheet_tmp_dir, finance_tasks.clean_sheet_tmp_dir
    )
    assert errors == []
    assert list(settings.FINANCE_SHEET_TMP_DIR.iterdir()) == []
