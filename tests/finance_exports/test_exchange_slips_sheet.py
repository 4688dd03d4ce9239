"""The month-end list of exchange slips (换货蓝单月表): built by beat on the 1st for the month
before, once, caught up when missed, checked against a month of exchanges in two shops made
through the real services (a charge reversed, a refund short, slips of the months around it)."""

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO, StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from openpyxl import load_workbook

from aftersales.celery import app
from aftersales.spreadsheets import SheetBook
from finance_exports.builders import get_builder
from finance_exports.builders.exchange_slips import ExchangeSlipsSheetBuilder
from finance_exports.models import Sheet, SheetDownload
from finance_exports.services import (
    SheetBuildFailed,
    SheetNotDue,
    exchange_line_ship,
    exchange_list_approve,
    sheet_build,
    sheets_catch_up,
)
from finance_exports.tasks import build_due_sheets
from tests.factories import make_order, make_sku, make_user
from tickets.models import LedgerEntry, Ticket, TicketEvent
from tickets.roles import Role
from tickets.services.exchanges import (
    ReplacementRequest,
    exchange_charge_record,
    exchange_charge_reverse,
    exchange_set_replacements,
)
from tickets.services.ledger import ledger_record
from tickets.services.tickets import ItemRequest, ticket_open, ticket_transition

from .helpers import at, file_bytes, record, table, workbook

S = Ticket.Status
KIND = Sheet.Kind.EXCHANGE_SLIPS
OCT, NOV, DEC = date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)


@pytest.fixture
def clock(clock, monkeypatch):
    """The test clock also stamps the tickets' timeline (its ``created_at`` default is bound
    to Django's own ``timezone.now``, which the clock does not replace), so "shipped at" is
    the test's time."""
    field = TicketEvent._meta.get_field("created_at")
    monkeypatch.setattr(field, "_get_default", clock)
    return clock


def exchange(actor, shop, nick, price, out=(), quantity=1) -> Ticket:
    """An exchange queued for the list: ``quantity`` pieces at ``price`` came back, and
    ``out`` ((price, size, n), ...) of the same product go out instead (none: the same goods)."""
    order = make_order(shop, items=((Decimal(price), quantity),), buyer_nick=nick)
    goods = order.items.select_related("sku__product").get()
    ticket = ticket_open(
        actor=actor,
        order=order,
        kind=Ticket.Kind.EXCHANGE,
        reason=Ticket.Reason.NOT_SUITABLE,
        responsibility=Ticket.Responsibility.BUYER,
        items=[ItemRequest(order_item=goods, quantity=quantity)],
        description="换尺码",
    )
    if out:
        item = ticket.items.get()
        requests = [
            ReplacementRequest(
                item.pk, make_sku(price=Decimal(p), size=size, product=goods.sku.product), n
            )
            for p, size, n in out
        ]
        exchange_set_replacements(actor=actor, ticket=ticket, requests=requests)
    ticket = ticket_transition(actor=actor, ticket=ticket, to_status=S.AWAITING_RETURN)
    return ticket_transition(actor=actor, ticket=ticket, to_status=S.QUEUED_FOR_EXCHANGE)


def signed_list(clock, supervisor, day: date) -> Sheet:
    """The day's exchange-goods list, built at 17:00 and signed at 17:30."""
    clock.set(at(day, "17:00:01"))
    sheet = sheet_build(kind=Sheet.Kind.EXCHANGES, business_date=day)
    clock.set(at(day, "17:30:00"))
    return exchange_list_approve(actor=supervisor, sheet=sheet)


def ship(clock, actor, ticket, moment: datetime, tracking_no: str) -> None:
    clock.set(moment)
    line = ticket.exchange_lines.get(removed_at__isnull=True)
    exchange_line_ship(actor=actor, line=line, tracking_no=tracking_no)


