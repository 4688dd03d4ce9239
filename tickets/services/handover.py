"""Shift handover (夜班交接, DOMAIN.md "The daily routine" 1): the night shift leaves open
items for the morning, which deals with every one before noon. When an item is due and
flagged is read by ``tickets.selectors_registers`` (``handover_due``, ``handover_is_flagged``).
"""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.models import HandoverNote, Order, Shop, Ticket, User
from tickets.selectors_registers import handover_shift_date

from . import DeskError, require_perm
from .register_links import of_shop_check, ticket_of_order_check


@transaction.atomic
def handover_add(
    *,
    actor: User,
    shop: Shop,
    note: str,
    ticket: Ticket | None = None,
    order: Order | None = None,
    shift_date: date | None = None,
) -> HandoverNote:
    """Leaves an item for the next shift, about a ticket or an order of ``shop`` (the order
    defaults to the ticket's). ``shift_date`` is the night it belongs to (before noon, last
    night). Raises ``DeskError``, ``PermissionDenied``."""
    require_perm(actor, "tickets.add_handovernote")
    if not note.strip():
        raise DeskError(_("请写明交接内容。"))
    of_shop_check(shop, ticket, order)
    ticket_of_order_check(ticket, order)
    return HandoverNote.objects.create(
        shop=shop,
        ticket=ticket,
        order=order or (ticket.order if ticket else None),
        shift_date=shift_date or handover_shift_date(),
        note=note.strip(),
        created_by=actor,
    )


@transaction.atomic
def handover_mark_handled(*, actor: User, item: HandoverNote, note: str = "") -> HandoverNote:
    """The item is dealt with, by whom and when, once. Raises ``DeskError`` when it already
    was, ``PermissionDenied``."""
    require_perm(actor, "tickets.change_handovernote")
    item = HandoverNote.objects.select_for_update().get(pk=item.pk)
    if item.handled_at is not None:
        raise DeskError(_("这条交接事项已经处理过了。"))
    item.handled_at = timezone.now()
    item.handled_by = actor
    item.handled_note = note.strip()
    item.save(update_fields=["handled_at", "handled_by", "handled_note", "updated_at"])
    return item
