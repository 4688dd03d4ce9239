"""The sheet writer: streamed rows read back exactly like rows written cell by cell."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from aftersales.spreadsheets import MONEY, NUMBER, TIME, Column, SheetBook

COLUMNS = [
    Column("编号", 8, NUMBER),
    Column("时间", 19, TIME),
    Column("文字", 20),
    Column("金额", 12, MONEY),
    Column("备注", 30),
]
SHANGHAI = ZoneInfo("Asia/Shanghai")
ROWS = [
    (1, datetime(2026, 11, 24, 15, 59, 59, tzinfo=SHANGHAI), "普通文字", Decimal("12.30"), ""),
    (2, datetime(2026, 1, 1, 0, 0, tzinfo=SHANGHAI), "=1+1", Decimal("-99999999.99"), None),
    (3, None, "  前后有空格  ", Decimal("0.01"), "<b>&amp;</b> \"引号\" 'x'"),
    (4, datetime(2026, 6, 30, 23, 59, tzinfo=SHANGHAI), "+86 138", None, "@SUM(A1)"),
    (5, datetime(2026, 6, 30, 8, 0, tzinfo=SHANGHAI), "-5", Decimal("1234567.89"), "\t缩进"),
    (6, None, "控制\x01字符\x0b", Decimal("7.00"), "多行\n备注"),
    (7, None, "3500000000000000123", Decimal("1.10"), "😀 表情"),
]


def write(tmp_path, name, **book_options):
    book = SheetBook(tmp_dir=tmp_path, **book_options)
    writer = book.table("明细", COLUMNS, preamble=["标题", ""], big=True)
    for row in ROWS:
        writer.append(row)
    writer.finish()
    path = tmp_path / f"{name}.xlsx"
    book.save(path)
    book.close()
    return load_workbook(path)["明细"]


def cells(sheet):
    return [
        [(c.value, c.data_type, c.number_format, c.quotePrefix, c.font.bold) for c in row]
        for row in sheet.iter_rows()
    ]


@pytest.mark.parametrize("other", [{"stream_rows": False}, {"write_only": False}])
def test_streamed_rows_read_back_exactly_like_openpyxls_own(tmp_path, other):
    streamed = write(tmp_path, "streamed")
    reference = write(tmp_path, "reference", **other)
    assert cells(streamed) == cells(reference)
    assert streamed.freeze_panes == reference.freeze_panes == "A4"
    assert streamed.auto_filter.ref == reference.auto_filter.ref == "A3:E10"
    assert streamed.column_dimensions["C"].width == 20


def test_values_types_and_formats_of_streamed_rows(tmp_path):
    sheet = write(tmp_path, "streamed")
    rows = list(sheet.iter_rows(min_row=4))
    first = rows[0]
    assert first[0].value == 1 and first[0].data_type == "n"
    beijing_wall_clock = datetime(2026, 11, 24, 15, 59, 59, tzinfo=SHANGHAI).replace(tzinfo=None)
    assert first[1].value == beijing_wall_clock
    assert first[1].number_format == "yyyy-mm-dd hh:mm:ss"
    assert Decimal(str(first[3].value)) == Decimal("12.30")
    assert first[3].number_format == "¥#,##0.00"
    assert first[4].value is None  # empty text is an empty cell
    assert rows[1][2].value == "=1+1" and rows[1][2].data_type == "s" and rows[1][2].quotePrefix
    assert rows[2][2].value == "  前后有空格  "
    assert rows[2][4].value == "<b>&amp;</b> \"引号\" 'x'"
    assert rows[5][2].value == "控制字符"  # what XML cannot hold is dropped, not fatal
    assert rows[6][2].value == "3500000000000000123" and rows[6][2].data_type == "s"
    assert rows[6][4].value == "😀 表情"
    assert not any(cell.data_type == "f" for row in rows for cell in row)


def test_money_must_be_a_decimal(tmp_path):
    book = SheetBook(tmp_dir=tmp_path)
    writer = book.table("明细", COLUMNS, big=True)
    with pytest.raises(TypeError):
        writer.append((1, None, "x", 12.3, ""))
    book.close()


def test_no_temporary_files_stay_behind(tmp_path):
    write(tmp_path, "streamed")
    book = SheetBook(tmp_dir=tmp_path)
    book.table("明细", COLUMNS, big=True).append(ROWS[0])
    book.close()  # never saved: a failed build
    assert sorted(p.name for p in tmp_path.iterdir()) == ["streamed.xlsx"]


def test_an_empty_streamed_table_still_has_its_header(tmp_path):
    book = SheetBook(tmp_dir=tmp_path)
    book.table("明细", COLUMNS, big=True).finish()
    book.save(tmp_path / "empty.xlsx")
    book.close()
    sheet = load_workbook(tmp_path / "empty.xlsx")["明细"]
    assert [c.value for c in sheet[1]] == ["编号", "时间", "文字", "金额", "备注"]
    assert sheet.max_row == 1
