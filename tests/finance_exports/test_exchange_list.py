"""The 5 pm exchange-goods list: claiming the queue, the supervisor's signature, shipping."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from finance_exports.builders import get_builder
from finance_exports.models import ExchangeLine, Sheet
from finance_exports.services import (
    exchange_line_remove,
    exchange_line_ship,
    exchange_list_approve,
    exchange_tracking_upload,
    sheet_build,
)
from tests.factories import make_order, make_ticket, make_user
from tickets.models import Order, Ticket
from tickets.roles import Role
from tickets.services import DeskError
from tickets.services.tickets import ticket_transition

from .helpers import file_bytes, queued_exchange, table, workbook

S = Ticket.Status


@pytest.fixture(autouse=True)
def midnight_cut_off(settings):
    """Lists cut at midnight, so no test straddles a cut-off: a ticket queued now is after
    today's cut-off and before the one of the day after tomorrow."""
    settings.FINANCE_SHEET_TIMES = {**settings.FINANCE_SHEET_TIMES, "exchanges": (0, 0)}


def build_list(days_ahead=2):
    day = timezone.localdate() + timedelta(days=days_ahead)
    now = get_builder("exchanges").cutoff(day) + timedelta(minutes=1)
    return sheet_build(kind="exchanges", business_date=day, now=now)


@pytest.fixture
def exchange_order(shop_a):
    return make_order(
        shop_a,
        status=Order.Status.SUCCESS,
        items=((Decimal("199.00"), 2),),
        phone="13912345678",
        buyer_nick="换货的买家",
    )


@pytest.fixture
def signed_list(agent, supervisor, exchange_order):
    ticket = queued_exchange(agent, exchange_order)
    sheet = exchange_list_approve(actor=supervisor, sheet=build_list())
    return sheet, sheet.exchange_lines.get(ticket=ticket)


def lines_of(sheet):
    return list(sheet.exchange_lines.order_by("pk"))


def list_rows(sheet) -> list[dict]:
    return table(workbook(sheet)["换货清单"], 5)


def fill_tracking(sheet, numbers: dict[str, str]) -> bytes:
    """The warehouse's copy of the list with the last column filled in, as uploaded back."""
    book = workbook(sheet)
    rows = book["换货清单"]
    header = [cell.value for cell in rows[5]]
    ticket_col, tracking_col = header.index("售后单号") + 1, header.index("新运单号") + 1
    for row in range(6, rows.max_row + 1):
        number = rows.cell(row, ticket_col).value
        if number in numbers:
            rows.cell(row, tracking_col).value = numbers[number]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- building the list ---------------------------------------------------------------------
def test_the_list_claims_the_queued_exchanges_and_moves_them_onto_it(agent, exchange_order, shop_b):
    # given: two queued exchanges, one exchange still waiting for the parcel, one return
    first = queued_exchange(agent, exchange_order)
    agent_b = make_user(role=Role.AGENT, shops=[shop_b])
    second = queued_exchange(agent_b, make_order(shop_b, items=((Decimal("59.00"), 3),)))
    other = make_order(exchange_order.shop, items=((Decimal("99.00"), 2),))
    waiting = make_ticket(other, agent, status=S.AWAITING_RETURN)
    a_return = make_ticket(other, agent, kind=Ticket.Kind.RETURN, status=S.RECEIVED)

    # when
    sheet = build_list()

    # then
    assert sheet.status == Sheet.Status.AWAITING_APPROVAL
    assert [line.ticket_id for line in lines_of(sheet)] == [first.pk, second.pk]
    assert (sheet.row_count, sheet.totals["quantity"]) == (2, 2)
    for ticket in (first, second):
        ticket.refresh_from_db()
        assert ticket.status == S.ON_EXCHANGE_LIST
        moved = ticket.events.get(to_status=S.ON_EXCHANGE_LIST)
        assert moved.actor is None  # the desk itself, through ticket_transition
        assert f"{sheet.business_date:%Y-%m-%d}" in moved.message
    for untouched in (waiting, a_return):
        before = untouched.status
        untouched.refresh_from_db()
        assert untouched.status == before


