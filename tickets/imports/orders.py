"""Orders from the seller centre's order export, upserted in chunks (their items: ``items``).

Rows are read one at a time and written a chunk at a time with bulk queries, so memory stays
flat however long the file is. An order is matched by shop + order number: new ones are
created, changed ones updated, identical ones left alone. A status only moves forward
(waiting for payment → paid → shipped → success); "closed" is accepted from any status and is
final, so an older export re-imported later never undoes what a newer one said.
"""

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.models import Courier, Order, OrderChange, OrderItem, Shop
from tickets.selectors import paid_out_by_order
from tickets.text import EXCEL_DIGITS, digits_lost

from .bulk import ANALYZE_EVERY_ROWS, insert_rows, refresh_statistics, row_defaults
from .cleaning import (
    CellError,
    clean_amount,
    clean_datetime,
    clean_identifier,
    clean_order_no,
    clean_phone,
    clean_text,
    clean_tracking_no,
    split_address,
)
from .layout import Layout, fold, mapping
from .report import Report

logger = logging.getLogger(__name__)

CHUNK_ROWS = 1000
S = Order.Status
_FORWARD = {S.WAITING_PAYMENT: 0, S.PAID: 1, S.SHIPPED: 2, S.SUCCESS: 3}

# Which order fields each mapped column of the order file feeds.
_ORDER_FIELDS = {
    "buyer_nick": ("buyer_nick",),
    "status": ("status",),
    "placed_at": ("placed_at",),
    "buyer_alipay_account": ("buyer_alipay_account",),
    "alipay_no": ("alipay_no",),
    "goods_amount": ("goods_amount",),
    "postage": ("postage",),
    "total_amount": ("total_amount",),
    "paid_amount": ("paid_amount",),
    "buyer_message": ("buyer_message",),
    "receiver_name": ("receiver_name",),
    "address": (
        "receiver_province",
        "receiver_city",
        "receiver_district",
        "receiver_address",
        "receiver_postcode",
    ),
    "mobile": ("receiver_phone", "receiver_phone_tail"),
    "phone": ("receiver_phone", "receiver_phone_tail"),
    "paid_at": ("paid_at", "ship_by"),
    "ship_by": ("ship_by",),
    "shipped_at": ("shipped_at",),
    "courier": ("courier_id",),
    "tracking_no": ("tracking_no",),
    "remark": ("remark",),
    "flag_memo": ("flag_memo",),
    "invoice_title": ("invoice_title",),
    "closed_reason": ("closed_reason",),
}
# Text too long for its column: identifiers are refused, descriptions shortened with a warning.
_IDENTIFIERS = {"buyer_nick", "alipay_no", "tracking_no", "order_no", "sub_order_no", "sku_code"}
_TEXT_LIMITS = {
    f.attname: f.max_length
    for model in (Order, OrderItem)
    for f in model._meta.concrete_fields
    if getattr(f, "max_length", None) and f.get_internal_type() == "CharField"
}


def status_moves_forward(current: str, incoming: str) -> bool:
    """Whether an export saying ``incoming`` may replace ``current``: forward only, except
    that "closed" (closed or refunded) always applies and nothing follows it."""
    if incoming == S.CLOSED:
        return True
    if current == S.CLOSED:
        return False
    return _FORWARD[incoming] >= _FORWARD[current]


class CourierMatcher:
    """The desk's courier for a name in the export: '中通快递', 'ZTO', '顺丰' ..."""

    _SUFFIXES = ("快递包裹", "速递", "速运", "快递", "快运", "物流")

    def __init__(self, couriers: Iterable[Courier]):
        self.exact, self.stems = {}, []
        for courier in couriers:
            self.exact[fold(courier.name).casefold()] = courier
            self.exact[fold(courier.code).casefold()] = courier
            stem = fold(courier.name).casefold()
            for suffix in self._SUFFIXES:
                stem = stem.removesuffix(suffix)
            if len(stem) >= 2:
                self.stems.append((stem, courier))
        self.stems.sort(key=lambda pair: len(pair[0]), reverse=True)

    def match(self, text: str) -> Courier | None:
        key = fold(text).casefold()
        if key in self.exact:
            return self.exact[key]
        return next((courier for stem, courier in self.stems if stem in key), None)


@dataclass
class Context:
    """What one import run shares between its files."""

    shop: Shop
    report: Report
    couriers: CourierMatcher
    ship_within: timedelta
    now: object = field(default_factory=timezone.now)
    # Order numbers whose row was refused, so their item rows are not reported again.
    refused_orders: set[str] = field(default_factory=set)
    _defaults: dict = field(default_factory=dict)
    _unanalysed: Counter = field(default_factory=Counter)

    def defaults(self, model) -> dict:
        """Column defaults for new rows of ``model``, worked out once per run."""
        if model not in self._defaults:
            self._defaults[model] = row_defaults(model)
        return self._defaults[model]

    def wrote(self, model, rows: int) -> None:
        """Counts new rows; refreshes the table's statistics when many have come in."""
        self._unanalysed[model] += rows
        if self._unanalysed[model] >= ANALYZE_EVERY_ROWS:
            refresh_statistics(model)
            self._unanalysed[model] = 0


