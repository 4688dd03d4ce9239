"""The ticket page reads the order's money once and adds it up in Python (issue 14): the sums
it shows must be the ones the database's own sums give, for every shape a ledger takes
(reversals, compensation waiting, approved, rejected, reversed after approval, money outside
any ticket, a second ticket on the same order), and the page's queries must not grow with
the rows it shows."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import make_order, make_sku, make_user
from tickets.models import LedgerEntry, Ticket
from tickets.money import (
    committed_total,
    counted,
    counted_total,
    is_counted,
    is_not_rejected,
    not_rejected,
    signed_total,
)
from tickets.roles import Role
from tickets.selectors import order_ledger, order_ticket_items, refund_room, transition_refusal
from tickets.selectors_exchanges import exchange_items, exchange_price_position
from tickets.services.exchanges import (
    ReplacementRequest,
    exchange_charge_record,
    exchange_charge_reverse,
    exchange_set_replacements,
)
from tickets.services.ledger import compensation_decide, ledger_record, ledger_reverse, refund_cap
from tickets.services.tickets import ItemRequest, promise_add, ticket_note, ticket_open

K = LedgerEntry.Kind
PAY = LedgerEntry.PaymentMethod
S = Ticket.Status


@pytest.fixture(autouse=True)
def approval_above_50(settings):
    settings.DESK_COMPENSATION_APPROVAL_THRESHOLD = Decimal("50")


@pytest.fixture
def second_supervisor(db):
    return make_user("boss-2", Role.SUPERVISOR, all_shops=True)


def open_ticket(order, user, kind, items=None):
    return ticket_open(
        actor=user,
        order=order,
        kind=kind,
        reason=Ticket.Reason.NOT_SUITABLE,
        responsibility=Ticket.Responsibility.BUYER,
        items=[ItemRequest(item, 1) for item in (items or order.items.all()[:1])],
    )


def record(user, order, ticket, kind, amount):
    return ledger_record(
        actor=user,
        order=order,
        ticket=ticket,
        kind=kind,
        amount=amount,
        payment_method=PAY.PLATFORM_REFUND if kind == K.REFUND else PAY.ALIPAY_TRANSFER,
    )


@pytest.fixture
def busy_order(shop_a, supervisor, second_supervisor):
    """An order of three goods with a return and a compensation ticket on it, and money of
    every shape: refunds counted and reversed, compensation waiting, approved, rejected and
    approved-then-reversed, postage, and compensation outside any ticket."""
    order = make_order(
        shop_a,
        items=((Decimal("120.00"), 2), (Decimal("80.00"), 1), (Decimal("35.50"), 3)),
    )
    goods = list(order.items.order_by("pk"))
    ret = open_ticket(order, supervisor, Ticket.Kind.RETURN, goods[:2])
    comp = open_ticket(order, supervisor, Ticket.Kind.COMPENSATION, goods[2:])
    record(supervisor, order, ret, K.REFUND, "30.00")
    mistake = record(supervisor, order, ret, K.REFUND, "20.00")
    ledger_reverse(actor=supervisor, entry=mistake, reason="登记错了")
    record(supervisor, order, ret, K.POSTAGE, "12.00")
    waiting = record(supervisor, order, comp, K.COMPENSATION, "60.00")
    approved = record(supervisor, order, comp, K.COMPENSATION, "70.00")
    rejected = record(supervisor, order, comp, K.COMPENSATION, "80.00")
    undone = record(supervisor, order, comp, K.COMPENSATION, "90.00")
    compensation_decide(actor=second_supervisor, entry=approved, approved=True)
    compensation_decide(actor=second_supervisor, entry=rejected, approved=False, reason="不合理")
    compensation_decide(actor=second_supervisor, entry=undone, approved=True)
    ledger_reverse(actor=supervisor, entry=undone, reason="买家退回了赔偿")
    pending_undone = record(supervisor, order, comp, K.COMPENSATION, "55.00")
    ledger_reverse(actor=supervisor, entry=pending_undone, reason="重复登记")
    record(supervisor, order, None, K.COMPENSATION, "5.00")
    assert waiting.requires_approval and not hasattr(waiting, "approval")
    return order, ret, comp


def test_sums_of_rows_read_once_equal_the_databases_sums(busy_order):
    # given
    order, ret, comp = busy_order
    rows = order_ledger(order)
    items = order_ticket_items(order)
    # then: the rules row by row
    for ticket in (ret, comp):
        own = [e for e in rows if e.ticket_id == ticket.pk]
        assert {e.pk for e in own if is_counted(e)} == set(
            counted(ticket.ledger_entries.all()).values_list("pk", flat=True)
        )
        assert {e.pk for e in own if is_not_rejected(e)} == set(
            not_rejected(ticket.ledger_entries.all()).values_list("pk", flat=True)
        )
        assert signed_total(e for e in own if is_counted(e)) == counted_total(
            ticket.ledger_entries.all()
        )
        assert signed_total(e for e in own if is_not_rejected(e)) == committed_total(
            ticket.ledger_entries.all()
        )
        # and what the page shows from them
        assert refund_room(order, ticket, entries=rows, items=items) == refund_room(order, ticket)
        assert refund_cap(order, ticket, entries=rows, items=items) == refund_cap(order, ticket)
        for status in (S.REFUNDED, S.COMPENSATED):
            assert transition_refusal(ticket, status, ledger=own) == transition_refusal(
                ticket, status
            )
    assert refund_room(order, None, entries=rows) == refund_room(order, None)
    assert refund_room(order, ret) > 0  # the sums above compared something


def test_the_orders_rows_count_only_for_their_own_ticket(shop_a, supervisor):
    """Given every row of the order, a ticket's moves still add up its own rows only:
    another ticket's refund does not let this one be marked refunded (hostile review of
    issue 14)."""
    order = make_order(shop_a, items=((Decimal("120.00"), 1), (Decimal("80.00"), 1)))
    first, second = list(order.items.order_by("pk"))
    refunded = open_ticket(order, supervisor, Ticket.Kind.REFUND_ONLY, [first])
    waiting = open_ticket(order, supervisor, Ticket.Kind.REFUND_ONLY, [second])
    record(supervisor, order, refunded, K.REFUND, "30.00")
    rows = order_ledger(order)

    assert transition_refusal(refunded, S.REFUNDED, ledger=rows) is None
    assert transition_refusal(waiting, S.REFUNDED) is not None
    assert transition_refusal(waiting, S.REFUNDED, ledger=rows) == transition_refusal(
        waiting, S.REFUNDED
    )


def test_an_exchanges_price_position_from_rows_read_once(shop_a, supervisor):
    # given: a dearer replacement, a price difference paid and one reversed, a refund
    order = make_order(shop_a, items=((Decimal("169.00"), 2), (Decimal("59.00"), 1)))
    hoodie, tee = order.items.order_by("pk")
    ticket = open_ticket(order, supervisor, Ticket.Kind.EXCHANGE, [hoodie, tee])
    items = {i.order_item_id: i for i in ticket.items.all()}
    dearer = make_sku(price=Decimal("199.00"), product=hoodie.sku.product, size="XL+")
    cheaper = make_sku(price=Decimal("39.00"), title="短袖")
    exchange_set_replacements(
        actor=supervisor,
        ticket=ticket,
        requests=[
            ReplacementRequest(items[hoodie.pk].pk, dearer, 1),
            ReplacementRequest(items[tee.pk].pk, cheaper, 1),
        ],
    )
    exchange_charge_record(actor=supervisor, ticket=ticket, amount="5.00")
    wrong = exchange_charge_record(actor=supervisor, ticket=ticket, amount="3.00")
    exchange_charge_reverse(actor=supervisor, charge=wrong, reason="记错了")
    # when
    own = [e for e in order_ledger(order) if e.ticket_id == ticket.pk]
    read_once = exchange_price_position(
        ticket,
        items=exchange_items(ticket),
        charges=list(ticket.exchange_charges.all()),
        ledger=own,
    )
    # then
    assert read_once == exchange_price_position(ticket)
    assert read_once.due == Decimal("10.00") and read_once.charged == Decimal("5.00")


def _page_queries(client, ticket) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("tickets:ticket_detail", args=[ticket.pk]))
    assert response.status_code == 200
    return len(captured.captured_queries), response.content.decode()


def _grow(order, ticket, user, second_supervisor):
    """More of everything the page lists: money (with an approval and a reversal), notes,
    promises."""
    for n in range(3):
        record(user, order, ticket, K.POSTAGE, f"{n + 1}.00")
        ticket_note(actor=user, ticket=ticket, text=f"联系了买家 {n}")
        promise_add(actor=user, ticket=ticket, kind="postage", text=f"承担运费 {n}")
    big = record(user, order, ticket, K.COMPENSATION, "60.00")
    compensation_decide(actor=second_supervisor, entry=big, approved=True)
    mistake = record(user, order, ticket, K.POSTAGE, "9.00")
    ledger_reverse(actor=user, entry=mistake, reason="登记错了")


@pytest.mark.parametrize("kind", [Ticket.Kind.RETURN, Ticket.Kind.EXCHANGE, Ticket.Kind.RESHIP])
def test_the_pages_queries_do_not_grow_with_its_rows(
    client, shop_a, supervisor, second_supervisor, kind
):
    # given: a ticket on one item with nothing on it, and one on three items with money,
    # approvals, reversals, notes and promises, a second ticket on its order
    small_order = make_order(shop_a)
    small = open_ticket(small_order, supervisor, kind)
    big_order = make_order(
        shop_a, items=((Decimal("50.00"), 1), (Decimal("60.00"), 2), (Decimal("70.00"), 1))
    )
    big = open_ticket(big_order, supervisor, kind, list(big_order.items.all()))
    other = open_ticket(big_order, supervisor, Ticket.Kind.COMPENSATION)
    _grow(big_order, big, supervisor, second_supervisor)
    record(supervisor, big_order, other, K.COMPENSATION, "5.00")
    if kind == Ticket.Kind.EXCHANGE:
        for ticket in (small, big):
            exchange_set_replacements(
                actor=supervisor,
                ticket=ticket,
                requests=[
                    ReplacementRequest(i.pk, make_sku(price=i.order_item.unit_price + 10), 1)
                    for i in ticket.items.select_related("order_item")
                ],
            )
        exchange_charge_record(actor=supervisor, ticket=big, amount="1.00")
    client.force_login(supervisor)
    # when
    _page_queries(client, small)  # the session's first reads
    few, _html = _page_queries(client, small)
    many, html = _page_queries(client, big)
    # then
    assert many == few
    # and the rows read once still say which entry was reversed and which approved
    money = html[html.index('id="money"') : html.index('id="timeline"')]
    assert money.count("已冲销") == 1 and money.count("已批准") == 1
    assert money.count('<tr class="reversal">') == 1
