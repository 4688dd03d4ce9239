"""The desk's one spreadsheet writer: openpyxl in write-only mode, rows streamed, memory flat.

It belongs to neither app: the finance sheets (``finance_exports``) and the agents' downloads
(``tickets.exports``: the ticket list, the statistics tables) both write through it, and it
imports nothing of theirs.

Finance opens these files in Excel, so two rules hold for every cell:

- Text that came from a person (a buyer's nickname, a note, a shop name, an order number from an
  import) is always a text cell. Text starting with ``=``, ``+``, ``-``, ``@``, tab, CR or LF is
  additionally marked with Excel's "quote prefix", so Excel shows it as typed and never
  evaluates it, not even after someone edits the cell (CSV/formula injection). Characters XML
  1.0 cannot hold (control characters pasted in with a note, U+FFFE/U+FFFF, lone surrogates)
  are dropped by ``clean_text``, through which every text of every writer goes, instead of
  making a file Excel has to repair.
- Money is a number (a ``Decimal``, never a float) formatted ``¥#,##0.00``, so totals can be
  re-added in Excel.

Big tables (the finance sheet's detail, 100,000 rows on a busy day) can be *streamed*: openpyxl
still makes the workbook, the styles, the header row, widths, frozen panes and autofilter, but
the rows are serialised here to the same ``<row>``/``<c>`` XML openpyxl writes, into a temporary
file that ``SheetBook.save`` splices into the saved file. openpyxl spends 15-25 µs on each cell
(a Cell object and an XML element tree per cell); at 1.2 million cells that alone is over the
sheet's time budget. ``bench/finance_sheet.py`` measures both ways and the tests compare their
output cell by cell. A streamed sheet declares its used range (``<dimension>``), which openpyxl
does not write in write-only mode, so a reader need not scan the whole sheet to size it.

``SheetBook.save`` reads the finished file back before it returns (``read_back``): every XML
part is parsed to its end and the workbook is opened with openpyxl, so a file that would not
open raises ``SheetUnreadable`` with the reason instead of being handed to finance (issue 12,
section 2). Every file the writer makes is readable by the desk's own user only (0600).
"""

import contextlib
import io
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from copy import copy
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from pathlib import Path
from xml.parsers import expat

from django.utils import timezone
from openpyxl import Workbook, load_workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import SECS_PER_DAY, to_excel
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

MONEY_FORMAT = "¥#,##0.00"
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
# What Excel (and LibreOffice, Google Sheets) would read as the start of a formula or command.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
# Characters an XML 1.0 document cannot contain (its ``Char`` production): C0 controls but tab,
# LF and CR; surrogates (a lone one can come in through a broken paste); U+FFFE and U+FFFF.
# openpyxl refuses only the controls and writes the rest into a file nothing can open.
NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# The most characters an Excel cell holds; a longer text opens as a file to "repair" (WPS and
# LibreOffice cut it). A note pasted from a long chat can be longer.
CELL_TEXT_LIMIT = 32767
# Rows of a sheet read back by openpyxl after saving, to prove it opens its cells (the XML of
# every row is checked by the parser; reading every cell through openpyxl costs minutes).
READ_BACK_ROWS = 50
# Files the writer makes: readable and writable by the desk's own user only.
FILE_MODE = 0o600

TEXT = "text"  # anything a person typed or imported
MONEY = "money"
TIME = "time"  # an aware time, written as Beijing wall-clock time
# A time already read as Beijing wall-clock time (naive: PostgreSQL's AT TIME ZONE,
# ``finance_exports.builders.wall_clock``), or an aware one; only such a column takes naive.
WALL_TIME = "wall_time"
NUMBER = "number"  # counts and ids

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="F3F4F6")
_TITLE_FONT = Font(bold=True, size=14)


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    kind: str = TEXT


def local_naive(moment: datetime | None, *, wall_clock: bool = False) -> datetime | None:
    """Excel has no time zones: times are written as Beijing wall-clock time (the current
    time zone). ``moment`` is aware; with ``wall_clock`` (a WALL_TIME column) a naive one is
    that wall-clock time already and is taken as it is. A naive time elsewhere raises
    ``ValueError`` (which zone it is in cannot be told)."""
    if moment is None or (wall_clock and moment.tzinfo is None):
        return moment
    return timezone.localtime(moment).replace(tzinfo=None)


