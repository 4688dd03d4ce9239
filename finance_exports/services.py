"""Writes: building sheets, signing the exchange-goods list, shipping its lines, downloads.

How a sheet is built, whatever its kind (the builder supplies what is particular):

1. **Claim**, in one transaction: the sheet row for (kind, business date) is created and the
   builder claims its rows. Claims of one kind are serialised (an advisory lock on
   PostgreSQL; SQLite serialises every writer), so two builds never claim the same row, and the
   unique (kind, business date) key means there is one sheet per day however often it is built.
2. **Write**: the file is written to a temporary file, moved into private storage and the sheet
   marked ready in one more transaction that holds the sheet's row lock. A worker killed half-way
   leaves the sheet "building" with its claims; the next attempt writes the same content.
3. **Fail**: each failed attempt is counted on the sheet with its reason; after
   ``FINANCE_SHEET_MAX_ATTEMPTS`` the sheet is "failed", shown on the finance page, and a
   supervisor can rebuild it with one click.
"""

import logging
import os
import secrets
import tempfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from celery import signature
from django.conf import settings
from django.core.files import File
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aftersales.spreadsheets import SheetBook
from aftersales.storage import STORE_ERRORS, StoreError, store_delete
from finance_exports.builders import SheetBuilder, get_builder, scheduled_builders
from finance_exports.models import ExchangeLine, Sheet, SheetDownload
from finance_exports.selectors import sheet_viewers, sheets_due
from finance_exports.uploads import read_tracking_numbers
from tickets.db import checks_keep_plans
from tickets.models import Notification, Ticket, User
from tickets.notification_messages import register_message
from tickets.selectors import open_promises
from tickets.services import DeskError, require_perm
from tickets.services.notifications import (
    ChatCard,
    chat_language,
    notifications_handled,
    notify,
)
from tickets.services.tickets import ticket_transition
from tickets.text import normalise_tracking_no, tracking_no_refusal

logger = logging.getLogger(__name__)

S = Ticket.Status
# pg_advisory_xact_lock(namespace, key): the namespace keeps the desk's locks apart from others.
_LOCK_NAMESPACE = 0x5EE7
# The task that builds one sheet (``finance_exports.tasks.build_sheet``), queued by name: the
# tasks module imports this one, so this one does not import it back.
BUILD_SHEET_TASK = "finance_exports.tasks.build_sheet"
# The folder of half-written sheets: the desk's own user only (issue 12, section 6).
PRIVATE_DIR_MODE = 0o700


class SheetNotDue(DeskError):
    """The sheet's cut-off has not passed yet."""


class SheetBuildFailed(Exception):
    """A build attempt failed. The sheet row holds the reason and the attempt count; ``final``
    says whether it has now been marked failed (no more automatic retries)."""

    def __init__(self, sheet: Sheet, cause: BaseException):
        super().__init__(f"{sheet}: {cause}")
        self.sheet = sheet
        self.final = sheet.status == Sheet.Status.FAILED


class _CompleteFile(File):
    """A finished temporary file: FileSystemStorage moves it into place instead of copying;
    the S3 storage uploads it from the local disk."""

    def temporary_file_path(self) -> str:
        return self.file.name


# --- building ---------------------------------------------------------------------------
def sheet_build(
    *,
    kind: str,
    business_date: date,
    actor: User | None = None,
    now: datetime | None = None,
    retry_failed: bool = False,
    wait: bool = True,
    by_hand: bool = False,
) -> Sheet:
    """Builds the sheet of ``kind`` for ``business_date``, or returns it when it exists.

    Building again (a retry, a second beat, a manual run) returns the same sheet and file.
    ``retry_failed`` starts a failed sheet over (the manual command does). With ``wait=False``
    a sheet another worker is writing right now is returned as it is instead of waited for.
    A date before the kind's newest sheet is refused (its rows are on the later sheet), except
    ``by_hand`` (someone asked, ``build_sheet``) for a kind whose builder allows it
    (``past_periods_by_hand``: the exchange slips and the courier-loss settlement of a month
    before the first one built). Raises ``SheetNotDue`` before the cut-off, ``DeskError`` for
    a refused earlier date and ``SheetBuildFailed`` when the attempt fails.
    """
    builder = get_builder(kind)
    business_date = builder.normalise(business_date)
    now = now or timezone.now()
    try:
        sheet = _claim(
            builder,
            business_date,
            actor=actor,
            now=now,
            retry_failed=retry_failed,
            by_hand=by_hand,
        )
        if sheet.status != Sheet.Status.BUILDING:
            return sheet
        return _finish(builder, sheet.pk, wait=wait)
    except DeskError:
        raise
    except Exception as exc:
        logger.exception("building the %s sheet of %s failed", kind, business_date)
        raise SheetBuildFailed(_record_failure(builder, business_date, exc), exc) from exc


