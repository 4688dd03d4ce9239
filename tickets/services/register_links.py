"""What a register row hangs on must agree: its ticket is of its order, its order and ticket
are of its shop. Forms find these rows among what the user may see; these checks keep a
service from joining rows of different orders or shops whoever calls it."""

from django.utils.translation import gettext as _

from tickets.models import Order, Shop, Ticket

from . import DeskError


def ticket_of_order_check(ticket: Ticket | None, order: Order | None) -> None:
    """Raises ``DeskError`` when both are given and the ticket is not on the order."""
    if ticket is not None and order is not None and ticket.order_id != order.pk:
        raise DeskError(_("售后单不属于这个订单。"))


def of_shop_check(shop: Shop, *rows: Order | Ticket | None) -> None:
    """Raises ``DeskError`` when one of ``rows`` (orders or tickets; None skipped) belongs to
    another shop."""
    if any(row is not None and row.shop_id != shop.pk for row in rows):
        raise DeskError(_("售后单或订单不属于这个店铺。"))