@pytest.fixture
def november(clock, agent, supervisor, shop_a, shop_b):
    """A month of exchanges: October's and December's slips around three of November's."""
    agent_b = make_user("agent-b", Role.AGENT, shops=[shop_b])
    # October: shipped on the 31st
    clock.set(at(date(2026, 10, 30), "10:00:00"))
    october = exchange(agent, shop_a, "十月的买家", "99.00")
    signed_list(clock, supervisor, date(2026, 10, 30))
    ship(clock, agent, october, at(date(2026, 10, 31), "23:59:59"), "YT0000000010")

    # 3 November: a dearer size (the buyer owes 30: 20 recorded by mistake and reversed, then
    # 30), and a cheaper one in the Tmall shop (the shop owes 30), whose nickname looks like
    # a formula
    clock.set(at(date(2026, 11, 3), "10:00:00"))
    dearer = exchange(agent, shop_a, "换大码的买家", "169.00", out=[("199.00", "XL", 1)])
    cheaper = exchange(agent_b, shop_b, '=HYPERLINK("http://x")', "199.00", [("169.00", "S", 1)])
    clock.set(at(date(2026, 11, 3), "11:00:00"))
    mistake = exchange_charge_record(actor=agent, ticket=dearer, amount="20.00")
    clock.set(at(date(2026, 11, 3), "11:05:00"))
    exchange_charge_reverse(actor=agent, charge=mistake, reason="金额登记错了")
    clock.set(at(date(2026, 11, 3), "11:10:00"))
    exchange_charge_record(
        actor=agent, ticket=dearer, amount="30.00", reference="4412345678901234567"
    )
    signed_list(clock, supervisor, date(2026, 11, 3))
    ship(clock, agent, dearer, at(date(2026, 11, 4), "10:00:00"), "YT1000000001")
    ship(clock, agent_b, cheaper, at(date(2026, 11, 4), "10:05:00"), "SF1000000002")
    clock.set(at(date(2026, 11, 5), "14:00:00"))
    ledger_record(
        actor=agent_b,
        order=cheaper.order,
        ticket=cheaper,
        kind=LedgerEntry.Kind.REFUND,
        amount="20.00",
        payment_method=LedgerEntry.PaymentMethod.PLATFORM_REFUND,
    )

    # 29 November: two pieces back, going out as two sizes; and the same goods again
    clock.set(at(date(2026, 11, 29), "10:00:00"))
    split = exchange(
        agent_b, shop_b, "两件换两码", "199.00", [("199.00", "M", 1), ("199.00", "L", 1)], 2
    )
    same = exchange(agent, shop_a, "十二月的买家", "59.00")
    signed_list(clock, supervisor, date(2026, 11, 29))
    ship(clock, agent_b, split, at(date(2026, 11, 30), "23:59:59"), "SF1000000003")
    # December: shipped at midnight
    ship(clock, agent, same, at(DEC, "00:00:00"), "YT1000000004")
    return {
        "agent_b": agent_b,
        "in": [dearer, cheaper, split],
        "out": [october, same],
    }


def build_november(clock, when="09:00:01") -> Sheet:
    """What beat does on 1 December at the sheet's time."""
    clock.set(at(DEC, when))
    build_due_sheets.apply(kwargs={"kind": KIND}).get()
    return Sheet.objects.get(kind=KIND, business_date=NOV)


def summary(sheet) -> tuple[list[dict], dict]:
    rows = table(workbook(sheet)["汇总"], 3)
    return [r for r in rows if r["店铺"] != "合计"], next(r for r in rows if r["店铺"] == "合计")


