"""Exports a person opened and saved in Excel or WPS (issue 12, section 4), through the import
page (upload, preview, confirm) and the command, and the cleaning rules one by one.

- A number Excel turned into scientific notation has lost its digits: in an identifier column
  (order, sub-order, refund and Alipay numbers, tracking numbers, merchant codes) the row is
  refused with its line and column; a phone is left out with a warning in the preview, and an
  order already in the desk keeps its phone.
- An amount that does not fit (1e28, or more than the column's digits) is a bad row like any
  other, never a crash that leaves a batch "previewed" with no report.
"""

from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from tests.tickets.export_files import (
    ITEM_HEADERS,
    ITEM_HEADERS_SPLIT,
    ORDER_HEADERS_56,
    REFUND_HEADERS,
    export_csv,
    item_row,
    order_row,
    refund_row,
)
from tickets.imports import orders as order_import
from tickets.imports.cleaning import CellError, clean_datetime, clean_identifier, clean_phone
from tickets.models import Order, OrderImport, OrderItem, RefundRequest, Ticket
from tickets.text import digits_lost

pytestmark = pytest.mark.django_db

CASE = Path("/work/shared/cases/mangled-phones/ExportOrderList-mangled-phone.csv")
NO_1, NO_2 = "3515012345678901234", "3515012345678901235"
REFUND_NO = "88001122334455"
B = OrderImport.Status


def csv_file(name: str, headers, rows, **options) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, export_csv(headers, rows, **options), content_type="text/csv")


def upload(client, shop, **files):
    """Posts the import form (``orders_file=...``, ``items_file=...``, ``refunds_file=...``);
    returns the batch it made and the preview page's HTML."""
    response = client.post(reverse("imports:home"), {"shop": shop.pk, **files})
    assert response.status_code == 302, response.content.decode()[:2000]
    batch = OrderImport.objects.latest("pk")
    return batch, client.get(response["Location"]).content.decode()


def confirm(client, batch) -> OrderImport:
    response = client.post(reverse("imports:apply", args=[batch.pk]))
    assert response.status_code == 302
    batch.refresh_from_db()
    return batch


@pytest.fixture
def logged_in(client, agent):
    client.force_login(agent)
    return client


# --- phones: imported without them, with a warning ---------------------------------------------
def test_the_mangled_phone_sample_imports_the_orders_without_phones_and_warns(logged_in, shop_a):
    # given: the sample export whose 联系手机 Excel turned into 1.39E+10 and 8.6139E+12
    sample = SimpleUploadedFile(CASE.name, CASE.read_bytes(), content_type="text/csv")

    # when it is uploaded
    batch, html = upload(logged_in, shop_a, orders_file=sample)

    # then the preview warns about each phone, with its line and column, and may be confirmed
    assert batch.status == B.PREVIEWED
    warnings = [(w["line"], w["column"], w["message"]) for w in batch.report["warnings"]]
    assert [(line, column) for line, column, _m in warnings] == [(2, "联系手机"), (3, "联系手机")]
    assert all("科学计数法" in message and "不带电话" in message for *_lc, message in warnings)
    assert "1.39E+10" in html and "8.6139E+12" in html and "确认导入" in html
    # and confirmed, the two orders are in the desk without a made-up phone
    assert confirm(logged_in, batch).status == B.APPLIED
    orders = Order.objects.filter(shop=shop_a).order_by("order_no")
    assert [(o.receiver_phone, o.receiver_phone_tail) for o in orders] == [("", ""), ("", "")]
    assert [o.order_no for o in orders] == ["3515026031500000001", "3515026031500000002"]


def test_the_mangled_phone_sample_by_the_command(shop_a):
    out = StringIO()
    call_command("import_orders", str(CASE), "--shop", shop_a.code, stdout=out)
    assert f"{CASE.name}:2 [联系手机]" in out.getvalue()
    assert f"{CASE.name}:3 [联系手机]" in out.getvalue()
    assert set(Order.objects.values_list("receiver_phone", flat=True)) == {""}