def sheets_catch_up(*, kinds: list[str] | None = None, now: datetime | None = None) -> list[Sheet]:
    """Builds every scheduled sheet that is due and missing (beat was down, a worker died),
    oldest first, each dated for the day it belongs to. Run by beat at each sheet's time, and
    whenever the minutely check (also run on worker start) finds something missing."""
    now = now or timezone.now()
    built: list[Sheet] = []
    failures: list[SheetBuildFailed] = []
    for builder in scheduled_builders(kinds):
        try:
            for business_date in sheets_due(builder, now=now, stalled_only=False):
                built.append(
                    sheet_build(kind=builder.kind, business_date=business_date, now=now, wait=False)
                )
        except SheetBuildFailed as failure:
            # Later dates of this kind wait: they must not claim what belongs on this one.
            failures.append(failure)
    if failures:
        raise failures[0]
    return built


def _serialise_claims(kind: str) -> None:
    """Claims of one kind, one at a time, until the transaction ends."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            key = zlib.crc32(f"finance_exports.claim.{kind}".encode()) & 0x7FFFFFFF
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, key])


def _claim(
    builder: SheetBuilder,
    business_date: date,
    *,
    actor,
    now: datetime,
    retry_failed: bool,
    by_hand: bool = False,
) -> Sheet:
    with transaction.atomic():
        _serialise_claims(builder.kind)
        sheet = (
            Sheet.objects.select_for_update()
            .filter(kind=builder.kind, business_date=business_date)
            .first()
        )
        if sheet is None:
            cutoff = builder.cutoff(business_date)
            if now < cutoff:
                raise SheetNotDue(
                    _("%(date)s 的%(kind)s要到 %(cutoff)s 才能生成。")
                    % {
                        "date": f"{business_date:%Y-%m-%d}",
                        "kind": Sheet.Kind(builder.kind).label,
                        "cutoff": f"{timezone.localtime(cutoff):%Y-%m-%d %H:%M}",
                    }
                )
            newest = Sheet.objects.filter(kind=builder.kind).aggregate(n=Max("business_date"))["n"]
            earlier_allowed = by_hand and builder.past_periods_by_hand
            if newest is not None and newest > business_date and not earlier_allowed:
                raise DeskError(
                    _("已经有 %(newest)s 的%(kind)s，不能再补生成更早日期的。")
                    % {"newest": f"{newest:%Y-%m-%d}", "kind": Sheet.Kind(builder.kind).label}
                )
            sheet = Sheet.objects.create(
                kind=builder.kind, business_date=business_date, cutoff_at=cutoff, created_by=actor
            )
        elif sheet.status == Sheet.Status.FAILED and retry_failed:
            _reopen(sheet, actor)
        if sheet.status == Sheet.Status.BUILDING and sheet.claimed_at is None:
            sheet.cutoff_at = sheet.cutoff_at or builder.cutoff(business_date)
            # each claim row's two foreign keys, checked with their plans kept
            with checks_keep_plans(connection, check_now=True):
                claimed = builder.claim(sheet)
            sheet.claimed_at = timezone.now()
            sheet.save(update_fields=["cutoff_at", "claimed_at", "updated_at"])
            logger.info("%s claimed %s rows", sheet, claimed)
        return sheet


def _finish(builder: SheetBuilder, sheet_pk: int, *, wait: bool) -> Sheet:
    """Writes the file of a claimed sheet and marks it ready (``ready_status_for``), under the
    sheet's row lock; the "sheet failed" notifications of that sheet (kind and date) leave
    every bell."""
    with transaction.atomic():
        sheet = Sheet.objects.select_for_update(skip_locked=not wait).filter(pk=sheet_pk).first()
        if sheet is None:  # another worker is writing it right now
            return Sheet.objects.get(pk=sheet_pk)
        if sheet.status != Sheet.Status.BUILDING:
            return sheet
        _write_file(builder, sheet)
        sheet.status = builder.ready_status_for(sheet)
        sheet.ready_at = timezone.now()
        sheet.attempts += 1
        sheet.error = ""
        sheet.save()
        # A sheet that failed and is built now asks nothing of anyone (issue 13 review).
        notifications_handled(kind=Notification.Kind.SHEET_FAILED, url=sheet.get_absolute_url())
    logger.info("%s is ready: %s rows", sheet, sheet.row_count)
    return sheet


def _write_file(builder: SheetBuilder, sheet: Sheet) -> None:
    """Sums up the sheet's claims, writes the workbook to a temporary file, reads the finished
    file back (``SheetBook.save``: a file that would not open raises ``SheetUnreadable``, so the
    attempt fails with that reason and the sheet is never marked ready with it) and moves it
    into private storage. The temporary folder and files are the desk user's only (0700/0600),
    like the stored file (``FILE_UPLOAD_PERMISSIONS``). The previous file (a list re-written
    after a change) is deleted once the new one is committed."""
    summary = builder.summarize(sheet)
    sheet.row_count = summary.row_count
    sheet.total_amount = summary.total_amount
    sheet.totals = summary.totals
    previous = sheet.file.name
    tmp_dir = Path(settings.FINANCE_SHEET_TMP_DIR)
    tmp_dir.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    tmp_dir.chmod(PRIVATE_DIR_MODE)  # also when an older desk made it open to all
    stem = f"{sheet.kind}-{sheet.business_date:%Y%m%d}"
    handle, tmp_path = tempfile.mkstemp(prefix=f"{stem}-", suffix=".xlsx.part", dir=tmp_dir)
    os.close(handle)
    book = SheetBook(tmp_dir=tmp_dir)
    try:
        # Finance gets Chinese headers whoever's request (or which worker) writes the file.
        with translation.override(settings.LANGUAGE_CODE):
            builder.write(sheet, book)
        book.save(tmp_path)
        _store_sheet_file(sheet, tmp_path, f"{stem}-{secrets.token_hex(4)}.xlsx")
    finally:
        book.close()
        Path(tmp_path).unlink(missing_ok=True)
    if previous and previous != sheet.file.name:
        storage = sheet.file.storage
        # After the commit, and never failing it: a file the store keeps now is an orphan
        # that sheet_files_clean deletes later.
        transaction.on_commit(lambda: store_delete(storage, previous))


def _store_sheet_file(sheet: Sheet, tmp_path: str, name: str) -> None:
    """Saves the finished, verified file at ``tmp_path`` into the default storage (the local
    folder or the object store) as ``sheet.file``, once, and checks that the store holds all
    of it (its size). Raises ``StoreError`` with the reason when the store fails or holds less:
    the attempt fails, is recorded on the sheet and retried, and the sheet is never marked
    ready without its file (issue 15)."""
    expected = os.path.getsize(tmp_path)
    with open(tmp_path, "rb") as complete:
        try:
            sheet.file.save(name, _CompleteFile(complete), save=False)
            stored = sheet.file.storage.size(sheet.file.name)
        except STORE_ERRORS as exc:
            raise StoreError(
                _("报表文件没有存入文件存储（%(cause)s）。") % {"cause": type(exc).__name__}
            ) from exc
    if stored != expected:
        raise StoreError(
            _("文件存储里的报表文件不完整（%(stored)s 字节，应为 %(expected)s 字节）。")
            % {"stored": stored, "expected": expected}
        )


def _record_failure(builder: SheetBuilder, business_date: date, exc: BaseException) -> Sheet:
    reason = f"{type(exc).__name__}: {exc}"[:1000]
    with transaction.atomic():
        sheet, _created = Sheet.objects.select_for_update().get_or_create(
            kind=builder.kind,
            business_date=business_date,
            defaults={"cutoff_at": builder.cutoff(business_date)},
        )
        if sheet.status != Sheet.Status.BUILDING:  # finished by another worker meanwhile
            return sheet
        sheet.attempts += 1
        sheet.error = reason
        if sheet.attempts >= settings.FINANCE_SHEET_MAX_ATTEMPTS:
            sheet.status = Sheet.Status.FAILED
        sheet.save(update_fields=["attempts", "error", "status", "updated_at"])
        if sheet.status == Sheet.Status.FAILED:
            _sheet_failed_notify(sheet)
    return sheet


def _sheet_failed_notify(sheet: Sheet) -> None:
    """Finance and the supervisors who may open ``sheet`` (``sheet_viewers``: every shop;
    the bell links to the sheet) hear that it failed for good, in the bell and in
    the chat of the robots for no shop (issue 13); the reason is on the finance page. Called
    once per failure: only the attempt that moves the locked row from building to failed
    comes here, and a rebuild that fails again is a new failure."""
    with chat_language():
        label = f"{sheet.get_kind_display()} {sheet.business_date:%Y-%m-%d}"
    notify(
        recipients=sheet_viewers(),
        kind=Notification.Kind.SHEET_FAILED,
        params={"sheet": sheet.kind, "date": sheet.business_date.isoformat()},
        url=sheet.get_absolute_url(),
        card=ChatCard(kind=Notification.Kind.SHEET_FAILED, headline=label),
    )


@register_message(Notification.Kind.SHEET_FAILED, "sheet", "date")
def sheet_failed_message(params: dict) -> str:
    """A failed sheet's notification in the reader's language: the sheet kind's label (the
    stored value of ``Sheet.Kind``) and its business date. Registered with the tickets app's
    notification words when this module is imported (``FinanceExportsConfig.ready`` imports
    it), since tickets does not know the sheets."""
    label = f"{Sheet.Kind(params['sheet']).label} {date.fromisoformat(params['date']):%Y-%m-%d}"
    return _("%(sheet)s 生成失败，请在财务报表页查看原因") % {"sheet": label}


def _reopen(sheet: Sheet, actor: User | None) -> None:
    sheet.status = Sheet.Status.BUILDING
    sheet.error = ""
    sheet.attempts = 0
    if actor is not None:
        sheet.created_by = actor
    sheet.save(update_fields=["status", "error", "attempts", "created_by", "updated_at"])


@transaction.atomic
def sheet_rebuild(*, actor: User, sheet: Sheet) -> Sheet:
    """A supervisor starts a failed sheet over; a worker builds it after this commits."""
    require_perm(actor, "finance_exports.rebuild_sheet")
    sheet = Sheet.objects.select_for_update().get(pk=sheet.pk)
    if sheet.status != Sheet.Status.FAILED:
        raise DeskError(_("只有生成失败的报表可以重新生成。"))
    _reopen(sheet, actor)
    kind, business_date = sheet.kind, sheet.business_date.isoformat()
    transaction.on_commit(lambda: _enqueue_build(kind, business_date))
    return sheet


def _enqueue_build(kind: str, business_date: str) -> None:
    signature(BUILD_SHEET_TASK, args=(kind, business_date)).apply_async()


# --- downloads --------------------------------------------------------------------------
def sheet_download_record(*, actor: User, sheet: Sheet) -> SheetDownload:
    """Who downloaded which sheet, when: one row per download, never edited."""
    require_perm(actor, "finance_exports.download_sheet")
    if not sheet.has_file:
        raise DeskError(_("这张报表还没有生成好，不能下载。"))
    return SheetDownload.objects.create(sheet=sheet, user=actor)


# --- the exchange-goods list ------------------------------------------------------------
def _lock_list(sheet: Sheet) -> Sheet:
    sheet = Sheet.objects.select_for_update().get(pk=sheet.pk)
    if sheet.kind != Sheet.Kind.EXCHANGES:
        raise DeskError(_("这不是换货清单。"))
    return sheet


def _rewrite(sheet: Sheet) -> None:
    _write_file(get_builder(sheet.kind), sheet)
    sheet.save()


def exchange_list_refresh(ticket_id: int) -> Sheet | None:
    """Rewrites the file of the unsigned exchange-goods list carrying ticket ``ticket_id``
    after what the ticket sends out changed, so a file downloaded before the signature
    never tells the warehouse the old goods. A signed list can't have changed (the goods are
    locked by the signature). Returns the list rewritten, or None."""
    with transaction.atomic():
        line = (
            ExchangeLine.objects.filter(ticket_id=ticket_id, removed_at__isnull=True)
            .select_related("sheet")
            .first()
        )
        if line is None or line.sheet.status != Sheet.Status.AWAITING_APPROVAL:
            return None
        sheet = _lock_list(line.sheet)
        if sheet.status != Sheet.Status.AWAITING_APPROVAL:
            return None
        _rewrite(sheet)
        return sheet


def exchange_goods_changed_receiver(sender, ticket, **kwargs) -> None:
    """Receiver of ``tickets.signals.exchange_goods_changed`` (connected in the app's
    ``ready``): the list's file is rewritten once the change is committed."""
    transaction.on_commit(lambda: exchange_list_refresh(ticket.pk))