# A cell a record did not send (the API's JSON record without the field, or with null): read
# as an empty cell, but an order's field not sent keeps what the desk has (``_Row.has``),
# where an empty cell - a file's, or the JSON's "" - clears it (issue 16 third review 4).
NOT_SENT = None


class _Row:
    """One record of a file, read by field name."""

    __slots__ = ("cells", "layout", "line", "name", "ok", "report")

    def __init__(self, cells: list[str], layout: Layout, line: int, name: str, report: Report):
        self.cells, self.layout, self.line, self.name = cells, layout, line, name
        self.report, self.ok = report, True

    def raw(self, field_name: str) -> str:
        index = self.layout.columns.get(field_name)
        if index is None or index >= len(self.cells):
            return ""
        return self.cells[index] or ""

    def has(self, field_name: str) -> bool:
        """Whether this record gives ``field_name`` at all: its file has the column and the
        record's cell is not ``NOT_SENT`` (a JSON record that left the field out or sent
        null; a file's cell, even empty, is always given)."""
        index = self.layout.columns.get(field_name)
        return index is not None and index < len(self.cells) and self.cells[index] is not NOT_SENT

    def take(self, field_name: str, cleaner, *args, **kwargs):
        """The cleaned value, or None after reporting the cell as bad. An identifier longer
        than Excel's 15 digits is noted for ``Report.check_excel_padding``."""
        try:
            value = cleaner(self.raw(field_name), *args, **kwargs)
        except CellError as exc:
            self.refuse(field_name, exc.message)
            return None
        if isinstance(value, str) and len(value) > EXCEL_DIGITS and value.isdecimal():
            column = self.layout.labels.get(field_name, "")
            self.report.long_number(self.name, self.line, column, value)
        return value

    def refuse(self, field_name: str, message: str) -> None:
        self.ok = False
        self.report.error(self.name, self.line, self.layout.labels.get(field_name, ""), message)

    def warn(self, field_name: str, message: str) -> None:
        self.report.warn(self.name, self.line, self.layout.labels.get(field_name, ""), message)

    def fit(self, values: dict, field_by_attr: dict[str, str]) -> None:
        """Refuses identifiers longer than their column; shortens long descriptions."""
        for attr, value in values.items():
            limit = _TEXT_LIMITS.get(attr)
            if limit is None or not isinstance(value, str) or len(value) <= limit:
                continue
            source = field_by_attr.get(attr, attr)
            if attr in _IDENTIFIERS:
                self.refuse(source, _("内容超过 %(limit)s 个字符。") % {"limit": limit})
            else:
                values[attr] = value[:limit]
                self.warn(source, _("内容超过 %(limit)s 个字符，已截断。") % {"limit": limit})


def _rows(records: Iterator[tuple[int, list[str]]], layout, name, report) -> Iterator[_Row]:
    for line, cells in records:
        yield _Row(cells, layout, line, name, report)


# --- the order file ---------------------------------------------------------------------
def order_fields(layout: Layout) -> list[str]:
    """The order fields this layout provides (the others are never touched)."""
    fields = []
    for column, attrs in _ORDER_FIELDS.items():
        if layout.has(column):
            fields.extend(a for a in attrs if a not in fields)
    return fields


