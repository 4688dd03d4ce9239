"""One import run: check the files, then read them into the desk in one transaction.

A run either imports everything it was given or nothing: every row is checked and written
inside one transaction, and if any row (or file) is bad, or the run is a preview, the
transaction is rolled back. A preview therefore counts exactly what the import would do.
"""

import logging
import zlib
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from tickets.models import Courier, Shop, User

from .cleaning import clean_text
from .items import import_items
from .layout import Layout, detect_kind, resolve_layout
from .orders import Context, CourierMatcher, import_orders
from .reading import ImportFileError, open_csv
from .refunds import import_refunds
from .report import Report

logger = logging.getLogger(__name__)

# Orders first, so their items and refunds find them.
KIND_ORDER = ("orders", "items", "refunds")
# pg_advisory_xact_lock(namespace, key): the namespace keeps the imports' locks apart from
# other advisory locks (finance_exports uses its own).
_LOCK_NAMESPACE = zlib.crc32(b"tickets.imports.shop") & 0x7FFFFFFF


def _serialise_per_shop(shop: Shop) -> None:
    """Imports into one shop, one at a time, until the transaction ends (PostgreSQL; SQLite
    takes one writer at a time anyway). Two batches with the same new orders or the same new
    refund number at once - an ERP that sends again before the first answer came, a file
    uploaded while the API sends - would both find nothing stored and both insert: the second
    broke on the unique index (a 500, or PostgreSQL's text in the answer; issue 16 third
    review 1, 2). Held, the second reads what the first committed (READ COMMITTED reads anew
    on every statement) and updates it or leaves it unchanged, as a repeat."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, shop.pk])


def kind_label(kind: str | None) -> str:
    return {
        "orders": _("订单文件"),
        "items": _("宝贝明细文件"),
        "refunds": _("退款文件"),
    }.get(kind, _("未知文件"))


@dataclass
class Upload:
    """A file to import: ``kind`` as the user said (None: find out from its headers),
    ``name`` as shown in messages, ``file`` a seekable binary file."""

    kind: str | None
    name: str
    file: BinaryIO


def named_shop(binary: BinaryIO) -> str:
    """The first 店铺名称 an order export names ("" for another export, a file without the
    column or one that can't be read: the import itself reports what is wrong with it). Every
    row is still checked against the batch's shop when the file is imported. ``binary`` is
    left at its start."""
    try:
        with open_csv(binary) as opened:
            if detect_kind(opened.header) != "orders":
                return ""
            layout = resolve_layout("orders", opened.header)
            if not layout.has("shop_name"):
                return ""
            column = layout.columns["shop_name"]
            for _line, cells in opened.rows:
                name = clean_text(cells[column]) if column < len(cells) else ""
                if name:
                    return name
    except ImportFileError:
        pass
    finally:
        binary.seek(0)
    return ""


def _counted(rows: Iterator, info: dict) -> Iterator:
    for row in rows:
        info["rows"] += 1
        yield row


@dataclass
class Source:
    """Records of one kind to import: ``rows`` yields (line, cells) with the cells where
    ``layout`` says, ``name`` is what messages call it (a file's name; the API's record list)."""

    kind: str
    rows: Iterator[tuple[int, list[str]]]
    layout: Layout
    name: str


def import_sources(
    *,
    shop: Shop,
    sources: list[Source],
    report: Report,
    actor: User | None = None,
    dry_run: bool = False,
) -> Report:
    """Imports ``sources`` (at most one of each kind, read orders first) for ``shop`` into the
    desk in one transaction, all or nothing, adding to ``report``: every row is cleaned,
    checked and written by ``import_orders`` / ``import_items`` / ``import_refunds``, the rules
    of the seller-centre import, whichever door the records came through (a file here, the
    API's JSON in ``api.batches``). Nothing is written when ``report`` already holds an error,
    when any row is bad, or with ``dry_run``; ``report.applied`` says whether it was kept.
    Refunds need ``actor`` (the ticket services act as someone)."""
    if not report.ok:
        return report
    ctx = Context(
        shop=shop,
        report=report,
        couriers=CourierMatcher(Courier.objects.all()),
        ship_within=timedelta(hours=settings.DESK_SHIP_WITHIN_HOURS),
    )
    with transaction.atomic():
        _serialise_per_shop(shop)
        for source in sorted(sources, key=lambda s: KIND_ORDER.index(s.kind)):
            try:
                if source.kind == "orders":
                    import_orders(source.rows, source.layout, source.name, ctx)
                elif source.kind == "items":
                    import_items(source.rows, source.layout, source.name, ctx)
                else:
                    import_refunds(source.rows, source.layout, source.name, ctx, actor)
            except ImportFileError as exc:
                report.error(source.name, None, "", exc.message)
        report.check_excel_padding()
        report.applied = report.ok and not dry_run
        if not report.applied:
            transaction.set_rollback(True)
    return report


def import_files(
    *, shop: Shop, uploads: list[Upload], actor: User | None = None, dry_run: bool = False
) -> Report:
    """Imports the given exports for ``shop``. Returns the report; ``report.applied`` says
    whether anything was kept (never when ``dry_run`` or when anything was wrong)."""
    report = Report()
    with ExitStack() as stack:
        ready = []
        for upload in uploads:
            try:
                opened = stack.enter_context(open_csv(upload.file))
            except ImportFileError as exc:
                report.error(upload.name, None, "", exc.message)
                continue
            kind = detect_kind(opened.header)
            if kind is None or (upload.kind is not None and kind != upload.kind):
                expected = kind_label(upload.kind or "orders")
                found = _("它看起来是%(kind)s。") % {"kind": kind_label(kind)} if kind else ""
                report.error(
                    upload.name,
                    1,
                    "",
                    _("表头不像卖家中心导出的%(expected)s。%(found)s")
                    % {"expected": expected, "found": found},
                )
                continue
            if kind in report.files:
                report.error(
                    upload.name,
                    None,
                    "",
                    _("一次只能导入一个%(kind)s。") % {"kind": kind_label(kind)},
                )
                continue
            layout = resolve_layout(kind, opened.header)
            if layout.missing:
                report.error(
                    upload.name,
                    1,
                    "",
                    _("%(kind)s缺少必需的列：%(columns)s。")
                    % {"kind": kind_label(kind), "columns": "、".join(layout.missing)},
                )
                continue
            if kind == "refunds" and actor is None:
                report.error(upload.name, None, "", _("导入退款文件需要指定操作人。"))
                continue
            info = {
                "name": upload.name,
                "kind": kind,
                "encoding": opened.encoding_label,
                "columns": layout.column_count,
                "unused_columns": list(layout.unused),
                "rows": 0,
            }
            report.files[kind] = info
            ready.append((kind, _counted(opened.rows, info), layout, upload.name))
        import_sources(
            shop=shop,
            sources=[Source(kind, rows, layout, name) for kind, rows, layout, name in ready],
            report=report,
            actor=actor,
            dry_run=dry_run,
        )
    logger.info(
        "import shop=%s dry_run=%s applied=%s errors=%s counts=%s",
        shop.code,
        dry_run,
        report.applied,
        report.error_count,
        {kind: report.counted(kind) for kind in report.counts if report.counted(kind)},
    )
    return report