def test_the_file_has_what_the_warehouse_needs_to_ship(agent, exchange_order):
    ticket = queued_exchange(agent, exchange_order, description="换成 XL 码")
    sheet = build_list()
    book = workbook(sheet)
    rows = book["换货清单"]
    assert rows["A1"].value == f"换货清单 {sheet.business_date:%Y-%m-%d}"
    assert rows["A2"].value.startswith("未签字")
    assert rows.freeze_panes == "A6"
    assert rows.auto_filter.ref == "A5:T6"
    [line] = list_rows(sheet)
    item = exchange_order.items.select_related("sku").first()
    assert line == {
        "售后单号": ticket.number,
        "店铺": exchange_order.shop.name,
        "订单编号": exchange_order.order_no,
        "买家会员名": "换货的买家",
        # Nobody chose another SKU: the same goods go out again, and the file says so.
        "发出商家编码": item.sku_code,
        "发出商品": item.sku.product.title,
        "发出颜色": "黑色",
        "发出尺码": "XXL",
        "发出数量": 1,
        "退回商家编码": item.sku_code,
        "退回颜色": "黑色",
        "退回尺码": "XXL",
        "换码/换款": "同款",
        "差价": 0,
        "差价结清": None,
        "收货人": "张三",
        "联系电话": "13912345678",  # the warehouse ships to it: in full, in the file only
        "收货地址": "湖北省 武汉市 解放大道 1 号",
        "售后说明": "换成 XL 码",
        "新运单号": None,
    }


def test_a_ticket_queued_after_the_cut_off_waits_for_the_next_list(agent, exchange_order):
    ticket = queued_exchange(agent, exchange_order)
    today = build_list(days_ahead=0)  # its cut-off (today 00:00) was before the ticket queued
    assert today.row_count == 0
    ticket.refresh_from_db()
    assert ticket.status == S.QUEUED_FOR_EXCHANGE
    later = build_list()
    assert [line.ticket_id for line in lines_of(later)] == [ticket.pk]


def test_building_the_list_again_returns_the_same_list(agent, exchange_order):
    queued_exchange(agent, exchange_order)
    sheet = build_list()
    content = file_bytes(sheet)
    queued_exchange(agent, exchange_order)  # queued after: not added to a list already built
    again = build_list()
    assert again.pk == sheet.pk
    assert file_bytes(again) == content
    assert ExchangeLine.objects.count() == 1


# --- the supervisor's signature ------------------------------------------------------------
def test_taking_a_line_off_sends_the_ticket_back_to_the_queue_and_onto_the_next_list(
    agent, supervisor, exchange_order
):
    keep = queued_exchange(agent, exchange_order)
    drop = queued_exchange(agent, exchange_order)
    sheet = build_list(days_ahead=1)
    line = sheet.exchange_lines.get(ticket=drop)

    with pytest.raises(DeskError):
        exchange_line_remove(actor=supervisor, line=line, reason="  ")
    exchange_line_remove(actor=supervisor, line=line, reason="买家改要退款")

    line.refresh_from_db()
    assert (line.removed_by, line.removed_reason) == (supervisor, "买家改要退款")
    assert line.removed_at is not None
    drop.refresh_from_db()
    assert drop.status == S.QUEUED_FOR_EXCHANGE
    assert "买家改要退款" in drop.events.filter(to_status=S.QUEUED_FOR_EXCHANGE).last().message
    sheet.refresh_from_db()
    assert sheet.row_count == 1
    assert [row["售后单号"] for row in list_rows(sheet)] == [keep.number]
    removed = table(workbook(sheet)["已移出"], 1)
    assert [(r["售后单号"], r["原因"]) for r in removed] == [(drop.number, "买家改要退款")]
    with pytest.raises(DeskError):
        exchange_line_remove(actor=supervisor, line=line, reason="again")
    # the next list takes it
    following = build_list(days_ahead=2)
    assert [line.ticket_id for line in lines_of(following)] == [drop.pk]


