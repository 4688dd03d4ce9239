"""Reading the exports: encodings, header mapping, and cleaning one cell at a time."""

import codecs
import io
from datetime import datetime
from decimal import Decimal

import pytest

from tests.tickets.export_files import (
    ITEM_HEADERS,
    ITEM_HEADERS_SPLIT,
    ORDER_HEADERS_41,
    ORDER_HEADERS_56,
    ORDER_HEADERS_72,
    REFUND_HEADERS,
    export_csv,
    order_row,
)
from tickets.imports.cleaning import (
    SELLER_CENTRE_TZ,
    CellError,
    clean_amount,
    clean_datetime,
    clean_order_no,
    clean_phone,
    clean_quantity,
    clean_tracking_no,
    parse_attributes,
    split_address,
)
from tickets.imports.layout import detect_kind, fold, resolve_layout
from tickets.imports.reading import ImportFileError, detect_encoding, open_csv


# --- encodings -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("gbk", "gb18030"), ("gb18030", "gb18030"), ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig")],
)
def test_encoding_is_detected_from_the_bytes(encoding, detected):
    data = export_csv(ORDER_HEADERS_56, [order_row("3515012345678901234")], encoding=encoding)
    assert detect_encoding(io.BytesIO(data)) == detected
    with open_csv(io.BytesIO(data)) as opened:
        assert opened.header[0] == "订单编号"
        line, cells = next(opened.rows)
        assert line == 2
        assert "小鱼爱吃猫" in cells
        assert "湖北省 武汉市 江汉区 解放大道1号3栋201室(430000)" in cells


def test_gb18030_only_characters_are_read():
    # 㐀 (U+3400) is in GB18030 but not in GBK; the seller centre's newer files may carry it.
    rows = [order_row("3515012345678901234", 收货人姓名="王㐀")]
    with open_csv(io.BytesIO(export_csv(ORDER_HEADERS_56, rows, encoding="gb18030"))) as f:
        assert "王㐀" in next(f.rows)[1]


def test_utf16_with_a_mark_and_tabs_as_excel_saves_unicode_text():
    data = codecs.BOM_UTF16_LE + export_csv(
        ORDER_HEADERS_56, [order_row("3515012345678901234")], encoding="utf-16-le", delimiter="\t"
    )
    with open_csv(io.BytesIO(data)) as opened:
        assert opened.encoding_label == "UTF-16"
        assert opened.header[:2] == ["订单编号", "买家会员名"]


def test_unstorable_characters_go_rare_ones_stay_and_blank_records_are_skipped():
    # given: a nickname with a noncharacter of a high plane (U+1FFFE) and of the last
    # (U+10FFFF), a name with a letter beyond U+1FFFE (𠀀, U+20000, a name's rare character)
    # and an emoji, then records that hold nothing but white space and separators
    rows = [
        order_row(
            "3515012345678901234", 买家会员名="小鱼\U0001fffe爱吃猫\U0010ffff", 收货人姓名="王𠀀😀"
        ),
        order_row("3515012345678901235"),
    ]
    data = export_csv(ORDER_HEADERS_56, rows, encoding="utf-8")
    blank = ",".join([" "] * len(ORDER_HEADERS_56)) + "\r\n" + "\t,\u3000\r\n"
    first, second = data.split(b"\r\n", 2)[:2], data.split(b"\r\n", 2)[2]
    data = b"\r\n".join(first) + b"\r\n" + blank.encode() + second
    # when: it is read
    with open_csv(io.BytesIO(data)) as opened:
        records = list(opened.rows)
    # then: the noncharacters are gone, the rare letter and the emoji kept, the blank records
    # left out (their lines still counted)
    assert [line for line, _cells in records] == [2, 5]
    cells = records[0][1]
    assert "小鱼爱吃猫" in cells
    assert "王𠀀😀" in cells


def test_the_file_name_does_not_decide_the_encoding(tmp_path):
    path = tmp_path / "ExportOrderList-utf8.csv"
    path.write_bytes(export_csv(ORDER_HEADERS_56, [order_row("3515012345678901234")]))  # GBK
    with path.open("rb") as handle:
        assert detect_encoding(handle) == "gb18030"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "空"),
        (b"PK\x03\x04rest-of-a-zip", "Excel"),
        (b"\xd0\xcf\x11\xe0old-xls", "Excel"),
        (b"abc,\xff\xfe,def\r\n", "编码"),
        ("订单编号,买家会员名\n1\x002,x\n".encode(), "二进制"),
        (codecs.BOM_UTF8 + "订单编号".encode("gbk"), "UTF-8"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(data, message):
    with pytest.raises(ImportFileError, match=message):
        detect_encoding(io.BytesIO(data))


def test_a_record_spanning_lines_is_numbered_by_its_first_line():
    rows = [
        order_row("3515012345678901234", 买家留言="第一行\n第二行"),
        order_row("3515012345678901235"),
    ]
    with open_csv(io.BytesIO(export_csv(ORDER_HEADERS_56, rows))) as opened:
        assert [line for line, _cells in opened.rows] == [2, 4]


# --- headers -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        (ORDER_HEADERS_41, "orders"),
        (ORDER_HEADERS_56, "orders"),
        (ORDER_HEADERS_72, "orders"),
        (ITEM_HEADERS, "items"),
        (ITEM_HEADERS_SPLIT, "items"),
        (REFUND_HEADERS, "refunds"),
        (["编号", "名称"], None),
    ],
)
def test_the_export_is_recognised_by_its_headers(headers, kind):
    assert detect_kind(headers) == kind


