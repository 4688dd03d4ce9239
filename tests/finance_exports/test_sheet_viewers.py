"""Sheets cover every shop: only finance and supervisors with every shop may open them
(``may_see_sheets``). A failed sheet tells only them (the bell links to the sheet), and the
finance pages of a user who may see no sheet say why instead of an empty state that reads
"nothing happened" (issue 13 review)."""

from datetime import date

import pytest
from django.urls import reverse

from finance_exports.builders.finance import FinanceSheetBuilder
from finance_exports.models import Sheet
from finance_exports.services import SheetBuildFailed, sheet_build
from tests.factories import make_user
from tickets.models import Notification
from tickets.roles import Role

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 24)
WHY = "报表涵盖所有店铺，只有负责全部店铺的财务和主管可以查看。"
WHY_EN = "Sheets cover every shop: only finance staff and supervisors responsible for all shops"


def fail_a_sheet(monkeypatch, settings) -> Sheet:
    settings.FINANCE_SHEET_MAX_ATTEMPTS = 1
    monkeypatch.setattr(FinanceSheetBuilder, "write", lambda *a: 1 / 0)
    with pytest.raises(SheetBuildFailed):
        sheet_build(kind="finance", business_date=DAY)
    sheet = Sheet.objects.get()
    assert sheet.status == Sheet.Status.FAILED
    return sheet


def test_a_failed_sheet_tells_only_those_who_can_open_it(
    client, finance, supervisor, shop_a, agent, monkeypatch, settings
):
    # given finance and a supervisor for one shop only, next to those for every shop
    one_shop_finance = make_user("money-a", Role.FINANCE, shops=[shop_a])
    one_shop_boss = make_user("boss-a", Role.SUPERVISOR, shops=[shop_a])
    # and an agent who sees every shop but holds no permission to view sheets
    every_shop_agent = make_user("agent-all", Role.AGENT, all_shops=True)
    # when a sheet fails for good
    sheet = fail_a_sheet(monkeypatch, settings)
    # then only the staff for every shop are told
    told = set(
        Notification.objects.filter(kind=Notification.Kind.SHEET_FAILED).values_list(
            "recipient__username", flat=True
        )
    )
    assert told == {finance.username, supervisor.username}
    # and what they are told opens for them, while the sheet is no page for the others
    for user, status in (
        (finance, 200),
        (supervisor, 200),
        (one_shop_finance, 404),
        (one_shop_boss, 404),
        (every_shop_agent, 403),
        (agent, 403),
    ):
        client.force_login(user)
        assert client.get(sheet.get_absolute_url()).status_code == status, user


def test_finance_for_one_shop_is_told_why_the_pages_are_empty(
    client, finance, shop_a, monkeypatch, settings
):
    fail_a_sheet(monkeypatch, settings)
    one_shop_finance = make_user("money-a", Role.FINANCE, shops=[shop_a])
    client.force_login(one_shop_finance)
    start = client.get("/").content.decode()
    listed = client.get(reverse("finance_exports:sheet_list")).content.decode()
    for page in (start, listed):
        assert WHY in page
        assert "没有生成失败的报表" not in page and "还没有符合条件的报表" not in page
    client.cookies["django_language"] = "en"
    assert WHY_EN in client.get("/").content.decode()
    assert WHY_EN in client.get(reverse("finance_exports:sheet_list")).content.decode()
    # finance for every shop sees the failed sheet, and no such explanation
    del client.cookies["django_language"]
    client.force_login(finance)
    for url in ("/", reverse("finance_exports:sheet_list")):
        page = client.get(url).content.decode()
        assert WHY not in page and f"{DAY:%Y-%m-%d}" in page


def test_an_empty_list_for_finance_for_every_shop_still_says_nothing_matched(client, finance):
    client.force_login(finance)
    page = client.get(reverse("finance_exports:sheet_list")).content.decode()
    assert "还没有符合条件的报表" in page and WHY not in page
    assert "没有生成失败的报表" in client.get("/").content.decode()