def clean_text(value) -> str:
    """``str(value)`` without the characters XML 1.0 cannot hold (``NOT_IN_XML``) and cut to
    ``CELL_TEXT_LIMIT`` characters as Excel counts them (UTF-16 units), the last one "…": the
    one function every text cell, title and header of every sheet goes through (issue 12,
    section 2). ``'备注\\uffff\\x01'`` ->
    ``'备注'``; text without them is returned as it is."""
    text = str(value)
    if NOT_IN_XML.search(text):
        text = NOT_IN_XML.sub("", text)
    if len(text) > CELL_TEXT_LIMIT // 2 and _excel_length(text) > CELL_TEXT_LIMIT:
        # Excel counts UTF-16 units: a character beyond the BMP (an emoji) counts twice.
        kept, units = [], 1  # the closing "…"
        for character in text:
            units += 2 if ord(character) > 0xFFFF else 1
            if units > CELL_TEXT_LIMIT:
                break
            kept.append(character)
        text = "".join(kept) + "…"
    return text


def _excel_length(text: str) -> int:
    """How long Excel counts ``text``: its UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


class SheetUnreadable(Exception):
    """A saved workbook that does not open: the message names the part and what is wrong."""


def read_back(path: str | Path, *, rows: int = READ_BACK_ROWS) -> list[str]:
    """Opens the finished ``path`` as finance's Excel would, before anyone is given it: every
    XML part of the zip is parsed to its end (expat, a well-formedness check at C speed: about
    a second for 100,000 finance rows), then openpyxl opens the workbook read-only and reads
    the first ``rows`` rows of every sheet. Returns the sheet titles.

    Raises ``SheetUnreadable`` with the part, line and reason (issue 12, section 2: a sheet is
    marked ready only after its file has been read back)."""
    with open(path, "rb") as handle:  # a file, not a name: openpyxl judges names by suffix
        try:
            with zipfile.ZipFile(handle) as archive:
                for info in archive.infolist():
                    if info.filename.endswith((".xml", ".rels")):
                        _parse_part(archive, info)
            handle.seek(0)
            book = load_workbook(handle, read_only=True)
            try:
                for sheet in book.worksheets:
                    for _row in sheet.iter_rows(max_row=rows, values_only=True):
                        pass
                return book.sheetnames
            finally:
                book.close()
        except SheetUnreadable:
            raise
        except Exception as exc:  # zipfile and openpyxl raise many kinds on a broken file
            raise SheetUnreadable(f"{type(exc).__name__}: {exc}") from exc


def _parse_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    parser = expat.ParserCreate()
    try:
        with archive.open(info) as part:
            while chunk := part.read(1024 * 1024):
                parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise SheetUnreadable(
            f"{info.filename} line {exc.lineno} column {exc.offset}: {expat.ErrorString(exc.code)}"
        ) from exc


def _private_file(path: str | Path) -> None:
    """Creates ``path`` (empty) readable by the owner only, or narrows an existing file to
    that; a writer that then opens it for writing keeps the mode."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(handle)
    os.chmod(path, FILE_MODE)


class SheetBook:
    """The workbook of one sheet file. ``write_only=False`` (openpyxl's normal mode, everything
    in memory until saved) exists for the benchmark's comparison; the desk writes write-only."""

    def __init__(self, *, write_only: bool = True, stream_rows: bool = True, tmp_dir=None):
        self.workbook = Workbook(write_only=write_only)
        if not write_only:
            self.workbook.remove(self.workbook.active)  # a write-only book starts empty too
        self.stream_rows = stream_rows and write_only
        self.tmp_dir = tmp_dir
        self._writers: list[SheetWriter] = []
        self._saved = False

    def table(
        self, title: str, columns: list[Column], *, preamble: Iterable[str] = (), big=False
    ) -> "SheetWriter":
        """A worksheet for a table; ``big`` streams its rows (when this book streams)."""
        writer = SheetWriter(
            self, title, columns, preamble=preamble, stream=big and self.stream_rows
        )
        self._writers.append(writer)
        return writer

    def save(self, path: str | Path, *, check: bool = True) -> None:
        """Writes the workbook to ``path`` (mode 0600) and, with ``check``, reads it back
        (``read_back``), raising ``SheetUnreadable`` when it would not open."""
        streamed = [(writer, writer.close_stream()) for writer in self._writers if writer.streamed]
        _private_file(path)
        self.workbook.save(path)
        self._saved = True
        if streamed:
            # A sheet's part name (xl/worksheets/sheetN.xml) is known once openpyxl saved it.
            _splice_rows(
                Path(path),
                {w.sheet.path.lstrip("/"): (rows, w.dimension()) for w, rows in streamed},
            )
        if check:
            read_back(path)

    def close(self) -> None:
        """Removes the temporary files, saved or not (safe to call twice)."""
        for writer in self._writers:
            if writer.streamed:
                Path(writer.close_stream()).unlink(missing_ok=True)
        if not self._saved:
            # An abandoned write-only workbook keeps a temporary file per sheet and open
            # generators that complain when collected; saving it nowhere closes both.
            self._saved = True
            with contextlib.suppress(Exception):
                self.workbook.save(io.BytesIO())


