"""Money: refund cap, compensation approval, reversals, double submits."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from tests.factories import make_order, make_user
from tickets.models import LedgerApproval, LedgerEntry, Order, Ticket
from tickets.money import counted_total
from tickets.money import parse_money as parse_amount
from tickets.roles import Role
from tickets.selectors import refund_room
from tickets.services import DeskError
from tickets.services.ledger import (
    compensation_decide,
    ledger_record,
    ledger_reverse,
    submission_key_issue,
    submission_key_read,
)
from tickets.services.tickets import ItemRequest, ticket_open, ticket_transition

K = LedgerEntry.Kind
S = Ticket.Status
ALIPAY = LedgerEntry.PaymentMethod.ALIPAY_TRANSFER


@pytest.fixture
def order(shop_a):
    # 2 x 100.00 and 1 x 50.00, paid 250.00
    return make_order(
        shop_a, status=Order.Status.SUCCESS, items=((Decimal("100.00"), 2), (Decimal("50.00"), 1))
    )


def _ticket(agent, order, kind=Ticket.Kind.RETURN, quantity=1, item_index=0):
    item = list(order.items.all())[item_index]
    return ticket_open(
        actor=agent,
        order=order,
        kind=kind,
        reason="quality",
        responsibility="seller",
        items=[ItemRequest(item, quantity)],
    )


def record(agent, order, kind, amount, ticket=None, key=None, method=ALIPAY):
    return ledger_record(
        actor=agent,
        order=order,
        ticket=ticket,
        kind=kind,
        amount=amount,
        payment_method=method,
        idempotency_key=key,
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12", "12.00"), ("¥1,234.50", "1234.50"), ("8元", "8.00"), (" 0.01 ", "0.01")],
)
def test_amounts_are_parsed_as_decimals(raw, expected):
    assert parse_amount(raw) == Decimal(expected)


@pytest.mark.parametrize("raw", ["0", "-3", "1.234", "abc", "NaN", "Infinity", ""])
def test_bad_amounts_are_refused_with_a_message(raw):
    with pytest.raises(DeskError):
        parse_amount(raw)


def test_floats_never_become_money():
    with pytest.raises(TypeError):
        parse_amount(12.5)


def test_refund_never_exceeds_what_was_paid_for_the_ticket_items(agent, order):
    ticket = _ticket(agent, order, quantity=1)  # one of the 2 x 100.00
    assert refund_room(order, ticket) == Decimal("100.00")
    with pytest.raises(DeskError, match="上限"):
        record(agent, order, K.REFUND, "100.01", ticket)
    record(agent, order, K.REFUND, "60.00", ticket)
    with pytest.raises(DeskError, match=r"40\.00"):
        record(agent, order, K.REFUND, "40.01", ticket)
    record(agent, order, K.REFUND, "40.00", ticket)
    assert counted_total(ticket.ledger_entries.all()) == Decimal("100.00")
    assert LedgerEntry.objects.count() == 2


def test_a_reversed_refund_frees_the_room_again(agent, order):
    ticket = _ticket(agent, order)
    first = record(agent, order, K.REFUND, "100.00", ticket)
    ledger_reverse(actor=agent, entry=first, reason="退错了")
    assert refund_room(order, ticket) == Decimal("100.00")
    assert record(agent, order, K.REFUND, "100.00", ticket).amount == Decimal("100.00")


def test_refunds_plus_compensation_never_exceed_the_order_paid(agent, order):
    for index in range(2):
        ticket = _ticket(agent, order, quantity=2 if index == 0 else 1, item_index=index)
        record(agent, order, K.REFUND, str(ticket.items.get().order_item.paid_amount), ticket)
    # 250.00 refunded: no room for compensation on this order any more
    with pytest.raises(DeskError, match="上限"):
        record(agent, order, K.COMPENSATION, "5.00")
    # postage is a reimbursement of the buyer's costs, not capped by the goods
    assert record(agent, order, K.POSTAGE, "12.00").amount == Decimal("12.00")


def test_refund_on_a_received_return_marks_it_refunded(agent, order):
    ticket = _ticket(agent, order)
    ticket_transition(actor=agent, ticket=ticket, to_status=S.AWAITING_RETURN)
    ticket_transition(actor=agent, ticket=ticket, to_status=S.RECEIVED)
    with pytest.raises(DeskError, match="退款"):
        ticket_transition(actor=agent, ticket=ticket, to_status=S.REFUNDED)
    record(agent, order, K.REFUND, "100.00", ticket)
    ticket.refresh_from_db()
    assert ticket.status == S.REFUNDED
    assert ticket.events.filter(kind="money").exists()


def test_compensation_above_threshold_counts_only_after_approval(
    agent, supervisor, order, settings
):
    settings.DESK_COMPENSATION_APPROVAL_THRESHOLD = Decimal("50")
    ticket = _ticket(agent, order, kind=Ticket.Kind.COMPENSATION)
    small = record(agent, order, K.COMPENSATION, "50.00", ticket)
    assert not small.requires_approval
    ticket.refresh_from_db()
    assert ticket.status == S.COMPENSATED  # counted at once
    second = _ticket(agent, order, kind=Ticket.Kind.COMPENSATION, item_index=1)
    big = record(agent, order, K.COMPENSATION, "50.01", second)
    assert big.requires_approval
    assert counted_total(second.ledger_entries.all()) == 0
    second.refresh_from_db()
    assert second.status == S.OPEN
    with pytest.raises(PermissionDenied):
        compensation_decide(actor=agent, entry=big, approved=True)
    compensation_decide(actor=supervisor, entry=big, approved=True)
    assert counted_total(second.ledger_entries.all()) == Decimal("50.01")
    second.refresh_from_db()
    assert second.status == S.COMPENSATED
    with pytest.raises(DeskError, match="已经审批"):
        compensation_decide(actor=supervisor, entry=big, approved=False, reason="x")


def test_rejected_compensation_never_counts_and_frees_the_cap(agent, supervisor, order):
    entry = record(agent, order, K.COMPENSATION, "240.00")
    with pytest.raises(DeskError, match="理由"):
        compensation_decide(actor=supervisor, entry=entry, approved=False)
    compensation_decide(actor=supervisor, entry=entry, approved=False, reason="超出标准")
    assert counted_total(order.ledger_entries.all()) == 0
    assert refund_room(order, None) == Decimal("250.00")


def test_reversal_happens_once_and_never_of_a_reversal(agent, order):
    entry = record(agent, order, K.POSTAGE, "10.00")
    reversal = ledger_reverse(actor=agent, entry=entry, reason="重复登记")
    assert reversal.signed_amount == Decimal("-10.00")
    with pytest.raises(DeskError, match="已经冲销"):
        ledger_reverse(actor=agent, entry=entry, reason="again")
    with pytest.raises(DeskError, match="不能再冲销"):
        ledger_reverse(actor=agent, entry=reversal, reason="x")
    with pytest.raises(DeskError, match="原因"):
        ledger_reverse(actor=agent, entry=record(agent, order, K.POSTAGE, "1.00"), reason=" ")
    assert counted_total(order.ledger_entries.filter(kind=K.POSTAGE)) == Decimal("1.00")


def test_the_same_submission_twice_makes_one_entry(agent, order):
    key = submission_key_read(agent, submission_key_issue(agent))
    first = record(agent, order, K.POSTAGE, "10.00", key=key)
    again = record(agent, order, K.POSTAGE, "10.00", key=key)
    assert first.pk == again.pk
    assert LedgerEntry.objects.count() == 1


def test_submission_keys_are_the_servers_and_the_users(agent, order, shop_a):
    token = submission_key_issue(agent)
    other = make_user(role=Role.AGENT, shops=[shop_a])
    with pytest.raises(DeskError):
        submission_key_read(other, token)
    with pytest.raises(DeskError):
        submission_key_read(agent, token + "x")


def test_finance_may_not_record_money(finance, order):
    with pytest.raises(PermissionDenied):
        record(finance, order, K.POSTAGE, "10.00")


def test_approval_rows_are_append_only(agent, supervisor, order):
    entry = record(agent, order, K.COMPENSATION, "80.00")
    decision = compensation_decide(actor=supervisor, entry=entry, approved=True)
    from tickets.models import AppendOnlyError

    with pytest.raises(AppendOnlyError):
        decision.save()
    assert LedgerApproval.objects.count() == 1
