"""The agent's pages end to end at the HTTP level: open, work, money, list, export."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.factories import make_order, make_ticket, make_user
from tickets.models import LedgerEntry, Order, Ticket
from tickets.roles import Role
from tickets.services.ledger import submission_key_issue


@pytest.fixture
def logged_in(client, agent):
    client.force_login(agent)
    return client


def test_open_a_ticket_from_the_order_page(logged_in, agent, shop_a):
    order = make_order(shop_a, status=Order.Status.SUCCESS, items=((Decimal("80.00"), 2),))
    item = order.items.get()
    page = logged_in.get(reverse("tickets:ticket_new", args=[order.pk]))
    assert page.status_code == 200
    response = logged_in.post(
        reverse("tickets:ticket_new", args=[order.pk]),
        {
            "kind": "exchange",
            "reason": "not_suitable",
            "responsibility": "buyer",
            f"qty_{item.pk}": "2",
            "description": "换大一码",
            "promise_kind": "postage",
            "promise_text": "寄回运费我们承担",
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:ticket_detail", args=[ticket.pk])
    assert ticket.assignee == agent  # the agent who opens it works it
    assert ticket.items.get().quantity == 2
    assert ticket.promises.get().text == "寄回运费我们承担"


def test_open_refuses_more_than_ordered_and_says_so(logged_in, shop_a):
    order = make_order(shop_a, items=((Decimal("80.00"), 1),))
    item = order.items.get()
    response = logged_in.post(
        reverse("tickets:ticket_new", args=[order.pk]),
        {"kind": "return", "reason": "quality", "responsibility": "seller", f"qty_{item.pk}": "3"},
    )
    assert response.status_code == 200
    assert not Ticket.objects.exists()
    assert "1" in response.content.decode()
    response = logged_in.post(
        reverse("tickets:ticket_new", args=[order.pk]),
        {"kind": "return", "reason": "quality", "responsibility": "seller", f"qty_{item.pk}": "0"},
    )
    assert "请至少选择一件售后商品" in response.content.decode()


def test_transition_buttons_and_refusals(logged_in, agent, order_a):
    ticket = make_ticket(order_a, agent, kind=Ticket.Kind.EXCHANGE)
    url = reverse("tickets:ticket_transition", args=[ticket.pk])
    response = logged_in.post(url, {"to_status": "shipped", "tracking_no": "SF1"}, follow=True)
    assert "不能从" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == "open"
    logged_in.post(url, {"to_status": "awaiting_return", "tracking_no": "yt 777"})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.return_tracking_no) == ("awaiting_return", "YT777")


def test_money_form_twice_makes_one_entry(logged_in, agent, order_a):
    ticket = make_ticket(order_a, agent, kind=Ticket.Kind.EXCHANGE)
    token = submission_key_issue(agent)
    data = {
        "kind": "postage",
        "amount": "¥12.50",
        "payment_method": "alipay_transfer",
        "note": "退回运费",
        "submission": token,
    }
    url = reverse("tickets:ledger_record", args=[ticket.pk])
    first = logged_in.post(url, data)
    second = logged_in.post(url, data)
    assert first.status_code == second.status_code == 302
    entry = LedgerEntry.objects.get()
    assert entry.amount == Decimal("12.50")
    page = logged_in.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    assert "登记邮费 ¥12.50" in page  # on the timeline


def test_bad_amount_is_refused_with_a_message(logged_in, agent, order_a):
    ticket = make_ticket(order_a, agent)
    response = logged_in.post(
        reverse("tickets:ledger_record", args=[ticket.pk]),
        {
            "kind": "postage",
            "amount": "12.345",
            "payment_method": "alipay_transfer",
            "submission": submission_key_issue(agent),
        },
        follow=True,
    )
    assert "两位小数" in response.content.decode()
    assert not LedgerEntry.objects.exists()


def test_forged_submission_key_is_refused(logged_in, agent, order_a):
    ticket = make_ticket(order_a, agent)
    response = logged_in.post(
        reverse("tickets:ledger_record", args=[ticket.pk]),
        {
            "kind": "postage",
            "amount": "5",
            "payment_method": "alipay_transfer",
            "submission": "made-up",
        },
        follow=True,
    )
    assert "表单已过期" in response.content.decode()
    assert not LedgerEntry.objects.exists()


def test_supervisor_approves_compensation_from_the_list(
    client, agent, supervisor, order_a, settings
):
    settings.DESK_COMPENSATION_APPROVAL_THRESHOLD = Decimal("50")
    ticket = make_ticket(order_a, agent, kind=Ticket.Kind.COMPENSATION)
    client.force_login(agent)
    client.post(
        reverse("tickets:ledger_record", args=[ticket.pk]),
        {
            "kind": "compensation",
            "amount": "60",
            "payment_method": "red_packet",
            "submission": submission_key_issue(agent),
        },
    )
    entry = LedgerEntry.objects.get()
    assert entry.requires_approval
    client.force_login(supervisor)
    listing = client.get(reverse("tickets:approval_list")).content.decode()
    assert ticket.number in listing
    client.post(reverse("tickets:approval_decide", args=[entry.pk]), {"approved": "1"})
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.COMPENSATED
    assert ticket.number not in client.get(reverse("tickets:approval_list")).content.decode()


def test_unpack_screen_scans_and_saves_once(logged_in, agent, order_a):
    ticket = make_ticket(
        order_a,
        agent,
        kind=Ticket.Kind.RETURN,
        status=Ticket.Status.AWAITING_RETURN,
        return_tracking_no="ZTO123",
    )
    lookup = logged_in.get(
        reverse("tickets:parcel_unpack") + "?tracking_no=zto123"
    ).content.decode()
    assert ticket.number in lookup
    data = {"tracking_no": "ZTO123", "condition": "intact", "contents": "连衣裙", "buyer_note": ""}
    logged_in.post(reverse("tickets:parcel_unpack"), data)
    again = logged_in.post(reverse("tickets:parcel_unpack"), data, follow=True).content.decode()
    assert "没有重复登记" in again
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RECEIVED


def test_ticket_list_filters_are_in_the_url(logged_in, agent, shop_a):
    now = timezone.now()
    late = make_ticket(make_order(shop_a), agent, created_at=now - timedelta(days=4))
    fresh = make_ticket(make_order(shop_a, buyer_nick="寻找的买家"), agent, kind=Ticket.Kind.RETURN)
    closed = make_ticket(make_order(shop_a), agent, status=Ticket.Status.CLOSED)
    url = reverse("tickets:ticket_list")

    def numbers(query):
        html = logged_in.get(url + query).content.decode()
        return {t.number for t in (late, fresh, closed) if t.number in html}

    assert numbers("") == {late.number, fresh.number}  # default: open ones
    assert numbers("?status=closed") == {closed.number}
    assert numbers("?overdue=true") == {late.number}
    assert numbers("?kind=return") == {fresh.number}
    assert numbers("?q=寻找的买家") == {fresh.number}
    assert numbers(f"?q={late.order.order_no}") == {late.number}
    assert numbers("?assignee=none") == {late.number, fresh.number}
    assert numbers("?status=bogus") == set()  # a bad filter shows nothing, not everything


def test_ticket_list_filter_choices_come_from_the_users_shops(logged_in, shop_a, shop_b):
    html = logged_in.get(reverse("tickets:ticket_list")).content.decode()
    assert shop_a.name in html
    assert shop_b.name not in html


def test_ticket_list_query_count_does_not_grow(
    logged_in, agent, shop_a, django_assert_max_num_queries
):
    for _ in range(3):
        make_ticket(make_order(shop_a), agent)
    with django_assert_max_num_queries(20) as few:
        logged_in.get(reverse("tickets:ticket_list"))
    for _ in range(30):
        make_ticket(make_order(shop_a), agent)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = logged_in.get(reverse("tickets:ticket_list"))
    assert page.context["has_next"]
    assert not any(
        "COUNT(" in q["sql"].upper() for q in few.captured_queries if "tickets_ticket" in q["sql"]
    )


def test_ticket_list_pages_keep_the_sort_and_show_each_ticket_once(logged_in, agent, shop_a):
    """The page's ids are read first and their rows after (``_page_rows``): the rows must come
    back in the list's order, page after page, none twice and none lost."""
    now = timezone.now()
    made = [
        make_ticket(make_order(shop_a), agent, created_at=now - timedelta(hours=n))
        for n in range(30)
    ]
    url = reverse("tickets:ticket_list")
    first = logged_in.get(url + "?sort=-created").context["tickets"]
    second = logged_in.get(url + "?sort=-created&page=2").context["tickets"]
    assert [t.pk for t in first + second] == [t.pk for t in made]
    assert all(t.order.shop_id == shop_a.pk for t in first)  # rows carry their order


