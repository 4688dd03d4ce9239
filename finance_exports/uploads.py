"""Reading the tracking numbers the warehouse fills in on the exchange-goods list.

The warehouse uploads the list it was given, with the last column (新运单号) filled in; a CSV
with the columns 售后单号 and 新运单号 works too. The file comes from outside, so it is read
defensively: a size limit, a limit on what the .xlsx unpacks to, a row limit, and values
only (formulas are never evaluated).

The file has been opened and saved by someone (issue 12, section 4): WPS and other tools may
declare a used range (``<dimension ref="A1"/>``) smaller than the sheet, which openpyxl's
read-only mode trusts, so the declared size is ignored and every cell is read; and a tracking
number typed into a number cell keeps only 15 significant digits, so a number cell with more
is given as Excel shows it ('4.32123456789012E+15'), which ``tracking_no_refusal`` refuses as
a number whose digits are lost.
"""

import csv
import io
import zipfile

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from tickets.services import DeskError
from tickets.text import EXCEL_DIGITS, excel_padded, excel_padded_column

# The digits a spreadsheet keeps of a number (IEEE double, as Excel shows it).
NUMBER_DIGITS = EXCEL_DIGITS
# The files are always written in Chinese (the desk's source language), so these are fixed.
SHEET_TITLE = "换货清单"
TICKET_HEADER = "售后单号"
TRACKING_HEADER = "新运单号"
MAX_ROWS = 5000
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
HEADER_SEARCH_ROWS = 20


def read_tracking_numbers(data: bytes, filename: str) -> list[tuple[str, str]]:
    """(ticket number, tracking number) for every row with both filled in."""
    if len(data) > settings.FINANCE_TRACKING_UPLOAD_MAX_BYTES:
        raise DeskError(
            _("文件太大（上限 %(mb)s MB）。")
            % {"mb": settings.FINANCE_TRACKING_UPLOAD_MAX_BYTES // (1024 * 1024)}
        )
    if data.startswith(b"PK\x03\x04"):
        rows = _xlsx_rows(data)
    elif filename.lower().endswith(".csv"):
        rows = _csv_rows(data)
    else:
        raise DeskError(_("请上传换货清单的 .xlsx 文件或 .csv 文件。"))
    pairs = _pairs(rows)
    _refuse_excel_padding([tracking_no for _number, tracking_no in pairs])
    return pairs


def _refuse_excel_padding(tracking_numbers: list[str]) -> None:
    """Raises ``DeskError`` when the tracking numbers are Excel's 15 digits and zeros
    (``excel_padded_column``): pasted from a number cell, their last digits are gone."""
    long_numbers = [n for n in tracking_numbers if len(n) > EXCEL_DIGITS and n.isdigit()]
    padded = [n for n in long_numbers if excel_padded(n)]
    if excel_padded_column(len(long_numbers), len(padded)):
        raise DeskError(
            _(
                "有 %(n)s 个新运单号从第 16 位起都是 0（例如“%(value)s”）：它们被 Excel 当作数字"
                "保存过，后面的数字已经丢失。请把这一列设成文本，重新填写后再上传。"
            )
            % {"n": len(padded), "value": padded[0]}
        )


def _xlsx_rows(data: bytes):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise DeskError(_("文件无法读取，请上传换货清单的 .xlsx 文件。")) from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise DeskError(_("文件内容过大，无法读取。"))
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of errors on a damaged file
        raise DeskError(_("文件无法读取，请上传换货清单的 .xlsx 文件。")) from exc
    try:
        sheet = book[SHEET_TITLE] if SHEET_TITLE in book.sheetnames else book.worksheets[0]
        sheet.reset_dimensions()  # whatever size the file declares: every column, every row
        yield from sheet.iter_rows(values_only=True, max_row=MAX_ROWS + HEADER_SEARCH_ROWS)
    finally:
        book.close()


def _csv_rows(data: bytes):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DeskError(_("CSV 文件的编码无法识别，请另存为 UTF-8。"))
    yield from csv.reader(io.StringIO(text))


def _cell(value) -> str:
    """A cell's value as text without spaces. A number is written out whole while a spreadsheet
    holds all its digits ('75123456789012'), and as Excel shows it once it cannot
    ('4.32123456789012E+15'), so a tracking number whose digits are lost is never taken."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 10**NUMBER_DIGITS:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if len(str(abs(value))) > NUMBER_DIGITS:
            return f"{value:.{NUMBER_DIGITS - 1}E}"
        return str(value)
    if isinstance(value, float):
        return f"{value:.{NUMBER_DIGITS - 1}E}"
    return "".join(str(value).split())


def _pairs(rows) -> list[tuple[str, str]]:
    ticket_col = tracking_col = None
    pairs: list[tuple[str, str]] = []
    for index, row in enumerate(rows):
        cells = [_cell(value) for value in row]
        if ticket_col is None:
            if TICKET_HEADER in cells and TRACKING_HEADER in cells:
                ticket_col, tracking_col = cells.index(TICKET_HEADER), cells.index(TRACKING_HEADER)
            elif index >= HEADER_SEARCH_ROWS:
                break
            continue
        if len(pairs) >= MAX_ROWS:
            raise DeskError(_("一次最多上传 %(n)s 行。") % {"n": MAX_ROWS})
        width = max(ticket_col, tracking_col)
        if len(cells) <= width:
            continue
        number, tracking_no = cells[ticket_col].upper(), cells[tracking_col]
        if number and tracking_no:
            pairs.append((number, tracking_no))
    if ticket_col is None:
        raise DeskError(
            _("没有找到“%(a)s”和“%(b)s”两列。请上传换货清单文件，把运单号填在“%(b)s”一列。")
            % {"a": TICKET_HEADER, "b": TRACKING_HEADER}
        )
    return pairs
