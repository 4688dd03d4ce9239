"""Writing sheets with openpyxl's write-only mode: rows stream to disk, memory stays flat.

Finance opens these files in Excel, so two rules hold for every cell:

- Text that came from a person (a buyer's nickname, a note, a shop name, an order number from an
  import) is always a text cell. Text starting with ``=``, ``+``, ``-``, ``@``, tab, CR or LF is
  additionally marked with Excel's "quote prefix", so Excel shows it as typed and never
  evaluates it, not even after someone edits the cell (CSV/formula injection).
- Money is a number (a ``Decimal``, never a float) formatted ``¥#,##0.00``, so totals can be
  re-added in Excel.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

MONEY_FORMAT = "¥#,##0.00"
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
# What Excel (and LibreOffice, Google Sheets) would read as the start of a formula or command.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")

TEXT = "text"  # anything a person typed or imported
MONEY = "money"
TIME = "time"
NUMBER = "number"  # counts and ids

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="F3F4F6")
_TITLE_FONT = Font(bold=True, size=14)


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    kind: str = TEXT


def local_naive(moment: datetime | None) -> datetime | None:
    """Excel has no time zones: times are written as Beijing wall-clock time."""
    if moment is None:
        return None
    return timezone.localtime(moment).replace(tzinfo=None)


class SheetWriter:
    """One write-only worksheet with an optional preamble (title lines, "" for a blank one), a
    bold header row
    that stays frozen with an autofilter over the data, fixed column widths, and rows
    appended one at a time in a single pass."""

    def __init__(
        self,
        book: Workbook,
        title: str,
        columns: list[Column],
        *,
        preamble: Iterable[str] = (),
    ):
        self.columns = columns
        self.sheet: WriteOnlyWorksheet = book.create_sheet(title)
        for index, column in enumerate(columns, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = column.width
        preamble = list(preamble)
        self.header_row = len(preamble) + 1
        self.sheet.freeze_panes = f"A{self.header_row + 1}"
        self._rows_written = 0
        self._convert = [self._converter(column.kind) for column in columns]
        for index, line in enumerate(preamble):
            self.sheet.append([self._title(line, big=index == 0) if line else None])
        self.sheet.append([self._header(column.header) for column in columns])

    # -- cells ------------------------------------------------------------------------
    def _styled(self, *, number_format: str | None = None, quote_prefix: bool = False):
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
        return self._as_text(cell, text)

    def _header(self, text: str) -> Cell:
        cell = WriteOnlyCell(self.sheet, value=text)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="center")
        return cell

    @staticmethod
    def _as_text(cell: Cell, text: str) -> Cell:
        cell.value = text
        cell.data_type = "s"  # never "f", whatever the text starts with
        return cell

    def _converter(self, kind: str) -> Callable:
        """A function turning one value of a column into what ``append`` takes. Plain values
        are passed through (cheapest); a styled cell is made once per column and reused:
        openpyxl writes a row's cells before the next row is appended."""
        if kind == MONEY:
            money = self._styled(number_format=MONEY_FORMAT)

            def to_money(value):
                if value is None:
                    return None
                if not isinstance(value, Decimal):
                    raise TypeError(f"money must be a Decimal, got {type(value).__name__}")
                money.value = value
                return money

            return to_money
        if kind == TIME:
            when = self._styled(number_format=TIME_FORMAT)

            def to_time(value):
                if value is None:
                    return None
                when.value = local_naive(value)
                return when

            return to_time
        if kind == NUMBER:
            return lambda value: value
        text_cell = self._styled(quote_prefix=True)

        def to_text(value):
            if value is None or value == "":
                return None
            value = str(value)
            if value.startswith(FORMULA_TRIGGERS):
                return self._as_text(text_cell, value)
            return value

        return to_text

    # -- rows -------------------------------------------------------------------------
    def append(self, values) -> None:
        convert = self._convert
        self.sheet.append([convert[i](value) for i, value in enumerate(values)])
        self._rows_written += 1

    def append_cells(self, cells: list) -> None:
        """A row outside the table's columns (a total line, a blank spacer)."""
        self.sheet.append(cells)

    def text(self, value: str) -> Cell | str | None:
        """A free-standing text cell with the same protection as table cells."""
        if not value:
            return None
        value = str(value)
        if value.startswith(FORMULA_TRIGGERS):
            cell = WriteOnlyCell(self.sheet)
            cell.quotePrefix = True
            return self._as_text(cell, value)
        return value

    def money(self, value: Decimal, *, bold: bool = False) -> Cell:
        cell = WriteOnlyCell(self.sheet, value=value)
        cell.number_format = MONEY_FORMAT
        if bold:
            cell.font = _HEADER_FONT
        return cell

    def bold(self, value) -> Cell:
        cell = WriteOnlyCell(self.sheet, value=value)
        cell.font = _HEADER_FONT
        return cell

    def finish(self, *, filter_rows: bool = True) -> int:
        """Adds the autofilter over the header and the rows written; returns the row count."""
        if filter_rows:
            last_column = get_column_letter(len(self.columns))
            last_row = self.header_row + max(self._rows_written, 1)
            self.sheet.auto_filter.ref = f"A{self.header_row}:{last_column}{last_row}"
        return self._rows_written
