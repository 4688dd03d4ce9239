"""Characters a spreadsheet cannot hold (issue 12, section 2): every sheet finance gets opens.

Text that reaches a sheet (a note typed on the ticket page, a nickname or an address from the
seller centre's export, a shop's or a person's name from the admin, a reason typed on the list)
may carry characters XML 1.0 cannot hold: control characters pasted from chat, U+FFFE/U+FFFF.
Each kind of sheet is built with them in every free-text field it shows and opened back with
openpyxl, as finance's Excel would; and a file that would not open makes a failed sheet with
its reason, never a ready one.
"""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from aftersales.spreadsheets import NOT_IN_XML
from finance_exports.builders import get_builder, register
from finance_exports.builders.courier_loss import CourierLossSheetBuilder
from finance_exports.builders.finance import FinanceSheetBuilder
from finance_exports.builders.invoices import InvoiceBatchBuilder
from finance_exports.models import Sheet
from finance_exports.services import (
    SheetBuildFailed,
    exchange_line_remove,
    exchange_list_approve,
    sheet_build,
)
from tests.factories import make_order, make_sku, make_ticket
from tickets.models import (
    Courier,
    CourierLossReport,
    InvoiceRequest,
    Order,
    OrderItem,
    Product,
    Shop,
    User,
)
from tickets.services.courier_losses import courier_loss_create
from tickets.services.exchanges import (
    ReplacementRequest,
    exchange_charge_record,
    exchange_set_replacements,
)
from tickets.services.invoices import invoice_request_register
from tickets.services.ledger import submission_key_issue

from .helpers import at, file_bytes, queued_exchange

DAY = date(2026, 11, 24)
# What XML 1.0 cannot hold and a database can: C0 controls (but tab, LF, CR), U+FFFE, U+FFFF.
# (NUL never reaches a sheet: PostgreSQL refuses it; lone surrogates cannot be stored at all and
# are covered by tests/aftersales/test_spreadsheets.py.)
FORBIDDEN = "\x01\x08\x0b\x0c\x0e\x1f\ufffe\uffff"


def dirty(text: str) -> str:
    """``text`` with the forbidden characters in its middle."""
    return f"{text[:1]}{FORBIDDEN}{text[1:]}"


def opened(data: bytes) -> str:
    """Every value of every worksheet, read by openpyxl in its normal (full) mode; fails when
    the file does not open or still holds a character XML cannot."""
    book = load_workbook(io.BytesIO(data))
    values = [
        str(value)
        for worksheet in book.worksheets
        for row in worksheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    ]
    text = "\n".join([*book.sheetnames, *values])
    assert not NOT_IN_XML.search(text)
    return text


@pytest.fixture(autouse=True)
def real_builders():
    # Other tests swap stand-in builders in and out: these build with the real ones.
    for builder in (FinanceSheetBuilder, CourierLossSheetBuilder, InvoiceBatchBuilder):
        register(builder)
    yield
    register(FinanceSheetBuilder)


@pytest.fixture
def dirty_shop(shop_a):
    """A shop whose name an administrator pasted with control characters."""
    Shop.objects.filter(pk=shop_a.pk).update(name=dirty("测试店铺甲"))
    shop_a.refresh_from_db()
    return shop_a


@pytest.fixture
def dirty_names(agent, supervisor):
    for user, (last, first) in ((agent, ("王", "小二")), (supervisor, ("李", "主管"))):
        User.objects.filter(pk=user.pk).update(last_name=dirty(last), first_name=dirty(first))
        user.refresh_from_db()


