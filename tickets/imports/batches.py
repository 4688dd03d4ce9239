"""Upload, preview, confirm: the import as people do it in the browser.

``order_import_upload`` keeps the files privately (generated names, no public URL; the local
folder or the object store, issue 15: a store that fails refuses the upload and records
nothing), runs the import as a preview and stores its report; ``order_import_apply`` runs it
for real, once, under a row lock; the files are deleted as soon as the batch is applied,
refused or given up.
"""

import hashlib
import logging
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.storage import StoreError, store_delete, store_open, store_save, store_unreadable
from tickets.models import OrderImport, OrderImportFile, Shop, User
from tickets.selectors import visible_shops
from tickets.services import DeskError, require_perm

from .layout import fold
from .report import Report
from .run import KIND_ORDER, Upload, import_files, named_shop

B = OrderImport.Status
logger = logging.getLogger(__name__)


def _sha256(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _run(batch: OrderImport, *, actor: User | None, dry_run: bool) -> Report:
    """Runs the batch's import (a preview with ``dry_run``). An error of the desk's own while
    reading the files makes a report with that one error, so the batch is refused instead of
    staying "previewed" with no report, as a crash on an amount of 1e28 once left it (issue 12,
    section 4); what the import wrote was rolled back with its transaction."""
    files = sorted(batch.files.all(), key=lambda f: KIND_ORDER.index(f.kind))
    try:
        handles = _open_stored(files)
    except (StoreError, FileNotFoundError) as exc:
        logger.error("import batch %s: its files could not be read from the store", batch.pk)
        if not dry_run:  # the batch stays previewed: confirming again later imports it
            raise DeskError(store_unreadable()) from exc
        report = Report()
        report.error("", None, "", store_unreadable())
        return report
    try:
        uploads = [
            Upload(f.kind, f.original_name, getattr(handle, "file", handle))
            for f, handle in zip(files, handles, strict=True)
        ]
        report = import_files(shop=batch.shop, uploads=uploads, actor=actor, dry_run=dry_run)
    except Exception:  # not a bad row (those are in the report): a fault the desk must own
        logger.exception("import batch %s failed to run", batch.pk)
        report = Report()
        report.error("", None, "", _("检查文件时出错，没有导入任何内容。请把文件交给管理员查看。"))
    finally:
        for handle in handles:
            handle.close()
    for f in files:
        info = report.files.get(f.kind)
        if info:
            f.encoding, f.row_count, f.column_count = (
                info["encoding"],
                info["rows"],
                info["columns"],
            )
            f.save(update_fields=["encoding", "row_count", "column_count"])
    return report


def _open_stored(files: list[OrderImportFile]) -> list:
    """The batch's stored files opened for reading (an object store's fetched to local
    spooled files, removed when closed). Raises ``StoreError`` or ``FileNotFoundError``
    with none left open."""
    handles = []
    try:
        for f in files:
            handles.append(store_open(f.file))
    except BaseException:
        for handle in handles:
            handle.close()
        raise
    return handles


def _seen_before(batch: OrderImport, report: dict) -> None:
    """Notes in the report which files were already imported for this shop, and when."""
    for f in batch.files.all():
        earlier = (
            OrderImportFile.objects.filter(
                sha256=f.sha256, kind=f.kind, batch__shop=batch.shop, batch__status=B.APPLIED
            )
            .exclude(batch=batch)
            .select_related("batch__created_by")
            .order_by("-batch__applied_at")
            .first()
        )
        if earlier is not None and f.kind in report["files"]:
            report["files"][f.kind]["seen_before"] = {
                "at": timezone.localtime(earlier.batch.applied_at).strftime("%Y-%m-%d %H:%M"),
                "by": str(earlier.batch.created_by or _("命令行")),
            }


def _forget_files(batch_pk: int) -> None:
    """Deletes the stored files: buyers' data is not kept once the batch is settled. A file
    the store cannot delete now keeps its name on the row and is deleted by the next
    ``order_import_purge_stale``."""
    for f in OrderImportFile.objects.filter(batch_id=batch_pk).exclude(file=""):
        if store_delete(f.file.storage, f.file.name):
            f.file.name = ""
            f.save(update_fields=["file"])


def order_import_purge_stale(*, now=None) -> int:
    """Gives up previews nobody confirmed within DESK_IMPORT_PREVIEW_HOURS and deletes their
    files. Returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.DESK_IMPORT_PREVIEW_HOURS)
    stale = list(
        OrderImport.objects.filter(status=B.PREVIEWED, created_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    for pk in stale:
        with transaction.atomic():
            updated = OrderImport.objects.filter(pk=pk, status=B.PREVIEWED).update(
                status=B.DISCARDED, updated_at=now
            )
            if updated:
                transaction.on_commit(lambda pk=pk: _forget_files(pk))
    # Files of settled batches that the store could not delete at the time (it was down).
    left = (
        OrderImportFile.objects.exclude(file="")
        .exclude(batch__status=B.PREVIEWED)
        .values_list("batch_id", flat=True)
        .distinct()
    )
    for pk in list(left):
        _forget_files(pk)
    return len(stale)


def upload_shop(*, actor: User, chosen: Shop | None, files: dict[str, UploadedFile]) -> Shop:
    """The shop a web upload is for: the one the user chose, or, when they chose none, the
    one the order file's 店铺名称 names if it is one of the user's active shops. A file naming
    another shop than the chosen one is refused with both names."""
    named = next(
        (
            name
            for upload in files.values()
            if (name := named_shop(getattr(upload, "file", upload)))
        ),
        "",
    )
    if chosen is not None:
        if named and fold(named) != fold(chosen.name):
            raise DeskError(
                _("所选店铺是“%(chosen)s”，但文件里的店铺名称是“%(named)s”。请核对店铺或文件。")
                % {"chosen": chosen.name, "named": named}
            )
        return chosen
    if not named:
        raise DeskError(_("请选择店铺：文件里没有店铺名称。"))
    shops = visible_shops(actor).filter(is_active=True)
    shop = next((s for s in shops if fold(s.name) == fold(named)), None)
    if shop is None:
        raise DeskError(
            _("文件里的店铺名称“%(named)s”不是你负责的店铺，请选择店铺。") % {"named": named}
        )
    return shop


def order_import_upload(
    *, actor: User, shop: Shop | None, files: dict[str, UploadedFile]
) -> OrderImport:
    """Stores the uploaded exports privately and previews the import. ``files`` maps a kind
    ("orders", "items", "refunds") to its upload; ``shop`` None means the shop the order
    file names (``upload_shop``). The batch comes back previewed (ready to confirm) or
    refused (with the bad rows in its report)."""
    require_perm(actor, "tickets.add_orderimport")
    if shop is not None and not visible_shops(actor).filter(pk=shop.pk).exists():
        raise PermissionDenied
    if not files:
        raise DeskError(_("请至少选择一个文件。"))
    shop = upload_shop(actor=actor, chosen=shop, files=files)
    limit = settings.DESK_IMPORT_MAX_BYTES
    for upload in files.values():
        if upload.size > limit:
            raise DeskError(
                _("文件“%(name)s”超过 %(mb)s MB。")
                % {"name": upload.name, "mb": limit // (1024 * 1024)}
            )
    order_import_purge_stale()
    with transaction.atomic():
        batch = OrderImport.objects.create(
            shop=shop, created_by=actor, source=OrderImport.Source.WEB
        )
        for kind, upload in files.items():
            stored = OrderImportFile(
                batch=batch,
                kind=kind,
                original_name=(upload.name or "")[:255],
                sha256=_sha256(upload),
                size_bytes=upload.size,
            )
            try:
                store_save(stored.file, "upload.csv", upload)
            except StoreError as exc:  # the batch and its rows roll back; no file stays
                for kept in batch.files.exclude(file=""):
                    store_delete(kept.file.storage, kept.file.name)
                raise DeskError(exc.message) from exc
            stored.save()
    report = _run(batch, actor=actor, dry_run=True)
    data = report.as_dict()
    _seen_before(batch, data)
    batch.report = data
    batch.error_count = report.error_count
    batch.status = B.PREVIEWED if report.ok else B.REFUSED
    batch.save(update_fields=["report", "error_count", "status", "updated_at"])
    if batch.status == B.REFUSED:
        _forget_files(batch.pk)
    return batch


def order_import_apply(*, actor: User, batch: OrderImport) -> OrderImport:
    """Imports a previewed batch, all or nothing. Only the person who uploaded it may; the
    same confirmation posted twice imports once."""
    require_perm(actor, "tickets.add_orderimport")
    with transaction.atomic():
        batch = OrderImport.objects.select_for_update().get(pk=batch.pk)
        if batch.created_by_id != actor.pk:
            raise DeskError(_("只有上传文件的人可以确认导入。"))
        if batch.status == B.APPLIED:
            raise DeskError(_("这批文件已经导入过了。"))
        if batch.status != B.PREVIEWED:
            raise DeskError(
                _("这批文件的状态是“%(status)s”，不能再导入。请重新上传。")
                % {"status": batch.get_status_display()}
            )
        if batch.created_at < timezone.now() - timedelta(hours=settings.DESK_IMPORT_PREVIEW_HOURS):
            raise DeskError(_("预览已过期，请重新上传文件。"))
        report = _run(batch, actor=actor, dry_run=False)
        data = report.as_dict()
        previewed = batch.report.get("files", {})
        for kind, info in data["files"].items():
            if "seen_before" in previewed.get(kind, {}):
                info["seen_before"] = previewed[kind]["seen_before"]
        batch.report = data
        batch.error_count = report.error_count
        batch.status = B.APPLIED if report.applied else B.REFUSED
        batch.applied_at = timezone.now() if report.applied else None
        batch.save(update_fields=["report", "error_count", "status", "applied_at", "updated_at"])
        transaction.on_commit(lambda: _forget_files(batch.pk))
    return batch


def order_import_discard(*, actor: User, batch: OrderImport) -> OrderImport:
    """Gives up a preview; its files are deleted."""
    require_perm(actor, "tickets.add_orderimport")
    with transaction.atomic():
        batch = OrderImport.objects.select_for_update().get(pk=batch.pk)
        if batch.created_by_id != actor.pk:
            raise DeskError(_("只有上传文件的人可以放弃这批文件。"))
        if batch.status != B.PREVIEWED:
            raise DeskError(_("这批文件已经处理过了。"))
        batch.status = B.DISCARDED
        batch.save(update_fields=["status", "updated_at"])
        transaction.on_commit(lambda: _forget_files(batch.pk))
    return batch


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def order_import_from_paths(
    *,
    shop: Shop,
    paths: list[tuple[str | None, Path]],
    actor: User | None = None,
    dry_run: bool = False,
) -> tuple[OrderImport | None, Report]:
    """The command line's import: the files are read where they are (``paths`` pairs an
    expected kind, or None to find out, with a path). A real run leaves a batch row as the
    record of what was imported; a dry run leaves nothing."""
    if actor is not None:
        require_perm(actor, "tickets.add_orderimport")
    with ExitStack() as stack:
        uploads = [
            Upload(kind, path.name, stack.enter_context(path.open("rb"))) for kind, path in paths
        ]
        report = import_files(shop=shop, uploads=uploads, actor=actor, dry_run=dry_run)
    if dry_run:
        return None, report
    data = report.as_dict()
    with transaction.atomic():
        batch = OrderImport.objects.create(
            shop=shop,
            source=OrderImport.Source.COMMAND,
            created_by=actor,
            status=B.APPLIED if report.applied else B.REFUSED,
            error_count=report.error_count,
            applied_at=timezone.now() if report.applied else None,
        )
        by_name = {info["name"]: (kind, info) for kind, info in data["files"].items()}
        for _kind, path in paths:
            if path.name not in by_name:
                continue
            kind, info = by_name[path.name]
            OrderImportFile.objects.create(
                batch=batch,
                kind=kind,
                original_name=path.name[:255],
                sha256=_file_sha256(path),
                size_bytes=path.stat().st_size,
                encoding=info["encoding"],
                row_count=info["rows"],
                column_count=info["columns"],
            )
        _seen_before(batch, data)
        batch.report = data
        batch.save(update_fields=["report"])
    return batch, report
