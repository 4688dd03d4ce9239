"""Orders (with their items) and refunds in, as JSON records, with exactly the semantics of
the CSV import (issue 16: one rule, two doors).

Each record is turned into the row the seller centre's export would have (a field named as in
``tickets/imports/columns.toml``, its value the cell's text) and imported by
``tickets.imports.run.import_sources``: the same cleaning and validation, status only
forward (closed from anywhere, final), unchanged rows left alone, all or nothing per batch with
every bad record named. An order's field the record does not send - left out, or null - is
not sent: the desk keeps what it has (issue 16 third review 4: a record without the receiver's
phone wiped it); "" clears it, as an empty cell of a file does. An item's or a refund's field
not sent is an empty cell, as in a file: those records are whole, as the exports carry them.
An ``Idempotency-Key`` makes the same batch sent twice import once: the second answer is the
first one's, and nothing runs.
"""

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tickets.imports.cleaning import SELLER_CENTRE_TZ
from tickets.imports.layout import Layout, mapping
from tickets.imports.orders import NOT_SENT
from tickets.imports.reading import UNSTORABLE
from tickets.imports.report import KEEP_PROBLEMS, Report
from tickets.imports.run import Source, import_sources
from tickets.models import Shop

from .errors import BatchRefused, Conflict
from .models import ApiBatch, ApiToken

# The record fields of each kind: the mapping's fields (columns.toml) but the shop's name, the
# shop being the batch's; an order's items carry their order's number from the order.
ORDER_FIELDS = tuple(f for f in mapping().fields["orders"] if f != "shop_name")
ITEM_FIELDS = tuple(f for f in mapping().fields["items"] if f != "order_no")
REFUND_FIELDS = tuple(mapping().fields["refunds"])
# The longest text one field may hold (a file's cell may hold 1 MiB; no column of the desk
# holds more than a remark, and a remark past this is no order's).
MAX_TEXT = 10_000
# The most fields one record may have: every kind has fewer than 40 (columns.toml), so a record
# with more is no record of the desk's and is refused at once, its keys unread (a record of a
# million unknown keys must not cost a million problems).
MAX_KEYS = 100
# The most digits a number may have (an int of a million digits is slow to write as text).
MAX_DIGITS = 30
# The fields that hold a time: besides the seller centre's "2026-11-01 10:00:00" (Beijing
# time) they take ISO 8601 as the rest of the API speaks it, turned into Beijing time.
TIME_FIELDS = frozenset(
    {"placed_at", "paid_at", "shipped_at", "ship_by", "timeout_at", "applied_at"}
)
_ISO_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?"
    r"| \d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2}))"
)


class Problems:
    """The shape problems of a batch: every one counted (``count``), the first
    ``KEEP_PROBLEMS`` (200) kept (``kept``: ``{"record", "field", "message"}``), as ``Report``
    keeps an import's errors. A problem past the cap is only counted, its message never
    made."""

    def __init__(self):
        self.kept: list[dict] = []
        self.count = 0

    def __bool__(self) -> bool:
        return self.count > 0

    @property
    def full(self) -> bool:
        return len(self.kept) >= KEEP_PROBLEMS

    def add(self, record: str, field: str, message) -> None:
        """Counts a problem and keeps it while fewer than 200 are kept. ``message``: text,
        or a callable making it (called only when kept)."""
        self.count += 1
        if not self.full:
            text = message() if callable(message) else message
            self.kept.append({"record": record, "field": field, "message": str(text)})


class RecordError(Exception):
    """The batch's JSON is not records of the documented shape; ``details`` says where (the
    first 200), ``error_count`` how many problems there are in all."""

    def __init__(self, details: list[dict], error_count: int | None = None):
        super().__init__(details)
        self.details = details
        self.error_count = len(details) if error_count is None else error_count