def test_approval_records_who_and_when_and_the_file_shows_it(
    agent, supervisor, exchange_order, django_capture_on_commit_callbacks
):
    queued_exchange(agent, exchange_order)
    sheet = build_list()
    before = sheet.file.name
    with django_capture_on_commit_callbacks(execute=True):
        signed = exchange_list_approve(actor=supervisor, sheet=sheet)
    assert signed.status == Sheet.Status.APPROVED
    assert signed.approved_by == supervisor
    assert timezone.now() - signed.approved_at < timedelta(minutes=1)
    assert signed.file.name != before  # re-written with the signature
    stamp = workbook(signed)["换货清单"]["A2"].value
    assert stamp == f"已签字：{supervisor}，{timezone.localtime(signed.approved_at):%Y-%m-%d %H:%M}"
    assert not signed.file.storage.exists(before)  # the unsigned file is gone once committed


def test_approving_twice_gives_one_approval(agent, supervisor, exchange_order):
    queued_exchange(agent, exchange_order)
    sheet = exchange_list_approve(actor=supervisor, sheet=build_list())
    other = make_user("boss2", Role.SUPERVISOR, all_shops=True)
    with pytest.raises(DeskError, match="已由"):
        exchange_list_approve(actor=other, sheet=sheet)
    sheet.refresh_from_db()
    assert sheet.approved_by == supervisor


def test_only_supervisors_sign_and_take_lines_off(agent, finance, exchange_order):
    queued_exchange(agent, exchange_order)
    sheet = build_list()
    with pytest.raises(PermissionDenied):
        exchange_list_approve(actor=finance, sheet=sheet)
    with pytest.raises(PermissionDenied):
        exchange_line_remove(actor=agent, line=sheet.exchange_lines.get(), reason="x")
    sheet.refresh_from_db()
    assert sheet.status == Sheet.Status.AWAITING_APPROVAL


def test_taking_a_line_off_a_signed_list_voids_the_signature(
    agent, supervisor, exchange_order, shop_a
):
    # given a signed list of two exchanges
    kept = queued_exchange(agent, make_order(shop_a, status=Order.Status.SUCCESS))
    ticket = queued_exchange(agent, exchange_order)
    sheet = exchange_list_approve(actor=supervisor, sheet=build_list())
    line = sheet.exchange_lines.get(ticket=ticket)
    signed_file = sheet.file.name
    # when the supervisor takes one line off (the buyer changed their mind)
    exchange_line_remove(actor=supervisor, line=line, reason="买家不换了")
    # then the list waits for a signature again and its file no longer lists the ticket
    sheet.refresh_from_db()
    assert sheet.status == Sheet.Status.AWAITING_APPROVAL
    assert (sheet.approved_by, sheet.approved_at) == (None, None)
    assert sheet.file.name != signed_file
    assert workbook(sheet)["换货清单"]["A2"].value.startswith("未签字")
    assert [row["售后单号"] for row in list_rows(sheet)] == [kept.number]
    ticket.refresh_from_db()
    assert ticket.status == S.QUEUED_FOR_EXCHANGE
    removal = ticket.events.last()
    assert "签字作废，需重新签字" in removal.message and "买家不换了" in removal.message
    # (said in each reader's language, the supervisor's reason as typed)
    with translation.override("en"):
        english = removal.shown_message()
    assert "买家不换了" in english and "签字作废" not in english and "signed" in english
    # and nothing ships from it until it is signed again
    with pytest.raises(DeskError, match="签字"):
        exchange_line_ship(actor=supervisor, line=line, tracking_no="SF1234567890")


def test_a_shipped_line_is_not_taken_off(supervisor, signed_list):
    _sheet, line = signed_list
    exchange_line_ship(actor=supervisor, line=line, tracking_no="SF1234567890")
    with pytest.raises(DeskError, match="已经按清单发货"):
        exchange_line_remove(actor=supervisor, line=line, reason="太晚了")
    line.refresh_from_db()
    assert line.is_active


