"""Wrong shipments (发错货 / 漏发 / 多发, DOMAIN.md "Tickets": reasons): what was sent against
what was ordered, and whether the product page may be what misled the packer."""

from django.db import transaction
from django.utils.translation import gettext as _

from tickets.models import Order, Ticket, User, WrongShipment

from . import DeskError, require_perm
from .register_links import ticket_of_order_check


@transaction.atomic
def wrong_shipment_register(
    *,
    actor: User,
    order: Order,
    kind: str,
    ordered_description: str = "",
    sent_description: str = "",
    packed_by: str = "",
    listing_to_check: bool = False,
    ticket: Ticket | None = None,
) -> WrongShipment:
    """Registers one wrong, missing or extra shipment on ``order`` (in its shop). Raises
    ``DeskError`` when neither what was ordered nor what was sent is written, or the ticket is
    of another order; ``PermissionDenied``."""
    require_perm(actor, "tickets.add_wrongshipment")
    ticket_of_order_check(ticket, order)
    if not (ordered_description.strip() or sent_description.strip()):
        raise DeskError(_("请写明应发和实发的商品。"))
    return WrongShipment.objects.create(
        shop_id=order.shop_id,
        order=order,
        ticket=ticket,
        kind=kind,
        packed_by=packed_by.strip(),
        ordered_description=ordered_description.strip(),
        sent_description=sent_description.strip(),
        listing_to_check=listing_to_check,
        recorded_by=actor,
    )