class SheetWriter:
    """One worksheet with an optional preamble (title lines, "" for a blank one), a bold
    header row that stays frozen with an autofilter over the data, fixed column widths, and
    rows appended one at a time in a single pass."""

    def __init__(self, book: SheetBook, title: str, columns: list[Column], *, preamble, stream):
        self.columns = columns
        self.sheet = book.workbook.create_sheet(clean_text(title))
        # A write-only sheet writes each row out before the next: a styled cell can be reused.
        # A normal sheet keeps the cell objects it is given, so it needs new ones every row.
        self._reuse_cells = isinstance(self.sheet, WriteOnlyWorksheet)
        for index, column in enumerate(columns, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = column.width
        preamble = list(preamble)
        self.header_row = len(preamble) + 1
        self.sheet.freeze_panes = f"A{self.header_row + 1}"
        self._rows_written = 0
        for index, line in enumerate(preamble):
            self.sheet.append([self._title(line, big=index == 0) if line else None])
        self.sheet.append([self._header(column.header) for column in columns])
        self._stream = _RowStream(self, book.tmp_dir) if stream else None
        self._convert = [self._converter(column.kind) for column in columns]

    @property
    def streamed(self) -> bool:
        return self._stream is not None

    # -- cells ------------------------------------------------------------------------
    def styled(self, *, number_format: str | None = None, quote_prefix: bool = False) -> Cell:
        cell = WriteOnlyCell(self.sheet)
        if number_format:
            cell.number_format = number_format
        if quote_prefix:
            cell.quotePrefix = True
        return cell

    def _title(self, text: str, *, big: bool) -> Cell:
        cell = WriteOnlyCell(self.sheet)
        if big:
            cell.font = _TITLE_FONT
        return self._as_text(cell, clean_text(text))

    def _header(self, text: str) -> Cell:
        cell = WriteOnlyCell(self.sheet, value=clean_text(text))
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="center")
        return cell

    @staticmethod
    def _as_text(cell: Cell, text: str) -> Cell:
        cell.value = text
        cell.data_type = "s"  # never "f", whatever the text starts with
        return cell

    def _cell_like(self, template: Cell) -> Cell:
        if self._reuse_cells:
            return template
        cell = WriteOnlyCell(self.sheet)
        cell._style = copy(template._style)
        return cell

    def _converter(self, kind: str) -> Callable:
        """A function turning one value of a column into what ``append`` takes. Plain values
        are passed through (cheapest); a styled cell is made once per column and, in a
        write-only sheet, reused for every row."""
        if kind == MONEY:
            money = self.styled(number_format=MONEY_FORMAT)

            def to_money(value):
                if value is None:
                    return None
                cell = self._cell_like(money)
                cell.value = _decimal(value)
                return cell

            return to_money
        if kind in (TIME, WALL_TIME):
            when = self.styled(number_format=TIME_FORMAT)
            wall_clock = kind == WALL_TIME

            def to_time(value):
                if value is None:
                    return None
                cell = self._cell_like(when)
                cell.value = local_naive(value, wall_clock=wall_clock)
                return cell

            return to_time
        if kind == NUMBER:
            return lambda value: value
        text_cell = self.styled(quote_prefix=True)

        def to_text(value):
            if value is None or value == "":
                return None
            value = clean_text(value)
            if value.startswith(FORMULA_TRIGGERS):
                return self._as_text(self._cell_like(text_cell), value)
            return value

        return to_text

    # -- rows -------------------------------------------------------------------------
    def append(self, values) -> None:
        if self._stream is not None:
            self._stream.append(values)
        else:
            convert = self._convert
            self.sheet.append([convert[i](value) for i, value in enumerate(values)])
        self._rows_written += 1

    def append_cells(self, cells: list) -> None:
        """A row outside the table's columns (a total line, a blank spacer)."""
        self.sheet.append(cells)

    def money(self, value: Decimal, *, bold: bool = False) -> Cell:
        cell = WriteOnlyCell(self.sheet, value=_decimal(value))
        cell.number_format = MONEY_FORMAT
        if bold:
            cell.font = _HEADER_FONT
        return cell

    def bold(self, value) -> Cell:
        cell = WriteOnlyCell(
            self.sheet, value=clean_text(value) if isinstance(value, str) else value
        )
        cell.font = _HEADER_FONT
        return cell

    def finish(self, *, filter_rows: bool = True) -> int:
        """Adds the autofilter over the header and the rows written; returns the row count."""
        if filter_rows:
            last_column = get_column_letter(len(self.columns))
            last_row = self.header_row + max(self._rows_written, 1)
            self.sheet.auto_filter.ref = f"A{self.header_row}:{last_column}{last_row}"
        return self._rows_written

    def close_stream(self) -> str:
        return self._stream.close()

    def dimension(self) -> str:
        """The used range of a streamed sheet, ``A1:M100002``: the header and the rows."""
        last_row = max(self.header_row, self._stream.last_row)
        return f"A1:{get_column_letter(len(self.columns))}{last_row}"


