"""In the browser (issue 13): the agent escalates, the supervisor finds it in the inbox and
decides, the agent sees the decision and a notification; the compensation to approve and the
exchange list to sign appear in the inbox and leave it when handled. Screenshots in both
languages at 1366x768."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from finance_exports.builders import get_builder
from finance_exports.builders.finance import FinanceSheetBuilder
from finance_exports.models import Sheet
from finance_exports.services import SheetBuildFailed, sheet_build
from tests.e2e.conftest import login, screenshot
from tests.factories import make_order, make_shop, make_ticket, make_user
from tests.finance_exports.helpers import queued_exchange, record
from tickets.models import Escalation, LedgerEntry, Notification, Ticket
from tickets.roles import Role
from tickets.services.tickets import ticket_escalate

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def supervisors_day():
    """A shop with an agent's ticket, a compensation above the threshold waiting, and the
    day's exchange list built and waiting for a signature."""
    shop = make_shop("wuhan-flagship", name="武汉旗舰店")
    agent = make_user("e2e-agent", Role.AGENT, shops=[shop], last_name="王", first_name="芳")
    make_user("e2e-boss", Role.SUPERVISOR, all_shops=True, last_name="李", first_name="主管")
    order = make_order(shop, items=((Decimal("399.00"), 1),), buyer_nick="爱穿裙子的猫")
    ticket = make_ticket(
        order, agent, kind=Ticket.Kind.COMPENSATION, reason=Ticket.Reason.QUALITY, assignee=agent
    )
    entry = record(agent, order, "80.00", LedgerEntry.Kind.COMPENSATION, ticket=ticket)
    assert entry.requires_approval
    swap = queued_exchange(agent, make_order(shop, buyer_nick="小鱼爱吃猫"))
    exchanges = get_builder("exchanges")
    day = timezone.localdate()
    if timezone.now() >= exchanges.cutoff(day):
        day += timedelta(days=1)
    sheet = sheet_build(
        kind="exchanges", business_date=day, now=exchanges.cutoff(day) + timedelta(minutes=1)
    )
    assert sheet.status == Sheet.Status.AWAITING_APPROVAL
    return ticket, entry, sheet, swap


def bell(page) -> str:
    count = page.locator(".topbar .bell-count")
    return count.inner_text() if count.count() else "0"


