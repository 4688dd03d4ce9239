"""When sheets are built: the beat schedule, catching up what was missed, failures and retries."""

import os
import subprocess
import sys
import time as clock_time
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.files.base import ContentFile

from aftersales.celery import _catch_up_on_worker_start, app
from finance_exports.builders import (
    Period,
    SheetBuilder,
    get_builder,
    register,
    scheduled_builders,
    unregister,
)
from finance_exports.builders.finance import FinanceSheetBuilder
from finance_exports.models import FinanceSheetEntry, Sheet
from finance_exports.selectors import sheets_pending
from finance_exports.services import (
    SheetBuildFailed,
    sheet_build,
    sheet_files_clean,
    sheet_rebuild,
    sheets_catch_up,
)
from finance_exports.tasks import beat_schedule, build_due_sheets, build_sheet, catch_up_if_due
from tickets.tasks import heartbeat

from .helpers import at, detail_rows, record

DAY = date(2026, 11, 24)
ROOT = Path(__file__).resolve().parents[2]


# --- the schedule --------------------------------------------------------------------------
def beat_runs() -> dict:
    """The schedule beat runs: CELERY_BEAT_SCHEDULE plus the sheets' entries, which are added
    when the app is finalized (beat finalizes it before reading the schedule)."""
    app.finalize()
    return app.conf.beat_schedule


def test_beat_builds_the_finance_sheet_at_16_and_the_exchange_list_at_17_beijing_time():
    schedule = beat_runs()
    finance, exchanges = schedule["sheet-finance"], schedule["sheet-exchanges"]
    assert finance["task"] == exchanges["task"] == build_due_sheets.name
    assert (finance["kwargs"], exchanges["kwargs"]) == ({"kind": "finance"}, {"kind": "exchanges"})
    assert isinstance(finance["schedule"], crontab)
    assert (finance["schedule"].hour, finance["schedule"].minute) == ({16}, {0})
    assert (exchanges["schedule"].hour, exchanges["schedule"].minute) == ({17}, {0})
    assert app.conf.timezone == "Asia/Shanghai"
    assert schedule["heartbeat"] == settings.CELERY_BEAT_SCHEDULE["heartbeat"]  # still there
    assert schedule["heartbeat"]["schedule"] == 60.0
    assert schedule["sheet-catch-up"] == {"task": catch_up_if_due.name, "schedule": 60.0}
    for entry in schedule.values():
        assert entry["task"] in app.tasks


def test_every_scheduled_builder_brings_its_own_beat_entry():
    # given: a stand-in for a kind, registered the way the real builders are (and no change in
    # settings or in the tasks), due at a time of its own
    real = type(get_builder("exchange_slips"))

    class Slips(SheetBuilder):
        kind = "exchange_slips"
        period = Period.MONTH
        scheduled = True

        def due_time(self):
            return time(6, 30)

    register(Slips)
    try:
        # when / then
        entries = {k for k in beat_schedule() if k not in ("sheet-catch-up", "sheet-tmp-cleanup")}
        assert entries == {f"sheet-{builder.kind}" for builder in scheduled_builders()}
        assert "sheet-exchange_slips" in entries
        slips = beat_schedule()["sheet-exchange_slips"]
        assert slips["kwargs"] == {"kind": "exchange_slips"}
        schedule = slips["schedule"]
        assert (schedule.day_of_month, schedule.hour, schedule.minute) == ({1}, {6}, {30})
        # a kind with no builder has no entry
        unregister("exchange_slips")
        assert "sheet-exchange_slips" not in beat_schedule()
    finally:
        register(real)
    assert isinstance(get_builder("exchange_slips"), real)


def test_the_cut_off_is_the_scheduled_time():
    assert FinanceSheetBuilder().cutoff(DAY) == at(DAY, "16:00:00")


