"""Opening and working tickets through the services: every transition, legal and illegal."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import make_order, make_user
from tickets.models import Order, Promise, Ticket, TicketEvent
from tickets.roles import Role
from tickets.services import DeskError
from tickets.services.tickets import (
    ItemRequest,
    PromiseRequest,
    promise_fulfil,
    ticket_assign,
    ticket_escalate,
    ticket_note,
    ticket_open,
    ticket_transition,
)
from tickets.workflow import LIST_ONLY, WORKFLOWS, allowed_next

S = Ticket.Status


def open_ticket(agent, order, kind=Ticket.Kind.EXCHANGE, quantity=1, **extra):
    item = order.items.first()
    return ticket_open(
        actor=agent,
        order=order,
        kind=kind,
        reason=extra.pop("reason", Ticket.Reason.NOT_SUITABLE),
        responsibility=extra.pop("responsibility", Ticket.Responsibility.BUYER),
        items=[ItemRequest(item, quantity)],
        **extra,
    )


@pytest.fixture
def shipped(shop_a):
    return make_order(
        shop_a, status=Order.Status.SUCCESS, items=((Decimal("100.00"), 2), (Decimal("50.00"), 1))
    )


def test_open_records_items_sla_timeline_and_promises(agent, shipped):
    # given an order the buyer wants to exchange
    # when the agent opens an exchange ticket with a promise
    ticket = open_ticket(
        agent,
        shipped,
        quantity=2,
        description="尺码偏小",
        promises=[PromiseRequest(Promise.Kind.POSTAGE, "退回运费由我们承担")],
    )
    # then
    assert ticket.status == S.OPEN
    assert ticket.items.get().quantity == 2
    assert ticket.first_response_due < ticket.resolution_due
    kinds = list(ticket.events.values_list("kind", flat=True))
    # an exchange says what goes out from the start (the same SKU unless chosen otherwise)
    assert kinds == [TicketEvent.Kind.OPENED, TicketEvent.Kind.EXCHANGE, TicketEvent.Kind.PROMISE]
    assert ticket.promises.get().text == "退回运费由我们承担"


def test_cannot_open_for_more_than_ordered(agent, shipped):
    with pytest.raises(DeskError, match="1 到 2"):
        open_ticket(agent, shipped, quantity=3)
    with pytest.raises(DeskError):
        open_ticket(agent, shipped, quantity=0)
    assert not Ticket.objects.exists()


def test_cannot_open_goods_ticket_on_unshipped_order(agent, shop_a):
    paid = make_order(shop_a, status=Order.Status.PAID)
    with pytest.raises(DeskError, match="尚未发货"):
        open_ticket(agent, paid, kind=Ticket.Kind.EXCHANGE)
    assert open_ticket(agent, paid, kind=Ticket.Kind.REFUND_ONLY).kind == Ticket.Kind.REFUND_ONLY
    unpaid = make_order(shop_a, status=Order.Status.WAITING_PAYMENT)
    with pytest.raises(DeskError, match="未付款"):
        open_ticket(agent, unpaid, kind=Ticket.Kind.REFUND_ONLY)


def test_items_must_belong_to_the_order(agent, shipped, shop_a):
    other = make_order(shop_a)
    with pytest.raises(DeskError, match="不属于"):
        ticket_open(
            actor=agent,
            order=shipped,
            kind="exchange",
            reason="quality",
            responsibility="seller",
            items=[ItemRequest(other.items.first(), 1)],
        )


def test_finance_cannot_open_tickets(finance, shipped):
    with pytest.raises(PermissionDenied):
        open_ticket(finance, shipped)


KIND_AND_SOURCE = [
    (kind, source)
    for kind in Ticket.Kind
    for source in S
    if source not in (S.CLOSED, S.CANCELLED) and (source in WORKFLOWS[kind] or source == S.OPEN)
]


@pytest.mark.parametrize(("kind", "source"), KIND_AND_SOURCE)
def test_every_transition_is_allowed_or_refused_as_the_table_says(agent, shipped, kind, source):
    ticket = open_ticket(agent, shipped, kind=kind)
    for target in S:
        # Set by hand (the test walks every pair): the clock paused as the status says.
        paused = timezone.now() if source in Ticket.PAUSING_STATUSES else None
        Ticket.objects.filter(pk=ticket.pk).update(status=source, paused_at=paused)
        ticket.refresh_from_db()
        before = ticket.events.filter(kind=TicketEvent.Kind.STATUS).count()
        legal = target in allowed_next(kind, source)
        money_needed = target in (S.REFUNDED, S.COMPENSATED)  # see test_services_ledger
        list_only = (kind, source, target) in LIST_ONLY
        if legal and list_only:
            # only the exchange-goods list makes this move; a hand-made request is refused
            with pytest.raises(DeskError, match="清单"):
                ticket_transition(actor=agent, ticket=ticket, to_status=target, tracking_no="SF1")
            assert ticket.events.filter(kind=TicketEvent.Kind.STATUS).count() == before
        if legal and not money_needed:
            moved = ticket_transition(
                actor=agent,
                ticket=ticket,
                to_status=target,
                tracking_no="SF123456",
                by_list=list_only,
            )
            assert moved.status == target
            event = moved.events.filter(kind=TicketEvent.Kind.STATUS).latest("id")
            assert (event.from_status, event.to_status, event.actor) == (source, target, agent)
        else:
            with pytest.raises(DeskError):
                ticket_transition(
                    actor=agent, ticket=ticket, to_status=target, tracking_no="SF123456"
                )
            ticket.refresh_from_db()
            assert ticket.status == source, (source, target)
            assert ticket.events.filter(kind=TicketEvent.Kind.STATUS).count() == before


def test_illegal_transition_says_why_and_what_is_possible(agent, shipped):
    ticket = open_ticket(agent, shipped, kind=Ticket.Kind.EXCHANGE)
    with pytest.raises(DeskError) as refused:
        ticket_transition(actor=agent, ticket=ticket, to_status=S.SHIPPED, tracking_no="SF1")
    assert "待处理" in str(refused.value)
    assert "等待退回" in str(refused.value)


def test_shipping_goods_needs_the_tracking_number(agent, shipped):
    ticket = open_ticket(agent, shipped, kind=Ticket.Kind.RESHIP)
    with pytest.raises(DeskError, match="运单号"):
        ticket_transition(actor=agent, ticket=ticket, to_status=S.SHIPPED)
    shipped_ticket = ticket_transition(
        actor=agent, ticket=ticket, to_status=S.SHIPPED, tracking_no=" yt 123456 "
    )
    assert shipped_ticket.outbound_tracking_no == "YT123456"
    assert shipped_ticket.resolved_at is not None


def test_closing_sets_closed_at_and_first_response(agent, shipped):
    ticket = open_ticket(agent, shipped, kind=Ticket.Kind.RESHIP)
    assert ticket.first_responded_at is None
    ticket = ticket_transition(
        actor=agent, ticket=ticket, to_status=S.SHIPPED, tracking_no="ZTO100001"
    )
    assert ticket.first_responded_at is not None
    ticket = ticket_transition(actor=agent, ticket=ticket, to_status=S.CLOSED)
    assert ticket.closed_at is not None
    assert not ticket.is_open


def test_a_status_change_writes_the_ticket_row_once_and_dates_it_by_its_line(agent, shipped):
    # given an open exchange
    ticket = open_ticket(agent, shipped)
    # when the agent moves it on, counting the UPDATEs of the ticket's row
    with CaptureQueriesContext(connection) as queries:
        ticket = ticket_transition(actor=agent, ticket=ticket, to_status=S.AWAITING_RETURN)
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "tickets_ticket"')]
    # then the row is written once (each UPDATE enters every index of the table), and its
    # "last changed" is the moment of the timeline line, in memory and in the database
    assert len(updates) == 1, updates
    line = ticket.events.filter(kind=TicketEvent.Kind.STATUS).latest("created_at", "pk")
    assert line.to_status == S.AWAITING_RETURN
    assert ticket.updated_at == line.created_at
    assert Ticket.objects.get(pk=ticket.pk).updated_at == line.created_at
    # and a note afterwards still moves it (a line with no save of its own)
    ticket_note(actor=agent, ticket=ticket, text="买家已寄回")
    note = ticket.events.latest("created_at", "pk")
    assert Ticket.objects.get(pk=ticket.pk).updated_at == note.created_at > line.created_at


def test_agent_takes_a_ticket_but_cannot_take_anothers(agent, shipped, shop_a):
    ticket = open_ticket(agent, shipped)
    ticket = ticket_assign(actor=agent, ticket=ticket, assignee=agent)
    assert ticket.assignee == agent
    colleague = make_user(role=Role.AGENT, shops=[shop_a])
    with pytest.raises(DeskError, match="主管"):
        ticket_assign(actor=colleague, ticket=ticket, assignee=colleague)
    with pytest.raises(DeskError, match="主管"):
        ticket_assign(actor=agent, ticket=ticket, assignee=colleague)


def test_supervisor_assigns_only_to_staff_of_the_shop(agent, supervisor, shipped, shop_b):
    ticket = open_ticket(agent, shipped)
    outsider = make_user(role=Role.AGENT, shops=[shop_b])
    with pytest.raises(DeskError, match="不负责"):
        ticket_assign(actor=supervisor, ticket=ticket, assignee=outsider)
    ticket = ticket_assign(actor=supervisor, ticket=ticket, assignee=agent)
    assert ticket.assignee == agent
    assert ticket.events.filter(kind=TicketEvent.Kind.ASSIGNED).count() == 1


def test_notes_and_escalation_land_on_the_timeline(agent, shipped):
    ticket = open_ticket(agent, shipped)
    ticket_note(actor=agent, ticket=ticket, text="已电话联系买家")
    with pytest.raises(DeskError):
        ticket_note(actor=agent, ticket=ticket, text="   ")
    ticket = ticket_escalate(actor=agent, ticket=ticket, reason="买家不接受补偿方案").ticket
    assert ticket.escalated
    with pytest.raises(DeskError):
        ticket_escalate(actor=agent, ticket=ticket, reason="again")
    messages = list(ticket.events.values_list("kind", "message"))
    assert ("note", "已电话联系买家") in messages
    assert ("escalated", "买家不接受补偿方案") in messages


def test_promise_is_kept_once(agent, shipped):
    ticket = open_ticket(agent, shipped, promises=[PromiseRequest("gift", "送袜子一双")])
    promise = ticket.promises.get()
    promise_fulfil(actor=agent, promise=promise)
    with pytest.raises(DeskError):
        promise_fulfil(actor=agent, promise=promise)