@transaction.atomic
def exchange_line_remove(*, actor: User, line: ExchangeLine, reason: str) -> ExchangeLine:
    """A supervisor takes a line off a list; the ticket goes back to the queue (and so onto
    the next list, or it can now be cancelled). The line stays, with who, when and why.

    Taking a line off a **signed** list voids the signature: the list waits for a signature
    again and its file is rewritten, so the warehouse never ships from a file that lists a
    ticket no longer on it. Taking off its last line leaves a list with nothing to send
    out: it is then simply ready and waits for no signature (``ready_status_for``). A line
    whose goods already went out can't be taken off. Raises ``DeskError`` with the reason
    when refused."""
    require_perm(actor, "finance_exports.approve_sheet")
    reason = reason.strip()
    if not reason:
        raise DeskError(_("请写明移出的原因。"))
    sheet = _lock_list(line.sheet)
    if sheet.status not in (Sheet.Status.AWAITING_APPROVAL, Sheet.Status.APPROVED):
        raise DeskError(_("换货清单还没有生成好，不能移出行。"))
    line = ExchangeLine.objects.select_for_update().select_related("ticket").get(pk=line.pk)
    if not line.is_active:
        raise DeskError(_("这一行已经移出了。"))
    if line.ticket.status != S.ON_EXCHANGE_LIST:
        raise DeskError(
            _("%(ticket)s 已经按清单发货，不能再移出。") % {"ticket": line.ticket.number}
        )
    removed = {
        "date": sheet.business_date.isoformat(),
        "reason": reason[:255],
        "signed_by": "",
        "signed_at": "",
        "emptied": False,
    }
    emptied = not sheet.exchange_lines.filter(removed_at__isnull=True).exclude(pk=line.pk).exists()
    if sheet.status == Sheet.Status.APPROVED:
        removed |= {
            "signed_by": str(sheet.approved_by),
            "signed_at": sheet.approved_at.isoformat(),
            "emptied": emptied,
        }
        sheet.approved_by = None
        sheet.approved_at = None
    line.removed_at = timezone.now()
    line.removed_by = actor
    line.removed_reason = reason[:255]
    line.save(update_fields=["removed_at", "removed_by", "removed_reason", "updated_at"])
    ticket_transition(
        actor=actor,
        ticket=line.ticket,
        to_status=S.QUEUED_FOR_EXCHANGE,
        note_line=("exchange_list_removed", removed),
        by_list=True,
    )
    # What the list asks now (ExchangeListBuilder.ready_status_for): a signature for the
    # lines left, or nothing when none is left; the file is rewritten saying so.
    sheet.status = Sheet.Status.READY if emptied else Sheet.Status.AWAITING_APPROVAL
    _rewrite(sheet)
    return line