def test_columns_are_found_by_name_in_every_layout():
    for headers in (ORDER_HEADERS_41, ORDER_HEADERS_56, ORDER_HEADERS_72):
        layout = resolve_layout("orders", headers)
        assert not layout.missing
        assert headers[layout.columns["order_no"]] == "订单编号"
        assert headers[layout.columns["address"]].strip() == "收货地址"
        assert headers[layout.columns["status"]] == "订单状态"
    assert not resolve_layout("orders", ORDER_HEADERS_41).has("shipped_at")
    assert resolve_layout("orders", ORDER_HEADERS_56).has("shipped_at")


def test_headers_match_despite_spaces_and_full_width_characters():
    headers = [" 订单编号 ", "买家 会员名", "订单状态\u3000", "订单创建时间", "ｆｏｏ"]
    layout = resolve_layout("orders", headers)
    assert not layout.missing
    assert layout.labels["buyer_nick"] == "买家 会员名"
    assert fold("ＡＢＣ１２３（元）") == "ABC123(元)"


def test_item_file_order_number_columns_by_layout():
    old = resolve_layout("items", ITEM_HEADERS)
    assert ITEM_HEADERS[old.columns["order_no"]] == "订单编号"
    assert "sub_order_no" not in old.columns
    split = resolve_layout("items", ITEM_HEADERS_SPLIT)
    assert ITEM_HEADERS_SPLIT[split.columns["order_no"]] == "主订单编号"
    assert ITEM_HEADERS_SPLIT[split.columns["sub_order_no"]] == "子订单编号"


def test_missing_required_columns_are_named():
    layout = resolve_layout("orders", ["订单编号", "买家会员名"])
    assert layout.missing == ("订单状态", "订单创建时间")


# --- cells ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw",
    [
        '="3515012345678901234"',
        "'3515012345678901234",
        "\t3515012345678901234",
        " 3515012345678901234 ",
        "3515012345678901234",
        "３５１５０１２３４５６７８９０１２３４",
    ],
)
def test_order_numbers_lose_the_spreadsheet_marks(raw):
    assert clean_order_no(raw) == "3515012345678901234"


@pytest.mark.parametrize("raw", ["3.515E+18", "3.51501234567890E+18", "3515E18", "3.5e18"])
def test_an_order_number_in_scientific_notation_is_refused_as_lost(raw):
    with pytest.raises(CellError, match="科学计数法"):
        clean_order_no(raw)


@pytest.mark.parametrize("raw", ["", "  ", '=""'])
def test_a_missing_order_number_is_refused(raw):
    with pytest.raises(CellError, match="缺少订单编号"):
        clean_order_no(raw)
    assert clean_order_no(raw, required=False) == ""


@pytest.mark.parametrize(
    "raw",
    [
        "35150123456789O1234",
        "abc",
        "12345",
        "٣٥١٥٠١٢٣٤٥٦٧٨٩٠١٢٣٤",  # Arabic-Indic digits: \d would take them, no search finds them
        "३५१५०१२३४५६७८९०१२३४",  # Devanagari
    ],
)
def test_an_order_number_that_is_not_digits_is_refused(raw):
    with pytest.raises(CellError):
        clean_order_no(raw)


@pytest.mark.parametrize(
    ("raw", "phone"),
    [
        ("'13912345678", "13912345678"),
        ('="13912345678"', "13912345678"),
        ("139 1234 5678", "13912345678"),
        ("027-88886666", "027-88886666"),
        ("+86 139-1234-5678", "13912345678"),
        ("0086 13912345678", "13912345678"),
        ("86-139-1234-5678", "13912345678"),
        ("+86 10 8888 6666", "+861088886666"),
        ("", ""),
    ],
)
def test_phones(raw, phone):
    assert clean_phone(raw) == phone