def _decimal(value) -> Decimal:
    if not isinstance(value, Decimal):
        raise TypeError(f"money must be a Decimal, got {type(value).__name__}")
    return value


# --- streamed rows --------------------------------------------------------------------------
# Distinct texts per column whose cell XML a stream keeps (``_RowStream``): a shop, a kind, a
# payment method, an agent repeat on every row; an order number or a nickname rarely does, and
# a column stops adding once it holds this many (memory stays bounded: about 0.3 MB a column).
TEXT_CELLS_KEPT = 2048


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _RowStream:
    """Serialises a table's rows as openpyxl's write-only writer would (inline strings, style
    ids from the workbook's own stylesheet), into a temporary file.

    Each column's kind has a function turning a value into its cell's XML from the closing
    quote of its reference on (``'" t="n"><v>12</v></c>'``), which a row puts behind
    ``<c r="A`` and the row's number. The
    text of a repeated value is worked out once per column (``TEXT_CELLS_KEPT``), and a time's
    whole days once per date: serialising the finance sheet's 100,000 detail rows took 1.45 s
    of CPU a cell at a time, 1.08 s so (median of 5), the file byte for byte the same. The
    tests hold the cells equal to openpyxl's own and each time to its ``to_excel``."""

    def __init__(self, writer: SheetWriter, tmp_dir):
        self._next_row = writer.header_row + 1
        handle, self.path = tempfile.mkstemp(suffix=".rows.xml", dir=tmp_dir)
        self._file = os.fdopen(handle, "w", encoding="utf-8", buffering=1024 * 1024)
        money = writer.styled(number_format=MONEY_FORMAT).style_id
        when = writer.styled(number_format=TIME_FORMAT).style_id
        quoted = writer.styled(quote_prefix=True).style_id
        epoch = writer.sheet.parent.epoch
        beijing = timezone.get_current_timezone()  # looked up once, not per row

        def text_xml(value) -> str:
            value = clean_text(value)
            style = f' s="{quoted}"' if value.startswith(FORMULA_TRIGGERS) else ""
            space = ' xml:space="preserve"' if value != value.strip() else ""
            return f'"{style} t="inlineStr"><is><t{space}>{_escape(value)}</t></is></c>'

        def text_column() -> Callable:
            known: dict[str, str] = {}

            def text(value) -> str:
                # Only a str is looked up: 1 == True == Decimal("1.0") as keys, not as texts.
                if type(value) is not str:
                    return text_xml(value)
                xml = known.get(value)
                if xml is None:
                    xml = text_xml(value)
                    if len(known) < TEXT_CELLS_KEPT:
                        known[value] = xml
                return xml

            return text

        def number(value) -> str:
            return f'" t="n"><v>{int(value)}</v></c>'

        def money_cell(value) -> str:
            return f'" s="{money}" t="n"><v>{_decimal(value):f}</v></c>'

        whole_days: dict = {}

        def time_cell(value, *, wall_clock: bool = False) -> str:
            if value.tzinfo is not None:
                local = value.astimezone(beijing)
            elif wall_clock:  # Beijing wall-clock time already (WALL_TIME)
                local = value
            else:
                raise ValueError("a TIME cell takes an aware time")
            day = local.date()
            days = whole_days.get(day)
            if days is None:
                # openpyxl's to_excel for midnight of that day: the days since the epoch,
                # Excel's 1900 leap-year bug included; the time of day is added as it does.
                days = whole_days[day] = to_excel(datetime.combine(day, time()), epoch)
            # to_excel's own arithmetic (time_to_days), so the serial is the same float.
            serial = (
                days
                + (
                    (local.hour * 3600)
                    + (local.minute * 60)
                    + local.second
                    + local.microsecond / 10**6
                )
                / SECS_PER_DAY
            )
            return f'" s="{when}" t="n"><v>{serial:.16g}</v></c>'

        def wall_time_cell(value) -> str:
            return time_cell(value, wall_clock=True)

        kinds = {
            NUMBER: lambda: number,
            MONEY: lambda: money_cell,
            TIME: lambda: time_cell,
            WALL_TIME: lambda: wall_time_cell,
        }
        self._cells = [
            (f'<c r="{get_column_letter(index)}', kinds.get(column.kind, text_column)())
            for index, column in enumerate(writer.columns, start=1)
        ]

    def append(self, values) -> None:
        row = str(self._next_row)
        parts = ['<row r="', row, '">']
        for (opening, cell), value in zip(self._cells, values, strict=True):
            if value is not None and value != "":
                parts += (opening, row, cell(value))
        parts.append("</row>")
        self._file.write("".join(parts))
        self._next_row += 1

    @property
    def last_row(self) -> int:
        return self._next_row - 1

    def close(self) -> str:
        if not self._file.closed:
            self._file.close()
        return self.path