@transaction.atomic
def exchange_list_approve(*, actor: User, sheet: Sheet) -> Sheet:
    """The supervisor signs the list. Two clicks or two supervisors at once give one
    signature: the row is locked and its status checked again under the lock. A list with
    no exchange on it is refused: the signature lets the warehouse send goods out, and it
    has none to send (issue 13 review; its page offers no signature)."""
    require_perm(actor, "finance_exports.approve_sheet")
    sheet = _lock_list(sheet)
    if sheet.status == Sheet.Status.READY or (
        sheet.status == Sheet.Status.AWAITING_APPROVAL
        and not sheet.exchange_lines.filter(removed_at__isnull=True).exists()
    ):
        raise DeskError(_("这份换货清单没有要发出的换货，不需要签字。"))
    if sheet.status == Sheet.Status.APPROVED:
        raise DeskError(
            _("这份换货清单已由 %(name)s 于 %(at)s 签字。")
            % {
                "name": sheet.approved_by,
                "at": f"{timezone.localtime(sheet.approved_at):%Y-%m-%d %H:%M}",
            }
        )
    if sheet.status != Sheet.Status.AWAITING_APPROVAL:
        raise DeskError(_("换货清单还没有生成好，不能签字。"))
    sheet.status = Sheet.Status.APPROVED
    sheet.approved_by = actor
    sheet.approved_at = timezone.now()
    _rewrite(sheet)  # the file now says who signed it and when
    return sheet


