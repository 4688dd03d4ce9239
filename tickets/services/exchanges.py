"""What an exchange sends out (换货发出商品) and the price difference (差价) the buyer pays.

Rules (issue 11; DOMAIN.md "Exchange-goods list"):
- an exchange ticket says, for a returned item, which SKU goes out and how many: another
  colour or size of the same product, or another product; an item's replacements add up to
  the quantity returned (one out for one back); an item with none goes out as it came back
  (the same goods again, as its order line names them, in the catalogue or not);
- it is chosen when the ticket is opened (the returned SKU itself when nobody says otherwise)
  and may change until the exchange-goods list that carries the ticket is signed; after the
  signature, or once the goods are out, it is refused with the reason;
- the price difference is the two SKUs' prices when chosen (the catalogue's 售价, else the
  price on the order) times the quantity: a dearer replacement is charged to the buyer
  (``exchange_charge_record``, money in), a cheaper one is refunded through the ledger;
- every change is a line on the ticket's timeline.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.models import ExchangeCharge, ExchangeReplacement, Sku, Ticket, TicketEvent, User
from tickets.money import parse_money
from tickets.selectors import can_work_on
from tickets.selectors_exchanges import exchange_price_position, exchange_replacement_refusal
from tickets.signals import exchange_goods_changed
from tickets.text import meaningful_text, search_text

from . import DeskError, require_perm
from .timeline import timeline_write


@dataclass(frozen=True)
class ReplacementRequest:
    """One line of what goes out: ``quantity`` of ``sku`` for the ticket item ``item_id``."""

    item_id: int
    sku: Sku
    quantity: int


def sku_prices(order_item, sku: Sku) -> tuple[Decimal, Decimal]:
    """(replacement price, returned price) in yuan: each SKU's catalogue price (售价) where
    the catalogue has one, otherwise the price the buyer paid per unit on the order."""
    returned = order_item.sku.price if order_item.sku and order_item.sku.price is not None else None
    if returned is None:
        returned = order_item.unit_price
    return (sku.price if sku.price is not None else returned), returned


def is_other_product(order_item, sku: Sku) -> bool:
    """Whether sending ``sku`` for ``order_item`` sends another product (换款) rather than
    another colour or size of the same one; for an order item outside the catalogue (imported,
    no SKU link), when the titles differ."""
    if order_item.sku_id:
        return sku.product_id != order_item.sku.product_id
    return sku.product.title != order_item.title


def describe(lines) -> list[str]:
    """ "code colour size → code colour size ×n" for the timeline, one per replacement (the
    timeline joins them as the reader's language lists things)."""
    parts = []
    for line in lines:
        goods = line.ticket_item.order_item
        back = " ".join(p for p in (goods.sku_code, goods.colour, goods.size) if p)
        out = " ".join(p for p in (line.code, line.colour, line.size) if p)
        parts.append(f"{back} → {out} ×{line.quantity}")
    return parts


def _lock_for_change(ticket: Ticket) -> Ticket:
    """The ticket, and the exchange-goods list carrying it, under row locks: a signature and
    a change of what goes out queue behind each other instead of racing."""
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    # The list's row too (the reverse relation the exchange-goods list app declares), so a
    # supervisor signing now waits until this change is written, and the other way round.
    list(
        locked.exchange_lines.filter(removed_at__isnull=True)
        .select_related("sheet")
        .select_for_update(of=("self", "sheet"))
    )
    return locked


def _build(ticket: Ticket, requests: list[ReplacementRequest], actor: User):
    items = {item.pk: item for item in ticket.items.select_related("order_item__sku")}
    seen, per_item, lines = set(), {}, []
    for request in requests:
        item = items.get(request.item_id)
        if item is None:
            raise DeskError(_("所选商品不属于这张售后单。"))
        if (item.pk, request.sku.pk) in seen:
            raise DeskError(
                _("“%(title)s”的发出商品 %(code)s 重复了，请合并数量。")
                % {"title": item.order_item.title, "code": request.sku.code}
            )
        seen.add((item.pk, request.sku.pk))
        if not isinstance(request.quantity, int) or request.quantity <= 0:
            raise DeskError(_("发出数量必须是正整数。"))
        per_item[item.pk] = per_item.get(item.pk, 0) + request.quantity
        unit_price, returned_price = sku_prices(item.order_item, request.sku)
        lines.append(
            ExchangeReplacement(
                ticket_item=item,
                sku=request.sku,
                quantity=request.quantity,
                unit_price=unit_price,
                returned_unit_price=returned_price,
                code=request.sku.code,
                title=request.sku.product.title,
                colour=request.sku.colour,
                size=request.sku.size,
                other_product=is_other_product(item.order_item, request.sku),
                chosen_by=actor,
                chosen_at=timezone.now(),
            )
        )
    for item in items.values():
        # An item nobody names goes out as it came back (the same goods again).
        if item.pk in per_item and per_item[item.pk] != item.quantity:
            raise DeskError(
                _(
                    "“%(title)s”退回 %(back)s 件，发出的数量合计必须也是 %(back)s 件"
                    "（现在是 %(out)s 件）。"
                )
                % {
                    "title": item.order_item.title,
                    "back": item.quantity,
                    "out": per_item.get(item.pk, 0),
                }
            )
    return lines


def replacements_write(*, actor: User, ticket: Ticket, requests: list[ReplacementRequest]):
    """Writes what goes out for an exchange being opened or changed (inside the caller's
    transaction, the ticket locked). Returns ``(lines, changed)``: the ticket's lines after
    the write, and whether anything changed. DeskError when a line is wrong."""
    lines = _build(ticket, requests, actor)
    old = list(
        ExchangeReplacement.objects.filter(ticket_item__ticket=ticket).select_related(
            "sku", "ticket_item__order_item"
        )
    )

    # The SKU as recorded counts too: saving again after the catalogue's SKU was edited
    # (before the list is signed) records its new code, colour and size.
    def same(line, item_id):
        return (item_id, line.sku_id, line.quantity, line.code, line.colour, line.size)

    if {same(o, o.ticket_item_id) for o in old} == {same(n, n.ticket_item.pk) for n in lines}:
        return old, False
    ExchangeReplacement.objects.filter(ticket_item__ticket=ticket).delete()
    ExchangeReplacement.objects.bulk_create(lines)
    difference = sum((line.price_difference for line in lines), Decimal("0"))
    goods = {"lines": describe(lines), "difference": str(difference) if difference else ""}
    timeline_write(
        ticket=ticket, actor=actor, kind=TicketEvent.Kind.EXCHANGE, line=("exchange_goods", goods)
    )
    exchange_goods_changed.send(sender=ExchangeReplacement, ticket=ticket)
    return lines, True


@transaction.atomic
def exchange_set_replacements(
    *, actor: User, ticket: Ticket, requests: list[ReplacementRequest]
) -> tuple[list[ExchangeReplacement], bool]:
    """Changes what an exchange ticket sends out (all its lines at once; an item with no line
    goes out as it came back). Returns ``(lines, changed)``.

    Refused (DeskError, nothing changed) for another kind of ticket, after the goods went out
    or the ticket ended, and while the exchange-goods list carrying it is signed (a
    supervisor takes the line off the list first, which voids the signature).
    ``PermissionDenied`` for users who do not work the ticket's shop."""
    require_perm(actor, "tickets.change_exchangereplacement")
    if not can_work_on(actor, ticket.shop_id):
        raise DeskError(_("你不负责这家店铺，不能修改这张售后单。"))
    locked = _lock_for_change(ticket)
    refusal = exchange_replacement_refusal(locked)
    if refusal:
        raise DeskError(refusal)
    return replacements_write(actor=actor, ticket=locked, requests=requests)


@transaction.atomic
def exchange_charge_record(
    *,
    actor: User,
    ticket: Ticket,
    amount,
    reference: str = "",
    note: str = "",
    idempotency_key: str | None = None,
) -> ExchangeCharge:
    """Records a price difference the buyer paid for a dearer replacement (yuan, Decimal or
    text read by ``parse_money``). Never more than is still owed: DeskError otherwise. The
    same form submission (``idempotency_key``) twice makes one row, returned again."""
    require_perm(actor, "tickets.add_exchangecharge")
    if not can_work_on(actor, ticket.shop_id):
        raise DeskError(_("你不负责这家店铺，不能修改这张售后单。"))
    # Submissions on one ticket queue here; the second of a double post then finds the first.
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if idempotency_key:
        done = ExchangeCharge.objects.filter(idempotency_key=idempotency_key).first()
        if done is not None:
            if done.ticket_id != locked.pk:  # a key from another ticket's form
                raise DeskError(_("表单已过期或无效，请刷新页面后重新提交。"))
            return done
    amount = parse_money(amount)
    if locked.kind != Ticket.Kind.EXCHANGE:
        raise DeskError(_("只有换货单有补差价。"))
    position = exchange_price_position(locked)
    if amount > position.to_charge:
        raise DeskError(
            _("买家应补差价 ¥%(due)s，已登记 ¥%(charged)s，这次最多登记 ¥%(owed)s。")
            % {
                "due": position.charge_due + position.overrefunded,
                "charged": position.charged,
                "owed": position.to_charge,
            }
        )
    # The price-difference order's number as typed on any keyboard (full-width read as ASCII).
    reference = search_text(reference)[:40]
    charge = ExchangeCharge.objects.create(
        ticket=locked,
        amount=amount,
        reference=reference,
        note=(meaningful_text(note) or "")[:255],
        recorded_by=actor,
        recorded_at=timezone.now(),
        idempotency_key=idempotency_key or None,
    )
    timeline_write(
        ticket=locked,
        actor=actor,
        kind=TicketEvent.Kind.MONEY,
        line=("price_difference_paid", {"amount": str(charge.amount), "reference": reference}),
    )
    return charge


@transaction.atomic
def exchange_charge_reverse(*, actor: User, charge: ExchangeCharge, reason: str) -> ExchangeCharge:
    """Corrects a price-difference record with a reversing row (once; never an edit)."""
    require_perm(actor, "tickets.add_exchangecharge")
    if not can_work_on(actor, charge.ticket.shop_id):
        raise DeskError(_("你不负责这家店铺，不能修改这张售后单。"))
    reason = meaningful_text(reason)
    if not reason:
        raise DeskError(_("请写明冲销原因。"))
    charge = ExchangeCharge.objects.select_for_update().get(pk=charge.pk)
    if charge.reverses_id is not None:
        raise DeskError(_("冲销记录本身不能再冲销；如需更正，请重新登记一笔。"))
    if ExchangeCharge.objects.filter(reverses=charge).exists():
        raise DeskError(_("这笔记录已经冲销过了。"))
    reversal = ExchangeCharge.objects.create(
        ticket_id=charge.ticket_id,
        amount=charge.amount,
        reference=charge.reference,
        note=reason[:255],
        reverses=charge,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    timeline_write(
        ticket=charge.ticket,
        actor=actor,
        kind=TicketEvent.Kind.MONEY,
        line=("price_difference_reversed", {"amount": str(charge.amount), "reason": reason}),
    )
    return reversal
