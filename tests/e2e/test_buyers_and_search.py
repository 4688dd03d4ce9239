"""The buyer's page and the top-bar search in a real browser (issue 11, sections 2 and 3), in
Chinese and in English, with screenshots at 1366x768 to look at."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.e2e.conftest import login, screenshot
from tests.factories import make_order, make_ticket, make_user
from tickets.models import Promise, Review, Ticket
from tickets.roles import Role
from tickets.services.reviews import review_close, review_contact_log, review_register
from tickets.services.tickets import promise_add

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def desk(shop_a, shop_b):
    agent = make_user("lina", Role.AGENT, shops=[shop_a], last_name="李", first_name="娜")
    order = make_order(shop_a, buyer_nick="安安小屋", order_no="3515000000000000081")
    older = make_order(
        shop_a,
        buyer_nick="安安小屋",
        order_no="3515000000000000080",
        placed_at=timezone.now() - timedelta(days=30),
    )
    make_order(shop_a, buyer_nick="TB052015", order_no="3515000000000000082")
    make_order(shop_a, buyer_nick="安安的衣橱", order_no="3515000000000000083")
    make_order(shop_b, buyer_nick="安安别家", order_no="3599000000000000084")
    ticket = make_ticket(order, agent, kind=Ticket.Kind.RETURN)
    Ticket.objects.filter(pk=ticket.pk).update(return_tracking_no="YT4455667788")
    promise_add(actor=agent, ticket=ticket, kind=Promise.Kind.POSTAGE, text="退回运费由我们承担")
    review = review_register(
        actor=agent, order=older, rating="negative", made_at=timezone.now(), text="尺码偏小"
    )
    review_contact_log(actor=agent, review=review, channel="phone", result="答应修改评价")
    review_close(
        actor=agent, review=review, outcome=Review.Outcome.REVISED, buyer_notes="脾气急，先道歉"
    )
    return {"agent": agent, "order": order, "ticket": ticket}


def _search(page, term):
    page.fill("form.find input[name=q]", term)
    page.press("form.find input[name=q]", "Enter")
    page.wait_for_load_state()


def test_searches_find_tickets_return_numbers_and_nicknames(page, desk):
    ticket = desk["ticket"]
    login(page, "lina")

    # a ticket number, typed short and in lower case, goes straight to the ticket
    _search(page, f"t{ticket.pk}")
    page.wait_for_url(f"**/tickets/{ticket.pk}/")
    _search(page, ticket.number)
    page.wait_for_url(f"**/tickets/{ticket.pk}/")

    # a return tracking number finds its ticket
    _search(page, "yt4455667788")
    page.wait_for_url(f"**/tickets/{ticket.pk}/")

    # a nickname in another case finds the order
    _search(page, "tb052015")
    page.wait_for_url("**/orders/*/")
    assert "TB052015" in page.inner_text("main")

    # part of a nickname lists the buyers of the user's shops
    _search(page, "安安")
    buyers = page.inner_text("#found-buyers")
    assert "安安小屋" in buyers and "安安的衣橱" in buyers
    assert "安安别家" not in buyers
    screenshot(page, "search-buyers-zh")

    # 100% and _ are no wildcards; nothing found says so
    _search(page, "%_")
    assert "没有找到" in page.inner_text("main")


def test_the_buyers_page_from_a_nickname_link(page, desk):
    login(page, "lina")
    page.goto(page.base_url + f"/tickets/{desk['ticket'].pk}/")
    page.click("a.buyer-link")
    page.wait_for_url("**/buyers/?nick=*")
    main = page.inner_text("main")
    assert "安安小屋" in page.inner_text("h1")
    assert desk["order"].order_no in main and "3515000000000000080" in main
    assert desk["ticket"].number in main
    assert "退回运费由我们承担" in main
    assert "尺码偏小" in main and "答应修改评价" in main
    assert "脾气急，先道歉" in page.inner_text(".temperament")
    assert "3599000000000000084" not in main  # another shop's order
    assert "138****5678" in main and "13812345678" not in main
    screenshot(page, "buyer-page-zh")

    # the same page in English
    page.click("form.lang button[value=en]")
    page.wait_for_load_state()
    assert "Buyer" in page.inner_text("h1")
    assert "2 orders" in page.inner_text(".page-head")
    assert "Only the shops you serve" in page.inner_text(".page-head")
    screenshot(page, "buyer-page-en")
    page.goto(page.base_url + "/orders/?q=%E5%AE%89%E5%AE%89")
    assert "buyers whose nicknames hold" in page.inner_text("#found-buyers")
    screenshot(page, "search-buyers-en")