def dirty_order(shop, **extra) -> Order:
    """An order as a seller-centre export brought it in: nickname, receiver, address and the
    items' titles, colours, sizes and codes with the forbidden characters; and its products'
    titles in the catalogue, as an administrator typed them."""
    order = make_order(shop, buyer_nick=dirty("小鱼爱吃猫"), **extra)
    Order.objects.filter(pk=order.pk).update(
        receiver_name=dirty("张三"),
        receiver_province=dirty("湖北省"),
        receiver_address=dirty("解放大道1号"),
    )
    OrderItem.objects.filter(order=order).update(
        title=dirty("纯棉T恤"), colour=dirty("黑色"), size=dirty("XL"), sku_code=dirty("TS1001")
    )
    Product.objects.filter(skus__orderitem__order=order).update(title=dirty("纯棉宽松T恤"))
    order.refresh_from_db()
    return order


# --- the 4 pm finance sheet ---------------------------------------------------------------------
def test_the_finance_sheet_with_forbidden_characters_everywhere_is_ready_and_opens(
    client, clock, agent, dirty_shop, dirty_names
):
    # given: a note typed on the ticket page with U+FFFF and control characters in it (the
    # reported case), on an order whose nickname, shop and agent carry them too
    order = dirty_order(dirty_shop, items=((Decimal("5000.00"), 2),))
    ticket = make_ticket(order, agent)
    clock.set(at(DAY, "10:00:00"))
    client.force_login(agent)
    response = client.post(
        reverse("tickets:ledger_record", args=[ticket.pk]),
        {
            "kind": "postage",
            "amount": "12.00",
            "payment_method": "alipay_transfer",
            "note": dirty("退回运费"),
            "submission": submission_key_issue(agent),
        },
    )
    assert response.status_code == 302
    # and a price difference the buyer paid, with such a note
    product = order.items.select_related("sku__product").get().sku.product
    dearer = make_sku(price=Decimal("5030.00"), size="XL+", product=product)
    exchange_set_replacements(
        actor=agent, ticket=ticket, requests=[ReplacementRequest(ticket.items.get().pk, dearer, 1)]
    )
    exchange_charge_record(actor=agent, ticket=ticket, amount="30.00", note=dirty("补差价链接"))

    # when
    sheet = sheet_build(kind=Sheet.Kind.FINANCE, business_date=DAY, now=at(DAY, "16:01:00"))

    # then: the sheet is ready and every text is there, without what XML cannot hold
    assert (sheet.status, sheet.error) == (Sheet.Status.READY, "")
    text = opened(file_bytes(sheet))
    for shown in ("退回运费", "补差价链接", "测试店铺甲", "小鱼爱吃猫", "王小二", order.order_no):
        assert shown in text


class CarelessFinanceBuilder(FinanceSheetBuilder):
    """A builder that writes one cell past the desk's writer, straight through openpyxl, whose
    own check lets U+FFFF through: the file it makes does not open."""

    def write(self, sheet, book):
        super().write(sheet, book)
        book.workbook.create_sheet("raw").append(["U+FFFF \uffff"])


def test_a_file_that_would_not_open_fails_the_sheet_with_the_reason(
    client, clock, agent, finance, order_a, settings, sheet_tmp_dir
):
    settings.FINANCE_SHEET_MAX_ATTEMPTS = 2
    register(CarelessFinanceBuilder)
    clock.set(at(DAY, "10:00:00"))
    make_ticket(order_a, agent)
    for final in (False, True):
        with pytest.raises(SheetBuildFailed) as failed:
            sheet_build(kind=Sheet.Kind.FINANCE, business_date=DAY, now=at(DAY, "16:01:00"))
        assert failed.value.final is final
    sheet = Sheet.objects.get()
    assert sheet.status == Sheet.Status.FAILED
    assert not sheet.has_file
    assert sheet.error.startswith("SheetUnreadable: xl/worksheets/sheet")
    assert "not well-formed" in sheet.error
    assert not any(sheet_tmp_dir.iterdir())  # no half-checked file stays behind
    # finance sees the failure and its reason, and gets no file
    client.force_login(finance)
    page = client.get(reverse("finance_exports:sheet_detail", args=[sheet.pk]))
    assert "SheetUnreadable" in page.content.decode()
    download = client.get(reverse("finance_exports:sheet_download", args=[sheet.pk]))
    assert download.status_code != 200