def test_escalate_decide_and_be_told(browser, live_server, supervisors_day):
    ticket, entry, sheet, _swap = supervisors_day
    contexts = []

    def open_as(username, locale="zh-CN"):
        context = browser.new_context(
            viewport={"width": 1366, "height": 768}, locale=locale, timezone_id="Asia/Shanghai"
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.base_url = live_server.url
        login(page, username)
        return page

    try:
        # the agent escalates from the ticket page
        agent = open_as("e2e-agent")
        agent.goto(f"{live_server.url}/tickets/{ticket.pk}/")
        agent.fill("input[name=reason]", "买家不接受 80 元补偿，要求退货退款，请主管定")
        agent.click("button:has-text('升级给主管')")
        assert "已升级给主管" in agent.inner_text(".messages")
        assert "等待主管决定" in agent.inner_text("#escalations")
        screenshot(agent, "inbox-1-agent-escalated")
        escalation = Escalation.objects.get()

        # the supervisor sees it on the dashboard and in the inbox, with the bell's count
        boss = open_as("e2e-boss")
        assert bell(boss) == "2"  # the escalation and the compensation to approve
        inbox = boss.locator(".dash-inbox")
        assert ticket.number in inbox.inner_text()
        assert inbox.locator("tr.inbox-approval").count() == 1
        assert inbox.locator("tr.inbox-signature").count() == 1
        screenshot(boss, "inbox-2-supervisor-dashboard")
        boss.click("nav >> text=主管待办")
        rows = boss.locator("table.inbox tbody tr")
        assert rows.count() == 3
        screenshot(boss, "inbox-3-supervisor-inbox")

        # decides: instruct the agent
        row = boss.locator(f"#escalation-{escalation.pk}")
        row.locator("select[name=decision]").select_option("instruct")
        row.locator("input[name=note]").fill("先补 30 元无门槛券，买家仍不同意再同意退货")
        row.locator("button", has_text="决定").click()
        assert "已通知客服" in boss.inner_text(".messages")
        assert boss.locator(f"#escalation-{escalation.pk}").count() == 0

        # approves the compensation with one click: it leaves the inbox
        boss.locator("tr.inbox-approval button", has_text="批准").click()
        assert "已批准" in boss.inner_text(".messages")
        assert boss.locator("tr.inbox-approval").count() == 0
        entry.refresh_from_db()
        assert entry.approval.approved

        # signs the exchange list from its page: it leaves the inbox
        boss.locator("tr.inbox-signature a", has_text="换货清单").click()
        boss.once("dialog", lambda dialog: dialog.accept())
        boss.click("#approve-list")
        assert "已签字" in boss.inner_text(".messages")
        boss.goto(f"{live_server.url}/inbox/")
        assert boss.locator("table.inbox").count() == 0
        assert "没有等待主管处理的事项" in boss.inner_text("main")
        screenshot(boss, "inbox-4-supervisor-inbox-empty")
        sheet.refresh_from_db()
        assert sheet.status == Sheet.Status.APPROVED

        # the agent's bell counts the decision and the approval; the list says what happened
        agent.reload()
        assert bell(agent) == "2"
        agent.click(".topbar a.bell")
        notes = agent.inner_text("ul.notifications")
        assert "升级已决定：指示客服，说明见售后单" in notes and "主管已批准赔偿" in notes
        assert "30 元无门槛券" not in notes  # what the supervisor typed stays on the ticket
        screenshot(agent, "inbox-5-agent-notifications")
        # opening the decision goes to the ticket, which shows it; the bell counts one less
        agent.locator("li.notification.unread button.notification-text", has_text="升级").click()
        agent.wait_for_url(f"**/tickets/{ticket.pk}/**")
        decided = agent.inner_text("#escalations")
        assert "指示客服" in decided and "30 元无门槛券" in decided
        assert bell(agent) == "1"
        screenshot(agent, "inbox-6-agent-ticket-decided")
        agent.goto(f"{live_server.url}/notifications/")
        agent.click("button:has-text('全部标为已读')")
        assert bell(agent) == "0"
        assert not Notification.objects.filter(recipient__username="e2e-agent", read_at=None)

        # the same pages in English, with new work waiting
        second = make_ticket(
            make_order(ticket.shop, items=((Decimal("299.00"), 1),), buyer_nick="tmall_buyer_88"),
            ticket.assignee,
            kind=Ticket.Kind.COMPENSATION,
            reason=Ticket.Reason.DAMAGED,
            assignee=ticket.assignee,
        )
        ticket_escalate(
            actor=ticket.assignee, ticket=second, reason="破损严重，买家要求赔偿 200 元"
        )
        record(
            ticket.assignee, second.order, "120.00", LedgerEntry.Kind.COMPENSATION, ticket=second
        )
        english = open_as("e2e-boss", locale="en-US")
        english.click("form.lang button[value=en]")
        english.goto(f"{live_server.url}/inbox/")
        assert "Inbox" in english.inner_text("h1")
        screenshot(english, "inbox-7-supervisor-inbox-en")
        english.goto(f"{live_server.url}/notifications/")
        assert "Notifications" in english.inner_text("h1")
        # written while Chinese was active, read in English
        notes = english.inner_text("ul.notifications")
        assert f"escalated {second.number}; decide it in the inbox" in notes
        assert "升级" not in notes
        screenshot(english, "inbox-8-supervisor-notifications-en")
        english.goto(f"{live_server.url}/")
        screenshot(english, "inbox-9-supervisor-dashboard-en")
    finally:
        for context in contexts:
            context.close()


def test_finance_dashboard_shows_the_sheets_not_a_queue(
    browser, live_server, monkeypatch, settings
):
    # given today's finance sheet built and downloaded once, and yesterday's that failed
    make_user("e2e-money", Role.FINANCE, all_shops=True, last_name="赵", first_name="会计")
    finance = get_builder("finance")
    today = timezone.localdate()
    settings.FINANCE_SHEET_MAX_ATTEMPTS = 1
    monkeypatch.setattr(FinanceSheetBuilder, "write", lambda *a: 1 / 0)
    yesterday = today - timedelta(days=1)
    with pytest.raises(SheetBuildFailed):
        sheet_build(
            kind="finance",
            business_date=yesterday,
            now=finance.cutoff(yesterday) + timedelta(minutes=1),
        )
    monkeypatch.undo()
    sheet = sheet_build(
        kind="finance", business_date=today, now=finance.cutoff(today) + timedelta(minutes=1)
    )
    for locale, language, name in (
        ("zh-CN", None, "finance-dashboard"),
        ("en-US", "en", "finance-dashboard-en"),
    ):
        context = browser.new_context(
            viewport={"width": 1366, "height": 768}, locale=locale, timezone_id="Asia/Shanghai"
        )
        try:
            page = context.new_page()
            page.base_url = live_server.url
            login(page, "e2e-money")
            if language:
                page.click(f"form.lang button[value={language}]")
            else:
                with page.expect_download():
                    page.click(f"a[href='/finance/sheets/{sheet.pk}/download/']")
                page.goto(live_server.url + "/")
            main = page.inner_text("main")
            assert "ZeroDivisionError" in main
            assert "赵会计" in page.inner_text(".fin-downloads")
            assert page.locator(".fin-today tbody tr").count() == 1
            screenshot(page, name)
        finally:
            context.close()


@pytest.mark.parametrize(("locale", "waiting"), [("zh-CN", "等待另一位主管审批"), ("en-US", None)])
def test_a_supervisors_own_compensation_waits_for_another(browser, live_server, locale, waiting):
    """The supervisor who recorded compensation above the limit sees it in the inbox as
    waiting for another supervisor, with no approve button, and the row stays inside its
    card at 1366 px (issue 13 review)."""
    shop = make_shop("wuhan-flagship", name="武汉旗舰店")
    boss = make_user("e2e-boss", Role.SUPERVISOR, all_shops=True, last_name="李", first_name="主管")
    order = make_order(shop, items=((Decimal("399.00"), 1),), buyer_nick="爱穿裙子的猫")
    ticket = make_ticket(order, boss, kind=Ticket.Kind.COMPENSATION, reason=Ticket.Reason.QUALITY)
    entry = record(boss, order, "80.00", LedgerEntry.Kind.COMPENSATION, ticket=ticket)
    assert entry.requires_approval
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, locale=locale, timezone_id="Asia/Shanghai"
    )
    try:
        page = context.new_page()
        page.base_url = live_server.url
        if locale.startswith("en"):
            context.add_cookies(
                [{"name": "django_language", "value": "en", "url": live_server.url}]
            )
            waiting = "Waiting for another supervisor"
        login(page, "e2e-boss")
        page.goto(f"{live_server.url}/inbox/")
        row = page.locator("tr.inbox-approval")
        assert row.count() == 1
        assert waiting in row.inner_text()
        assert row.locator("button").count() == 0
        act = row.locator(".inbox-act").bounding_box()
        card = page.locator("table.inbox").evaluate(
            "el => (el.closest('.card, section') || document.body).getBoundingClientRect().right"
        )
        assert act["x"] + act["width"] <= card + 1
        screenshot(page, f"inbox-own-compensation-{locale}")
    finally:
        context.close()


