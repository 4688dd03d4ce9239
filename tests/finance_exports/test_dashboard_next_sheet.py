"""Finance's start page says on which finance sheet money recorded now goes (issue 17: a
newcomer who starts the demo after 16:00 finds today's sheet built and their own postage
missing from it; it is on tomorrow's, as the cut-off says, and the page says so)."""

from datetime import date, timedelta

import pytest

from finance_exports.builders.finance import FinanceSheetBuilder
from finance_exports.services import sheet_build

from .helpers import at, record

DAY = date(2026, 11, 24)


@pytest.mark.parametrize(
    ("recorded", "goes_on"),
    [
        ("09:30:00", DAY),
        ("15:59:59", DAY),
        ("16:00:00", DAY + timedelta(days=1)),
        ("18:30:00", DAY + timedelta(days=1)),
    ],
)
def test_the_start_page_names_the_sheet_money_recorded_now_goes_on(
    client, finance, agent, order_a, clock, recorded, goes_on
):
    # given postage recorded at that time of day, and the sheets built when they were due
    clock.set(at(DAY, recorded))
    entry = record(agent, order_a, "12.00")
    if goes_on != DAY:
        today = sheet_build(kind="finance", business_date=DAY)
        assert entry not in FinanceSheetBuilder.entries(today)
    # when finance opens the start page, in Chinese and in English
    client.force_login(finance)
    chinese = client.get("/").content.decode()
    client.cookies["django_language"] = "en"
    english = client.get("/").content.decode()
    # then it names that sheet and its cut-off
    assert f"现在登记的款项进 {goes_on:%Y-%m-%d} 的财务表（{goes_on:%m-%d} 16:00 截止）" in chinese
    assert (
        f"Money recorded now goes on the finance sheet of {goes_on:%Y-%m-%d} "
        f"(cut-off {goes_on:%m-%d} 16:00)" in english
    )
    # and that is the sheet that takes it
    clock.set(at(goes_on, "16:00:00"))
    sheet = sheet_build(kind="finance", business_date=goes_on)
    assert entry in FinanceSheetBuilder.entries(sheet)