# --- what the sheet says ------------------------------------------------------------------------
def test_the_month_end_list_has_every_slip_of_the_month_and_its_money(
    november, clock, supervisor, shop_a, shop_b
):
    # given the month above; a reversal and the rest of a refund recorded after the cut-off
    dearer, cheaper, split = november["in"]

    # when beat builds the sheet on 1 December
    sheet = build_november(clock)

    # then one sheet, ready, cut at 09:00 on the 1st, opened back with openpyxl
    assert (sheet.status, sheet.business_date) == (Sheet.Status.READY, NOV)
    assert sheet.cutoff_at == at(DEC, "09:00:00")
    assert sheet.row_count == 3
    assert sheet.total_amount == Decimal("30.00")

    # the summary: per shop, then the totals
    body, total = summary(sheet)
    assert [r["店铺"] for r in body] == [shop_a.name, shop_b.name]
    a, b = body
    assert (a["换货单数"], a["发出件数"]) == (1, 1)
    assert (a["应收补差价"], a["已收补差价"], a["未收差价"]) == (Decimal("30.00"),) * 2 + (0,)
    assert (a["应退差价"], a["已退差价"], a["未退差价"]) == (0, 0, 0)
    assert (b["换货单数"], b["发出件数"]) == (2, 3)
    assert (b["应收补差价"], b["已收补差价"], b["未收差价"]) == (0, 0, 0)
    assert (b["应退差价"], b["已退差价"], b["未退差价"]) == (
        Decimal("30.00"),
        Decimal("20.00"),
        Decimal("10.00"),
    )
    assert (total["换货单数"], total["发出件数"]) == (3, 4)
    assert total["已收补差价"] == Decimal("30.00")
    assert total["已退差价"] == Decimal("20.00")
    assert total["未退差价"] == Decimal("10.00")
    assert sheet.totals["by_shop"][1]["to_refund"] == "10.00"

    # the detail: one row per piece line, by shop then by the time it went out
    rows = table(workbook(sheet)["明细"], 1)
    numbers = [r["售后单号"] for r in rows]
    assert numbers == [dearer.number, cheaper.number, split.number, split.number]
    assert all(t.number not in numbers for t in november["out"])
    first = rows[0]
    assert f"{first['发货时间']:%Y-%m-%d %H:%M:%S}" == "2026-11-04 10:00:00"  # Beijing time
    assert first["店铺"] == shop_a.name
    assert first["订单编号"] == dearer.order.order_no
    assert first["买家会员名"] == "换大码的买家"
    assert (first["换货清单"], first["签字人"]) == ("2026-11-03", str(supervisor))
    assert (first["退回尺码"], first["发出尺码"], first["发出数量"]) == ("XXL", "XL", 1)
    assert first["差价"] == Decimal("30.00")
    assert (first["已收补差价"], first["已退差价"]) == (Decimal("30.00"), 0)
    assert first["差价结清"] == "已收"
    assert first["新运单号"] == "YT1000000001"
    assert rows[1]["买家会员名"] == '=HYPERLINK("http://x")'
    assert rows[1]["差价"] == Decimal("-30.00")
    assert rows[1]["已退差价"] == Decimal("20.00")
    assert rows[1]["差价结清"] == "未退 ¥10.00"
    assert rows[1]["发货登记人"] == str(november["agent_b"])
    assert [r["发出尺码"] for r in rows[2:]] == ["M", "L"]
    assert f"{rows[2]['发货时间']:%Y-%m-%d %H:%M:%S}" == "2026-11-30 23:59:59"
    assert rows[3]["已收补差价"] is None  # the ticket's money once, on its first row
    # the columns add up to the summary's totals
    assert sum(r["发出数量"] for r in rows) == total["发出件数"]
    assert sum(r["差价"] for r in rows) == total["应收补差价"] - total["应退差价"]
    assert sum(r["已收补差价"] or 0 for r in rows) == total["已收补差价"]
    assert sum(r["已退差价"] or 0 for r in rows) == total["已退差价"]


def test_read_a_few_slips_at_a_time_the_sheet_is_the_same(november, clock, monkeypatch):
    """The slips are read SLIPS_PER_READ tickets at a time so a big month's memory stays flat
    (230 MB for 11,389 slips read at once): chunks of one give the same rows in the same
    order, and the same totals."""
    whole = ExchangeSlipsSheetBuilder()
    expected = [
        (s.ticket.number, s.shipped_at, s.price, s.line.pk if s.line else None)
        for s in whole.slips(build_november(clock))
    ]
    monkeypatch.setattr("finance_exports.builders.exchange_slips.SLIPS_PER_READ", 1)
    sheet = Sheet.objects.get(kind=KIND, business_date=NOV)
    got = [
        (s.ticket.number, s.shipped_at, s.price, s.line.pk if s.line else None)
        for s in whole.slips(sheet)
    ]
    assert got == expected and len(got) == 3
    assert whole.summarize(sheet).totals == sheet.totals


