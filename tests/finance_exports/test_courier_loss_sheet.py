"""The monthly courier-loss settlement: built by command and by beat, checked against the
database row by row."""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from finance_exports.builders import get_builder, register
from finance_exports.builders.courier_loss import CourierLossSheetBuilder
from finance_exports.models import Sheet
from finance_exports.services import SheetNotDue, sheet_build, sheets_catch_up
from finance_exports.tasks import beat_schedule, build_due_sheets
from tests.factories import make_order, make_ticket
from tickets.models import Courier, CourierLossReport
from tickets.selectors_registers import courier_loss_settlement
from tickets.services.courier_losses import courier_loss_create as _create
from tickets.services.courier_losses import courier_loss_transition

from .helpers import at, file_bytes, table, workbook

NOV = date(2026, 11, 1)
DEC = date(2026, 12, 1)


@pytest.fixture(autouse=True)
def courier_loss_builder():
    # Another test swaps a stand-in builder in and out for this kind: use the real one.
    register(CourierLossSheetBuilder)


def loss(actor, order, tracking, claimed, courier="yto", **extra):
    """A report through the real service, written at the test clock's time (``created_at``
    is stamped by a default the clock does not reach, so it is set to the clock's time)."""
    report = _create(
        actor=actor,
        order=order,
        courier=Courier.objects.get(code=courier),
        tracking_no=tracking,
        damage=extra.pop("damage", "lost"),
        items_description=extra.pop("items", "连衣裙 M 1 件"),
        items_value=extra.pop("items_value", "99.00"),
        shop_action=extra.pop("shop_action", "reship"),
        claimed_amount=claimed,
        **extra,
    )
    CourierLossReport.objects.filter(pk=report.pk).update(created_at=timezone.now())
    report.refresh_from_db()
    return report


def settle(agent, supervisor, report, outcome, received=None):
    courier_loss_transition(actor=agent, report=report, to_status="handed")
    courier_loss_transition(actor=agent, report=report, to_status=outcome)
    if received is not None:
        courier_loss_transition(
            actor=supervisor, report=report, to_status="settled", received_amount=received
        )