def test_an_order_in_the_desk_keeps_its_phone_when_a_mangled_export_comes_again(logged_in, shop_a):
    # given: the order imported from the seller centre's own export, phone and all
    first, _html = upload(
        logged_in, shop_a, orders_file=csv_file("o.csv", ORDER_HEADERS_56, [order_row(NO_1)])
    )
    confirm(logged_in, first)
    # when a copy saved by Excel comes in, with a newer status and the phone mangled
    row = order_row(NO_1, 联系手机="1.39123E+10", 订单状态="交易成功")
    again, _html = upload(
        logged_in, shop_a, orders_file=csv_file("o2.csv", ORDER_HEADERS_56, [row])
    )
    assert confirm(logged_in, again).status == B.APPLIED
    # then the order is updated, and its phone is the one it had
    order = Order.objects.get(order_no=NO_1)
    assert order.status == Order.Status.SUCCESS
    assert (order.receiver_phone, order.receiver_phone_tail) == ("13912345678", "5678")
    assert again.report["counts"]["orders"] == {"updated": 1}


def test_the_landline_is_taken_when_the_mobile_is_mangled(logged_in, shop_a):
    row = order_row(NO_1, 联系手机="1.39E+10", 联系电话="'027-88886666")
    batch, _html = upload(logged_in, shop_a, orders_file=csv_file("o.csv", ORDER_HEADERS_56, [row]))
    assert [w["column"] for w in batch.report["warnings"]] == ["联系手机"]
    confirm(logged_in, batch)
    order = Order.objects.get()
    assert (order.receiver_phone, order.receiver_phone_tail) == ("027-88886666", "6666")


def test_an_alipay_account_that_was_a_phone_is_left_out_with_a_warning(logged_in, shop_a):
    row = order_row(NO_1, 买家支付宝账号="1.39123E+10")
    batch, _html = upload(logged_in, shop_a, orders_file=csv_file("o.csv", ORDER_HEADERS_56, [row]))
    assert [(w["line"], w["column"]) for w in batch.report["warnings"]] == [(2, "买家支付宝账号")]
    confirm(logged_in, batch)
    assert Order.objects.get().buyer_alipay_account == ""


@pytest.mark.parametrize(
    ("raw", "phone"),
    [
        ("'13912345678", "13912345678"),
        ('="13912345678"', "13912345678"),
        ("139 1234 5678", "13912345678"),
        ("(027)8888-6666", "0278888-6666"),
        ("+86 139-1234-5678", "13912345678"),
        ("0086 13912345678", "13912345678"),
        ("86-139-1234-5678", "13912345678"),
        ("+86 10 8888 6666", "+861088886666"),
        ("１３９１２３４５６７８", "13912345678"),
        ("", ""),
    ],
)
def test_whole_phones_are_kept(raw, phone):
    assert clean_phone(raw) == phone


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("1.39E+10", "科学计数法"),
        ("8.6139E+12", "科学计数法"),
        ("1.39e10", "科学计数法"),
        ("8,6139E+12", "科学计数法"),  # where the decimal point is a comma
        ("'1.39E+10", "科学计数法"),
        ("139****5678", "不是完整的电话号码"),  # masked
        ("13912345678.0", "不是完整的电话号码"),
        ("0571-88888888转123", "不是完整的电话号码"),
        ("无", "不是完整的电话号码"),
        ("13912345678 13800001111", "不是完整的电话号码"),  # two phones in one cell
        ("13912345678/13800001111", "不是完整的电话号码"),
        ("1391234567", "不是完整的电话号码"),  # a mobile is 11 digits
        ("139123456789", "不是完整的电话号码"),
        ("13912345678-8001", "不是完整的电话号码"),  # its tail would be the extension's
        ("1" * 16, "不是完整的电话号码"),  # more digits than any phone has
        ("1--" * 11, "超过 32 个字符"),
    ],
)
def test_what_is_not_a_whole_phone_is_refused_with_the_reason(raw, says):
    with pytest.raises(CellError, match=says):
        clean_phone(raw)


