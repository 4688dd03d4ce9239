"""Order items from the seller centre's item export (宝贝明细), merged into their orders.

An item row is matched to its order by order number (and sub-order number); rows of one order
are written together in one transaction, so an order never holds half of its items. What the
buyer paid is shared out over the items by their list prices (``allocate``) when the export
leaves it blank. Reading, cleaning and the import's context are shared with ``orders``.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from tickets.models import Order, OrderItem, Sku
from tickets.money import CENT
from tickets.selectors import ticketed_quantities

from .bulk import insert_rows
from .cleaning import (
    clean_amount,
    clean_identifier,
    clean_order_no,
    clean_quantity,
    clean_text,
    parse_attributes,
)
from .layout import Layout
from .orders import CHUNK_ROWS, Context, _chunk_failed, _Row, _rows


@dataclass
class _Line:
    """One item row, cleaned."""

    line: int
    sub_order_no: str
    title: str
    sku_code: str
    colour: str
    size: str
    unit_price: Decimal
    quantity: int
    paid_amount: Decimal | None

    def content_key(self) -> tuple:
        return (self.title, self.sku_code, self.colour, self.size)


def _item_values(row: _Row) -> tuple[str, _Line] | None:
    order_no = row.take("order_no", clean_order_no)
    sub_order_no = row.take("sub_order_no", clean_order_no, required=False) or ""
    title = clean_text(row.raw("title"))
    if not title:
        row.refuse("title", _("缺少宝贝标题。"))
    unit_price = row.take("unit_price", clean_amount)
    quantity = row.take("quantity", clean_quantity)
    paid = row.take("paid_amount", clean_amount) if row.layout.has("paid_amount") else None
    # A merchant code a spreadsheet turned into scientific notation refuses the row.
    sku_code = row.take("sku_outer_id", clean_identifier) or row.take("item_code", clean_identifier)
    colour, size = parse_attributes(row.raw("attributes"))
    values = {
        "sub_order_no": sub_order_no,
        "title": title,
        "sku_code": sku_code,
        "colour": colour,
        "size": size,
    }
    row.fit(
        values,
        {
            "sub_order_no": "sub_order_no",
            "title": "title",
            "sku_code": "sku_outer_id" if row.layout.has("sku_outer_id") else "item_code",
            "colour": "attributes",
            "size": "attributes",
        },
    )
    if not row.ok:
        return None
    return order_no, _Line(
        row.line, unit_price=unit_price, quantity=quantity, paid_amount=paid, **values
    )


def import_items(records, layout: Layout, name: str, ctx: Context) -> None:
    """Adds or updates the items of orders already in the desk (or in this import's order
    file). Items of one order are written together: a chunk ends only between orders."""
    group: list[tuple[str, _Line]] = []
    for row in _rows(records, layout, name, ctx.report):
        parsed = _item_values(row)
        if parsed is None:
            continue
        if len(group) >= CHUNK_ROWS and group[-1][0] != parsed[0]:
            _write_items(group, name, ctx)
            group = []
        group.append(parsed)
    if group:
        _write_items(group, name, ctx)


def allocate(list_totals: list[Decimal], goods_paid: Decimal) -> list[Decimal]:
    """Shares what the buyer paid for the goods among the lines, in proportion to their list
    price; never more than a line's list price, and the shares add up exactly."""
    total = sum(list_totals, Decimal("0"))
    if total <= 0:
        return [Decimal("0.00") for _ in list_totals]
    target = min(goods_paid, total)
    shares = [(lt * target / total).quantize(CENT, rounding=ROUND_HALF_UP) for lt in list_totals]
    difference = target - sum(shares, Decimal("0"))
    order = sorted(range(len(shares)), key=lambda i: list_totals[i], reverse=True)
    for index in order:
        if difference == 0:
            break
        room = list_totals[index] - shares[index] if difference > 0 else shares[index]
        step = min(abs(difference), room)
        shares[index] += step if difference > 0 else -step
        difference += -step if difference > 0 else step
    return shares


def _write_items(group: list[tuple[str, _Line]], name: str, ctx: Context) -> None:
    counts = ctx.report.counts["items"]
    by_order: dict[str, list[_Line]] = {}
    for order_no, line in group:
        by_order.setdefault(order_no, []).append(line)
    orders = {
        order_no: _OrderFacts(pk, paid_amount, postage)
        for pk, order_no, paid_amount, postage in Order.objects.filter(
            shop=ctx.shop, order_no__in=list(by_order)
        ).values_list("pk", "order_no", "paid_amount", "postage")
    }
    existing: dict[int, list[OrderItem]] = {}
    order_ids = [order.pk for order in orders.values()]
    for item in OrderItem.objects.filter(order_id__in=order_ids).order_by("pk"):
        existing.setdefault(item.order_id, []).append(item)
    quantities = {item.pk: item.quantity for items in existing.values() for item in items}
    codes = {line.sku_code for lines in by_order.values() for line in lines if line.sku_code}
    skus = dict(Sku.objects.filter(code__in=codes).values_list("code", "pk")) if codes else {}

    creates, updates = [], {}
    for order_no, lines in by_order.items():
        order = orders.get(order_no)
        if order is None:
            if order_no not in ctx.refused_orders:
                for line in lines:
                    ctx.report.error(
                        name,
                        line.line,
                        "",
                        _("订单 %(no)s 不在工作台里，也不在这次导入的订单文件里。")
                        % {"no": order_no},
                    )
            continue
        new, changed, unchanged = _merge_items(order, lines, existing.get(order.pk, []), skus)
        shrunk = [item for item in changed if item.quantity < quantities[item.pk]]
        if shrunk:
            _refuse_below_tickets(shrunk, lines[0].line, name, ctx)
        creates.extend(new)
        for item in changed:
            updates[item.pk] = item
        counts["unchanged"] += unchanged
    first, last = group[0][1].line, group[-1][1].line
    try:
        with transaction.atomic():
            defaults = ctx.defaults(OrderItem)
            insert_rows(OrderItem, [{**defaults, **_item_row(item)} for item in creates])
            if updates:
                OrderItem.objects.bulk_update(
                    list(updates.values()),
                    [
                        "sub_order_no",
                        "title",
                        "sku_code",
                        "sku_id",
                        "colour",
                        "size",
                        "unit_price",
                        "quantity",
                        "paid_amount",
                    ],
                    batch_size=500,
                )
    except DatabaseError as exc:
        _chunk_failed(ctx.report, name, first, last, exc)
        return
    counts["created"] += len(creates)
    counts["updated"] += len(updates)
    ctx.wrote(OrderItem, len(creates))