def clean_name(text: str, limit: int = 60) -> str:
    """A name the client sent (a field's, a shop's code), fit to be echoed in an answer: the
    characters no text of the desk may hold (``reading.UNSTORABLE``: lone surrogates, which
    no JSON encoder can write as UTF-8, controls) dropped, cut to ``limit`` characters."""
    return UNSTORABLE.sub("", str(text)[: limit * 2])[:limit]


def iso_to_beijing(text: str) -> str:
    """An ISO 8601 time ('2026-11-01T10:00:00Z', '2026-11-01T18:00:00+08:00',
    '2026-11-01 10:00+08:00'; a 'T' time without a zone is Beijing time) as the seller
    centre writes it, in Beijing time ('2026-11-01 18:00:00', the CSV import's reading).
    Any other text is returned as it is, for the import's own check to judge."""
    if not _ISO_TIME.fullmatch(text):
        return text
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is not None:
            moment = moment.astimezone(SELLER_CENTRE_TZ)
    except (ValueError, OverflowError):
        return text
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment.year >= 1000 else text


def _cell(value, where: str, field: str, problems: Problems) -> str | None:
    """A field's value as the cell text the import reads: text as it is, a whole or decimal
    number as written (never through a float), null (or no value) as ``NOT_SENT``."""
    if value is None:
        return NOT_SENT
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        problems.add(where, field, lambda: _("应为文本或数字。"))
        return ""
    if isinstance(value, int) and abs(value) >= 10**MAX_DIGITS:
        problems.add(where, field, lambda: _("数字超过 %(n)s 位。") % {"n": MAX_DIGITS})
        return ""
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_TEXT:
        problems.add(where, field, lambda: _("内容超过 %(n)s 个字符。") % {"n": MAX_TEXT})
        return ""
    if field in TIME_FIELDS:
        return iso_to_beijing(text)
    return text


def _cells(values: dict, fields: list[str], where: str, problems: Problems) -> list:
    """A record's row: its cells in the layout's order (``NOT_SENT`` for a field the record
    left out or sent as null), then, as the file reader does with a row
    (``reading._records``), the characters no text of the desk may hold dropped
    (``reading.UNSTORABLE``: control characters, noncharacters, lone surrogates)."""
    cells = []
    for name in fields:
        value = values.get(name)
        if type(value) is str and len(value) <= MAX_TEXT and name not in TIME_FIELDS:
            cells.append(value)  # the common case, without the checks' cost
        else:
            cells.append(_cell(value, where, name, problems))
    joined = "".join(cell for cell in cells if cell)
    # Every character UNSTORABLE names is unprintable: a printable row (most) needs no search.
    if not joined.isprintable() and UNSTORABLE.search(joined):
        cells = [cell and UNSTORABLE.sub("", cell) for cell in cells]
    return cells


@dataclass
class _Records:
    """Records of one kind turned into rows: their layout, their cells by record, and which
    record each line number is (``lines``: line -> "orders[3]")."""

    kind: str
    layout: Layout
    rows: list[tuple[int, list[str]]]
    lines: dict[int, str]

    def source(self) -> Source:
        return Source(self.kind, iter(self.rows), self.layout, self.kind)


def _layout(kind: str, fields: list[str]) -> Layout:
    """The layout of a "file" whose columns are ``fields``, labelled by the field's own name
    (so a message names the JSON field); required fields of ``kind`` absent from every
    record are ``missing``."""
    specs = mapping().fields[kind]
    missing = tuple(name for name, spec in specs.items() if spec.required and name not in fields)
    return Layout(
        kind=kind,
        columns={name: index for index, name in enumerate(fields)},
        labels={name: name for name in fields},
        missing=missing,
        unused=(),
        column_count=len(fields),
    )