@pytest.mark.parametrize("move", [S.SHIPPED, S.CANCELLED, S.QUEUED_FOR_EXCHANGE])
def test_a_ticket_on_a_list_moves_only_through_the_list(agent, supervisor, signed_list, move):
    # a hand-made POST or a direct service call cannot ship, cancel or requeue it
    _sheet, line = signed_list
    ticket = line.ticket
    with pytest.raises(DeskError, match="换货清单"):
        ticket_transition(actor=supervisor, ticket=ticket, to_status=move, tracking_no="SF12345678")
    ticket.refresh_from_db()
    assert ticket.status == S.ON_EXCHANGE_LIST


def test_cancelling_after_the_line_is_taken_off(agent, supervisor, signed_list):
    _sheet, line = signed_list
    exchange_line_remove(actor=supervisor, line=line, reason="买家改退款")
    ticket = ticket_transition(actor=agent, ticket=line.ticket, to_status=S.CANCELLED)
    assert ticket.status == S.CANCELLED
    line.refresh_from_db()
    assert not line.is_active


def test_a_queued_exchange_is_not_put_on_a_list_by_hand(agent, exchange_order):
    ticket = queued_exchange(agent, exchange_order)
    with pytest.raises(DeskError, match="17:00"):
        ticket_transition(actor=agent, ticket=ticket, to_status=S.ON_EXCHANGE_LIST)
    ticket.refresh_from_db()
    assert ticket.status == S.QUEUED_FOR_EXCHANGE


def test_a_finance_sheet_is_not_an_exchange_list(supervisor, db):
    day = timezone.localdate() - timedelta(days=1)
    finance = sheet_build(kind="finance", business_date=day)
    with pytest.raises(DeskError):
        exchange_list_approve(actor=supervisor, sheet=finance)


# --- shipping --------------------------------------------------------------------------------
def test_the_tracking_number_ships_and_closes_the_ticket(supervisor, signed_list):
    _sheet, line = signed_list
    ticket = exchange_line_ship(actor=supervisor, line=line, tracking_no=" sf1234567890 ")
    assert ticket.status == S.CLOSED
    assert ticket.outbound_tracking_no == "SF1234567890"
    assert list(ticket.events.values_list("to_status", flat=True))[-2:] == [S.SHIPPED, S.CLOSED]
    # the same number again (an upload sent twice) changes nothing; another is refused
    assert (
        exchange_line_ship(actor=supervisor, line=line, tracking_no="SF1234567890").pk == ticket.pk
    )
    with pytest.raises(DeskError, match="SF1234567890"):
        exchange_line_ship(actor=supervisor, line=line, tracking_no="YT0000000001")


def test_nothing_ships_before_the_list_is_signed(agent, supervisor, exchange_order):
    queued_exchange(agent, exchange_order)
    line = build_list().exchange_lines.get()
    with pytest.raises(DeskError, match="签字"):
        exchange_line_ship(actor=supervisor, line=line, tracking_no="SF1234567890")
    line.ticket.refresh_from_db()
    assert line.ticket.status == S.ON_EXCHANGE_LIST


@pytest.mark.parametrize("bad", ["", "12345", "SF 1 2 3", "运单号123456", "=1+2+3+4"])
def test_a_malformed_tracking_number_is_refused(supervisor, signed_list, bad):
    _sheet, line = signed_list
    with pytest.raises(DeskError):
        exchange_line_ship(actor=supervisor, line=line, tracking_no=bad)