# What may follow <sheetPr> in a worksheet, before which <dimension> goes (ECMA-376 order).
_AFTER_DIMENSION = (b"<sheetViews", b"<sheetFormatPr", b"<cols", b"<sheetData")


# zlib level for the spliced file. Level 6 (zlib's default, what openpyxl writes) took 1.3-1.6 s
# over the 62 MB of a 100,000-row finance detail; level 2 takes 0.4-0.5 s for a file a quarter
# larger (8.5 MB against 6.7 MB), and Excel inflates both alike (bench/README.md, eleventh
# session).
COMPRESS_LEVEL = 2


def _with_dimension(head: bytes, ref: str) -> bytes:
    """``head`` (a worksheet's XML up to its rows) declaring the used range ``ref``."""
    found = [i for i in (head.find(tag) for tag in _AFTER_DIMENSION) if i >= 0]
    if not found:
        raise ValueError("the worksheet has no <sheetData>")
    at = min(found)
    return head[:at] + f'<dimension ref="{ref}"/>'.encode() + head[at:]


def _splice_rows(path: Path, streams: dict[str, tuple[str, str]]) -> None:
    """Rewrites the saved workbook with each streamed sheet's rows (``streams``: part name ->
    (rows file, used range)) placed at the end of its ``<sheetData>`` and its used range
    declared, copying in chunks (memory stays flat), then replaces the file."""
    spliced = path.with_name(path.name + ".splice")
    _private_file(spliced)
    try:
        with (
            zipfile.ZipFile(path) as source,
            zipfile.ZipFile(
                spliced, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL
            ) as target,
        ):
            for info in source.infolist():
                if info.filename not in streams:
                    target.writestr(
                        info,
                        source.read(info),
                        compress_type=zipfile.ZIP_DEFLATED,
                        compresslevel=COMPRESS_LEVEL,
                    )
                    continue
                rows_path, ref = streams[info.filename]
                head, marker, tail = source.read(info).rpartition(b"</sheetData>")
                if not marker:
                    raise ValueError(f"{info.filename} has no <sheetData> to put the rows in")
                member = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                member.compress_type = zipfile.ZIP_DEFLATED
                # A part opened from a ZipInfo is compressed at the level the ZipInfo says,
                # not the archive's; Python 3.11 names it only privately (3.13:
                # ``compress_level``). The test of the part's compressed size guards it.
                member._compresslevel = COMPRESS_LEVEL
                # Not forced to zip64: Excel is strict about zip64 headers in parts written
                # as a stream, and a rows part of 2 GiB (over three million rows) is past
                # Excel's 1,048,576 rows anyway: zipfile then refuses, and nothing stays.
                with target.open(member, "w") as out, open(rows_path, "rb") as rows:
                    out.write(_with_dimension(head, ref))
                    shutil.copyfileobj(rows, out, 1024 * 1024)
                    out.write(marker + tail)
    except BaseException:
        spliced.unlink(missing_ok=True)  # half a copy of finance's rows stays nowhere
        raise
    os.replace(spliced, path)