@transaction.atomic
def exchange_line_ship(*, actor: User, line: ExchangeLine, tracking_no: str) -> Ticket:
    """Records the exchange parcel's tracking number on the ticket, which ships and closes it
    (it stays shipped while a promise to the buyer is open). Entering the same number again
    changes nothing (an upload may be sent twice)."""
    require_perm(actor, "tickets.change_ticket")
    tracking_no = normalise_tracking_no(tracking_no)
    refusal = tracking_no_refusal(tracking_no)
    if refusal:
        raise DeskError(refusal)
    sheet = Sheet.objects.get(pk=line.sheet_id)
    if sheet.status != Sheet.Status.APPROVED:
        raise DeskError(_("换货清单签字之后才能登记发货。"))
    line = ExchangeLine.objects.select_related("ticket").get(pk=line.pk)
    if not line.is_active:
        raise DeskError(_("这一行已经移出清单。"))
    ticket = line.ticket
    if ticket.status in (S.SHIPPED, S.CLOSED) and ticket.outbound_tracking_no:
        if ticket.outbound_tracking_no == tracking_no:
            return ticket
        raise DeskError(
            _("%(ticket)s 已经按运单号 %(no)s 发出。")
            % {"ticket": ticket.number, "no": ticket.outbound_tracking_no}
        )
    ticket = ticket_transition(
        actor=actor,
        ticket=ticket,
        to_status=S.SHIPPED,
        tracking_no=tracking_no,
        note_line=("exchange_list_shipped", {"date": sheet.business_date.isoformat()}),
        by_list=True,
    )
    if open_promises(ticket).exists():
        # A promise to the buyer is still open: the agent keeps or waives it, then closes.
        return ticket
    return ticket_transition(actor=actor, ticket=ticket, to_status=S.CLOSED)