def test_list_filters_read_their_choices_without_a_server_side_cursor(
    logged_in, agent, shop_a, django_assert_max_num_queries
):
    """The shop and courier selects of the ticket list and the registers are filled by one
    plain query: ``QuerySet.iterator()`` would be a server-side cursor on PostgreSQL
    (DECLARE, FETCH, CLOSE) for a handful of rows."""
    make_ticket(make_order(shop_a), agent)
    for name in ("tickets:ticket_list", "registers:loss_list"):
        with django_assert_max_num_queries(40) as run:
            page = logged_in.get(reverse(name))
        assert page.status_code == 200
        assert shop_a.name in page.content.decode()
        assert not [q for q in run.captured_queries if q["sql"].lstrip().startswith("DECLARE")]


def test_ticket_detail_query_count_does_not_grow(
    logged_in, agent, order_a, django_assert_max_num_queries
):
    ticket = make_ticket(order_a, agent)
    with django_assert_max_num_queries(40) as few:
        logged_in.get(reverse("tickets:ticket_detail", args=[ticket.pk]))
    baseline = len(few.captured_queries)  # read now: the next request clears the query log
    for n in range(10):
        logged_in.post(reverse("tickets:ticket_note", args=[ticket.pk]), {"text": f"note {n}"})
    with django_assert_max_num_queries(baseline):
        logged_in.get(reverse("tickets:ticket_detail", args=[ticket.pk]))


