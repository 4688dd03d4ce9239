"""The order page's forms through the test client (issue 11 §5): the seller flag and the
receipt extension with good data and with hostile hand-made POSTs; the warning on the order
page, the ticket page and the dashboard."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_order, make_ticket, make_user
from tickets.models import Order, OrderChange, Ticket
from tickets.roles import Role
from tickets.services.orders import order_set_flag

pytestmark = pytest.mark.django_db


def shipped(shop, days_ago=8):
    order = make_order(shop, status=Order.Status.SHIPPED)
    Order.objects.filter(pk=order.pk).update(
        shipped_at=timezone.now() - timedelta(days=days_ago),
        placed_at=timezone.now() - timedelta(days=days_ago + 1),
    )
    order.refresh_from_db()
    return order


def flag_post(order, **values):
    return {
        "flag": "red",
        "memo": "已补发，勿重复发货",
        "expected_flag": order.flag,
        "expected_memo": order.flag_memo,
        **values,
    }


def state(order):
    order.refresh_from_db()
    return (order.flag, order.flag_memo, order.receipt_extended_days, OrderChange.objects.count())


# --- the flag ------------------------------------------------------------------------
def test_agent_sets_the_flag_and_sees_it_with_its_history(client, agent, order_a):
    client.force_login(agent)
    response = client.post(reverse("tickets:order_flag", args=[order_a.pk]), flag_post(order_a))
    assert response.status_code == 302
    assert response["Location"].endswith(f"/orders/{order_a.pk}/#flag")
    page = client.get(reverse("tickets:order_detail", args=[order_a.pk])).content.decode()
    assert "已补发，勿重复发货" in page
    assert "订单变更记录" in page and "红旗" in page
    assert state(order_a)[:2] == ("red", "已补发，勿重复发货")


def test_the_imported_memo_is_shown_as_such(client, agent, shop_a):
    order = make_order(shop_a, flag_memo="仓库：缺货，11-30 补发")
    client.force_login(agent)
    page = client.get(reverse("tickets:order_detail", args=[order.pk])).content.decode()
    assert "仓库：缺货，11-30 补发" in page
    assert "来自卖家中心导入" in page


def test_flag_memo_is_escaped(client, agent, order_a):
    order_set_flag(actor=agent, order=order_a, flag="red", memo="<script>alert(1)</script>")
    client.force_login(agent)
    page = client.get(reverse("tickets:order_detail", args=[order_a.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_finance_sees_the_flag_but_gets_no_form_and_a_hand_made_post_is_refused(
    client, finance, order_a
):
    client.force_login(finance)
    page = client.get(reverse("tickets:order_detail", args=[order_a.pk])).content.decode()
    assert "修改旗帜和备忘" not in page and "登记延长" not in page
    before = state(order_a)
    response = client.post(reverse("tickets:order_flag", args=[order_a.pk]), flag_post(order_a))
    assert response.status_code == 403
    assert state(order_a) == before


def test_an_agent_of_another_shop_gets_404_and_nothing_changes(client, shop_b, order_a):
    outsider = make_user("agent-b", Role.AGENT, shops=[shop_b])
    client.force_login(outsider)
    before = state(order_a)
    for name, data in (
        ("tickets:order_flag", flag_post(order_a)),
        ("tickets:order_extend_receipt", {"days": "3", "expected_days": "0"}),
    ):
        assert client.post(reverse(name, args=[order_a.pk]), data).status_code == 404
    assert state(order_a) == before


@pytest.mark.parametrize("flag", ["black", "<script>", "红旗", "x" * 50])
def test_a_bad_flag_value_is_refused_with_a_message(client, agent, order_a, flag):
    client.force_login(agent)
    before = state(order_a)
    response = client.post(
        reverse("tickets:order_flag", args=[order_a.pk]), flag_post(order_a, flag=flag), follow=True
    )
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert state(order_a) == before


def test_a_huge_memo_is_refused(client, agent, order_a):
    client.force_login(agent)
    response = client.post(
        reverse("tickets:order_flag", args=[order_a.pk]),
        flag_post(order_a, memo="备" * 600),
        follow=True,
    )
    assert "500" in response.content.decode()
    assert state(order_a)[3] == 0


def test_the_flag_form_posted_twice_records_one_change(client, agent, order_a):
    client.force_login(agent)
    data = flag_post(order_a)
    client.post(reverse("tickets:order_flag", args=[order_a.pk]), data)
    again = client.post(reverse("tickets:order_flag", args=[order_a.pk]), data, follow=True)
    assert "没有变化" in again.content.decode()
    assert OrderChange.objects.count() == 1


def test_get_on_the_flag_url_is_405(client, agent, order_a):
    client.force_login(agent)
    assert client.get(reverse("tickets:order_flag", args=[order_a.pk])).status_code == 405
    assert client.get(reverse("tickets:order_extend_receipt", args=[order_a.pk])).status_code == 405


# --- the receipt extension -------------------------------------------------------------
def test_agent_records_an_extension_and_the_page_shows_the_new_deadline(client, agent, shop_a):
    order = shipped(shop_a)
    client.force_login(agent)
    page = client.get(reverse("tickets:order_detail", args=[order.pk])).content.decode()
    assert "登记延长" in page
    response = client.post(
        reverse("tickets:order_extend_receipt", args=[order.pk]),
        {"days": "5", "note": "快递滞留中转站", "expected_days": "0"},
        follow=True,
    )
    html = response.content.decode()
    order.refresh_from_db()
    deadline = timezone.localtime(order.auto_confirm_at).strftime("%Y-%m-%d %H:%M")
    assert order.receipt_extended_days == 5
    assert f"已登记延长收货 5 天，新的自动确认收货时间：{deadline}" in html
    assert "已延长 5 天" in html and "快递滞留中转站" in html


@pytest.mark.parametrize("days", ["99999", "-5", "4", "3.0", "", "３"])
def test_huge_or_odd_days_are_refused(client, agent, shop_a, days):
    order = shipped(shop_a)
    client.force_login(agent)
    before = state(order)
    response = client.post(
        reverse("tickets:order_extend_receipt", args=[order.pk]),
        {"days": days, "expected_days": "0"},
        follow=True,
    )
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert state(order) == before


def test_the_extension_posted_twice_extends_once(client, agent, shop_a):
    order = shipped(shop_a)
    client.force_login(agent)
    data = {"days": "7", "expected_days": "0"}
    url = reverse("tickets:order_extend_receipt", args=[order.pk])
    client.post(url, data)
    again = client.post(url, data, follow=True)
    assert "没有重复延长" in again.content.decode()
    assert state(order)[2:] == (7, 1)


def test_finance_cannot_extend_by_a_hand_made_post(client, finance, shop_a):
    order = shipped(shop_a)
    client.force_login(finance)
    url = reverse("tickets:order_extend_receipt", args=[order.pk])
    assert client.post(url, {"days": "3", "expected_days": "0"}).status_code == 403
    assert state(order)[2:] == (0, 0)


def test_a_delivered_order_offers_no_extension_and_refuses_one(client, agent, order_a):
    client.force_login(agent)
    page = client.get(reverse("tickets:order_detail", args=[order_a.pk])).content.decode()
    assert "登记延长" not in page
    response = client.post(
        reverse("tickets:order_extend_receipt", args=[order_a.pk]),
        {"days": "3", "expected_days": "0"},
        follow=True,
    )
    assert "卖家已发货" in response.content.decode()
    assert state(order_a)[2:] == (0, 0)


# --- the warning everywhere ---------------------------------------------------------
def test_the_warning_shows_on_order_ticket_and_dashboard_until_extended(client, agent, shop_a):
    # given a shipped order confirming in two days and the agent's open logistics ticket
    order = shipped(shop_a, days_ago=8)
    ticket = make_ticket(
        order, agent, kind=Ticket.Kind.RESHIP, reason=Ticket.Reason.LOGISTICS, assignee=agent
    )
    client.force_login(agent)
    pages = {
        "order": reverse("tickets:order_detail", args=[order.pk]),
        "ticket": reverse("tickets:ticket_detail", args=[ticket.pk]),
        "dashboard": reverse("tickets:dashboard"),
    }
    for url in pages.values():
        assert "自动确认收货" in client.get(url).content.decode()
    assert client.get(pages["order"]).context["auto_confirm_warning"]
    dashboard = client.get(pages["dashboard"])
    assert [w.ticket for w in dashboard.context["auto_confirm_warnings"]] == [ticket]
    assert ticket.number in dashboard.content.decode()
    assert client.get(pages["ticket"]).context["auto_confirm_warning"]
    # when the receipt is extended by ten days
    client.post(
        reverse("tickets:order_extend_receipt", args=[order.pk]),
        {"days": "10", "expected_days": "0"},
    )
    # then no page warns any more
    assert not client.get(pages["order"]).context["auto_confirm_warning"]
    assert not client.get(pages["ticket"]).context["auto_confirm_warning"]
    assert not client.get(pages["dashboard"]).context["auto_confirm_warnings"]


@pytest.mark.parametrize(
    ("language", "words"),
    [("zh-hans", "已经过了"), ("en", "has passed")],
)
def test_a_passed_deadline_is_worded_as_passed_with_its_year(
    client, agent, shop_a, settings, language, words
):
    # given an order that confirmed itself a day ago while its logistics ticket is open
    order = shipped(shop_a, days_ago=11)
    ticket = make_ticket(order, agent, kind="reship", reason="logistics", assignee=agent)
    client.force_login(agent)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    at = timezone.localtime(order.auto_confirm_at).strftime("%Y-%m-%d %H:%M")
    # then the order page, the ticket page and the dashboard say it has passed, with the year
    for url in (
        reverse("tickets:order_detail", args=[order.pk]),
        reverse("tickets:ticket_detail", args=[ticket.pk]),
    ):
        html = client.get(url).content.decode()
        assert words in html and at in html, url
        assert "将于" not in html and "confirms receipt automatically on" not in html
    dashboard = client.get(reverse("tickets:dashboard")).content.decode()
    assert ("已过 " if language == "zh-hans" else "Passed ") + at in dashboard


def test_dashboard_warning_query_count_does_not_grow(
    client, supervisor, shop_a, django_assert_max_num_queries
):
    for _n in range(6):
        make_ticket(shipped(shop_a, days_ago=9), supervisor, kind="reship", reason="logistics")
    client.force_login(supervisor)
    client.get(reverse("tickets:dashboard"))  # warm the per-request caches
    with django_assert_max_num_queries(40):
        response = client.get(reverse("tickets:dashboard"))
    assert len(response.context["auto_confirm_warnings"]) == 6


def test_the_extension_shows_on_the_open_logistics_tickets_timeline(client, agent, shop_a):
    # given a shipped order with an open logistics ticket, a closed one and another reason's
    order = shipped(shop_a, days_ago=8)
    logistics = make_ticket(order, agent, kind=Ticket.Kind.RESHIP, reason=Ticket.Reason.LOGISTICS)
    closed = make_ticket(
        order,
        agent,
        kind=Ticket.Kind.REFUND_ONLY,
        reason=Ticket.Reason.LOGISTICS,
        status=Ticket.Status.CLOSED,
    )
    other = make_ticket(order, agent, kind=Ticket.Kind.REFUND_ONLY, reason=Ticket.Reason.QUALITY)
    client.force_login(agent)
    # when the receipt extension is recorded on the order page
    client.post(
        reverse("tickets:order_extend_receipt", args=[order.pk]),
        {"days": "5", "note": "快递滞留中转站", "expected_days": "0"},
    )
    # then the logistics ticket's page shows it on its timeline, with the new deadline
    order.refresh_from_db()
    deadline = timezone.localtime(order.auto_confirm_at).strftime("%Y-%m-%d %H:%M")
    page = client.get(reverse("tickets:ticket_detail", args=[logistics.pk])).content.decode()
    assert f"订单已延长收货 5 天，新的自动确认收货时间：{deadline}。" in page
    assert "快递滞留中转站" in page
    event = logistics.events.get(message__startswith="订单已延长收货")
    assert event.actor == agent
    # and the closed ticket and the other reason's ticket are left alone
    for ticket in (closed, other):
        assert not ticket.events.filter(message__contains="延长收货").exists()


def test_the_order_page_runs_the_same_queries_however_many_tickets_and_changes(
    client, agent, shop_a
):
    # given an order with one ticket
    order = make_order(shop_a, items=((Decimal("59.00"), 4), (Decimal("89.00"), 2)))
    make_ticket(order, agent)
    client.force_login(agent)
    url = reverse("tickets:order_detail", args=[order.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    # when it gets more tickets and flag changes
    for _n in range(3):
        make_ticket(order, agent, kind=Ticket.Kind.RETURN, reason=Ticket.Reason.QUALITY)
    for flag in ("red", "blue"):
        order.refresh_from_db()
        order_set_flag(
            actor=agent, order=order, flag=flag, memo=flag, expected=(order.flag, order.flag_memo)
        )
    with CaptureQueriesContext(connection) as more:
        response = client.get(url)
    # then the page shows them all with the same queries
    assert len(response.context["tickets"]) == 4
    assert len(response.context["history"]) == 2
    assert len(more.captured_queries) == len(one.captured_queries)
    # session, user, roles and permissions, shops, order, tickets, items, changes, invoices,
    # parcels, the bell, the rate card
    assert len(more.captured_queries) <= 12
