"""Each change has one door: caps that hold across tickets, promises that end on purpose, one
parser for money, one writer of the timeline, and a database that refuses what no door allows.
Every test here tries to get around a rule (a second ticket, a hand-made POST, a direct
insert) and shows it holds."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from tests.factories import make_order, make_shop
from tickets.db import (
    APPEND_ONLY_TABLES,
    SHOP_OF_ORDER_TABLES,
    SHOP_OF_TICKET_TABLES,
    TICKET_OF_ORDER_TABLES,
)
from tickets.models import LedgerEntry, Order, Promise, Ticket, TicketEvent
from tickets.money import MoneyError, parse_money
from tickets.selectors import refund_room
from tickets.services import DeskError
from tickets.services.ledger import ledger_record, submission_key_issue
from tickets.services.parcels import parcel_unpack
from tickets.services.tickets import (
    ItemRequest,
    PromiseRequest,
    promise_add,
    promise_fulfil,
    ticket_open,
    ticket_set_return_tracking,
    ticket_transition,
)

K = LedgerEntry.Kind
S = Ticket.Status
ALIPAY = LedgerEntry.PaymentMethod.ALIPAY_TRANSFER
ROOT = Path(__file__).resolve().parents[2]


def refund_only(agent, order, item, quantity=1, **extra) -> Ticket:
    return ticket_open(
        actor=agent,
        order=order,
        kind=Ticket.Kind.REFUND_ONLY,
        reason=Ticket.Reason.QUALITY,
        responsibility=Ticket.Responsibility.SELLER,
        items=[ItemRequest(item, quantity)],
        **extra,
    )


@pytest.fixture
def two_items(shop_a) -> Order:
    return make_order(shop_a, items=((Decimal("100.00"), 1), (Decimal("100.00"), 1)))


# --- the refund cap belongs to the order item ------------------------------------------
def test_two_tickets_on_one_item_share_its_cap(agent, two_items):
    # given one order, two items at 100.00, and two refund-only tickets on item 1
    first_item = two_items.items.order_by("pk").first()
    first = refund_only(agent, two_items, first_item)
    second = refund_only(agent, two_items, first_item)
    ledger_record(
        actor=agent,
        order=two_items,
        ticket=first,
        kind=K.REFUND,
        amount="100",
        payment_method=ALIPAY,
    )
    # when the second ticket tries to refund the same item again
    assert refund_room(two_items, second) == Decimal("0.00")
    with pytest.raises(DeskError, match="上限"):
        ledger_record(
            actor=agent,
            order=two_items,
            ticket=second,
            kind=K.REFUND,
            amount="0.01",
            payment_method=ALIPAY,
        )
    # then 100.00 was refunded for the 100.00 item, not 200.00
    assert LedgerEntry.objects.filter(kind=K.REFUND).count() == 1


def test_the_other_item_keeps_its_own_room(agent, two_items):
    first_item, second_item = two_items.items.order_by("pk")
    first = refund_only(agent, two_items, first_item)
    ledger_record(
        actor=agent,
        order=two_items,
        ticket=first,
        kind=K.REFUND,
        amount="60",
        payment_method=ALIPAY,
    )
    other = refund_only(agent, two_items, second_item)
    again = refund_only(agent, two_items, first_item)
    assert refund_room(two_items, other) == Decimal("100.00")
    assert refund_room(two_items, again) == Decimal("40.00")


def test_a_ticket_on_both_items_counts_against_each_in_proportion(agent, shop_a):
    order = make_order(shop_a, items=((Decimal("30.00"), 1), (Decimal("70.00"), 1)))
    cheap, dear = order.items.order_by("pk")
    both = ticket_open(
        actor=agent,
        order=order,
        kind=Ticket.Kind.REFUND_ONLY,
        reason=Ticket.Reason.QUALITY,
        responsibility=Ticket.Responsibility.SELLER,
        items=[ItemRequest(cheap, 1), ItemRequest(dear, 1)],
    )
    ledger_record(
        actor=agent, order=order, ticket=both, kind=K.REFUND, amount="50", payment_method=ALIPAY
    )
    # 50.00 over 100.00 paid: 15.00 of the cheap item, 35.00 of the dear one
    assert refund_room(order, refund_only(agent, order, cheap)) == Decimal("15.00")
    assert refund_room(order, refund_only(agent, order, dear)) == Decimal("35.00")


def test_the_item_cap_holds_through_the_money_form(client, agent, two_items):
    first_item = two_items.items.order_by("pk").first()
    first = refund_only(agent, two_items, first_item)
    second = refund_only(agent, two_items, first_item)
    client.force_login(agent)
    for ticket in (first, second):
        client.post(
            reverse("tickets:ledger_record", args=[ticket.pk]),
            {
                "kind": "refund",
                "amount": "100",
                "payment_method": "platform_refund",
                "submission": submission_key_issue(agent),
            },
        )
    assert [e.ticket_id for e in LedgerEntry.objects.all()] == [first.pk]


# --- one parser for money ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", "12.00"),
        ("¥1,234.50", "1234.50"),
        ("８元", "8.00"),
        ("￥ 30", "30.00"),
        (Decimal("5.5"), "5.50"),
        (7, "7.00"),
    ],
)
def test_money_is_read_as_people_write_it(raw, expected):
    assert parse_money(raw) == Decimal(expected)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1e28", "不是有效的金额"),
        ("1E5", "不是有效的金额"),
        ("1_000", "不是有效的金额"),
        ("1,2,3", "不是有效的金额"),
        ("12,34", "不是有效的金额"),
        ("١٢", "不是有效的金额"),  # Arabic-Indic digits: Decimal takes them, people don't
        ("Infinity", "不是有效的金额"),
        ("", "请填写金额"),
        ("-5", "负数"),
        ("0", "大于 0"),
        ("1.001", "两位小数"),
        ("10000000000", "过大"),
        (Decimal("1e28"), "过大"),
        ("9" * 400, "不是有效的金额"),
    ],
)
def test_what_is_not_money_is_refused_with_one_clear_message(raw, message):
    with pytest.raises(MoneyError, match=message):
        parse_money(raw)


def test_a_float_is_a_programming_error():
    with pytest.raises(TypeError):
        parse_money(12.5)


@pytest.mark.parametrize("raw", ["1e28", "1,2,3", "1_000", "99999999999999999999999999999"])
def test_the_money_form_answers_odd_amounts_with_a_message(client, agent, order_a, raw):
    ticket = refund_only(agent, order_a, order_a.items.get())
    client.force_login(agent)
    response = client.post(
        reverse("tickets:ledger_record", args=[ticket.pk]),
        {
            "kind": "postage",
            "amount": raw,
            "payment_method": "alipay_transfer",
            "submission": submission_key_issue(agent),
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "金额" in response.content.decode()
    assert not LedgerEntry.objects.exists()


def test_no_module_keeps_its_own_cent():
    """Money has one home: no other module defines the cent or parses amounts itself."""
    offenders = []
    for path in [*ROOT.glob("tickets/**/*.py"), *ROOT.glob("finance_exports/**/*.py")]:
        if "migrations" in path.parts or path.name == "money.py":
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r'^CENT\s*=|quantize\(Decimal\("0\.01"\)', text, re.M):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


# --- the database refuses a row whose shop is not its order's -------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_ledger_row_for_another_shops_order_is_refused_by_the_database(agent, shop_a):
    order = make_order(shop_a)
    other = make_shop("elsewhere")
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            shop=other,
            order=order,
            kind=K.POSTAGE,
            amount=Decimal("5.00"),
            payment_method=ALIPAY,
            recorded_by=agent,
        )
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_ticket_cannot_move_to_another_shop_and_an_order_keeps_its_shop(agent, shop_a):
    order = make_order(shop_a)
    ticket = refund_only(agent, order, order.items.get())
    other = make_shop("elsewhere")
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(shop=other)
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(shop=other)
    ticket.refresh_from_db()
    order.refresh_from_db()
    assert ticket.shop_id == order.shop_id == shop_a.pk


# --- promises end on purpose -----------------------------------------------------------
@pytest.fixture
def promised(agent, order_a) -> Ticket:
    ticket = refund_only(
        agent,
        order_a,
        order_a.items.get(),
        promises=[PromiseRequest(kind=Promise.Kind.GIFT, text="下次发货送小礼物")],
    )
    ledger_record(
        actor=agent, order=order_a, ticket=ticket, kind=K.REFUND, amount="10", payment_method=ALIPAY
    )
    ticket.refresh_from_db()
    assert ticket.status == S.REFUNDED
    return ticket


@pytest.mark.parametrize("end", [S.CLOSED, S.CANCELLED])
def test_a_ticket_with_an_unkept_promise_does_not_end_silently(agent, promised, end):
    with pytest.raises(DeskError, match="下次发货送小礼物"):
        ticket_transition(actor=agent, ticket=promised, to_status=end)
    promised.refresh_from_db()
    assert promised.status == S.REFUNDED


def test_ending_with_a_reason_records_the_promise_as_waived(agent, promised):
    ticket = ticket_transition(
        actor=agent, ticket=promised, to_status=S.CLOSED, waive_reason="买家说不用了"
    )
    assert ticket.status == S.CLOSED
    promise = ticket.promises.get()
    assert (promise.waived_by, promise.waived_reason) == (agent, "买家说不用了")
    assert promise.fulfilled_at is None
    waived = ticket.events.filter(kind=TicketEvent.Kind.PROMISE).latest("id")
    assert "买家说不用了" in waived.message and "下次发货送小礼物" in waived.message
    with pytest.raises(DeskError):
        promise_fulfil(actor=agent, promise=promise)


def test_a_kept_promise_lets_the_ticket_close(agent, promised):
    promise_fulfil(actor=agent, promise=promised.promises.get())
    assert ticket_transition(actor=agent, ticket=promised, to_status=S.CLOSED).status == S.CLOSED


def test_the_ticket_page_asks_for_the_reason_and_passes_it_on(client, agent, promised):
    client.force_login(agent)
    page = client.get(reverse("tickets:ticket_detail", args=[promised.pk])).content.decode()
    assert 'name="waive_reason"' in page
    url = reverse("tickets:ticket_transition", args=[promised.pk])
    refused = client.post(url, {"to_status": "closed"}, follow=True)
    assert "没有兑现" in refused.content.decode()
    promised.refresh_from_db()
    assert promised.status == S.REFUNDED
    client.post(url, {"to_status": "closed", "waive_reason": "已电话致歉"})
    promised.refresh_from_db()
    assert promised.status == S.CLOSED
    assert promised.promises.get().waived_reason == "已电话致歉"


def test_the_database_refuses_a_promise_both_kept_and_waived(agent, promised):
    promise = promised.promises.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Promise.objects.filter(pk=promise.pk).update(
            fulfilled_by=agent, fulfilled_at=promised.created_at, waived_by=agent
        )


# --- one writer of the timeline, one setter of the return tracking number ----------------
def test_the_return_tracking_number_is_set_in_one_place_and_always_on_the_timeline(
    agent, shipped_order
):
    ticket = ticket_open(
        actor=agent,
        order=shipped_order,
        kind=Ticket.Kind.RETURN,
        reason=Ticket.Reason.QUALITY,
        responsibility=Ticket.Responsibility.SELLER,
        items=[ItemRequest(shipped_order.items.get(), 1)],
    )
    ticket = ticket_transition(
        actor=agent, ticket=ticket, to_status=S.AWAITING_RETURN, tracking_no=" yt 100 "
    )
    ticket_set_return_tracking(actor=agent, ticket=ticket, tracking_no="YT100")  # no change
    ticket = ticket_set_return_tracking(actor=agent, ticket=ticket, tracking_no="sf200")
    assert ticket.return_tracking_no == "SF200"
    lines = list(
        ticket.events.filter(kind=TicketEvent.Kind.TRACKING).values_list("message", flat=True)
    )
    assert len(lines) == 2
    assert "YT100" in lines[0] and "SF200" in lines[1] and "YT100" in lines[1]


def test_unpacking_a_parcel_found_by_order_sets_the_number_on_the_timeline(agent, shipped_order):
    ticket = ticket_open(
        actor=agent,
        order=shipped_order,
        kind=Ticket.Kind.RETURN,
        reason=Ticket.Reason.QUALITY,
        responsibility=Ticket.Responsibility.SELLER,
        items=[ItemRequest(shipped_order.items.get(), 1)],
    )
    parcel_unpack(actor=agent, tracking_no="zto300", condition="intact", order=shipped_order)
    ticket.refresh_from_db()
    assert ticket.return_tracking_no == "ZTO300"
    assert ticket.events.filter(kind=TicketEvent.Kind.TRACKING, message__contains="ZTO300").exists()


def test_only_the_timeline_module_writes_timeline_rows():
    writers = []
    for path in [*ROOT.glob("tickets/**/*.py"), *ROOT.glob("finance_exports/**/*.py")]:
        if "migrations" in path.parts or path.name in ("timeline.py", "demo.py"):
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"TicketEvent\.objects\.(create|bulk_create)|(?<!class )TicketEvent\(", text):
            writers.append(str(path.relative_to(ROOT)))
        if re.search(r"\.update\([^)]*return_tracking_no", text):
            writers.append(str(path.relative_to(ROOT)))
    assert writers == []


@pytest.fixture
def shipped_order(shop_a) -> Order:
    return make_order(shop_a, status=Order.Status.SHIPPED)


def test_no_promise_on_a_finished_ticket(agent, order_a):
    ticket = refund_only(agent, order_a, order_a.items.get())
    ticket = ticket_transition(actor=agent, ticket=ticket, to_status=S.CANCELLED)
    with pytest.raises(DeskError, match="已完结"):
        promise_add(actor=agent, ticket=ticket, kind=Promise.Kind.GIFT, text="送礼物")
    assert not ticket.promises.exists()


@pytest.mark.parametrize("reason", ["", "   ", "\u200b", "\u200b\ufeff \u2060"])
def test_an_invisible_reason_is_no_reason(agent, promised, reason):
    with pytest.raises(DeskError):
        ticket_transition(actor=agent, ticket=promised, to_status=S.CLOSED, waive_reason=reason)
    assert promised.promises.get().is_open


@pytest.mark.django_db(transaction=True)
def test_a_ledger_row_on_another_orders_ticket_is_refused_by_the_database(agent, shop_a):
    order = make_order(shop_a)
    other_order = make_order(shop_a)
    ticket = refund_only(agent, other_order, other_order.items.get())
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            shop=shop_a,
            order=order,
            ticket=ticket,
            kind=K.POSTAGE,
            amount=Decimal("5.00"),
            payment_method=ALIPAY,
            recorded_by=agent,
        )
    assert not LedgerEntry.objects.exists()


def test_every_guard_trigger_is_in_place(db):
    """A later migration that rebuilds a table on SQLite would drop its triggers silently."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        names = {row[0] for row in cursor.fetchall()}
    suffixes = ("_ins",) if connection.vendor == "sqlite" else ("",)
    expected = {f"{t}_shop_is_order_shop{s}" for t in SHOP_OF_ORDER_TABLES for s in suffixes}
    expected |= {f"{t}_ticket_is_of_order{s}" for t in TICKET_OF_ORDER_TABLES for s in suffixes}
    expected |= {f"{t}_shop_is_ticket_shop{s}" for t in SHOP_OF_TICKET_TABLES for s in suffixes}
    expected |= {f"tickets_ticketitem_item_is_of_ticket_order{s}" for s in suffixes}
    expected |= {"tickets_ticket_keeps_order_id", "tickets_orderitem_keeps_order_id"}
    expected |= {f"{t}_append_only" for t in APPEND_ONLY_TABLES}
    assert expected - names == set()