def test_characters_no_text_may_hold_are_dropped_from_every_imported_cell(logged_in, shop_a):
    # given: an export whose nickname, name, message and title carry U+FFFF, U+FFFE, control
    # characters (a broken export tool; a paste from a chat window)
    dirty = {
        "买家会员名": "小鱼\uffff爱吃猫\x01\U0010ffff",
        "收货人姓名": "张\ufffe三\x7f\x9f",
        "买家留言": "请尽快\x1b发货\n谢谢",
        "宝贝标题": "纯棉\x0b宽松T恤",
    }
    orders = csv_file("o.csv", ORDER_HEADERS_56, [order_row(NO_1, **dirty)], encoding="utf-8")
    # when: it is uploaded and confirmed through the import page
    batch, _preview = upload(logged_in, shop_a, orders_file=orders)
    assert confirm(logged_in, batch).status == B.APPLIED
    # then: the order holds the text as it reads, and the nickname search finds it
    order = Order.objects.get(order_no=NO_1)
    assert order.buyer_nick == "小鱼爱吃猫"
    assert order.receiver_name == "张三"
    assert order.buyer_message == "请尽快发货\n谢谢"
    found = logged_in.get(reverse("tickets:order_search"), {"q": "爱吃猫"}, follow=True)
    page = found.content.decode()
    assert NO_1 in page


# --- identifiers Excel cut to 15 digits and padded with zeros --------------------------------
def test_a_file_whose_long_numbers_all_end_in_zeros_after_15_digits_is_refused(logged_in, shop_a):
    # given: an export Excel saved with the number format "0": 15 digits, then zeros
    rows = [
        order_row("3515026031512340000", 支付宝交易号="'2026030122001100000000000000"),
        order_row("3515026031512350000", 支付宝交易号="'2026030122001200000000000000"),
    ]
    orders = csv_file("o.csv", ORDER_HEADERS_56, rows)
    # when: it is uploaded
    batch, preview = upload(logged_in, shop_a, orders_file=orders)
    # then: the preview names the columns and why, and nothing can be imported
    assert "15 位以后的数字已经丢失" in preview
    assert "订单编号" in preview
    assert "支付宝交易号" in preview
    assert batch.status != B.APPLIED
    logged_in.post(reverse("imports:apply", args=[batch.pk]))
    assert not Order.objects.exists()


def test_padded_numbers_among_real_ones_still_refuse_the_file(logged_in, shop_a):
    rows = [
        order_row("3515026031512340000"),
        order_row("3515026031512350000"),
        order_row("3515026031512399990"),
    ]
    batch, preview = upload(
        logged_in, shop_a, orders_file=csv_file("o.csv", ORDER_HEADERS_56, rows)
    )
    assert "15 位以后的数字已经丢失" in preview
    logged_in.post(reverse("imports:apply", args=[batch.pk]))
    assert not Order.objects.exists()


def test_one_long_number_ending_in_zeros_is_imported_with_a_warning(logged_in, shop_a):
    # a real order number ends in four zeros about once in ten thousand
    rows = [order_row("3515026031512340000"), order_row("3515026031512351234")]
    batch, preview = upload(
        logged_in, shop_a, orders_file=csv_file("o.csv", ORDER_HEADERS_56, rows)
    )
    assert "从第 16 位起都是 0" in preview  # one of two: a warning only
    assert confirm(logged_in, batch).status == B.APPLIED
    batch, preview = upload(
        logged_in,
        shop_a,
        orders_file=csv_file("o.csv", ORDER_HEADERS_56, [order_row("3515026031599990000")]),
    )
    assert "从第 16 位起都是 0" in preview
    assert confirm(logged_in, batch).status == B.APPLIED
    assert Order.objects.count() == 3


