"""The ticket list's tools in a real browser (issue 11, "The ticket list"): a bulk move on three
tickets of which one cannot move, a saved view found again in one click, the stale flag, in
Chinese and in English, with screenshots at 1366x768 to look at."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.e2e.conftest import login, screenshot
from tests.factories import make_order, make_ticket, make_user
from tickets.models import SavedView, Ticket, TicketEvent
from tickets.roles import Role

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

S = Ticket.Status
K = Ticket.Kind


@pytest.fixture
def desk(shop_a):
    agent = make_user("li-agent", Role.AGENT, shops=[shop_a], last_name="李", first_name="娜")
    now = timezone.now()
    exchanges = [
        make_ticket(make_order(shop_a, buyer_nick=nick), agent, kind=K.EXCHANGE)
        for nick in ("小鱼爱吃猫", "tb052015")
    ]
    refund = make_ticket(make_order(shop_a, buyer_nick="安安小屋"), agent, kind=K.REFUND_ONLY)
    stale = make_ticket(
        make_order(shop_a, buyer_nick="老顾客"),
        agent,
        kind=K.RETURN,
        status=S.REFUNDED,
        assignee=agent,
        created_at=now - timedelta(days=30),
        status_changed_at=now - timedelta(days=28),
    )
    return {"agent": agent, "movable": exchanges, "refund": refund, "stale": stale}


def test_bulk_move_three_tickets_one_cannot_move(page, desk):
    login(page, "li-agent")
    page.goto(page.base_url + "/tickets/?status=open")
    rows = page.locator("table.ticket-grid tbody tr")
    assert rows.count() == 3
    screenshot(page, "ticket-list-bulk-zh")

    # the agent ticks all on the page and moves them to "awaiting return" with a note
    page.check("[data-bulk-all]")
    assert page.inner_text("[data-bulk-count]") == "已选 3 张"
    page.select_option("select[name=to_status]", "awaiting_return")
    page.fill(".bulk-bar input[name=text]", "已发退货地址")
    screenshot(page, "ticket-list-bulk-ticked-zh")
    page.click("button[name=action][value=move]")
    page.wait_for_selector(".bulk-result")

    # the result says per ticket what happened
    result = page.inner_text(".bulk-result")
    for ticket in desk["movable"]:
        assert ticket.number in result
        ticket.refresh_from_db()
        assert ticket.status == S.AWAITING_RETURN
        assert ticket.events.filter(kind=TicketEvent.Kind.STATUS, message="已发退货地址").exists()
    assert "“待处理” → “等待退回”" in result
    refund = desk["refund"]
    assert "仅退款单不能从“待处理”变为“等待退回”" in result
    refund.refresh_from_db()
    assert refund.status == S.OPEN
    assert "2 张已完成，0 张无需改动，1 张未处理" in page.inner_text(".messages")
    assert page.locator(".bulk-result tr.br-refused").count() == 1
    screenshot(page, "ticket-list-bulk-result-zh")

    # in English, the same request again: two unchanged, one still refused
    page.click("form.lang button[value=en]")
    page.wait_for_load_state()
    page.goto(page.base_url + "/tickets/?status=")
    for ticket in (*desk["movable"], refund):
        page.check(f"input[name=ids][value='{ticket.pk}']")
    assert page.inner_text("[data-bulk-count]") == "3 selected"
    page.select_option("select[name=to_status]", "awaiting_return")
    page.click("button[name=action][value=move]")
    page.wait_for_selector(".bulk-result")
    result = page.inner_text(".bulk-result")
    assert "Unchanged" in result and "Not done" in result
    assert "Move: 0 done, 2 unchanged, 1 not done." in page.inner_text(".messages")
    screenshot(page, "ticket-list-bulk-result-en")


def test_saved_view_and_the_stale_flag(page, desk):
    stale = desk["stale"]
    login(page, "li-agent")
    page.goto(page.base_url + "/tickets/")
    # the refunded ticket that sat four weeks is flagged, not overdue
    row = page.locator("table.ticket-grid tbody tr", has_text=stale.number)
    assert "停滞 28 天" in row.inner_text()
    assert "超时" not in row.inner_text()

    # the agent filters on stale tickets and saves the filter under a name
    page.check("#id_stale")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/tickets/?*stale=on*")
    assert page.locator("table.ticket-grid tbody tr").count() == 1
    page.fill(".sv-save input[name=name]", "停滞的退款")
    page.click(".sv-save button[type=submit]")
    page.wait_for_selector(".msg.success")
    view = SavedView.objects.get()
    assert (view.owner, view.name) == (desk["agent"], "停滞的退款")
    assert "stale=on" in view.query
    screenshot(page, "ticket-list-saved-view-zh")

    # another day: the plain list, then one click on the view
    page.goto(page.base_url + "/tickets/")
    assert page.locator("table.ticket-grid tbody tr").count() == 4
    page.click(".sv a:has-text('停滞的退款')")
    page.wait_for_url("**/tickets/?*stale=on*")
    assert page.locator(".sv.active").count() == 1
    assert page.locator("table.ticket-grid tbody tr").count() == 1

    # the dashboard counts it among the agent's own
    page.goto(page.base_url + "/")
    assert page.inner_text(".stat.stale .num") == "1"
    screenshot(page, "dashboard-stale-zh")

    # in English
    page.click("form.lang button[value=en]")
    page.wait_for_load_state()
    assert "My stale" in page.inner_text(".stats")
    screenshot(page, "dashboard-stale-en")
    page.goto(page.base_url + "/tickets/?" + view.query)
    assert "stale 28 days" in page.inner_text("table.ticket-grid")
    screenshot(page, "ticket-list-saved-view-en")

    # and deletes it (after confirming)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(".sv .sv-del")
    page.wait_for_selector(".msg.success")
    assert not SavedView.objects.exists()


def test_supervisor_sees_assign_and_share(page, desk, shop_a):
    make_user("zhang-boss", Role.SUPERVISOR, all_shops=True, last_name="张", first_name="伟")
    login(page, "zhang-boss")
    page.goto(page.base_url + "/tickets/")
    page.fill(".sv-save input[name=name]", "全组停滞")
    page.check(".sv-save input[name=shared]")
    page.click(".sv-save button[type=submit]")
    page.wait_for_selector(".msg.success")
    assert SavedView.objects.get().shared
    page.check("[data-bulk-all]")
    page.select_option(".bulk-bar select[name=assignee]", str(desk["agent"].pk))
    page.click("button[name=action][value=assign]")
    page.wait_for_selector(".bulk-result")
    assert Ticket.objects.filter(assignee=desk["agent"]).count() == 4
    screenshot(page, "ticket-list-supervisor-zh")
    page.click("form.lang button[value=en]")
    page.wait_for_load_state()
    page.goto(page.base_url + "/")
    screenshot(page, "dashboard-supervisor-en")