def test_export_is_the_filtered_list_and_safe_for_excel(logged_in, agent, shop_a, shop_b):
    mine = make_ticket(
        make_order(shop_a, buyer_nick='=HYPERLINK("http://x")'),
        agent,
        return_tracking_no="+SUM(A1)",
    )
    make_ticket(make_order(shop_a), agent, status=Ticket.Status.CLOSED)
    make_ticket(make_order(shop_b), make_user(role=Role.AGENT, shops=[shop_b]))
    response = logged_in.get(reverse("tickets:ticket_export") + "?status=open")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")

    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "单号"
    assert [r[0] for r in rows[1:]] == [mine.number]
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
    assert not any(
        isinstance(v, str) and v.startswith("1") and len(v) == 11 for r in rows for v in r
    )


def test_ticket_page_suggests_postage_from_the_rate_card(logged_in, agent, shop_a):
    # a Wuhan shop sending within Wuhan: the rate card's same-city price
    order = make_order(shop_a, receiver_province="湖北省", receiver_city="武汉市")
    ticket = make_ticket(order, agent, kind=Ticket.Kind.EXCHANGE)
    page = logged_in.get(reverse("tickets:ticket_detail", args=[ticket.pk]))
    form = page.context["ledger_form"]
    assert form.initial["kind"] == "postage"
    assert form.initial["amount"] == Decimal("6.00")
    assert "运费建议" in page.content.decode()


def test_order_page_shows_the_invoice_number_and_its_posting(logged_in, agent, order_a):
    from tickets.models import InvoiceRequest

    InvoiceRequest.objects.create(
        shop=order_a.shop,
        order=order_a,
        title="武汉某某科技有限公司",
        amount=Decimal("99.00"),
        status="posted",
        invoice_no="04412345",
        posting_tracking_no="SF9988",
        recorded_by=agent,
    )
    html = logged_in.get(reverse("tickets:order_detail", args=[order_a.pk])).content.decode()
    assert "04412345" in html and "SF9988" in html