# --- identifiers: the row is refused with its line ---------------------------------------------
SUB_ORDER_NO = "35150123456789012341"


def _files(kind: str, **values) -> dict:
    """The upload's files: an order file with ``values`` in its row (``kind`` "orders"), or a
    good order file and an item file of the layout ``kind`` ("items", "split") with them."""
    if kind == "orders":
        return {"orders_file": csv_file("o.csv", ORDER_HEADERS_56, [order_row(NO_1, **values)])}
    if kind == "split":
        row = item_row(NO_1)
        row["主订单编号"] = row.pop("订单编号")
        row = {**row, "子订单编号": f"'{SUB_ORDER_NO}", **values}
        items = csv_file("i.csv", ITEM_HEADERS_SPLIT, [row])
    else:
        items = csv_file("i.csv", [*ITEM_HEADERS, "买家实付金额"], [item_row(NO_1, **values)])
    orders = csv_file("o.csv", ORDER_HEADERS_56, [order_row(NO_1)])
    return {"orders_file": orders, "items_file": items}


@pytest.mark.parametrize(
    ("kind", "column", "value"),
    [
        ("orders", "订单编号", "3.515E+18"),
        ("orders", "支付宝交易号", "2.02603E+21"),
        ("orders", "物流单号", "7.70012E+11"),
        ("items", "外部系统编号", "6.90123E+12"),
        ("split", "子订单编号", "3.51501E+19"),
        ("split", "主订单编号", "3.51501E+18"),
    ],
)
def test_an_identifier_in_scientific_notation_refuses_its_row(
    logged_in, shop_a, kind, column, value
):
    batch, html = upload(logged_in, shop_a, **_files(kind, **{column: value}))
    assert batch.status == B.REFUSED
    [error] = batch.report["errors"]
    assert (error["line"], error["column"]) == (2, column)
    assert "科学计数法" in error["message"]
    assert "确认导入" not in html
    assert not Order.objects.exists() and not OrderItem.objects.exists()


def test_a_merchant_code_in_scientific_notation_refuses_its_row(logged_in, shop_a):
    files = _files("items", 商家编码="6.90123E+12", 外部系统编号="")
    batch, _html = upload(logged_in, shop_a, **files)
    assert [(e["line"], e["column"]) for e in batch.report["errors"]] == [(2, "商家编码")]


@pytest.fixture
def imported_order(logged_in, shop_a):
    batch, _html = upload(logged_in, shop_a, **_files("items"))
    confirm(logged_in, batch)
    return Order.objects.get()


@pytest.mark.parametrize(
    ("values", "column"),
    [
        ({"退款编号": "8.80011E+13"}, "退款编号"),
        ({"子订单编号": "3.51501E+19"}, "子订单编号"),
        ({"退货物流单号": "4.31234E+12"}, "退货物流单号"),
        ({"商家编码": "6.90123E+12"}, "商家编码"),
    ],
)
def test_a_refund_with_an_identifier_in_scientific_notation_is_refused(
    logged_in, shop_a, imported_order, values, column
):
    row = {**refund_row(REFUND_NO, NO_1), **values}
    batch, _html = upload(
        logged_in, shop_a, refunds_file=csv_file("退款.csv", REFUND_HEADERS, [row])
    )
    assert batch.status == B.REFUSED
    assert [(e["line"], e["column"]) for e in batch.report["errors"]] == [(2, column)]
    assert not RefundRequest.objects.exists()
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("raw", "letters", "lost"),
    [
        ("1.39E+10", False, True),
        ("3515E18", False, True),  # a digits-only column: any exponent
        ("3515E18", True, False),  # a code column: a code may look like that...
        ("23E05", True, False),
        ("1.39E+10", True, True),  # ...but not like what spreadsheets write
        ("139E+10", True, True),
        ("６.９０１２３Ｅ＋１２", True, True),
        ("TS1001-BK-XL", True, False),
        ("6901234567890", True, False),
        ("", True, False),
    ],
)
def test_which_identifiers_have_lost_their_digits(raw, letters, lost):
    assert digits_lost(raw, letters=letters) is lost


