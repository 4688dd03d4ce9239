"""Unpacking returned parcels (拆件登记) and matching the unknown ones later."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.models import Courier, Order, ReturnParcel, Ticket, TicketEvent, User
from tickets.selectors import find_ticket_for_parcel, visible_orders, visible_tickets
from tickets.text import normalise_tracking_no, tracking_no_length_refusal

from . import DeskError, require_perm
from .tickets import ticket_set_return_tracking, ticket_transition
from .timeline import timeline_write

S = Ticket.Status

# Where a parcel's arrival takes each kind of ticket.
_ARRIVAL_TARGET = {
    Ticket.Kind.EXCHANGE: S.QUEUED_FOR_EXCHANGE,
    Ticket.Kind.RETURN: S.RECEIVED,
    Ticket.Kind.REPAIR: S.RECEIVED,
}


@dataclass(frozen=True)
class Unpacked:
    parcel: ReturnParcel
    created: bool  # False: this tracking number was already registered (a second scan)
    # The parcel's ticket as it is now (after the arrival moved it on), and its status before.
    ticket: Ticket | None = None
    status_before: str = ""

    @property
    def moved(self) -> bool:
        return self.ticket is not None and self.ticket.status != self.status_before


def _receive(actor: User, parcel: ReturnParcel, ticket: Ticket) -> None:
    """Moves the ticket on as the parcel's arrival means, and notes it on the timeline."""
    if not ticket.return_tracking_no:
        ticket = ticket_set_return_tracking(
            actor=actor, ticket=ticket, tracking_no=parcel.tracking_no
        )
    timeline_write(
        ticket=ticket,
        actor=actor,
        kind=TicketEvent.Kind.PARCEL,
        line=(
            "parcel_received",
            {
                "no": parcel.tracking_no,
                "condition": str(parcel.condition),
                "contents": parcel.contents,
                "buyer_note": parcel.buyer_note,
            },
        ),
    )
    target = _ARRIVAL_TARGET.get(ticket.kind)
    if target is None:
        return
    ticket.refresh_from_db()
    if ticket.status == S.OPEN:
        ticket = ticket_transition(actor=actor, ticket=ticket, to_status=S.AWAITING_RETURN)
    if ticket.status == S.AWAITING_RETURN:
        ticket_transition(
            actor=actor,
            ticket=ticket,
            to_status=target,
            note_line=("parcel_unpacked", {"no": parcel.tracking_no}),
        )


@transaction.atomic
def parcel_unpack(
    *,
    actor: User,
    tracking_no: str,
    condition: str,
    contents: str = "",
    buyer_note: str = "",
    courier: Courier | None = None,
    order: Order | None = None,
) -> Unpacked:
    """Registers a returned parcel once, matched to its ticket by return tracking number, else
    to ``order`` if the agent found it; otherwise registered as unknown for later matching.
    Raises ``DeskError`` for no tracking number or one longer than the column holds
    (``tracking_no_length_refusal``)."""
    require_perm(actor, "tickets.add_returnparcel")
    tracking_no = normalise_tracking_no(tracking_no)
    if not tracking_no:
        raise DeskError(_("请扫描或输入运单号。"))
    refusal = tracking_no_length_refusal(tracking_no)
    if refusal:
        raise DeskError(refusal)
    existing = ReturnParcel.objects.filter(tracking_no=tracking_no).first()
    if existing is not None:
        return Unpacked(existing, created=False)
    ticket = find_ticket_for_parcel(actor, tracking_no)
    if ticket is None and order is not None:
        ticket = visible_tickets(actor).open().filter(order=order).order_by("-created_at").first()
    if ticket is not None:
        order = ticket.order
    try:
        with transaction.atomic():
            parcel = ReturnParcel.objects.create(
                tracking_no=tracking_no,
                courier=courier,
                shop_id=order.shop_id if order else None,
                order=order,
                ticket=ticket,
                condition=condition,
                contents=contents.strip(),
                buyer_note=buyer_note.strip(),
                received_by=actor,
                matched_by=actor if order else None,
                matched_at=timezone.now() if order else None,
            )
    except IntegrityError:
        # Two scans of the same parcel at the same moment: the other one registered it.
        return Unpacked(ReturnParcel.objects.get(tracking_no=tracking_no), created=False)
    if ticket is None:
        return Unpacked(parcel, created=True)
    status_before = ticket.status
    _receive(actor, parcel, ticket)
    return Unpacked(
        parcel, created=True, ticket=Ticket.objects.get(pk=ticket.pk), status_before=status_before
    )


@transaction.atomic
def parcel_match(*, actor: User, parcel: ReturnParcel, order_no: str) -> ReturnParcel:
    """Matches an unknown parcel to an order (and its open ticket) found later."""
    require_perm(actor, "tickets.change_returnparcel")
    parcel = ReturnParcel.objects.select_for_update().get(pk=parcel.pk)
    if parcel.order_id is not None:
        raise DeskError(_("这个包裹已经匹配过了。"))
    order = visible_orders(actor).filter(order_no=order_no.strip()).first()
    if order is None:
        raise DeskError(_("没有找到订单 %(no)s（或不属于你负责的店铺）。") % {"no": order_no})
    ticket = visible_tickets(actor).open().filter(order=order).order_by("-created_at").first()
    parcel.order = order
    parcel.shop_id = order.shop_id
    parcel.ticket = ticket
    parcel.matched_by = actor
    parcel.matched_at = timezone.now()
    parcel.save(update_fields=["order", "shop", "ticket", "matched_by", "matched_at", "updated_at"])
    if ticket is not None:
        _receive(actor, parcel, ticket)
    return parcel


@transaction.atomic
def parcel_link_ticket(*, actor: User, parcel: ReturnParcel, ticket: Ticket) -> ReturnParcel:
    """Links a parcel that came back for ``ticket``'s order before anybody opened a ticket
    (matched to the order only) to ``ticket``, newly opened for it, and moves the ticket on
    as the parcel's arrival means (return/repair → received, exchange → queued), as if the
    parcel had arrived after the ticket. Raises ``DeskError`` when the parcel belongs to
    another order or is already on a ticket."""
    require_perm(actor, "tickets.change_returnparcel")
    parcel = ReturnParcel.objects.select_for_update().get(pk=parcel.pk)
    if parcel.order_id != ticket.order_id:
        raise DeskError(_("这个包裹不属于这张售后单的订单。"))
    if parcel.ticket_id is not None:
        raise DeskError(
            _("包裹 %(no)s 已经关联售后单 %(ticket)s。")
            % {"no": parcel.tracking_no, "ticket": parcel.ticket.number}
        )
    parcel.ticket = ticket
    parcel.save(update_fields=["ticket", "updated_at"])
    _receive(actor, parcel, ticket)
    return parcel