@pytest.mark.parametrize(
    ("raw", "amount"),
    [
        ("12.50", "12.50"),
        ("12.5元", "12.50"),
        ("¥1,234.00", "1234.00"),
        ("￥8", "8.00"),
        ("'0.00", "0.00"),
        ("", "0.00"),
        ("１２．５", "12.50"),
    ],
)
def test_amounts(raw, amount):
    value = clean_amount(raw)
    assert value == Decimal(amount)
    assert isinstance(value, Decimal)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "不是有效的金额"),
        ("-1.00", "负数"),
        ("1.005", "两位小数"),
        ("1e12", "不是有效的金额"),
        ("1e28", "不是有效的金额"),
        ("1_000", "不是有效的金额"),
        ("1,2,3", "不是有效的金额"),
        ("99999999999", "过大"),
        ("NaN", "不是有效的金额"),
    ],
)
def test_bad_amounts_say_why(raw, message):
    with pytest.raises(CellError, match=message):
        clean_amount(raw)


@pytest.mark.parametrize(("raw", "quantity"), [("2", 2), ("'3", 3), ("1.0", 1), ("２", 2)])
def test_quantities(raw, quantity):
    assert clean_quantity(raw) == quantity


@pytest.mark.parametrize("raw", ["0", "-1", "1.5", "", "两"])
def test_bad_quantities(raw):
    with pytest.raises(CellError):
        clean_quantity(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-03-01 10:15:30", datetime(2026, 3, 1, 10, 15, 30, tzinfo=SELLER_CENTRE_TZ)),
        ("2026/3/1 9:05", datetime(2026, 3, 1, 9, 5, tzinfo=SELLER_CENTRE_TZ)),
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=SELLER_CENTRE_TZ)),
        ("", None),
        ("null", None),
    ],
)
def test_times_are_beijing_time(raw, expected):
    assert clean_datetime(raw) == expected


@pytest.mark.parametrize("raw", ["2026-02-30 10:00:00", "yesterday", "03/01/2026"])
def test_bad_times(raw):
    with pytest.raises(CellError):
        clean_datetime(raw)


@pytest.mark.parametrize(
    ("raw", "parts"),
    [
        (
            "湖北省 武汉市 江汉区 解放大道1号3栋201室(430000)",
            ("湖北省", "武汉市", "江汉区", "解放大道1号3栋201室", "430000"),
        ),
        (
            "北京 北京市 朝阳区 建国路 88 号（100022）",
            ("北京", "北京市", "朝阳区", "建国路 88 号", "100022"),
        ),
        (
            "浙江省 杭州市 余杭区 五常街道 文一西路969号(000000)",
            ("浙江省", "杭州市", "余杭区", "五常街道 文一西路969号", ""),
        ),
        ("广东省 东莞市 长安镇振安路1号", ("广东省", "东莞市", "", "长安镇振安路1号", "")),
        (
            "湖北省武汉市洪山区珞喻路1037号",
            ("湖北省", "武汉市", "洪山区", "珞喻路1037号", ""),
        ),
        ("上海市浦东新区世纪大道100号", ("上海市", "", "浦东新区", "世纪大道100号", "")),
        ("某地某路1号", ("", "", "", "某地某路1号", "")),
    ],
)
def test_addresses_are_split(raw, parts):
    address = split_address(raw)
    assert (
        address.province,
        address.city,
        address.district,
        address.detail,
        address.postcode,
    ) == parts


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("颜色分类:黑色;尺码:XL", ("黑色", "XL")),
        ("颜色分类：藏青色；尺码：170/92A", ("藏青色", "170/92A")),
        ("尺码:M", ("", "M")),
        ("主要颜色:白色;鞋码:39", ("白色", "39")),
        ("", ("", "")),
    ],
)
def test_item_attributes(raw, expected):
    assert parse_attributes(raw) == expected


def test_tracking_numbers():
    assert clean_tracking_no('="zt7700123456"') == "ZT7700123456"
    assert clean_tracking_no("YT001,YT002") == "YT001"
    assert clean_tracking_no("") == ""


@pytest.mark.parametrize("raw", ["1e2", "1_0", "1.5", "-1", "0", "", "١", "100001"])
def test_odd_quantities_are_refused(raw):
    with pytest.raises(CellError):
        clean_quantity(raw)


@pytest.mark.parametrize(
    "raw",
    ["03515012345678901234", '="03515012345678901234"', "'0351501234567", "０３５１５０１２３"],
)
def test_a_number_with_a_leading_zero_is_refused_not_padded_away(raw):
    """The platform's numbers never start with 0: '0351…' would be a look-alike of '351…'."""
    with pytest.raises(CellError, match="以 0 开头"):
        clean_order_no(raw)
    with pytest.raises(CellError, match="以 0 开头"):
        clean_order_no(raw, required=False)