def _schedule_in_a_fresh_process(**env):
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "from aftersales.celery import app; app.finalize(); "
        "s = app.conf.beat_schedule['sheet-finance']['schedule']; "
        "print(sorted(s.hour), sorted(s.minute), settings.FINANCE_SHEET_TIMES['finance'])"
    )
    full_env = {**os.environ, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "aftersales.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_time_is_configured_from_the_environment():
    moved = _schedule_in_a_fresh_process(FINANCE_SHEET_AT="15:30")
    assert moved.stdout.strip() == "[15] [30] (15, 30)", moved.stderr
    wrong = _schedule_in_a_fresh_process(FINANCE_SHEET_AT="4pm")
    assert wrong.returncode != 0
    assert "FINANCE_SHEET_AT" in wrong.stderr


# --- catching up what was missed --------------------------------------------------------
def test_days_missed_while_beat_was_down_are_built_each_for_its_own_day(clock, agent, rich_order):
    # given: the last sheet was three days ago, then the machine was off
    sheet_build(kind="finance", business_date=DAY - timedelta(days=3), now=at(DAY, "00:00:00"))
    clock.set(at(DAY - timedelta(days=2), "11:00:00"))
    two_days_ago = record(agent, rich_order, "20.00")
    clock.set(at(DAY - timedelta(days=1), "15:00:00"))
    yesterday = record(agent, rich_order, "30.00")
    clock.set(at(DAY - timedelta(days=1), "17:00:00"))
    after_yesterdays_cut_off = record(agent, rich_order, "40.00")

    # when: the desk is back this morning, before today's 16:00
    built = sheets_catch_up(now=at(DAY, "09:30:00"))

    # then: the two missing days, not today
    finance = [sheet for sheet in built if sheet.kind == "finance"]
    assert [s.business_date for s in finance] == [DAY - timedelta(days=2), DAY - timedelta(days=1)]
    assert [r["流水号"] for r in detail_rows(finance[0])] == [two_days_ago.pk]
    assert [r["流水号"] for r in detail_rows(finance[1])] == [yesterday.pk]
    assert not FinanceSheetEntry.objects.filter(entry=after_yesterdays_cut_off).exists()
    # and running it again finds nothing to do
    assert [s for s in sheets_catch_up(now=at(DAY, "09:31:00")) if s.kind == "finance"] == []


def test_a_fresh_desk_builds_only_the_latest_due_sheet(db):
    built = sheets_catch_up(kinds=["finance"], now=at(DAY, "16:05:00"))
    assert [sheet.business_date for sheet in built] == [DAY]


def test_catch_up_goes_back_at_most_the_configured_number_of_days(db, settings):
    settings.FINANCE_CATCH_UP_DAYS = 3
    sheet_build(kind="finance", business_date=DAY - timedelta(days=30), now=at(DAY, "00:00:00"))
    built = sheets_catch_up(kinds=["finance"], now=at(DAY, "16:05:00"))
    assert [s.business_date for s in built] == [DAY - timedelta(days=n) for n in (2, 1, 0)]


def test_the_minutely_check_queues_the_catch_up_only_when_a_sheet_is_missing(db, monkeypatch):
    queued = []
    monkeypatch.setattr(build_due_sheets, "delay", lambda *a, **k: queued.append((a, k)))
    heartbeat()  # the desk's heartbeat knows nothing of sheets
    assert queued == []
    assert catch_up_if_due() is True  # nothing built yet: yesterday's sheets are missing
    assert len(queued) == 1
    sheets_catch_up()
    assert catch_up_if_due() is False
    assert len(queued) == 1


def test_a_worker_that_starts_sends_the_catch_up_check():
    sent = []

    class Sender:
        class app:  # stands in for the worker's app
            @staticmethod
            def send_task(name, **options):
                sent.append(name)

    _catch_up_on_worker_start(Sender)
    assert sent == [catch_up_if_due.name]  # its heartbeat it records itself


# --- failures, retries, a worker killed half-way --------------------------------------------
class WorkerKilled(BaseException):
    """What a SIGKILL looks like from inside: nothing after it runs, no except clause sees it."""


def test_a_worker_killed_half_way_leaves_no_ready_sheet_and_the_retry_finishes_it(
    clock, agent, rich_order, monkeypatch, sheet_tmp_dir
):
    clock.set(at(DAY, "10:00:00"))
    entry = record(agent, rich_order, "10.00")
    write = FinanceSheetBuilder.write

    def killed(builder, sheet, book):
        raise WorkerKilled

    monkeypatch.setattr(FinanceSheetBuilder, "write", killed)
    clock.set(at(DAY, "16:00:05"))
    with pytest.raises(WorkerKilled):
        sheet_build(kind="finance", business_date=DAY, now=at(DAY, "16:00:05"))
    sheet = Sheet.objects.get()
    assert sheet.status == Sheet.Status.BUILDING
    assert not sheet.file
    assert list(sheet.ledger_claims.values_list("entry_id", flat=True)) == [entry.pk]

    # an entry recorded meanwhile (back-dated, even) does not join the half-built sheet
    clock.set(at(DAY, "15:00:00"))
    late = record(agent, rich_order, "99.00")
    clock.set(at(DAY, "16:00:05"))
    monkeypatch.setattr(FinanceSheetBuilder, "write", write)
    # the heartbeat sees a sheet left "building" once it is stale; the catch-up resumes it
    later = at(DAY, "17:00:00") + timedelta(hours=1)
    assert sheets_pending(scheduled_builders(["finance"]), now=at(DAY, "16:00:06")) is False
    assert sheets_pending(scheduled_builders(["finance"]), now=later) is True
    resumed = sheets_catch_up(kinds=["finance"], now=later)
    assert [s.pk for s in resumed] == [sheet.pk]
    sheet.refresh_from_db()
    assert sheet.status == Sheet.Status.READY
    assert [r["流水号"] for r in detail_rows(sheet)] == [entry.pk]
    assert not FinanceSheetEntry.objects.filter(entry=late).exists()
    assert not any(sheet_tmp_dir.iterdir())  # the temporary file did not stay behind


def test_failed_attempts_are_counted_and_the_last_marks_the_sheet_failed(
    clock, agent, rich_order, monkeypatch, settings, sheet_tmp_dir
):
    settings.FINANCE_SHEET_MAX_ATTEMPTS = 3
    clock.set(at(DAY, "10:00:00"))
    record(agent, rich_order, "10.00")

    def broken(builder, sheet, book):
        raise OSError("No space left on device")

    monkeypatch.setattr(FinanceSheetBuilder, "write", broken)
    for attempt in (1, 2, 3):
        with pytest.raises(SheetBuildFailed) as failed:
            sheet_build(kind="finance", business_date=DAY, now=at(DAY, "16:01:00"))
        sheet = Sheet.objects.get()
        assert sheet.attempts == attempt
        assert sheet.error == "OSError: No space left on device"
        assert failed.value.final == (attempt == 3)
    assert sheet.status == Sheet.Status.FAILED
    assert not any(sheet_tmp_dir.iterdir())
    monkeypatch.undo()
    # the catch-up leaves a failed sheet for a person to look at, and goes on with later days
    built = sheets_catch_up(kinds=["finance"], now=at(DAY + timedelta(days=1), "16:01:00"))
    assert [s.business_date for s in built] == [DAY + timedelta(days=1)]


def test_the_beat_task_retries_until_the_sheet_is_marked_failed(db, monkeypatch, settings):
    settings.FINANCE_SHEET_MAX_ATTEMPTS = 2
    settings.FINANCE_SHEET_RETRY_SECONDS = 0
    monkeypatch.setattr(FinanceSheetBuilder, "write", lambda *a: 1 / 0)
    result = build_due_sheets.apply(kwargs={"kind": "finance"})  # retries run in place
    assert result.successful()
    sheet = Sheet.objects.get(kind="finance")
    assert (sheet.status, sheet.attempts) == (Sheet.Status.FAILED, 2)
    assert sheet.error.startswith("ZeroDivisionError")


def test_a_claim_that_fails_leaves_nothing_claimed_and_the_next_attempt_claims(
    clock, agent, rich_order, monkeypatch
):
    clock.set(at(DAY, "10:00:00"))
    entry = record(agent, rich_order, "10.00")
    claim = FinanceSheetBuilder.claim

    def claims_then_fails(builder, sheet):
        claim(builder, sheet)
        raise RuntimeError("connection reset")

    monkeypatch.setattr(FinanceSheetBuilder, "claim", claims_then_fails)
    with pytest.raises(SheetBuildFailed):
        sheet_build(kind="finance", business_date=DAY, now=at(DAY, "16:01:00"))
    sheet = Sheet.objects.get()
    assert (sheet.status, sheet.claimed_at, sheet.attempts) == (Sheet.Status.BUILDING, None, 1)
    assert not FinanceSheetEntry.objects.exists()  # rolled back with the failed transaction
    monkeypatch.setattr(FinanceSheetBuilder, "claim", claim)
    sheet = sheet_build(kind="finance", business_date=DAY, now=at(DAY, "16:02:00"))
    assert sheet.status == Sheet.Status.READY
    assert list(sheet.ledger_claims.values_list("entry_id", flat=True)) == [entry.pk]


def test_a_rebuilt_sheet_is_built_by_the_task_it_queues(
    supervisor, db, monkeypatch, django_capture_on_commit_callbacks, settings
):
    settings.FINANCE_SHEET_MAX_ATTEMPTS = 1
    monkeypatch.setattr(FinanceSheetBuilder, "write", lambda *a: 1 / 0)
    with pytest.raises(SheetBuildFailed):
        sheet_build(kind="finance", business_date=DAY)
    sheet = Sheet.objects.get()
    assert sheet.status == Sheet.Status.FAILED
    monkeypatch.undo()
    # the worker: run the queued task here (the service queues it by name)
    monkeypatch.setattr(
        build_sheet, "apply_async", lambda args=(), kwargs=None, **_: build_sheet.apply(args)
    )
    with django_capture_on_commit_callbacks(execute=True):
        sheet_rebuild(actor=supervisor, sheet=sheet)
    sheet.refresh_from_db()
    assert sheet.status == Sheet.Status.READY
    assert sheet.created_by == supervisor


# --- housekeeping --------------------------------------------------------------------------
def test_clean_up_removes_old_leftovers_and_keeps_what_is_in_use(db, sheet_tmp_dir, settings):
    settings.FINANCE_SHEET_TMP_MAX_AGE_HOURS = 1
    sheet = sheet_build(kind="finance", business_date=DAY)
    storage = sheet.file.storage
    orphan = storage.save("sheets/finance/finance-20261101-dead.xlsx", ContentFile(b"half"))
    sheet_tmp_dir.mkdir(parents=True, exist_ok=True)
    leftover = sheet_tmp_dir / "finance-20261101-x.xlsx.part"
    leftover.write_bytes(b"half")
    fresh = sheet_tmp_dir / "finance-20261125-y.xlsx.part"
    fresh.write_bytes(b"being written")
    old = clock_time.time() - 2 * 3600
    os.utime(leftover, (old, old))
    os.utime(storage.path(orphan), (old, old))
    os.utime(storage.path(sheet.file.name), (old, old))

    assert sheet_files_clean() == 2
    assert not leftover.exists() and not storage.exists(orphan)
    assert fresh.exists()  # maybe a build in progress
    assert storage.exists(sheet.file.name)  # in use, however old
