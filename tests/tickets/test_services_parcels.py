"""Unpacking returned parcels: matching, moving the ticket on, duplicate scans, unknown parcels."""

from decimal import Decimal

import pytest

from tests.factories import make_order
from tickets.models import Order, ReturnParcel, Ticket, TicketEvent
from tickets.services import DeskError
from tickets.services.parcels import parcel_match, parcel_unpack
from tickets.services.tickets import ItemRequest, ticket_open, ticket_transition

S = Ticket.Status


@pytest.fixture
def order(shop_a):
    return make_order(shop_a, status=Order.Status.SUCCESS, items=((Decimal("100.00"), 1),))


def _ticket(agent, order, kind, tracking=""):
    ticket = ticket_open(
        actor=agent,
        order=order,
        kind=kind,
        reason="not_suitable",
        responsibility="buyer",
        items=[ItemRequest(order.items.first(), 1)],
    )
    return ticket_transition(
        actor=agent, ticket=ticket, to_status=S.AWAITING_RETURN, tracking_no=tracking
    )


@pytest.mark.parametrize(
    ("kind", "after"),
    [
        (Ticket.Kind.EXCHANGE, S.QUEUED_FOR_EXCHANGE),
        (Ticket.Kind.RETURN, S.RECEIVED),
        (Ticket.Kind.REPAIR, S.RECEIVED),
    ],
)
def test_scan_finds_the_ticket_and_moves_it_on(agent, order, kind, after):
    ticket = _ticket(agent, order, kind, tracking="YT123456789")
    # a scanner types lower case with a trailing newline
    result = parcel_unpack(
        actor=agent,
        tracking_no=" yt123456789\n",
        condition="intact",
        contents="连衣裙一件",
        buyer_note="麻烦换大一码",
    )
    assert result.created
    assert result.parcel.ticket == ticket
    ticket.refresh_from_db()
    assert ticket.status == after
    parcel_event = ticket.events.filter(kind=TicketEvent.Kind.PARCEL).get()
    assert "麻烦换大一码" in parcel_event.message


def test_scanning_the_same_parcel_twice_registers_it_once(agent, order):
    ticket = _ticket(agent, order, Ticket.Kind.EXCHANGE, tracking="SF1")
    first = parcel_unpack(actor=agent, tracking_no="SF1", condition="intact")
    second = parcel_unpack(actor=agent, tracking_no="sf1", condition="damaged")
    assert first.created and not second.created
    assert second.parcel.pk == first.parcel.pk
    assert ReturnParcel.objects.count() == 1
    ticket.refresh_from_db()
    assert ticket.status == S.QUEUED_FOR_EXCHANGE
    assert ticket.events.filter(kind=TicketEvent.Kind.PARCEL).count() == 1


def test_parcel_found_by_order_when_tracking_does_not_match(agent, order):
    ticket = _ticket(agent, order, Ticket.Kind.RETURN)
    result = parcel_unpack(actor=agent, tracking_no="ZTO999", condition="worn", order=order)
    assert result.parcel.ticket == ticket
    ticket.refresh_from_db()
    assert ticket.status == S.RECEIVED
    assert ticket.return_tracking_no == "ZTO999"


def test_unknown_parcel_is_registered_and_matched_later(agent, order):
    result = parcel_unpack(
        actor=agent, tracking_no="UNKNOWN1", condition="intact", contents="一件卫衣"
    )
    assert result.parcel.is_unknown
    assert result.parcel.shop is None
    ticket = _ticket(agent, order, Ticket.Kind.EXCHANGE)
    parcel_match(actor=agent, parcel=result.parcel, order_no=order.order_no)
    result.parcel.refresh_from_db()
    assert result.parcel.ticket == ticket
    ticket.refresh_from_db()
    assert ticket.status == S.QUEUED_FOR_EXCHANGE
    with pytest.raises(DeskError, match="已经匹配"):
        parcel_match(actor=agent, parcel=result.parcel, order_no=order.order_no)


def test_an_agent_cannot_match_to_another_shops_order(agent, order_b):
    parcel = parcel_unpack(actor=agent, tracking_no="U2", condition="intact").parcel
    with pytest.raises(DeskError, match="没有找到"):
        parcel_match(actor=agent, parcel=parcel, order_no=order_b.order_no)


def test_another_shops_ticket_is_not_matched_by_tracking_number(agent, supervisor, order_b):
    other = _ticket(supervisor, order_b, Ticket.Kind.EXCHANGE, tracking="SHARED1")
    result = parcel_unpack(actor=agent, tracking_no="SHARED1", condition="intact")
    assert result.parcel.is_unknown
    other.refresh_from_db()
    assert other.status == S.AWAITING_RETURN


def test_empty_tracking_number_is_refused(agent):
    with pytest.raises(DeskError):
        parcel_unpack(actor=agent, tracking_no="  ", condition="intact")