def test_uploading_the_filled_in_list_ships_every_line(agent, supervisor, exchange_order, shop_b):
    first = queued_exchange(agent, exchange_order)
    second = queued_exchange(make_user(role=Role.AGENT, shops=[shop_b]), make_order(shop_b))
    sheet = exchange_list_approve(actor=supervisor, sheet=build_list())
    upload = fill_tracking(sheet, {first.number: "SF1000000001", second.number: "yt 2000 0000 02"})

    result = exchange_tracking_upload(
        actor=supervisor, sheet=sheet, data=upload, filename="list.xlsx"
    )

    assert sorted(result.shipped) == sorted([first.number, second.number])
    assert result.errors == []
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.outbound_tracking_no) == (S.CLOSED, "SF1000000001")
    assert (second.status, second.outbound_tracking_no) == (S.CLOSED, "YT2000000002")
    # sent again: nothing changes, nothing is shipped twice
    again = exchange_tracking_upload(
        actor=supervisor, sheet=sheet, data=upload, filename="list.xlsx"
    )
    assert (again.shipped, sorted(again.unchanged)) == ([], sorted([first.number, second.number]))


def test_a_csv_upload_and_its_problems_line_by_line(agent, supervisor, exchange_order):
    ticket = queued_exchange(agent, exchange_order)
    sheet = exchange_list_approve(actor=supervisor, sheet=build_list())
    text = (
        f"售后单号,新运单号\n{ticket.number},ZTO123456789\n"
        f"T99999999,ZTO000000000\n{ticket.number},\n"
    )
    result = exchange_tracking_upload(
        actor=supervisor, sheet=sheet, data=text.encode("gb18030"), filename="回传.csv"
    )
    assert result.shipped == [ticket.number]
    assert [number for number, _reason in result.errors] == ["T99999999"]


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"just some text", "notes.txt"),
        ("订单,运单\n1,2\n".encode(), "wrong-columns.csv"),
        (b"PK\x03\x04not really a zip", "broken.xlsx"),
    ],
)
def test_an_upload_that_is_not_the_list_is_refused(supervisor, signed_list, data, filename):
    sheet, line = signed_list
    with pytest.raises(DeskError):
        exchange_tracking_upload(actor=supervisor, sheet=sheet, data=data, filename=filename)
    line.ticket.refresh_from_db()
    assert line.ticket.status == S.ON_EXCHANGE_LIST


def test_an_upload_too_big_is_refused(supervisor, signed_list, settings):
    settings.FINANCE_TRACKING_UPLOAD_MAX_BYTES = 100
    sheet, _line = signed_list
    with pytest.raises(DeskError, match="太大"):
        exchange_tracking_upload(actor=supervisor, sheet=sheet, data=b"x" * 101, filename="a.csv")


# --- rules the database holds -----------------------------------------------------------------
def test_a_ticket_is_on_one_list_at_a_time(agent, supervisor, exchange_order):
    ticket = queued_exchange(agent, exchange_order)
    first = build_list(days_ahead=1)
    second = build_list(days_ahead=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        ExchangeLine.objects.create(sheet=second, ticket=ticket)
    with pytest.raises(IntegrityError), transaction.atomic():
        ExchangeLine.objects.filter(sheet=first).update(removed_at=timezone.now())  # no reason


def test_a_ticket_taken_off_a_list_moves_to_the_next_list(agent, supervisor, exchange_order):
    ticket = queued_exchange(agent, exchange_order)
    first = build_list(days_ahead=1)
    exchange_line_remove(actor=supervisor, line=first.exchange_lines.get(), reason="下次再发")
    second = build_list(days_ahead=2)
    old = first.exchange_lines.get()
    assert old.removed_at is not None and old.removed_by == supervisor
    assert second.exchange_lines.get().ticket_id == ticket.pk


def test_tracking_numbers_excel_padded_with_zeros_are_refused(supervisor, signed_list):
    # given: the list's tracking numbers pasted from number cells: 15 digits, then zeros
    sheet, line = signed_list
    text = (
        f"售后单号,新运单号\n{line.ticket.number},773001234567000000\n"
        f"T99999999,773001234568000000\n"
    )
    # when / then: refused as a whole, with the reason, and nothing ships
    with pytest.raises(DeskError, match="从第 16 位起都是 0"):
        exchange_tracking_upload(
            actor=supervisor, sheet=sheet, data=text.encode("gb18030"), filename="回传.csv"
        )
    line.ticket.refresh_from_db()
    assert line.ticket.status == S.ON_EXCHANGE_LIST
