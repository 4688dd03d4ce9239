"""The sheet writer: streamed rows read back exactly like rows written cell by cell; what XML
cannot hold is dropped, and a saved file is read back before anyone gets it."""

import os
import re
import stat
import zipfile
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, to_excel

from aftersales import spreadsheets
from aftersales.spreadsheets import (
    CELL_TEXT_LIMIT,
    MONEY,
    NUMBER,
    TIME,
    WALL_TIME,
    Column,
    SheetBook,
    SheetUnreadable,
    clean_text,
    local_naive,
    read_back,
)

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


# --- characters XML cannot hold, reading back, file modes (issue 12, sections 2 and 6) -------
FORBIDDEN = "\x00\x01\x08\x0b\x0c\x0e\x1f\ud800\udfff\ufffe\uffff"


@pytest.mark.parametrize("character", list(FORBIDDEN))
def test_what_xml_cannot_hold_is_dropped(character):
    assert clean_text(f"备{character}注") == "备注"


def test_what_xml_can_hold_is_kept():
    text = "tab\t LF\n CR\r 替换符\ufffd 表情😀 私用\ue000 末尾\U0010fffd"
    assert clean_text(text) == text


@pytest.mark.parametrize("stream_rows", [True, False])
def test_a_text_longer_than_an_excel_cell_holds_is_cut_with_a_mark(tmp_path, stream_rows):
    # given: a note pasted from a long chat, longer than Excel's 32,767 characters
    note = "聊" * 40000
    assert len(clean_text("x" * CELL_TEXT_LIMIT)) == CELL_TEXT_LIMIT
    book = SheetBook(tmp_dir=tmp_path, stream_rows=stream_rows)
    writer = book.table("明细", [Column("备注", 30)])
    writer.append((note,))
    writer.finish()
    # when
    book.save(tmp_path / "long.xlsx")
    book.close()
    # then: the cell holds as much as Excel does, and says it was cut
    [(cell,)] = list(
        load_workbook(tmp_path / "long.xlsx").active.iter_rows(min_row=2, values_only=True)
    )
    assert len(cell) == CELL_TEXT_LIMIT
    assert cell.endswith("聊…")


def test_an_emoji_counts_twice_toward_the_cell_limit_as_in_excel():
    # 20,000 emoji are 40,000 UTF-16 units, which Excel counts
    cut = clean_text("😀" * 20000)
    assert len(cut.encode("utf-16-le")) // 2 <= CELL_TEXT_LIMIT
    assert cut.endswith("😀…")
    assert len(clean_text("😀" * 16383)) == 16383  # 32,766 units: kept whole


@pytest.mark.parametrize("stream_rows", [True, False])
def test_forbidden_characters_anywhere_give_a_file_that_opens(tmp_path, stream_rows):
    # given: the characters in the sheet's title, its preamble, a header and every text cell
    book = SheetBook(tmp_dir=tmp_path, stream_rows=stream_rows)
    columns = [Column(f"文{FORBIDDEN}字", 20), Column("编号", 8, NUMBER)]
    writer = book.table(f"明{FORBIDDEN}细", columns, preamble=[f"标{FORBIDDEN}题"], big=True)
    writer.append((f"={FORBIDDEN}1+1", 1))
    writer.append((f"普通{FORBIDDEN}文字", 2))
    writer.finish()
    summary = book.table("汇总", columns)
    summary.append_cells([summary.bold(f"合{FORBIDDEN}计")])
    # when
    book.save(tmp_path / "out.xlsx")
    book.close()
    # then it opens, in full, with the text as typed minus what XML cannot hold
    workbook = load_workbook(tmp_path / "out.xlsx")
    values = [
        cell
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if cell
    ]
    assert workbook.sheetnames == ["明细", "汇总"]
    assert values == ["标题", "文字", "编号", "=1+1", 1, "普通文字", 2, "文字", "编号", "合计"]


def _patched(path, part: str, old: bytes, new: bytes):
    """A copy of the workbook at ``path`` with ``old`` replaced by ``new`` in ``part``."""
    patched = path.with_name("patched.xlsx")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(patched, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, data.replace(old, new) if info.filename == part else data)
    return patched