def _order_values(row: _Row, ctx: Context) -> tuple[str, dict] | None:
    order_no = row.take("order_no", clean_order_no)
    values: dict = {}
    source: dict[str, str] = {}
    nick = clean_text(row.raw("buyer_nick"))
    if not nick:
        row.refuse("buyer_nick", _("缺少买家会员名。"))
    values["buyer_nick"] = nick
    status_text = clean_text(row.raw("status"))
    status = mapping().order_statuses.get(fold(status_text))
    if status is None:
        row.refuse("status", _("未知的订单状态“%(value)s”。") % {"value": status_text})
    values["status"] = status
    placed_at = row.take("placed_at", clean_datetime)
    if placed_at is None and row.ok:
        row.refuse("placed_at", _("缺少订单创建时间。"))
    values["placed_at"] = placed_at
    for name in ("goods_amount", "postage", "total_amount", "paid_amount"):
        if row.has(name):
            values[name] = row.take(name, clean_amount)
    for name in ("paid_at", "shipped_at", "ship_by"):
        if row.has(name):
            values[name] = row.take(name, clean_datetime)
    if row.has("paid_at") and not row.has("ship_by"):
        paid_at = values.get("paid_at")
        values["ship_by"] = paid_at + ctx.ship_within if paid_at else None
    for name in ("buyer_message", "receiver_name", "remark"):
        if row.has(name):
            values[name] = clean_text(row.raw(name))
    if row.has("buyer_alipay_account"):
        account = clean_text(row.raw("buyer_alipay_account"))
        if digits_lost(account):  # an account that is a phone number, mangled: left out
            row.warn("buyer_alipay_account", _lost_contact(account))
        else:
            values["buyer_alipay_account"] = account
    for name in ("flag_memo", "invoice_title", "closed_reason"):
        if row.has(name):
            values[name] = clean_text(row.raw(name))
    if row.has("alipay_no"):
        values["alipay_no"] = row.take("alipay_no", clean_identifier, letters=False)
    if row.has("address"):
        address = split_address(row.raw("address"))
        values.update(
            receiver_province=address.province,
            receiver_city=address.city,
            receiver_district=address.district,
            receiver_address=address.detail,
            receiver_postcode=address.postcode,
        )
        source.update(dict.fromkeys(_ORDER_FIELDS["address"], "address"))
    phone = _receiver_phone(row)
    if phone is not None:
        digits = "".join(ch for ch in phone if ch.isdigit())
        values.update(receiver_phone=phone, receiver_phone_tail=digits[-4:])
    if row.has("courier"):
        name = clean_text(row.raw("courier"))
        courier = ctx.couriers.match(name) if name else None
        if name and courier is None:
            row.warn(
                "courier",
                _("物流公司“%(value)s”不在快递公司列表里，物流公司留空。") % {"value": name},
            )
        values["courier_id"] = courier.pk if courier else None
    if row.has("tracking_no"):
        values["tracking_no"] = row.take("tracking_no", clean_tracking_no)
    if row.has("shop_name"):
        shop_name = clean_text(row.raw("shop_name"))
        if shop_name and fold(shop_name) != fold(ctx.shop.name):
            row.refuse(
                "shop_name",
                _("店铺名称“%(value)s”与所选店铺“%(shop)s”不符。")
                % {"value": shop_name, "shop": ctx.shop.name},
            )
    shipped_at = values.get("shipped_at")
    if placed_at and shipped_at and shipped_at < placed_at:
        row.refuse("shipped_at", _("发货时间早于订单创建时间。"))
    source.update({"tracking_no": "tracking_no", "buyer_nick": "buyer_nick"})
    row.fit(values, source)
    if order_no and not row.ok:
        ctx.refused_orders.add(order_no)
    return (order_no, values) if row.ok else None


def _receiver_phone(row: _Row) -> str | None:
    """The receiver's phone from 联系手机, else 联系电话 ("" when the file has none for the
    order). A phone that is not whole - a spreadsheet turned it into scientific notation, it is
    masked - is never stored as if it were the number: the order is imported without it and the
    preview warns with the line and column; an order already in the desk keeps the phone it
    has (None: the phone is left as it is; issue 12, section 4)."""
    lost = False
    for name in ("mobile", "phone"):
        if not row.has(name):
            continue
        try:
            phone = clean_phone(row.raw(name), max_length=_TEXT_LIMITS["receiver_phone"])
        except CellError as exc:
            row.warn(name, exc.message)
            lost = True
            continue
        if phone:
            return phone
    has_phone = row.has("mobile") or row.has("phone")
    return None if lost or not has_phone else ""


def _lost_contact(value: str) -> str:
    return _(
        "“%(value)s”已被表格软件改成科学计数法，原来的内容已经丢失：这个订单导入时不带它"
        "（工作台里已有的保持不变）。请从卖家中心重新导出，不要用 Excel 打开后再保存。"
    ) % {"value": value[:40]}


def import_orders(records, layout: Layout, name: str, ctx: Context) -> None:
    """Upserts every good row of an order file; reports the bad ones."""
    fields = order_fields(layout)
    chunk: list[tuple[int, str, dict]] = []
    for row in _rows(records, layout, name, ctx.report):
        parsed = _order_values(row, ctx)
        if parsed is not None:
            chunk.append((row.line, *parsed))
        if len(chunk) >= CHUNK_ROWS:
            _write_orders(chunk, fields, name, ctx)
            chunk = []
    if chunk:
        _write_orders(chunk, fields, name, ctx)