def test_money_has_the_yuan_format_and_nothing_is_a_formula(november, clock):
    sheet = build_november(clock)
    book = workbook(sheet)
    for name in ("汇总", "明细"):
        for row in book[name].iter_rows():
            assert all(cell.data_type != "f" for cell in row), name
    detail = list(book["明细"].iter_rows(min_row=2))
    assert {row[16].number_format for row in detail} == {"¥#,##0.00"}  # 差价
    assert detail[0][0].number_format == "yyyy-mm-dd hh:mm:ss"
    totals = list(book["汇总"].iter_rows(min_row=4))[-1]
    assert totals[4].value == Decimal("30.00")
    assert totals[4].number_format == "¥#,##0.00"


def test_money_recorded_after_the_cut_off_waits_for_no_sheet_of_this_month(november, clock, agent):
    # given a correction and the rest of the refund recorded on 1 December after 09:00
    dearer = november["in"][0]
    clock.set(at(DEC, "09:30:00"))
    exchange_charge_reverse(actor=agent, charge=dearer.exchange_charges.last(), reason="退回")
    # when the sheet is built later that day (beat was late)
    sheet = build_november(clock, "10:00:00")
    # then it says what was recorded before its cut-off
    _body, total = summary(sheet)
    assert total["已收补差价"] == Decimal("30.00")