@pytest.mark.parametrize(
    "fault",
    [
        "\uffff".encode(),  # the reported case: U+FFFF written as UTF-8
        b"&#xFFFE;",  # the same as a character reference
        b"\x0b",  # a control character
        b"</c>",  # markup out of place
    ],
)
def test_reading_back_refuses_a_file_that_would_not_open(tmp_path, fault):
    book = SheetBook(tmp_dir=tmp_path)
    writer = book.table("明细", COLUMNS, big=True)
    writer.append(ROWS[0])
    writer.finish()
    book.save(tmp_path / "good.xlsx")
    book.close()
    assert read_back(tmp_path / "good.xlsx") == ["明细"]

    broken = _patched(tmp_path / "good.xlsx", "xl/worksheets/sheet1.xml", "普通".encode(), fault)

    with pytest.raises(SheetUnreadable, match=r"^xl/worksheets/sheet1.xml line 1 column \d+: "):
        read_back(broken)


@pytest.mark.parametrize("damage", [b"not a zip at all", b"PK\x03\x04 cut short"])
def test_reading_back_refuses_what_is_no_workbook(tmp_path, damage):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(damage)
    with pytest.raises(SheetUnreadable):
        read_back(path)


def test_a_streamed_sheet_declares_its_used_range(tmp_path):
    # openpyxl's write-only mode declares none, so a reader (openpyxl read-only, read_back)
    # had to parse the whole sheet to find out its size
    write(tmp_path, "streamed")
    book = load_workbook(tmp_path / "streamed.xlsx", read_only=True)
    sheet = book["明细"]
    assert (sheet.max_row, sheet.max_column) == (3 + len(ROWS), len(COLUMNS))
    [last] = sheet.iter_rows(min_row=10, values_only=True)
    assert last[4] == "😀 表情"
    book.close()


def test_the_streamed_rows_are_compressed_at_the_desks_level_not_zlibs_default(tmp_path):
    # Level 2 writes a 100,000-row detail three times faster than zlib's default 6
    # (bench/README.md); a part opened from a ZipInfo silently took the default instead.
    import zlib

    write(tmp_path, "level")
    with zipfile.ZipFile(tmp_path / "level.xlsx") as archive:
        [part] = [i for i in archive.infolist() if i.filename.startswith("xl/worksheets/")]
        data = archive.read(part)
    assert b"<row" in data and part.compress_type == zipfile.ZIP_DEFLATED

    def deflated(level):
        packer = zlib.compressobj(level, zlib.DEFLATED, -15)
        return len(packer.compress(data) + packer.flush())

    assert spreadsheets.COMPRESS_LEVEL != 6
    assert part.compress_size == deflated(spreadsheets.COMPRESS_LEVEL)
    # dated as the workbook's other parts, not 1980-01-01
    with zipfile.ZipFile(tmp_path / "level.xlsx") as archive:
        assert {i.date_time for i in archive.infolist()} == {part.date_time}


def test_a_splice_that_fails_leaves_no_copy_of_the_rows_behind(tmp_path, monkeypatch):
    # A rows part past the zip's 32-bit sizes (2 GiB here stands at 4 KiB) is refused by
    # zipfile; the half-written copy of finance's rows must not stay on disk.
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 4096)
    book = SheetBook(tmp_dir=tmp_path)
    writer = book.table("明细", COLUMNS, big=True)
    for _ in range(100):
        writer.append(ROWS[0])
    writer.finish()
    with pytest.raises(RuntimeError, match="force_zip64") as refused:
        book.save(tmp_path / "big.xlsx")
    assert "_splice_rows" in {entry.name for entry in refused.traceback}
    book.close()
    assert not list(tmp_path.glob("*.splice"))


@pytest.mark.parametrize("stream_rows", [True, False])
def test_a_saved_workbook_is_readable_by_its_owner_only(tmp_path, stream_rows):
    old_umask = os.umask(0o002)  # a permissive umask must not make the file readable by all
    try:
        book = SheetBook(tmp_dir=tmp_path, stream_rows=stream_rows)
        book.table("明细", COLUMNS, big=True).append(ROWS[0])
        book.save(tmp_path / "sheet.xlsx")
        book.close()
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "sheet.xlsx").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["sheet.xlsx"]


# --- the streamed rows' shortcuts (issue 14): repeated texts, whole days ------------------
def _written(tmp_path, name, rows, **book_options):
    book = SheetBook(tmp_dir=tmp_path, **book_options)
    writer = book.table("明细", COLUMNS, big=True)
    for row in rows:
        writer.append(row)
    writer.finish()
    book.save(tmp_path / f"{name}.xlsx")
    book.close()
    return tmp_path / f"{name}.xlsx"


