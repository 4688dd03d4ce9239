"""Reads about what exchanges send out: may it still change, what it costs, what the
exchange-goods list shows as "returned → send" (退回 → 发出)."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ExchangeReplacement, LedgerEntry, Ticket, TicketItem
from .money import ZERO, counted_total, signed_sum

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
    def to_charge(self) -> Decimal:
        return max(self.due - self.charged, ZERO)

    @property
    def to_refund(self) -> Decimal:
        return max(-self.due - self.refunded, ZERO)

    @property
    def settled(self) -> bool:
        return self.to_charge == ZERO and self.to_refund == ZERO


def exchange_price_position(ticket: Ticket) -> PricePosition:
    """The ticket's price difference and what has been charged or refunded for it."""
    lines = ExchangeReplacement.objects.filter(ticket_item__ticket=ticket)
    due = sum((line.price_difference for line in lines), ZERO)
    refunds = ticket.ledger_entries.filter(kind=LedgerEntry.Kind.REFUND)
    return PricePosition(
        due=due,
        charged=signed_sum(ticket.exchange_charges.all()),
        refunded=counted_total(refunds),
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
        return self.replacement.sku.code if self.replacement else self.item.order_item.sku_code

    @property
    def title(self) -> str:
        if self.replacement:
            return self.replacement.sku.product.title
        return self.item.order_item.title

    @property
    def colour(self) -> str:
        return self.replacement.sku.colour if self.replacement else self.item.order_item.colour

    @property
    def size(self) -> str:
        return self.replacement.sku.size if self.replacement else self.item.order_item.size

    @property
    def quantity(self) -> int:
        return self.replacement.quantity if self.replacement else self.returned_quantity

    @property
    def changed(self) -> bool:
        """The goods going out differ from those that came back (colour, size or product)."""
        if not self.replacement:
            return False
        goods = self.item.order_item
        return self.replacement.sku_id != goods.sku_id if goods.sku_id else True


def items_with_replacements(lookup: str = "items") -> Prefetch:
    """A prefetch for ``ticket.items`` (``lookup``: the path to them) carrying their order
    items and replacements, so ``goods_lines`` reads nothing more (a fixed number of queries
    for any number of tickets)."""
    replacements = ExchangeReplacement.objects.select_related("sku__product").order_by("pk")
    return Prefetch(
        lookup,
        queryset=TicketItem.objects.select_related("order_item")
        .prefetch_related(Prefetch("replacements", queryset=replacements))
        .order_by("pk"),
    )


def goods_lines(ticket: Ticket) -> list[GoodsLine]:
    """The ticket's "returned → send" rows, one per replacement (an item split over two SKUs
    gives two rows), in item order. Uses prefetched items when present."""
    rows = []
    for item in ticket.items.all():
        replacements = list(item.replacements.all())
        if not replacements:
            rows.append(GoodsLine(item, item.quantity, None))
        rows += [GoodsLine(item, item.quantity, r) for r in replacements]
    return rows
