"""The agent's main path in a real browser: find the order, open an exchange, unpack the
returned parcel, record the postage, see it all on the timeline."""

from decimal import Decimal

import pytest

from tests.e2e.conftest import login, screenshot
from tests.factories import make_order, make_user
from tickets.models import LedgerEntry, Order, QuickReply, Ticket
from tickets.roles import Role

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_find_order_open_exchange_unpack_and_record_postage(page, shop_a):
    # given an agent of the shop and a delivered order
    make_user("wangfang", Role.AGENT, shops=[shop_a], last_name="王", first_name="芳")
    order = make_order(
        shop_a,
        status=Order.Status.SUCCESS,
        items=((Decimal("159.00"), 1), (Decimal("49.90"), 2)),
        buyer_nick="小鱼爱吃猫",
        order_no="3515000000012345678",
        tracking_no="ZTO778899001122",
    )
    QuickReply.objects.create(
        title="换货地址", body="{买家}您好，订单 {订单号} 的换货请寄回武汉市江汉区解放大道 88 号。"
    )

    # when the agent finds the order from the search box
    login(page, "wangfang")
    page.fill("form.find input[name=q]", order.order_no)
    page.press("form.find input[name=q]", "Enter")
    page.wait_for_url(f"**/orders/{order.pk}/")
    assert "138****5678" in page.content()
    screenshot(page, "1-order")

    # and opens an exchange ticket for one item
    page.click("text=新建售后单")
    page.select_option("#id_kind", "exchange")
    page.select_option("#id_reason", "not_suitable")
    assert page.input_value("#id_responsibility") == "buyer"  # suggested from the reason
    first_item = order.items.order_by("id").first()
    page.fill(f"#id_qty_{first_item.pk}", "1")
    page.fill("#id_description", "尺码偏小，换大一码")
    screenshot(page, "2-ticket-new")
    page.click("button:has-text('创建售后单')")
    page.wait_for_url("**/tickets/*/")
    ticket = Ticket.objects.get()
    assert ticket.kind == "exchange"

    # and tells the buyer where to send it back, then marks it awaiting return
    assert "小鱼爱吃猫您好" in page.inner_text("#replies")
    page.fill("input[name=tracking_no][placeholder*='退回运单号']", "yt100200300")
    page.click("button:has-text('→ 等待退回')")
    page.wait_for_selector(".msg.success")
    screenshot(page, "3-ticket-awaiting")

    # when the parcel comes back and is scanned on the unpack screen
    page.click("nav >> text=拆件登记")
    page.fill("input.scan", "YT100200300")
    page.press("input.scan", "Enter")
    page.wait_for_selector(".callout.ok")
    assert ticket.number in page.inner_text(".callout.ok")
    page.fill("#id_contents", "连衣裙一件，吊牌完好")
    page.fill("#id_buyer_note", "麻烦换 L 码")
    screenshot(page, "4-unpack")
    page.click("button:has-text('保存拆件记录')")
    page.wait_for_selector(".msg.success")

    # then the ticket is queued for exchange; the agent records the return postage
    page.goto(page.base_url + f"/tickets/{ticket.pk}/")
    assert "待换货" in page.inner_text(".page-head")
    page.select_option("select[name=kind]", "postage")
    page.fill("input[name=amount]", "12")
    page.fill("input[name=note]", "买家垫付退回运费")
    page.click("form.money-form button")
    page.wait_for_selector(".msg.success")
    timeline = page.inner_text("#timeline")
    screenshot(page, "5-ticket-timeline")
    assert "登记邮费 ¥12.00" in timeline
    assert "收到退回包裹 YT100200300" in timeline
    assert "麻烦换 L 码" in timeline
    assert LedgerEntry.objects.get().amount == Decimal("12.00")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.QUEUED_FOR_EXCHANGE