def test_repeated_and_look_alike_texts_are_written_as_each_row_says(tmp_path, monkeypatch):
    # given a text column whose values repeat, are equal as keys but not as texts
    # (1 == True == Decimal("1.0")), and outnumber the texts a stream keeps per column
    monkeypatch.setattr(spreadsheets, "TEXT_CELLS_KEPT", 3)
    texts = ["同一个店铺", "1", 1, True, Decimal("1.0"), Decimal("1.00"), "=1", " 1", "&<1>"]
    rows = [
        (n, None, texts[n % len(texts)], Decimal("1.00"), texts[(n * 5) % len(texts)])
        for n in range(60)
    ]
    # when they are streamed and written cell by cell by openpyxl
    streamed = _written(tmp_path, "streamed", rows)
    reference = _written(tmp_path, "reference", rows, stream_rows=False)
    # then every cell reads back the same, each row's own text
    assert cells(load_workbook(streamed)["明细"]) == cells(load_workbook(reference)["明细"])
    values = [
        row[2] for row in load_workbook(streamed)["明细"].iter_rows(min_row=2, values_only=True)
    ]
    assert values == [str(row[2]) for row in rows]


@pytest.mark.parametrize("stream_rows", [True, False])
def test_a_wall_time_column_takes_naive_beijing_times_and_a_time_column_refuses_them(
    tmp_path, stream_rows
):
    # given the same moments aware, and naive as PostgreSQL's AT TIME ZONE reads them
    aware = [
        datetime(2026, 11, 23, 8, 0, tzinfo=ZoneInfo("UTC")) + timedelta(seconds=7919 * n)
        for n in range(50)
    ]
    naive = [moment.astimezone(SHANGHAI).replace(tzinfo=None) for moment in aware]
    wall_columns = [COLUMNS[0], Column("时间", 19, WALL_TIME), *COLUMNS[2:]]

    def written(name, columns, moments):
        book = SheetBook(tmp_dir=tmp_path, stream_rows=stream_rows)
        try:
            writer = book.table("明细", columns, big=True)
            for n, moment in enumerate(moments):
                writer.append((n, moment, None, None, None))
            writer.finish()
            book.save(tmp_path / name)
        finally:
            book.close()
        sheet = load_workbook(tmp_path / name)["明细"]
        return [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]

    # when both are written as wall-clock times, then each cell is the same Beijing time
    assert written("naive.xlsx", wall_columns, naive) == naive
    assert written("aware.xlsx", wall_columns, aware) == naive
    assert written("time.xlsx", COLUMNS, aware) == naive
    # and a plain time column refuses a naive time: which zone it is in cannot be told
    with pytest.raises(ValueError):
        written("refused.xlsx", COLUMNS, naive[:1])
    with pytest.raises(ValueError):
        local_naive(naive[0])
    assert local_naive(naive[0], wall_clock=True) == naive[0]


@pytest.mark.parametrize("epoch", [WINDOWS_EPOCH, MAC_EPOCH])
def test_a_streamed_time_is_the_serial_openpyxl_writes(tmp_path, epoch):
    # given times on many days and at every kind of second, around Excel's 1900 leap day too
    moments = [
        datetime(1900, 1, 1, 0, 0, tzinfo=SHANGHAI),
        datetime(1900, 2, 28, 23, 59, 59, tzinfo=SHANGHAI),
        datetime(1900, 3, 1, 12, 0, tzinfo=SHANGHAI),
        datetime(1904, 1, 2, 6, 30, tzinfo=SHANGHAI),
        datetime(2026, 11, 23, 16, 0, 0, 1, tzinfo=SHANGHAI),
        *(
            datetime(2026, 11, 23, 8, 0, tzinfo=ZoneInfo("UTC")) + timedelta(seconds=7919 * n)
            for n in range(200)
        ),
    ]
    book = SheetBook(tmp_dir=tmp_path)
    book.workbook.epoch = epoch
    writer = book.table("明细", COLUMNS, big=True)
    for n, moment in enumerate(moments):
        writer.append((n, moment, None, None, None))
    writer.finish()
    book.save(tmp_path / "times.xlsx")
    book.close()
    # then each <v> is openpyxl's own serial of the Beijing wall-clock time, to the digit
    with zipfile.ZipFile(tmp_path / "times.xlsx") as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    written = re.findall(r'<c r="B\d+" s="\d+" t="n"><v>([^<]+)</v>', xml)
    expected = [f"{to_excel(local_naive(moment), epoch):.16g}" for moment in moments]
    assert written == expected
