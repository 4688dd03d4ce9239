"""Reading an export file: its encoding, its delimiter, its header, then its rows one by one.

The seller centre writes GBK (GB18030 is its superset); people who re-save a file write UTF-8,
with or without a byte-order mark, and Excel's "Unicode text" is UTF-16 with a mark. The
encoding is detected from the bytes, never from the file name: a byte-order mark decides;
otherwise the whole file must decode as strict UTF-8, and failing that as strict GB18030.
Chinese text in GBK is practically never valid UTF-8, so the order of the attempts is safe,
and a file that is neither is refused rather than guessed at.
"""

import codecs
import csv
import io
import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

from django.utils.translation import gettext as _

# What no text of the desk may hold, read from an import: what XML 1.0 cannot hold (C0
# controls but tab and line breaks, lone surrogates, U+FFFE/U+FFFF, so no sheet breaks), DEL
# and the C1 controls (invisible, no search matches them), and every Unicode noncharacter
# (U+FDD0-U+FDEF, the last two code points of each plane).
UNSTORABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    + "".join(
        f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(1, 17)
    )
    + "]"
)
# Every character ``UNSTORABLE`` takes, and the other astral characters from U+1FFFE on: a
# record holding none (nearly every one) needs no other look. ``re`` tries a character class's
# items one by one, and UNSTORABLE's 32 astral noncharacters are 32 items tried for every
# character of the record: 0.27 s for 25,000 order rows, against 0.03 s with this one range.
_MAYBE_UNSTORABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    "\U0001fffe-\U0010ffff]"
)

CHUNK_BYTES = 1 << 20
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"
# Label shown to people for each codec the reader may use.
ENCODING_LABELS = {
    "utf-8-sig": "UTF-8 (BOM)",
    "utf-8": "UTF-8",
    "gb18030": "GBK/GB18030",
    "utf-16": "UTF-16",
}
csv.field_size_limit(1 << 20)


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message says why, for the user."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def _decodes(binary: BinaryIO, encoding: str) -> bool:
    binary.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    wide = encoding.startswith("utf-16")
    try:
        while chunk := binary.read(CHUNK_BYTES):
            if not wide and b"\x00" in chunk:
                raise ImportFileError(_("文件里有二进制内容，不是 CSV 文本文件。"))
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(binary: BinaryIO) -> str:
    """The codec to read ``binary`` with (a seekable file opened in binary mode)."""
    binary.seek(0)
    head = binary.read(4)
    binary.seek(0)
    if not head:
        raise ImportFileError(_("文件是空的。"))
    if head.startswith(_ZIP) or head.startswith(_OLE):
        raise ImportFileError(_("这是 Excel 工作簿，不是 CSV。请上传卖家中心导出的原始 CSV 文件。"))
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = next((e for e in ("utf-8", "gb18030") if _decodes(binary, e)), None)
        if encoding is None:
            raise ImportFileError(
                _("无法识别文件编码：支持 GBK/GB18030 和 UTF-8（含 BOM）的 CSV 文件。")
            )
        binary.seek(0)
        return encoding
    if not _decodes(binary, encoding):
        raise ImportFileError(
            _("文件开头标明是 %(encoding)s 编码，但内容不是。")
            % {"encoding": ENCODING_LABELS[encoding]}
        )
    binary.seek(0)
    return encoding


@dataclass
class CsvFile:
    """An open export: its encoding, header row and a stream of (line number, cells)."""

    encoding: str
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]

    @property
    def encoding_label(self) -> str:
        return ENCODING_LABELS.get(self.encoding, self.encoding)


def _records(reader) -> Iterator[tuple[int, list[str]]]:
    """Non-empty records with the line each starts on (a quoted cell may span lines), each cell
    without the characters no text of the desk may hold (``UNSTORABLE``: control characters
    but tab and line breaks, noncharacters, lone surrogates): stored, they made a nickname or
    a title that no typed search matches and no sheet can carry (issue 12)."""
    last_line = reader.line_num
    for cells in reader:
        start, last_line = last_line + 1, reader.line_num
        joined = "\t".join(cells)
        if _MAYBE_UNSTORABLE.search(joined) and UNSTORABLE.search(joined):
            cells = [UNSTORABLE.sub("", cell) for cell in cells]
            joined = "\t".join(cells)
        # Some cell holds more than white space (the tabs joining them are white space too).
        if joined.strip():
            yield start, cells


@contextmanager
def open_csv(binary: BinaryIO) -> Iterator[CsvFile]:
    """Opens an export for streaming. The header is the first non-empty record."""
    encoding = detect_encoding(binary)
    text = io.TextIOWrapper(binary, encoding=encoding, newline="")
    try:
        first = text.readline()
        delimiter = "\t" if first.count("\t") > first.count(",") else ","
        reader = csv.reader(itertools.chain([first], text), delimiter=delimiter)
        records = _records(reader)
        try:
            _line, header = next(records)
        except StopIteration:
            raise ImportFileError(_("文件里没有表头和数据。")) from None
        except csv.Error as exc:
            raise ImportFileError(_("文件不是有效的 CSV：%(error)s") % {"error": exc}) from exc
        yield CsvFile(encoding, header, _guarded(records))
    finally:
        # The caller owns the binary file; detach so closing the wrapper leaves it open.
        text.detach()


def _guarded(records: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    try:
        yield from records
    except csv.Error as exc:
        raise ImportFileError(_("文件不是有效的 CSV：%(error)s") % {"error": exc}) from exc