def _refuse_below_tickets(shrunk: list[OrderItem], line: int, name: str, ctx: Context) -> None:
    """An item may not be ordered fewer times than a ticket holds of it (a ticket's items are
    never more than ordered): such a row is refused, and with it the whole import."""
    held = ticketed_quantities([item.pk for item in shrunk])
    for item in shrunk:
        if item.quantity < held.get(item.pk, 0):
            ctx.report.error(
                name,
                line,
                "",
                _("“%(title)s”的数量 %(n)s 少于售后单上的 %(held)s 件：商品数量不能少于售后数量。")
                % {"title": item.title, "n": item.quantity, "held": held[item.pk]},
            )


@dataclass(frozen=True)
class _OrderFacts:
    """What the item file needs of an order."""

    pk: int
    paid_amount: Decimal
    postage: Decimal


class _NewItem:
    """An item to create: the attributes of an ``OrderItem`` without a model instance, which
    costs more to build than the row costs to write."""

    __slots__ = (
        "colour",
        "order_id",
        "paid_amount",
        "pk",
        "quantity",
        "size",
        "sku_code",
        "sku_id",
        "sub_order_no",
        "title",
        "unit_price",
    )

    def __init__(self, order_id: int):
        self.order_id, self.pk, self.sub_order_no = order_id, None, ""
        self.paid_amount = Decimal("0.00")


def _merge_items(order: _OrderFacts, lines: list[_Line], current: list[OrderItem], skus: dict):
    """Matches the file's lines to the order's items (by sub-order number, else by title,
    SKU code, colour and size in file order), then shares the paid amount over all of them.
    Returns (new items, changed existing items, number of lines left as they were)."""
    by_sub = {item.sub_order_no: item for item in current if item.sub_order_no}
    by_content: dict[tuple, list[OrderItem]] = {}
    for item in current:
        key = (item.title, item.sku_code, item.colour, item.size)
        by_content.setdefault(key, []).append(item)
    taken: set[int] = set()
    pairs: list[tuple[_Line, OrderItem | None]] = []
    for line in lines:
        match = by_sub.get(line.sub_order_no) if line.sub_order_no else None
        if match is None or match.pk in taken:
            candidates = by_content.get(line.content_key(), [])
            match = next(
                (
                    item
                    for item in candidates
                    if item.pk not in taken
                    and (not item.sub_order_no or item.sub_order_no == line.sub_order_no)
                ),
                None,
            )
        if match is not None:
            taken.add(match.pk)
        pairs.append((line, match))

    targets: list[OrderItem] = []
    before: dict[int, tuple] = {}
    for line, item in pairs:
        if item is None:
            item = _NewItem(order.pk)
        else:
            before[item.pk] = _item_state(item)
        item.sub_order_no = line.sub_order_no or item.sub_order_no
        item.title, item.sku_code = line.title, line.sku_code
        item.sku_id = skus.get(line.sku_code)
        item.colour, item.size = line.colour, line.size
        item.unit_price, item.quantity = line.unit_price, line.quantity
        if line.paid_amount is not None:
            item.paid_amount = line.paid_amount
        targets.append(item)
    if all(line.paid_amount is None for line in lines):
        # The file gives list prices only: share what the buyer paid for the goods.
        untouched = [item for item in current if item.pk not in taken]
        everything = [*targets, *untouched]
        for item in untouched:
            before[item.pk] = _item_state(item)
        goods_paid = max(order.paid_amount - order.postage, Decimal("0"))
        shares = allocate([i.unit_price * i.quantity for i in everything], goods_paid)
        for item, share in zip(everything, shares, strict=True):
            item.paid_amount = share
        targets = everything
    new = [item for item in targets if item.pk is None]
    changed = [i for i in targets if i.pk is not None and _item_state(i) != before[i.pk]]
    unchanged = sum(1 for line, item in pairs if item is not None) - sum(
        1 for i in changed if i.pk in taken
    )
    return new, changed, unchanged


def _item_row(item: OrderItem) -> dict:
    return {
        "order_id": item.order_id,
        "sub_order_no": item.sub_order_no,
        "sku_id": item.sku_id,
        "title": item.title,
        "sku_code": item.sku_code,
        "colour": item.colour,
        "size": item.size,
        "unit_price": item.unit_price,
        "quantity": item.quantity,
        "paid_amount": item.paid_amount,
    }


def _item_state(item: OrderItem) -> tuple:
    return (
        item.sub_order_no,
        item.title,
        item.sku_code,
        item.sku_id,
        item.colour,
        item.size,
        item.unit_price,
        item.quantity,
        item.paid_amount,
    )