# --- the 5 pm exchange-goods list -----------------------------------------------------------------
@pytest.fixture
def midnight_cut_off(settings):
    settings.FINANCE_SHEET_TIMES = {**settings.FINANCE_SHEET_TIMES, "exchanges": (0, 0)}


def test_the_exchange_list_with_forbidden_characters_opens_at_every_rewrite(
    agent, supervisor, dirty_shop, dirty_names, midnight_cut_off
):
    # given: two exchanges whose description, order, receiver and goods carry the characters
    kept = queued_exchange(agent, dirty_order(dirty_shop), description=dirty("换成 L 码"))
    removed = queued_exchange(agent, dirty_order(dirty_shop), description=dirty("换个颜色"))
    day = timezone.localdate() + timedelta(days=2)
    now = get_builder("exchanges").cutoff(day) + timedelta(minutes=1)

    # when the list is built, a line is taken off with such a reason, and the list is signed
    sheet = sheet_build(kind=Sheet.Kind.EXCHANGES, business_date=day, now=now)
    built = opened(file_bytes(sheet))
    line = sheet.exchange_lines.get(ticket=removed)
    exchange_line_remove(actor=supervisor, line=line, reason=dirty("买家改主意了"))
    signed = exchange_list_approve(actor=supervisor, sheet=sheet)

    # then every version of the file opens, with every text in it
    assert signed.status == Sheet.Status.APPROVED
    for shown in ("换成 L 码", "张三", "湖北省", "解放大道1号", "纯棉宽松T恤", "XL", "TS1001"):
        assert shown in built
    final = opened(file_bytes(signed))
    assert kept.number in final and "买家改主意了" in final and "李主管" in final


# --- the monthly courier-loss settlement --------------------------------------------------------
def test_the_courier_loss_settlement_with_forbidden_characters_opens(
    clock, agent, dirty_shop, dirty_names
):
    nov = date(2026, 11, 1)
    Courier.objects.filter(code="yto").update(name=dirty("圆通速递"))
    order = dirty_order(dirty_shop)
    clock.set(at(date(2026, 11, 12), "14:30:00"))
    report = courier_loss_create(
        actor=agent,
        order=order,
        courier=Courier.objects.get(code="yto"),
        tracking_no="YT1001",
        damage="lost",
        items_description=dirty("连衣裙 M 1 件"),
        items_value="99.00",
        shop_action="reship",
        claimed_amount="80.00",
    )
    CourierLossReport.objects.filter(pk=report.pk).update(created_at=timezone.now())

    sheet = sheet_build(
        kind=Sheet.Kind.COURIER_LOSS, business_date=nov, now=at(date(2026, 12, 1), "10:00:00")
    )

    assert sheet.status == Sheet.Status.READY
    text = opened(file_bytes(sheet))
    for shown in ("圆通速递", "连衣裙 M 1 件", "测试店铺甲", "王小二"):
        assert shown in text


# --- the ten-day invoice batch --------------------------------------------------------------
def test_the_invoice_batch_with_forbidden_characters_opens(clock, agent, dirty_shop, dirty_names):
    order = dirty_order(dirty_shop, items=((Decimal("500.00"), 1),))
    clock.set(at(date(2026, 11, 2), "10:00:00"))
    invoice = invoice_request_register(
        actor=agent,
        order=order,
        title=dirty("武汉某某公司"),
        amount="120.50",
        tax_no=dirty("91420100X"),
    )
    InvoiceRequest.objects.filter(pk=invoice.pk).update(created_at=timezone.now())

    batch_day = date(2026, 11, 11)
    sheet = sheet_build(
        kind=Sheet.Kind.INVOICES, business_date=batch_day, now=at(batch_day, "09:05:00")
    )

    assert sheet.status == Sheet.Status.READY
    text = opened(file_bytes(sheet))
    for shown in ("武汉某某公司", "91420100X", "小鱼爱吃猫", "测试店铺甲", "王小二"):
        assert shown in text