@pytest.mark.parametrize(
    ("locale", "waiting"),
    [("zh-CN", "等待另一位主管决定"), ("en-US", "Waiting for another supervisor to decide")],
)
def test_a_supervisors_own_escalation_waits_for_another(browser, live_server, locale, waiting):
    """The supervisor who escalated a ticket sees it in the inbox as waiting for another
    supervisor, without the decision form, the row inside its card at 1366 px; the ticket
    page offers no "decide" link (issue 13 second review)."""
    shop = make_shop("wuhan-flagship", name="武汉旗舰店")
    boss = make_user("e2e-boss", Role.SUPERVISOR, all_shops=True, last_name="李", first_name="主管")
    order = make_order(shop, items=((Decimal("399.00"), 1),), buyer_nick="爱穿裙子的猫")
    ticket = make_ticket(order, boss, kind=Ticket.Kind.RETURN, reason=Ticket.Reason.QUALITY)
    ticket_escalate(actor=boss, ticket=ticket, reason="买家不接受补偿，请另一位主管定")
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, locale=locale, timezone_id="Asia/Shanghai"
    )
    try:
        page = context.new_page()
        page.base_url = live_server.url
        if locale.startswith("en"):
            context.add_cookies(
                [{"name": "django_language", "value": "en", "url": live_server.url}]
            )
        login(page, "e2e-boss")
        page.goto(f"{live_server.url}/inbox/")
        row = page.locator("tr.inbox-escalation")
        assert row.count() == 1
        assert waiting in row.inner_text()
        assert row.locator("form, button, select").count() == 0
        act = row.locator(".inbox-act").bounding_box()
        card = page.locator("table.inbox").evaluate(
            "el => (el.closest('.card, section') || document.body).getBoundingClientRect().right"
        )
        assert act["x"] + act["width"] <= card + 1
        screenshot(page, f"inbox-own-escalation-{locale}")
        page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
        assert waiting in page.inner_text("#escalations")
        assert page.locator("#escalations a[href*='/inbox/']").count() == 0
    finally:
        context.close()