def _to_rows(
    kind: str,
    records: list[tuple[str, dict, dict]],
    allowed: tuple[str, ...],
    problems: Problems,
) -> _Records:
    """``records``: (where, fields, fixed fields such as an item's order number), each record
    of at most ``MAX_KEYS`` fields (``_objects`` refused the others). A field not in
    ``allowed`` is a problem naming it (cleaned, ``clean_name``)."""
    present = {key for _where, record, fixed in records for key in (*record, *fixed)}
    fields = [name for name in mapping().fields[kind] if name in present]
    layout = _layout(kind, fields)
    known = frozenset(allowed)
    rows, lines = [], {}
    for line, (where, record, fixed) in enumerate(records, start=1):
        if not known.issuperset(record):
            unknown = [key for key in record if key not in known]
            if problems.full:
                problems.count += len(unknown)  # past the cap: counted, nothing made
            else:
                for key in unknown:
                    problems.add(where, clean_name(key), lambda: _("不认识的字段。"))
        values = {**record, **fixed} if fixed else record
        rows.append((line, _cells(values, fields, where, problems)))
        lines[line] = where
    return _Records(kind, layout, rows, lines)


def _records_list(data, key: str, problems: Problems, *, required: bool) -> list:
    value = data.get(key) if isinstance(data, dict) else None
    if value is None and not required:
        return []
    if not isinstance(value, list):
        problems.add("", key, lambda: _("应为记录的列表。"))
        return []
    return value


def _objects(values: list, prefix: str, problems: Problems) -> Iterator[tuple[str, dict]]:
    """The records of ``values`` that are objects of at most ``MAX_KEYS`` fields, with where
    each is ("orders[3]"); the others are problems, and are not yielded."""
    for index, value in enumerate(values):
        where = f"{prefix}[{index}]"
        if not isinstance(value, dict):
            problems.add(where, "", lambda: _("应为一个对象。"))
            continue
        if len(value) > MAX_KEYS:
            problems.add(where, "", lambda: _("一条记录最多 %(n)s 个字段。") % {"n": MAX_KEYS})
            continue
        yield where, value


def _check_size(count: int, what: str, problems: Problems) -> None:
    limit = settings.DESK_API_MAX_RECORDS
    if count > limit:
        problems.add("", what, lambda: _("一批最多 %(n)s 条记录，请分成几批发送。") % {"n": limit})


def _refuse(problems: Problems) -> None:
    if problems:
        raise RecordError(problems.kept, problems.count)


def order_records(data) -> list[_Records]:
    """The order and item "files" of an orders batch (``{"orders": [{…, "items": […]}]}``).
    Raises ``RecordError`` when the JSON is not of that shape (an unknown field, a record of
    more than ``MAX_KEYS`` fields, a value that is neither text nor a number, too many
    records): its first 200 problems, and how many in all."""
    problems = Problems()
    orders = _records_list(data, "orders", problems, required=True)
    _check_size(len(orders), "orders", problems)
    order_rows, item_rows = [], []
    if not problems:
        for where, record in _objects(orders, "orders", problems):
            fields = {k: v for k, v in record.items() if k != "items"}
            order_rows.append((where, fields, {}))
            if "items" not in record:
                continue
            items = record["items"]
            if not isinstance(items, list):
                problems.add(where, "items", lambda: _("应为记录的列表。"))
                continue
            if len(item_rows) + len(items) > settings.DESK_API_MAX_RECORDS:
                _check_size(len(item_rows) + len(items), "items", problems)
                break
            for item_where, item in _objects(items, f"{where}.items", problems):
                item_rows.append((item_where, item, {"order_no": record.get("order_no")}))
    found = [_to_rows("orders", order_rows, ORDER_FIELDS, problems)]
    if item_rows:
        found.append(_to_rows("items", item_rows, ITEM_FIELDS, problems))
    _refuse(problems)
    return found


def refund_records(data) -> list[_Records]:
    """The refund "file" of a refunds batch (``{"refunds": […]}``); ``RecordError`` as for
    ``order_records``."""
    problems = Problems()
    refunds = _records_list(data, "refunds", problems, required=True)
    _check_size(len(refunds), "refunds", problems)
    rows = []
    if not problems:
        rows = [(where, record, {}) for where, record in _objects(refunds, "refunds", problems)]
    found = [_to_rows("refunds", rows, REFUND_FIELDS, problems)]
    _refuse(problems)
    return found