# --- exactly once, when due, caught up -----------------------------------------------------------
def run(*args) -> str:
    out = StringIO()
    call_command("build_sheet", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def test_built_once_whoever_builds_it_and_however_often(november, clock):
    sheet = build_november(clock)
    before = file_bytes(sheet)
    # a second beat, a retry, the catch-up, the command: the same sheet and the same file
    clock.set(at(DEC, "11:00:00"))
    assert build_due_sheets.apply(kwargs={"kind": KIND}).get() == []
    assert sheets_catch_up(kinds=[KIND]) == []
    assert run("exchange-slips", "--month", "2026-11") == sheet.file.path
    again = sheet_build(kind=KIND, business_date=date(2026, 11, 20))
    assert again.pk == sheet.pk
    assert Sheet.objects.filter(kind=KIND).count() == 1
    assert file_bytes(again) == before


def test_not_before_the_first_of_the_next_month_at_its_time(november, clock):
    clock.set(at(DEC, "08:59:59"))
    with pytest.raises(SheetNotDue):
        sheet_build(kind=KIND, business_date=NOV)
    # beat's task (or the catch-up) on a fresh desk builds the latest due month: October's
    build_due_sheets.apply(kwargs={"kind": KIND}).get()
    assert list(Sheet.objects.filter(kind=KIND).values_list("business_date", flat=True)) == [OCT]
    builder = get_builder(KIND)
    assert builder.latest_due(at(DEC, "08:59:59")) == OCT
    assert builder.latest_due(at(DEC, "09:00:00")) == NOV


def test_a_first_missed_while_beat_was_down_is_caught_up(november, clock):
    # given October's list was built on time, then beat was down over 1 December
    clock.set(at(NOV, "09:00:01"))
    sheet_build(kind=KIND, business_date=OCT)
    # when the desk is back on 3 December
    clock.set(at(date(2026, 12, 3), "08:15:00"))
    built = sheets_catch_up(kinds=[KIND])
    # then November's list is built, as on the 1st
    assert [(s.kind, s.business_date) for s in built] == [(KIND, NOV)]
    assert built[0].row_count == 3
    assert Sheet.objects.get(kind=KIND, business_date=OCT).row_count == 1


def test_the_beat_entry_is_on_the_first_at_nine_beijing_time():
    app.finalize()
    entry = app.conf.beat_schedule["sheet-exchange_slips"]
    assert entry["task"] == build_due_sheets.name
    assert entry["kwargs"] == {"kind": KIND}
    schedule = entry["schedule"]
    assert (schedule.day_of_month, schedule.hour, schedule.minute) == ({1}, {9}, {0})
    assert str(schedule.tz) == "Asia/Shanghai"
    assert isinstance(get_builder(KIND), ExchangeSlipsSheetBuilder)


def test_a_failure_is_recorded_with_its_reason_and_shown_to_finance(
    november, clock, settings, monkeypatch, client, finance
):
    settings.FINANCE_SHEET_MAX_ATTEMPTS = 2

    def broken(builder, sheet, book):
        raise OSError("磁盘已满")

    monkeypatch.setattr(ExchangeSlipsSheetBuilder, "write", broken)
    clock.set(at(DEC, "09:00:01"))
    for attempt in (1, 2):
        with pytest.raises(SheetBuildFailed) as failed:
            sheet_build(kind=KIND, business_date=NOV)
        assert failed.value.sheet.attempts == attempt
    sheet = Sheet.objects.get(kind=KIND)
    assert sheet.status == Sheet.Status.FAILED
    assert sheet.error == "OSError: 磁盘已满"
    assert not sheet.file
    client.force_login(finance)
    page = client.get(reverse("finance_exports:sheet_detail", args=[sheet.pk]))
    assert "OSError: 磁盘已满" in page.content.decode()
    assert client.get(reverse("finance_exports:sheet_download", args=[sheet.pk])).status_code == 404


# --- the finance page --------------------------------------------------------------------------
def test_finance_downloads_it_from_the_sheets_page(november, clock, client, finance, shop_a):
    sheet = build_november(clock)
    client.force_login(finance)
    listing = client.get(reverse("finance_exports:sheet_list"), {"kind": KIND}).content.decode()
    download = reverse("finance_exports:sheet_download", args=[sheet.pk])
    assert download in listing
    assert "3 单 4 件" in listing
    detail = client.get(sheet.get_absolute_url()).content.decode()
    assert 'id="slips-by-shop"' in detail and shop_a.name in detail
    assert "¥30.00" in detail and "¥10.00" in detail

    response = client.get(download)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    book = load_workbook(BytesIO(b"".join(response.streaming_content)), read_only=True)
    assert book.sheetnames == ["汇总", "明细"]
    assert SheetDownload.objects.filter(sheet=sheet, user=finance).count() == 1


def test_agents_and_staff_of_some_shops_cannot_get_it(november, clock, client, agent, shop_a):
    sheet = build_november(clock)
    urls = [sheet.get_absolute_url(), reverse("finance_exports:sheet_download", args=[sheet.pk])]
    client.force_login(agent)
    for url in urls:
        assert client.get(url).status_code in (403, 404), url
    client.force_login(make_user("boss-a", Role.SUPERVISOR, shops=[shop_a]))
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert not SheetDownload.objects.exists()


# --- a month before the first sheet, by hand (issue 13 hostile review) --------------------------
def test_a_month_before_the_first_list_is_built_by_hand_once(november, clock, finance):
    # given November's list built by beat: October's exchange has no list
    november_sheet = build_november(clock)
    november_file = file_bytes(november_sheet)
    october = november["out"][0]

    # when finance asks for October at the console, twice
    clock.set(at(date(2026, 12, 2), "10:00:00"))
    path = run("exchange_slips", "--month", "2026-10", "--user", finance.username)
    assert run("exchange_slips", "--month", "2026-10") == path

    # then October has one list, with October's slip alone, built by whoever asked
    sheet = Sheet.objects.get(kind=KIND, business_date=OCT)
    assert sheet.file.path == path
    assert (sheet.status, sheet.row_count, sheet.created_by) == (Sheet.Status.READY, 1, finance)
    assert [r["售后单号"] for r in table(workbook(sheet)["明细"], 1)] == [october.number]
    assert sheet.cutoff_at == at(NOV, "09:00:00")  # what it would have said on time
    # and November's list is untouched: no slip is on two lists
    november_sheet.refresh_from_db()
    assert (november_sheet.row_count, file_bytes(november_sheet)) == (3, november_file)
    assert Sheet.objects.filter(kind=KIND).count() == 2
    # a month with no exchange gets its (empty) list too, once
    run("exchange_slips", "--month", "2026-09")
    assert Sheet.objects.get(kind=KIND, business_date=date(2026, 9, 1)).row_count == 0
    # beat never goes back by itself, and has nothing left to catch up
    assert sheets_catch_up(kinds=[KIND]) == []
    assert Sheet.objects.filter(kind=KIND).count() == 3


def test_a_month_not_over_is_refused_by_hand_too(november, clock):
    build_november(clock)
    clock.set(at(date(2026, 12, 20), "10:00:00"))
    with pytest.raises(CommandError, match="才能生成"):
        run("exchange_slips", "--month", "2026-12")
    assert not Sheet.objects.filter(kind=KIND, business_date=DEC).exists()


def test_only_the_kinds_that_claim_nothing_go_back(clock, agent, order_a):
    # a finance sheet claims every entry not yet on one: an earlier day would find them taken
    clock.set(at(date(2026, 11, 24), "10:00:00"))
    entry = record(agent, order_a, "12.00")
    clock.set(at(date(2026, 11, 24), "16:00:01"))
    sheet_build(kind=Sheet.Kind.FINANCE, business_date=date(2026, 11, 24))
    with pytest.raises(CommandError, match="不能再补生成更早日期"):
        run("finance", "--date", "2026-11-20")
    assert not Sheet.objects.filter(business_date=date(2026, 11, 20)).exists()
    entry.refresh_from_db()
    assert entry.finance_sheet_claim.sheet.business_date == date(2026, 11, 24)


def test_december_and_january_keep_their_own_slips(clock, agent, supervisor, shop_a):
    # given one exchange shipped at the last second of 2026 and one at the first of 2027
    jan = date(2027, 1, 1)
    clock.set(at(date(2026, 12, 30), "10:00:00"))
    old_year = exchange(agent, shop_a, "年末的买家", "99.00")
    new_year = exchange(agent, shop_a, "年初的买家", "99.00")
    signed_list(clock, supervisor, date(2026, 12, 30))
    ship(clock, agent, old_year, at(date(2026, 12, 31), "23:59:59"), "YT2026123100")
    ship(clock, agent, new_year, at(jan, "00:00:00"), "YT2027010100")

    # when beat builds January's list on 1 February, and December's is asked for afterwards
    clock.set(at(date(2027, 2, 1), "09:00:01"))
    build_due_sheets.apply(kwargs={"kind": KIND}).get()
    january = Sheet.objects.get(kind=KIND)
    assert january.business_date == jan
    december_path = run("exchange_slips", "--month", "2026-12")
    assert run("exchange_slips", "--month", "2026-12") == december_path

    # then each month has its own slip, and neither has the other's
    december = Sheet.objects.get(kind=KIND, business_date=DEC)
    assert december.cutoff_at == at(jan, "09:00:00")
    assert [r["售后单号"] for r in table(workbook(december)["明细"], 1)] == [old_year.number]
    assert [r["售后单号"] for r in table(workbook(january)["明细"], 1)] == [new_year.number]
    assert Sheet.objects.filter(kind=KIND).count() == 2


def test_the_summary_reads_a_fixed_number_of_queries_per_chunk(
    november, clock, monkeypatch, django_assert_num_queries
):
    """The summary reads plain values, not the slips' tickets with their goods (two thirds of
    its time at 100,000 demo orders): the slips' ids, then per chunk of ``SLIPS_PER_READ``
    the shops, the replacements' pieces, the items and the three money queries; the same
    totals as the sheet built with whole tickets."""
    sheet = build_november(clock)
    builder = ExchangeSlipsSheetBuilder()
    with django_assert_num_queries(1 + 6):
        assert builder.summarize(sheet).totals == sheet.totals
    monkeypatch.setattr("finance_exports.builders.exchange_slips.SLIPS_PER_READ", 1)
    with django_assert_num_queries(1 + 3 * 6):
        assert builder.summarize(sheet).totals == sheet.totals


def test_the_detail_reads_a_fixed_number_of_queries_per_chunk(
    november, clock, monkeypatch, tmp_path, django_assert_num_queries
):
    """The detail reads of each ticket only the columns its row shows (``only``): a field
    read outside them would cost a query per slip. The shipped events, then per chunk the
    tickets, their items and replacements, the list lines and the three money queries."""
    sheet = build_november(clock)
    builder = ExchangeSlipsSheetBuilder()
    for per_read, queries in ((1000, 1 + 7), (1, 1 + 3 * 7)):
        monkeypatch.setattr("finance_exports.builders.exchange_slips.SLIPS_PER_READ", per_read)
        book = SheetBook(tmp_dir=tmp_path)
        with django_assert_num_queries(queries):
            builder.write(sheet, book)
        book.save(tmp_path / f"{per_read}.xlsx")
        rows = table(load_workbook(tmp_path / f"{per_read}.xlsx")["明细"], 1)
        assert rows == table(workbook(sheet)["明细"], 1)