def run(*args) -> str:
    out = StringIO()
    call_command("build_sheet", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


@pytest.fixture
def november(clock, agent, supervisor, shop_a):
    """Reports written in October, November (two couriers) and on 1 December at midnight."""
    order1 = make_order(shop_a, buyer_nick="小鱼")
    order2 = make_order(shop_a, items=((Decimal("300.00"), 1),))
    ticket = make_ticket(order1, agent)
    clock.set(at(date(2026, 10, 31), "23:59:59"))
    october = loss(agent, order1, "YT0001", "10.00")
    clock.set(at(NOV, "00:00:00"))
    y1 = loss(agent, order1, "YT1001", "80.00", ticket=ticket)
    clock.set(at(date(2026, 11, 12), "14:30:00"))
    y2 = loss(agent, order2, "YT1002", "40.00", items='=HYPERLINK("http://x")', damage="damaged")
    clock.set(at(date(2026, 11, 20), "09:00:00"))
    z1 = loss(agent, order2, "ZT2001", "30.00", courier="zto", shop_action="refund")
    clock.set(at(date(2026, 11, 30), "23:59:59"))
    z2 = loss(agent, order1, "ZT2002", "55.50", courier="zto")
    clock.set(at(DEC, "00:00:00"))
    december = loss(agent, order1, "YT3001", "99.00")
    clock.set(at(DEC, "08:00:00"))
    settle(agent, supervisor, y1, "accepted", "70.00")
    settle(agent, supervisor, y2, "rejected")
    settle(agent, supervisor, z1, "accepted", "30.00")
    return {"in": [y1, y2, z1, z2], "out": [october, december]}


def summary_rows(sheet):
    rows = table(workbook(sheet)["汇总"], 3)
    body = [r for r in rows if r["快递公司"] != "合计"]
    total = next(r for r in rows if r["快递公司"] == "合计")
    return body, total


def test_every_row_and_total_matches_the_database(november, clock):
    clock.set(at(DEC, "10:00:00"))
    path = run("courier-loss", "--month", "2026-11")
    sheet = Sheet.objects.get(kind=Sheet.Kind.COURIER_LOSS)
    assert sheet.file.path == path
    assert sheet.business_date == NOV
    assert sheet.status == Sheet.Status.READY
    assert sheet.cutoff_at == at(DEC, "09:00:00")

    expected = courier_loss_settlement(CourierLossReport.objects.all(), NOV)
    body, total = summary_rows(sheet)
    assert [r["快递公司"] for r in body] == [g.courier.name for g in expected]
    for row, group in zip(body, expected, strict=True):
        assert row["报告数"] == len(group.reports)
        assert (row["索赔金额"], row["实收赔款"], row["未结金额"]) == (
            group.claimed,
            group.received,
            group.outstanding,
        )
    # hand-computed: YTO 80+40 claimed, 70 received; ZTO 30+55.50 claimed, 30 received
    by_name = {r["快递公司"]: r for r in body}
    yto, zto = Courier.objects.get(code="yto").name, Courier.objects.get(code="zto").name
    assert by_name[yto]["未结金额"] == Decimal("50.00")
    assert by_name[zto]["未结金额"] == Decimal("55.50")
    assert total["报告数"] == 4
    assert total["索赔金额"] == Decimal("205.50") == sheet.total_amount
    assert total["实收赔款"] == Decimal("100.00")
    assert total["未结金额"] == Decimal("105.50")
    assert sheet.row_count == 4

    # the detail: one row per report of the month, grouped by courier, nothing from other months
    rows = table(workbook(sheet)["明细"], 1)
    in_month = {r.tracking_no: r for r in november["in"]}
    assert [r["运单号"] for r in rows] == [
        report.tracking_no for group in expected for report in group.reports
    ]
    assert set(in_month) == {r["运单号"] for r in rows}
    for row in rows:
        report = CourierLossReport.objects.select_related("courier", "shop", "order").get(
            tracking_no=row["运单号"]
        )
        assert row["快递公司"] == report.courier.name
        assert row["店铺"] == report.shop.name
        assert row["订单编号"] == report.order.order_no
        assert row["售后单号"] == (report.ticket.number if report.ticket_id else None)
        assert row["丢件/破损"] == report.get_damage_display()
        assert row["物品"] == report.items_description
        assert row["物品价值"] == report.items_value
        assert row["店铺处理"] == report.get_shop_action_display()
        assert row["索赔金额"] == report.claimed_amount
        assert row["实收赔款"] == report.received_amount
        assert row["未结金额"] == report.claimed_amount - (report.received_amount or 0)
        assert row["状态"] == report.get_status_display()
        assert row["登记人"] == str(report.created_by)
    first = next(r for r in rows if r["运单号"] == "YT1001")
    assert first["登记时间"].strftime("%Y-%m-%d %H:%M:%S") == "2026-11-01 00:00:00"
    assert all(r["运单号"] not in {"YT0001", "YT3001"} for r in rows)


def test_money_cells_have_the_yuan_format_and_user_text_is_never_a_formula(november, clock):
    clock.set(at(DEC, "10:00:00"))
    sheet = sheet_build(kind=Sheet.Kind.COURIER_LOSS, business_date=NOV)
    book = workbook(sheet)
    detail = book["明细"]
    for row in detail.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
        assert row[10].number_format == "¥#,##0.00"
    assert '=HYPERLINK("http://x")' in [c.value for c in detail["H"]]
    assert all(c.data_type != "f" for row in book["汇总"].iter_rows() for c in row)


def test_building_twice_gives_one_sheet_and_the_same_bytes(november, clock, supervisor):
    clock.set(at(DEC, "10:00:00"))
    first = run("courier_loss", "--month", "2026-11")
    before = file_bytes(Sheet.objects.get(kind=Sheet.Kind.COURIER_LOSS))
    # a report settled later does not change the sheet already handed over
    clock.set(at(DEC, "11:00:00"))
    assert run("courier-loss", "--month", "2026-11") == first
    sheet = sheet_build(kind=Sheet.Kind.COURIER_LOSS, business_date=date(2026, 11, 17))
    assert Sheet.objects.filter(kind=Sheet.Kind.COURIER_LOSS).count() == 1
    assert file_bytes(sheet) == before


def test_not_before_the_first_of_the_next_month_and_month_only(november, clock):
    clock.set(at(DEC, "08:59:00"))
    with pytest.raises(SheetNotDue):
        sheet_build(kind=Sheet.Kind.COURIER_LOSS, business_date=NOV)
    with pytest.raises(CommandError, match="--month"):
        run("courier-loss", "--date", "2026-11-01")
    assert not Sheet.objects.exists()


def test_beat_and_catch_up_build_last_month(november, clock):
    # beat fires on 1 December at 09:00 (or the catch-up runs later that day)
    clock.set(at(DEC, "09:00:01"))
    built = sheets_catch_up(kinds=[Sheet.Kind.COURIER_LOSS])
    assert [(s.kind, s.business_date) for s in built] == [("courier_loss", NOV)]
    assert built[0].row_count == 4
    # the task that beat runs finds nothing more to do
    assert build_due_sheets.apply(kwargs={"kind": "courier_loss"}).get() == []
    builder = get_builder(Sheet.Kind.COURIER_LOSS)
    assert builder.latest_due(at(DEC, "08:59:59")) == date(2026, 10, 1)
    assert builder.latest_due(at(DEC, "09:00:00")) == NOV


def test_beat_schedule_has_the_monthly_and_ten_day_sheets():
    schedule = beat_schedule()
    losses, invoices = schedule["sheet-courier_loss"], schedule["sheet-invoices"]
    assert losses["task"] == invoices["task"] == build_due_sheets.name
    assert losses["kwargs"] == {"kind": "courier_loss"}
    assert invoices["kwargs"] == {"kind": "invoices"}
    assert isinstance(losses["schedule"], crontab)
    assert losses["schedule"].day_of_month == {1}
    assert invoices["schedule"].day_of_month == {1, 11, 21}
    for entry, kind in ((losses, "courier_loss"), (invoices, "invoices")):
        hour, minute = settings.FINANCE_SHEET_TIMES[kind]
        assert (entry["schedule"].hour, entry["schedule"].minute) == ({hour}, {minute})
    # the daily sheets stay daily
    assert len(schedule["sheet-finance"]["schedule"].day_of_month) == 31