@dataclass
class TrackingUpload:
    shipped: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)


def exchange_tracking_upload(
    *, actor: User, sheet: Sheet, data: bytes, filename: str
) -> TrackingUpload:
    """Ships every line whose tracking number is filled in on the uploaded list (the .xlsx
    the desk produced, or a CSV with the same two columns). Each line is its own transaction:
    one bad line is reported and does not hold back the others."""
    require_perm(actor, "tickets.change_ticket")
    if sheet.kind != Sheet.Kind.EXCHANGES or sheet.status != Sheet.Status.APPROVED:
        raise DeskError(_("换货清单签字之后才能登记发货。"))
    pairs = read_tracking_numbers(data, filename)
    lines = {
        line.ticket.number: line
        for line in sheet.exchange_lines.filter(removed_at__isnull=True).select_related("ticket")
    }
    result = TrackingUpload()
    for number, tracking_no in pairs:
        line = lines.get(number)
        if line is None:
            result.errors.append((number, _("不在这份清单上。")))
            continue
        already = line.ticket.outbound_tracking_no
        try:
            exchange_line_ship(actor=actor, line=line, tracking_no=tracking_no)
        except DeskError as refusal:
            result.errors.append((number, refusal.message))
            continue
        if already and already == normalise_tracking_no(tracking_no):
            result.unchanged.append(number)
        else:
            result.shipped.append(number)
    return result


# --- housekeeping -----------------------------------------------------------------------
def sheet_files_clean(*, now: datetime | None = None) -> int:
    """Deletes what crashed builds leave behind: temporary files, and stored sheet files no
    sheet points at. Both only once they are older than FINANCE_SHEET_TMP_MAX_AGE_HOURS."""
    now = now or timezone.now()
    max_age = timedelta(hours=settings.FINANCE_SHEET_TMP_MAX_AGE_HOURS)
    removed = 0
    tmp_dir = Path(settings.FINANCE_SHEET_TMP_DIR)
    if tmp_dir.is_dir():
        for path in tmp_dir.iterdir():
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # removed meanwhile: by the build that wrote it, or a second clean-up
            modified = datetime.fromtimestamp(stat.st_mtime, tz=timezone.get_current_timezone())
            if path.is_file() and now - modified > max_age:
                path.unlink(missing_ok=True)
                removed += 1
    storage = Sheet._meta.get_field("file").storage
    in_use = set(Sheet.objects.exclude(file="").values_list("file", flat=True))
    for kind in Sheet.Kind.values:
        folder = f"sheets/{kind}"
        try:  # an object store has no folders: a prefix without files lists nothing
            names = storage.listdir(folder)[1]
        except FileNotFoundError:
            continue
        for name in names:
            path = f"{folder}/{name}"
            try:
                modified = storage.get_modified_time(path)
            except FileNotFoundError:
                continue  # deleted meanwhile by a second clean-up (two beats)
            if path not in in_use and now - modified > max_age:
                removed += store_delete(storage, path)
    return removed