def test_an_order_has_one_review(agent, order_a):
    from datetime import timedelta

    from django.utils import timezone

    from tickets.services.reviews import review_register

    made = timezone.now() - timedelta(hours=1)
    review_register(actor=agent, order=order_a, rating="negative", made_at=made)
    for rating, later in (("negative", 1), ("neutral", 60)):
        with pytest.raises(DeskError, match="已经登记过了"):
            review_register(
                actor=agent, order=order_a, rating=rating, made_at=made + timedelta(seconds=later)
            )
    assert order_a.reviews.count() == 1


# --- what the second hostile review found ---------------------------------------------------
def test_invoice_requests_together_stay_within_what_was_paid(agent, order_a):
    from tickets.services.invoices import invoice_request_register

    invoice_request_register(actor=agent, order=order_a, title="某某公司", amount="99")
    with pytest.raises(DeskError, match=r"已申请开票 ¥99\.00"):
        invoice_request_register(actor=agent, order=order_a, title="某某公司", amount="99")
    with pytest.raises(DeskError, match="抬头"):
        invoice_request_register(actor=agent, order=order_a, title="\u200b\u3164", amount="1")
    assert order_a.invoice_requests.count() == 1


def test_a_recorded_invoice_number_and_posting_are_not_rewritten(agent, finance, order_a):
    from tickets.services.invoices import invoice_record_issue, invoice_request_register

    invoice = invoice_request_register(actor=agent, order=order_a, title="某某公司", amount="99")
    invoice_record_issue(actor=finance, invoice=invoice, invoice_no="INV1")
    with pytest.raises(DeskError, match="INV1"):
        invoice_record_issue(actor=finance, invoice=invoice, invoice_no="INV2")
    invoice_record_issue(
        actor=finance, invoice=invoice, invoice_no="", posting_tracking_no="SF55667788"
    )
    posted = invoice_record_issue(actor=finance, invoice=invoice, invoice_no="INV1")
    assert (posted.status, posted.posting_tracking_no) == ("posted", "SF55667788")
    with pytest.raises(DeskError, match="SF55667788"):
        invoice_record_issue(
            actor=finance, invoice=invoice, invoice_no="", posting_tracking_no="YT99887766"
        )


