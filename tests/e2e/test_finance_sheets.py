"""In the browser: the supervisor checks and signs the day's exchange list; finance downloads
the finance sheet and the signed list."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from finance_exports.builders import get_builder
from finance_exports.models import Sheet, SheetDownload
from finance_exports.services import sheet_build
from tests.e2e.conftest import login, screenshot
from tests.factories import make_order, make_shop, make_user
from tests.finance_exports.helpers import Clock, queued_exchange, record, table
from tickets.models import LedgerEntry, Ticket
from tickets.roles import Role

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def day_of_work(monkeypatch):
    """Two shops' money recorded before the latest 16:00 cut-off and three exchanges queued;
    the day's finance sheet and exchange list built as beat would."""
    wuhan = make_shop("wuhan-flagship", name="武汉旗舰店")
    shanghai = make_shop("sh-tmall", name="上海天猫店", kind="tmall", location="shanghai")
    agent = make_user("e2e-agent", Role.AGENT, all_shops=True, last_name="王", first_name="芳")
    make_user("e2e-boss", Role.SUPERVISOR, all_shops=True, last_name="李", first_name="主管")
    make_user("e2e-money", Role.FINANCE, all_shops=True, last_name="赵", first_name="会计")
    orders = [
        make_order(shop, items=((Decimal("2000.00"), 2),), buyer_nick=nick, phone=phone)
        for shop, nick, phone in (
            (wuhan, "爱穿裙子的猫", "13800001111"),
            (shanghai, "tmall_buyer_88", "13900002222"),
            (wuhan, "小鱼爱吃猫", "13700003333"),
        )
    ]
    finance = get_builder("finance")
    real_now = timezone.now()
    day = finance.latest_due(real_now)
    clock = Clock(finance.cutoff(day) - timedelta(hours=5))
    monkeypatch.setattr(timezone, "now", clock)
    for order, amount, kind in (
        (orders[0], "12.00", LedgerEntry.Kind.POSTAGE),
        (orders[1], "159.00", LedgerEntry.Kind.REFUND),
        (orders[2], "10.00", LedgerEntry.Kind.COMPENSATION),
    ):
        clock.set(clock.now + timedelta(minutes=40))
        record(agent, order, amount, kind, note="e2e")
    monkeypatch.undo()
    finance_sheet = sheet_build(kind="finance", business_date=day)
    tickets = [queued_exchange(agent, order, description="换大一码") for order in orders]
    exchanges = get_builder("exchanges")
    list_day = timezone.localdate()
    if timezone.now() >= exchanges.cutoff(list_day):
        list_day += timedelta(days=1)
    exchange_list = sheet_build(
        kind="exchanges",
        business_date=list_day,
        now=exchanges.cutoff(list_day) + timedelta(minutes=1),
    )
    return finance_sheet, exchange_list, tickets


def test_supervisor_signs_the_list_and_finance_downloads_both_files(page, day_of_work, tmp_path):
    finance_sheet, exchange_list, tickets = day_of_work
    dropped = tickets[1]

    # the supervisor opens the finance page from the navigation
    login(page, "e2e-boss")
    page.click("nav >> text=财务报表")
    assert page.locator("h1").inner_text() == "财务报表"
    screenshot(page, "finance-list-supervisor")

    # checks the day's exchange list, takes one line off with a reason, and signs
    page.click(f"a[href='/finance/sheets/{exchange_list.pk}/'] >> nth=0")
    assert "待主管签字" in page.inner_text(".page-head")
    assert "13900002222" not in page.content()  # masked on the page
    screenshot(page, "exchange-list-to-sign")
    row = page.locator("#lines tr", has_text=dropped.number)
    row.locator("input[name=reason]").fill("买家改成退款")
    row.locator("button", has_text="移出").click()
    assert f"{dropped.number} 已移出清单" in page.inner_text(".messages")
    # signing asks first (a signed list cannot change): cancelling leaves it unsigned
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("#approve-list")
    assert "签字后清单不能再改" in asked[0]
    exchange_list.refresh_from_db()
    assert exchange_list.status == Sheet.Status.AWAITING_APPROVAL
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#approve-list")
    assert "已签字" in page.inner_text(".messages")
    assert "已签字" in page.inner_text(".page-head")
    screenshot(page, "exchange-list-signed")

    exchange_list.refresh_from_db()
    assert exchange_list.status == Sheet.Status.APPROVED
    assert exchange_list.approved_by.username == "e2e-boss"
    dropped.refresh_from_db()
    assert dropped.status == Ticket.Status.QUEUED_FOR_EXCHANGE

    # finance logs in and downloads both files
    page.click("button:has-text('退出')")
    login(page, "e2e-money")
    page.goto(page.base_url + "/finance/")
    screenshot(page, "finance-list-finance")
    files = {}
    for sheet in (finance_sheet, exchange_list):
        with page.expect_download() as download:
            page.click(f"a[href='/finance/sheets/{sheet.pk}/download/']")
        files[sheet.kind] = tmp_path / download.value.suggested_filename
        download.value.save_as(files[sheet.kind])

    assert files["finance"].name == f"财务表-{finance_sheet.business_date:%Y-%m-%d}.xlsx"
    money = table(load_workbook(files["finance"])["明细"], 1)
    assert sorted(Decimal(str(row["金额"])) for row in money) == [
        Decimal("10.00"),
        Decimal("12.00"),
        Decimal("159.00"),
    ]
    signed = load_workbook(files["exchanges"])["换货清单"]
    assert signed["A2"].value.startswith("已签字：李主管")
    numbers = [row["售后单号"] for row in table(signed, 5)]
    assert sorted(numbers) == sorted(t.number for t in tickets if t != dropped)
    assert SheetDownload.objects.filter(user__username="e2e-money").count() == 2

    # the finance sheet's page: totals by kind and shop, and who downloaded it
    page.click(f"a[href='/finance/sheets/{finance_sheet.pk}/'] >> nth=0")
    assert "¥181.00" in page.inner_text(".fx-columns")
    assert "赵会计" in page.inner_text("ul.plain")
    screenshot(page, "finance-sheet-detail")