def test_a_merchant_code_that_only_looks_like_a_number_is_kept():
    assert clean_identifier("23E05") == "23E05"
    assert clean_identifier('="6901234567890"') == "6901234567890"


# --- amounts and times that do not fit ---------------------------------------------------------
@pytest.mark.parametrize("column", ["买家应付货款", "买家应付邮费", "总金额", "买家实际支付金额"])
@pytest.mark.parametrize("amount", ["1e28", "1E+28", "10000000000.00", "9" * 39])
def test_an_order_amount_that_does_not_fit_is_a_bad_row(logged_in, shop_a, column, amount):
    rows = [order_row(NO_2), order_row(NO_1, **{column: amount})]
    batch, html = upload(logged_in, shop_a, orders_file=csv_file("o.csv", ORDER_HEADERS_56, rows))
    assert batch.status == B.REFUSED
    assert [(e["line"], e["column"]) for e in batch.report["errors"]] == [(3, column)]
    assert "确认导入" not in html
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("kind", "column"), [("items", "价格"), ("items", "购买数量"), ("items", "买家实付金额")]
)
def test_an_item_amount_that_does_not_fit_is_a_bad_row(logged_in, shop_a, kind, column):
    batch, _html = upload(logged_in, shop_a, **_files(kind, **{column: "1e28"}))
    assert batch.status == B.REFUSED
    assert [(e["file"], e["line"], e["column"]) for e in batch.report["errors"]] == [
        ("i.csv", 2, column)
    ]
    assert not Order.objects.exists()


def test_a_refund_amount_that_does_not_fit_is_a_bad_row(logged_in, shop_a, imported_order):
    row = refund_row(REFUND_NO, NO_1, 买家退款金额="1e28")
    batch, _html = upload(
        logged_in, shop_a, refunds_file=csv_file("退款.csv", REFUND_HEADERS, [row])
    )
    assert batch.status == B.REFUSED
    assert [(e["line"], e["column"]) for e in batch.report["errors"]] == [(2, "买家退款金额")]
    assert not RefundRequest.objects.exists()


@pytest.mark.parametrize("when", ["9999-12-31 23:00:00", "0001-01-01 00:00:00", "2100-01-01"])
def test_a_time_at_the_ends_of_the_calendar_is_a_bad_row(logged_in, shop_a, when):
    # 9999-12-31 plus the promise to ship in 48 hours is no date: it crashed the preview
    row = order_row(NO_1, 订单付款时间=when)
    batch, _html = upload(logged_in, shop_a, orders_file=csv_file("o.csv", ORDER_HEADERS_56, [row]))
    assert batch.status == B.REFUSED
    assert [(e["line"], e["column"]) for e in batch.report["errors"]] == [(2, "订单付款时间")]


def test_times_within_the_years_are_read():
    assert clean_datetime("1970-01-01 08:00:00").year == 1970
    assert clean_datetime("2099-12-31 23:59:59").year == 2099


def test_a_fault_while_previewing_refuses_the_batch_instead_of_leaving_it_previewed(
    logged_in, shop_a, monkeypatch
):
    # A fault of the desk's own (here injected: every known input is refused as a bad row,
    # which the tests above hold) must not leave a batch that can be confirmed with no report.
    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(order_import, "insert_rows", broken)
    batch, html = upload(logged_in, shop_a, **_files("orders"))
    assert batch.status == B.REFUSED
    assert [e["message"] for e in batch.report["errors"]] == [
        "检查文件时出错，没有导入任何内容。请把文件交给管理员查看。"
    ]
    assert "确认导入" not in html
    assert not any(f.file for f in batch.files.all())
    assert not Order.objects.exists()