@pytest.mark.parametrize(
    ("raw", "clean"), [(" ｙｔ 1234567\u200b", "YT1234567"), ("sf-12\n34", "SF-1234")]
)
def test_tracking_numbers_are_read_one_way(raw, clean):
    from tickets.text import normalise_tracking_no

    assert normalise_tracking_no(raw) == clean


@pytest.mark.parametrize("junk", ["随便写写", "12", "SF 1234567890 再联系", "x" * 41])
def test_goods_go_out_only_with_a_real_tracking_number(agent, junk):
    order = make_order(agent.shops.first(), status=Order.Status.SHIPPED)
    reship = ticket_open(
        actor=agent,
        order=order,
        kind=Ticket.Kind.RESHIP,
        reason=Ticket.Reason.MISSING_ITEM,
        responsibility=Ticket.Responsibility.SELLER,
        items=[ItemRequest(order.items.get(), 1)],
    )
    with pytest.raises(DeskError, match="运单号"):
        ticket_transition(actor=agent, ticket=reship, to_status=S.SHIPPED, tracking_no=junk)
    reship.refresh_from_db()
    assert reship.status == S.OPEN and reship.outbound_tracking_no == ""


@pytest.mark.django_db(transaction=True)
def test_tickets_and_items_stay_where_they_belong(agent, shop_a):
    from tickets.models import HandoverNote, OrderItem, TicketItem

    order, other = make_order(shop_a), make_order(shop_a)
    ticket = refund_only(agent, order, order.items.get())
    elsewhere = make_shop("elsewhere")
    attempts = [
        lambda: TicketItem.objects.create(ticket=ticket, order_item=other.items.get(), quantity=1),
        lambda: Ticket.objects.filter(pk=ticket.pk).update(order=other),
        lambda: OrderItem.objects.filter(order=order).update(order=other),
        lambda: HandoverNote.objects.create(
            shop=elsewhere,
            ticket=ticket,
            note="x",
            shift_date=ticket.created_at.date(),
            created_by=agent,
        ),
    ]
    for attempt in attempts:
        with pytest.raises(IntegrityError), transaction.atomic():
            attempt()
    ticket.refresh_from_db()
    assert ticket.order_id == order.pk and order.items.count() == 1


