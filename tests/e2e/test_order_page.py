"""The order page in a real browser (issue 11 §5): an agent changes the seller flag and memo,
and records a receipt extension that clears the auto-confirm warning; in both languages."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from tests.e2e.conftest import login, screenshot
from tests.factories import make_order, make_ticket, make_user
from tickets.models import Order, OrderChange, QuickReply, Ticket
from tickets.roles import Role

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TEXT = {
    "zh-hans": {
        "edit": "修改旗帜和备忘",
        "save": "保存旗帜",
        "saved": "旗帜已改为“红旗”",
        "extend": "延长收货",
        "record": "登记延长",
        "extended": "已登记延长收货 5 天",
        "warning": "自动确认收货，而物流问题还没有解决",
    },
    "en": {
        "edit": "Change flag and memo",
        "save": "Save flag",
        "saved": "Flag changed to",
        "extend": "Extend receipt",
        "record": "Record extension",
        "extended": "Receipt extension of 5 days recorded",
        "warning": "the logistics problem is not solved",
    },
}


def _use_language(page, language):
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": page.base_url}]
    )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_flag_edit_and_receipt_extension(page, shop_a, language):
    # given an agent, a shipped order confirming in two days, an open logistics ticket on it
    agent = make_user("lina", Role.AGENT, shops=[shop_a], last_name="李", first_name="娜")
    order = make_order(shop_a, status=Order.Status.SHIPPED, flag_memo="仓库：已按地址发出")
    Order.objects.filter(pk=order.pk).update(
        shipped_at=timezone.now() - timedelta(days=8),
        placed_at=timezone.now() - timedelta(days=9),
    )
    make_ticket(order, agent, kind=Ticket.Kind.RESHIP, reason=Ticket.Reason.LOGISTICS)
    text = TEXT[language]
    _use_language(page, language)
    login(page, "lina")
    page.goto(page.base_url + f"/orders/{order.pk}/")
    assert text["warning"] in page.inner_text("[role=alert]")
    assert "仓库：已按地址发出" in page.inner_text("#flag")
    screenshot(page, f"order-flag-0-before-{language}")

    # when the agent raises a red flag with a memo
    page.click(f"summary:has-text('{text['edit']}')")
    page.check("input[name=flag][value=red]")
    page.fill("textarea[name=memo]", "买家改地址：已联系快递转寄，勿重复发货")
    screenshot(page, f"order-flag-1-editing-{language}")
    page.click(f"button:has-text('{text['save']}')")
    page.wait_for_selector(".msg.success")

    # then the page shows it, and its history says before → after, who
    assert text["saved"] in page.inner_text(".messages")
    assert "勿重复发货" in page.inner_text("#flag")
    history = page.inner_text("#history")
    assert "李娜" in history and "仓库：已按地址发出" in history
    change = OrderChange.objects.get()
    assert (change.previous_flag, change.flag) == ("", "red")

    # when the agent records a 5-day receipt extension
    if not page.is_visible("form.extend-form"):
        page.click(f"summary:has-text('{text['extend']}')")
    page.select_option("select[name=days]", "5")
    page.fill("input[name=note]", "快递中转滞留")
    screenshot(page, f"order-flag-2-extending-{language}")
    page.click(f"button:has-text('{text['record']}')")
    page.wait_for_selector(".msg.success")

    # then the deadline moves five days and the warning is gone
    assert text["extended"] in page.inner_text(".messages")
    assert not page.query_selector("[role=alert]")
    order.refresh_from_db()
    assert order.receipt_extended_days == 5
    deadline = timezone.localtime(order.auto_confirm_at).strftime("%Y-%m-%d %H:%M")
    assert deadline in page.inner_text("aside")
    assert "快递中转滞留" in page.inner_text("#history")
    screenshot(page, f"order-flag-3-after-{language}")


def test_quick_reply_with_a_gap_copies_only_once_filled(page, shop_a):
    # given a ticket without a return tracking number and a phrase that needs one
    agent = make_user("lina", Role.AGENT, shops=[shop_a])
    ticket = make_ticket(make_order(shop_a), agent, kind=Ticket.Kind.RETURN)
    QuickReply.objects.create(
        title="已收到退件", body="您寄回的包裹（运单号 {退回运单号}）已收到。"
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    login(page, "lina")
    page.goto(page.base_url + f"/tickets/{ticket.pk}/")
    button = page.locator("#replies button[data-copy-target]")
    # then copying waits for the gap
    assert button.is_disabled()
    screenshot(page, "quick-reply-gap-zh-hans")
    page.fill("#replies input[data-gap]", "YT123456789")
    assert button.is_enabled()
    button.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == "您寄回的包裹（运单号 YT123456789）已收到。"