def _named(problems, by_kind: dict[str, _Records]) -> list[dict]:
    """The report's problems with each line turned back into its record ("orders[3]")."""
    out = []
    for problem in problems:
        records = by_kind.get(problem.file)
        where = records.lines.get(problem.line, "") if records and problem.line else ""
        out.append(
            {"record": where or problem.file, "field": problem.column, "message": problem.message}
        )
    return out


def _answer(report: Report, by_kind: dict[str, _Records]) -> dict:
    return {
        "applied": report.applied,
        "replayed": False,
        "counts": {kind: report.counted(kind) for kind in report.counts},
        "warnings": _named(report.warnings, by_kind),
        "warning_count": report.warning_count,
    }


def body_digest(data) -> str:
    """SHA-256 of a batch's JSON written in one canonical way (keys sorted), so the same batch
    sent again with its keys in another order is still the same batch."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def batch_import(
    *,
    token: ApiToken,
    shop: Shop,
    kind: str,
    records: list[_Records],
    key: str | None = None,
    body_sha256: str = "",
) -> dict:
    """Imports one batch for ``shop`` as ``token``'s account, all or nothing, and returns the
    answer (``applied``, ``replayed``, ``counts`` per kind as the import page counts them,
    ``warnings``). ``kind`` is an ``ApiBatch.Kind``.

    With ``key`` (the client's Idempotency-Key): a batch already applied under that key for
    this token returns its answer with ``replayed`` true and imports nothing; the key used for
    a different body raises ``Conflict``. Two requests with one key at once import once (the
    key's row is unique, written in the import's transaction). Raises ``BatchRefused`` naming
    every bad record (the first ``KEEP_PROBLEMS``; ``error_count`` all) when any is bad:
    nothing was imported then, and the key stays free."""
    # A kind with no record is no file at all (an empty batch imports nothing, and says so).
    records = [found for found in records if found.rows]
    by_kind = {r.kind: r for r in records}
    with transaction.atomic():
        if key:
            done = _claim_key(token=token, shop=shop, kind=kind, key=key, digest=body_sha256)
            if done is not None:
                return done
        report = Report()
        for found in records:
            if found.layout.missing:
                report.error(
                    found.kind,
                    None,
                    "",
                    _("“%(kind)s”缺少必需的字段：%(fields)s。")
                    % {"kind": found.kind, "fields": "、".join(found.layout.missing)},
                )
        import_sources(
            shop=shop,
            sources=[found.source() for found in records],
            report=report,
            actor=token.user,
        )
        if not report.applied:
            transaction.set_rollback(True)
            raise BatchRefused(
                ngettext(
                    "这批记录有 %(n)s 处错误，什么都没有导入。请改正后整批重新发送。",
                    "这批记录有 %(n)s 处错误，什么都没有导入。请改正后整批重新发送。",
                    report.error_count,
                )
                % {"n": report.error_count},
                _named(report.errors, by_kind),
                report.error_count,
            )
        answer = _answer(report, by_kind)
        if key:
            ApiBatch.objects.filter(token=token, key=key).update(report=answer)
    return answer


def _claim_key(*, token: ApiToken, shop: Shop, kind: str, key: str, digest: str) -> dict | None:
    """Takes ``key`` for this batch (None), or returns the answer of the batch that already
    took it (``replayed``). A concurrent batch with the same key waits here for the first to
    finish (the unique index), then finds its row, or the key free if it was refused."""
    try:
        with transaction.atomic():
            ApiBatch.objects.create(
                token=token, kind=kind, key=key, body_sha256=digest, shop=shop, report={}
            )
        return None
    except IntegrityError:
        pass
    done = ApiBatch.objects.get(token=token, key=key)
    if done.body_sha256 != digest or done.kind != kind or done.shop_id != shop.pk:
        raise Conflict(
            _("幂等键“%(key)s”已经用于另一批记录。每批记录请用新的幂等键。") % {"key": key}
        )
    return {**done.report, "replayed": True}