def _write_orders(chunk: list[tuple[int, str, dict]], fields: list[str], name, ctx) -> None:
    counts = ctx.report.counts["orders"]
    latest: dict[str, tuple[int, dict]] = {}
    for line, order_no, values in chunk:
        if order_no in latest:
            counts["repeated"] += 1
            ctx.report.warn(
                name,
                line,
                "",
                _("订单编号 %(no)s 在第 %(line)s 行已经出现过，以这一行为准。")
                % {"no": order_no, "line": latest[order_no][0]},
            )
        latest[order_no] = (line, values)
    existing = {
        order.order_no: order
        for order in Order.objects.filter(shop=ctx.shop, order_no__in=list(latest)).only(
            "pk", "order_no", "status", *fields
        )
    }
    defaults = ctx.defaults(Order)
    creates, updates, changed_fields = [], [], set()
    lowered: dict[int, tuple[int, Decimal]] = {}
    memos: dict[int, tuple[int, str, str, str]] = {}
    for order_no, (line, values) in latest.items():
        current = existing.get(order_no)
        if current is None:
            creates.append(
                {
                    **defaults,
                    **values,
                    "shop_id": ctx.shop.pk,
                    "order_no": order_no,
                    "created_at": values["placed_at"],
                    "updated_at": ctx.now,
                }
            )
            continue
        if not status_moves_forward(current.status, values["status"]):
            counts["stale"] += 1
            continue
        # A field the row left out (a phone the spreadsheet mangled) keeps what the desk has.
        changed = [f for f in fields if f in values and getattr(current, f) != values[f]]
        if not changed:
            counts["unchanged"] += 1
            continue
        if "paid_amount" in changed and values["paid_amount"] < current.paid_amount:
            lowered[current.pk] = (line, values["paid_amount"])
        if "flag_memo" in changed and current.flag_memo:
            memos[current.pk] = (line, order_no, current.flag_memo, values["flag_memo"])
        for attr in changed:
            setattr(current, attr, values[attr])
        current.updated_at = ctx.now
        changed_fields.update(changed)
        updates.append(current)
    _refuse_paid_below_paid_out(lowered, name, ctx)
    _warn_desk_memo_replaced(memos, name, ctx)
    first, last = chunk[0][0], chunk[-1][0]
    try:
        with transaction.atomic():
            insert_rows(Order, creates)
            if updates:
                Order.objects.bulk_update(
                    updates, [*sorted(changed_fields), "updated_at"], batch_size=500
                )
    except DatabaseError as exc:
        _chunk_failed(ctx.report, name, first, last, exc)
        return
    counts["created"] += len(creates)
    counts["updated"] += len(updates)
    ctx.wrote(Order, len(creates))


def _refuse_paid_below_paid_out(lowered: dict[int, tuple[int, Decimal]], name, ctx) -> None:
    """An export that lowers an order's paid amount below the refunds and compensation already
    recorded on it would let the order's money exceed what the buyer paid (QUALITY.md 18): the
    row is refused, and with it the whole import."""
    if not lowered:
        return
    paid_out = paid_out_by_order(list(lowered))
    for order_id, (line, paid) in lowered.items():
        out = paid_out.get(order_id, Decimal("0"))
        if paid < out:
            ctx.report.error(
                name,
                line,
                "",
                _(
                    "实付金额 ¥%(paid)s 低于这个订单已经退款和赔偿的 ¥%(out)s："
                    "请先在工作台冲销多出的款项，再导入。"
                )
                % {"paid": paid, "out": out},
            )


def _warn_desk_memo_replaced(memos: dict[int, tuple[int, str, str, str]], name, ctx) -> None:
    """The file's 商家备忘 replaces the memo an agent saved in the desk: the seller centre is
    where the flag lives, so its memo wins (``tickets.services.orders``), but the preview
    says so for each such order, and the desk's memo stays on the order's history."""
    if not memos:
        return
    edited = set(
        OrderChange.objects.filter(order_id__in=list(memos), kind=OrderChange.Kind.FLAG)
        .values_list("order_id", flat=True)
        .distinct()
    )
    for order_id in sorted(edited, key=lambda pk: memos[pk][0]):
        line, order_no, before, after = memos[order_id]
        ctx.report.warn(
            name,
            line,
            "",
            _(
                "订单 %(no)s 的商家备忘在工作台改过：“%(before)s”。导入后以卖家中心的为准："
                "“%(after)s”；工作台的版本留在订单变更记录里。"
            )
            % {"no": order_no, "before": before[:80], "after": after[:80] or _("（空）")},
        )


def _chunk_failed(report: Report, name: str, first: int, last: int, exc: Exception) -> None:
    """A chunk the database refused: the user is told which lines and to send them again,
    never the database's own text (it names tables and constraints, issue 16 third review
    2); the text goes to the log."""
    logger.warning(
        "import chunk %s lines %s-%s refused by the database: %s", name, first, last, exc
    )
    report.error(
        name,
        first,
        "",
        _("第 %(first)s 到 %(last)s 行写入数据库失败，什么都没有导入：请稍后重新导入或发送。")
        % {"first": first, "last": last},
    )
