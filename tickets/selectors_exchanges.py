"""Reads about what exchanges send out: may it still change, what it costs, what the
exchange-goods list shows as "returned → send" (退回 → 发出)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import F, Prefetch, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ExchangeCharge, ExchangeReplacement, LedgerEntry, Ticket, TicketItem
from .money import ZERO, cents, counted, is_counted, signed_sums_by, signed_total

S = Ticket.Status

# While a ticket is in one of these, what it sends out may still change (on a list: only
# until the list is signed).
_CHANGEABLE = (
    S.OPEN,
    S.AWAITING_RETURN,
    S.RECEIVED,
    S.QUEUED_FOR_EXCHANGE,
    S.ON_EXCHANGE_LIST,
)


def exchange_replacement_refusal(ticket: Ticket) -> str | None:
    """Why what ``ticket`` sends out may not change now, or None when it may (issue 11: "can
    be changed until the list is signed")."""
    if ticket.kind != Ticket.Kind.EXCHANGE:
        return _("只有换货单需要选择发出的商品。")
    if ticket.status not in _CHANGEABLE:
        return _("这张换货单已经是“%(status)s”，发出的商品不能再改。") % {
            "status": ticket.get_status_display()
        }
    if ticket.status == S.ON_EXCHANGE_LIST:
        # The exchange-goods list is another app's model; it is read through the relation it
        # declares on the ticket, so this module never imports it.
        line = (
            ticket.exchange_lines.filter(removed_at__isnull=True)
            .select_related("sheet__approved_by")
            .first()
        )
        sheet = line.sheet if line else None
        if sheet is not None and sheet.approved_at is not None:
            return _(
                "%(date)s 的换货清单已由 %(name)s 于 %(at)s 签字，发出的商品不能再改。"
                "确需更改，请主管先把这一单移出清单（签字随之作废）。"
            ) % {
                "date": f"{sheet.business_date:%Y-%m-%d}",
                "name": sheet.approved_by,
                "at": f"{timezone.localtime(sheet.approved_at):%Y-%m-%d %H:%M}",
            }
    return None


@dataclass(frozen=True)
class PricePosition:
    """An exchange's price difference in yuan (Decimal): ``due`` is what the buyer owes (negative:
    what the shop owes the buyer), ``charged`` what the buyer has paid (补差价, net of
    reversals), ``refunded`` the refunds counted on the ticket (an exchange refunds nothing
    but a difference)."""

    due: Decimal
    charged: Decimal
    refunded: Decimal

    @property
    def charge_due(self) -> Decimal:
        """What the buyer owes the shop for a dearer replacement (0 when nothing)."""
        return max(self.due, ZERO)

    @property
    def refund_due(self) -> Decimal:
        """What the shop owes the buyer for a cheaper replacement (0 when nothing)."""
        return max(-self.due, ZERO)

    @property
    def balance(self) -> Decimal:
        """Where the money stands: the difference the goods make, less what the buyer paid,
        plus what the shop refunded. Positive: the buyer owes the shop; negative: the shop
        owes the buyer; zero: settled - whatever order the goods changed and money moved in."""
        return self.due - self.charged + self.refunded

    @property
    def to_charge(self) -> Decimal:
        """Still to collect from the buyer (a dearer replacement, or a refund made before the
        goods changed back)."""
        return max(self.balance, ZERO)

    @property
    def to_refund(self) -> Decimal:
        """Still to refund to the buyer (a cheaper replacement, or a difference paid before
        the goods changed)."""
        return max(-self.balance, ZERO)

    @property
    def overcharged(self) -> Decimal:
        """Owed back to the buyer beyond a cheaper replacement's difference (多收): they paid
        for goods that changed since."""
        return max(self.to_refund - self.refund_due, ZERO)

    @property
    def overrefunded(self) -> Decimal:
        """Owed by the buyer beyond a dearer replacement's difference (多退): refunded for
        goods that changed since."""
        return max(self.to_charge - self.charge_due, ZERO)

    @property
    def refund_owed(self) -> Decimal:
        """All the shop owes the buyer on this exchange, refunded or not."""
        return self.to_refund + self.refunded

    @property
    def settled(self) -> bool:
        return self.balance == ZERO


def exchange_price_positions(
    ticket_ids, *, before: datetime | None = None
) -> dict[int, PricePosition]:
    """``{ticket id: PricePosition}`` for many exchange tickets in three queries (the
    exchange-goods list page shows one per line). With ``before``, only the money recorded
    before that moment counts (a month-end sheet as of its cut-off, whenever it is built)."""
    ids = list(ticket_ids)
    due = {
        row["ticket_item__ticket"]: cents(row["due"])
        for row in ExchangeReplacement.objects.filter(ticket_item__ticket__in=ids)
        .values("ticket_item__ticket")
        .annotate(due=Sum((F("unit_price") - F("returned_unit_price")) * F("quantity")))
    }
    charges = ExchangeCharge.objects.filter(ticket_id__in=ids)
    refunds = LedgerEntry.objects.filter(ticket_id__in=ids, kind=LedgerEntry.Kind.REFUND)
    if before is not None:
        charges = charges.filter(recorded_at__lt=before)
        refunds = refunds.filter(recorded_at__lt=before)
    charged = signed_sums_by(charges, "ticket_id")
    refunded = signed_sums_by(counted(refunds), "ticket_id")
    return {
        pk: PricePosition(
            due=due.get(pk, ZERO), charged=charged.get(pk, ZERO), refunded=refunded.get(pk, ZERO)
        )
        for pk in ids
    }


def price_settlement(position: PricePosition) -> str:
    """Whether an exchange's price difference is settled, in words for the list and its
    file: "" (no difference), "已收" / "未收 ¥30.00", "已退" / "未退 ¥20.00"."""
    if position.overrefunded:
        return _("多退 ¥%(a)s") % {"a": position.overrefunded}
    if position.to_charge:
        return _("未收 ¥%(a)s") % {"a": position.to_charge}
    if position.to_refund:
        return _("未退 ¥%(a)s") % {"a": position.to_refund}
    if position.charge_due:
        return _("已收")
    if position.refund_owed:
        return _("已退")
    return ""


def exchange_price_position(
    ticket: Ticket, *, items=None, charges=None, ledger=None
) -> PricePosition:
    """The ticket's price difference and what has been charged or refunded for it.

    With what the ticket page has read anyway - ``items`` (``exchange_items(ticket)``),
    ``charges`` (the ticket's exchange charges) and ``ledger`` (its ledger rows with
    ``approval`` and ``reverses__approval``) - it is added up from them by the same rules
    instead of three more queries."""
    if items is None or charges is None or ledger is None:
        return exchange_price_positions([ticket.pk])[ticket.pk]
    due = [
        (r.unit_price - r.returned_unit_price) * r.quantity
        for item in items
        for r in item.replacements.all()
    ]
    # The ticket's own refunds, whatever rows the caller passed (the order's, say).
    refunds = (
        e
        for e in ledger
        if e.ticket_id == ticket.pk and e.kind == LedgerEntry.Kind.REFUND and is_counted(e)
    )
    return PricePosition(
        due=cents(sum(due, ZERO)), charged=signed_total(charges), refunded=signed_total(refunds)
    )


@dataclass(frozen=True)
class GoodsLine:
    """One "returned → send" row: the returned order item and quantity, and what goes out
    (a replacement, or - for a ticket that never chose one - the same goods again)."""

    item: TicketItem
    returned_quantity: int
    replacement: ExchangeReplacement | None

    @property
    def code(self) -> str:
        return self.replacement.code if self.replacement else self.item.order_item.sku_code

    @property
    def title(self) -> str:
        return self.replacement.title if self.replacement else self.item.order_item.title

    @property
    def colour(self) -> str:
        return self.replacement.colour if self.replacement else self.item.order_item.colour

    @property
    def size(self) -> str:
        return self.replacement.size if self.replacement else self.item.order_item.size

    @property
    def quantity(self) -> int:
        return self.replacement.quantity if self.replacement else self.returned_quantity

    @property
    def difference(self) -> Decimal | None:
        """Yuan the buyer owes for this row (negative: owed to the buyer); None when the
        ticket never chose what goes out."""
        return self.replacement.price_difference if self.replacement else None

    @property
    def difference_text(self) -> str:
        """ "+¥30.00", "−¥20.00" or "¥0.00" (empty when unknown), for pages and files."""
        amount = self.difference
        if amount is None:
            return ""
        sign = "+" if amount > 0 else "−" if amount < 0 else ""
        return f"{sign}¥{abs(amount):.2f}"

    @property
    def changed(self) -> bool:
        """The goods going out differ from those that came back (colour, size or product)."""
        if not self.replacement:
            return False
        goods = self.item.order_item
        return self.replacement.sku_id != goods.sku_id if goods.sku_id else True

    @property
    def product_changed(self) -> bool:
        """Another product goes out (换款), not another colour or size of the same one, as
        decided when the replacement was chosen (``ExchangeReplacement.other_product``)."""
        return bool(self.replacement and self.replacement.other_product)


def _items_read_whole():
    replacements = ExchangeReplacement.objects.select_related("sku__product").order_by("pk")
    return (
        TicketItem.objects.select_related("order_item__sku")
        .prefetch_related(Prefetch("replacements", queryset=replacements))
        .order_by("pk")
    )


def items_with_replacements(lookup: str = "items") -> Prefetch:
    """A prefetch for ``ticket.items`` (``lookup``: the path to them) carrying their order
    items and replacements, so ``goods_lines`` reads nothing more (a fixed number of queries
    for any number of tickets)."""
    return Prefetch(lookup, queryset=_items_read_whole())


def exchange_items(ticket: Ticket) -> list[TicketItem]:
    """One ticket's items read as ``items_with_replacements`` reads them (three queries)."""
    return list(_items_read_whole().filter(ticket=ticket))


def goods_lines(items) -> list[GoodsLine]:
    """ "Returned → send" rows for a ticket's ``items`` (prefetched with
    ``items_with_replacements``), one per replacement (an item split over two SKUs gives two
    rows), in item order."""
    rows = []
    for item in items:
        replacements = list(item.replacements.all())
        if not replacements:
            rows.append(GoodsLine(item, item.quantity, None))
        rows += [GoodsLine(item, item.quantity, r) for r in replacements]
    return rows