def test_a_mistaken_review_compensation_is_reversed_from_the_review_page(client, agent, order_a):
    from datetime import timedelta

    from django.utils import timezone

    from tickets.selectors_registers import review_compensation_room
    from tickets.services.reviews import review_compensate, review_register

    review = review_register(
        actor=agent, order=order_a, rating="negative", made_at=timezone.now() - timedelta(hours=1)
    )
    entry = review_compensate(actor=agent, review=review, amount="10", payment_method="red_packet")
    assert review_compensation_room(review) == 0
    client.force_login(agent)
    page = client.get(reverse("registers:review_detail", args=[review.pk])).content.decode()
    url = reverse("registers:review_compensation_reverse", args=[review.pk, entry.pk])
    assert url in page
    response = client.post(
        url, {"reason": "发错了", "submission": submission_key_issue(agent)}, follow=True
    )
    assert response.status_code == 200
    assert entry.reversal.note == "发错了"
    assert review_compensation_room(review) == Decimal("10.00")
    # an entry that is not this review's is not found through it
    other = make_order(order_a.shop)
    stray = ledger_record(
        actor=agent, order=other, kind=K.POSTAGE, amount="5", payment_method=ALIPAY
    )
    wrong = reverse("registers:review_compensation_reverse", args=[review.pk, stray.pk])
    assert (
        client.post(wrong, {"reason": "x", "submission": submission_key_issue(agent)}).status_code
        == 404
    )


def test_a_ticket_entry_is_reversed_through_the_ticket_page(client, agent, order_a):
    ticket = refund_only(agent, order_a, order_a.items.get())
    entry = ledger_record(
        actor=agent,
        order=order_a,
        ticket=ticket,
        kind=K.POSTAGE,
        amount="12",
        payment_method=ALIPAY,
    )
    client.force_login(agent)
    url = reverse("tickets:ledger_reverse", args=[ticket.pk, entry.pk])
    data = {"reason": "重复登记", "submission": submission_key_issue(agent)}
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # the same submission again: one reversal
    assert LedgerEntry.objects.filter(reverses=entry).count() == 1
    other = refund_only(agent, order_a, order_a.items.get())
    wrong = reverse("tickets:ledger_reverse", args=[other.pk, entry.pk])
    assert (
        client.post(wrong, {"reason": "x", "submission": submission_key_issue(agent)}).status_code
        == 404
    )
