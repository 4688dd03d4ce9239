"""Normalising what people and scanners type, so the same thing is stored one way."""

import re
import unicodedata

# Characters that print as nothing although Unicode files them as letters (Hangul fillers,
# the braille blank): with the format characters (zero-width space, joiners, BOM) they make
# text that looks empty.
_BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}
TRACKING_NO = re.compile(r"[A-Z0-9-]{6,40}")
# A long number a spreadsheet turned into a floating-point one shows in scientific notation:
# 1.39E+10, 8.6139E+12, 3.515E+18 (a comma where the decimal point is a comma). Its last
# digits are gone.
_SCIENTIFIC = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?E[+-]?[0-9]+", re.IGNORECASE)
# The same for a column that may hold letters (tracking numbers, merchant codes): only as
# spreadsheets write it, with a decimal point or a signed exponent, so that a code like 23E05
# is read as the code it is.
_SCIENTIFIC_SHOWN = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+E[+-]?|E[+-])[0-9]+", re.IGNORECASE)


def _visible(ch: str) -> bool:
    # Control characters (category Cc: the escape, STX/ETX and the group separator a scanner
    # sends around or inside a code) print as nothing too.
    return (
        not ch.isspace()
        and unicodedata.category(ch) not in ("Cf", "Cc")
        and ch not in _BLANK_LETTERS
    )


def fold_case(text: str) -> str:
    """``text`` in upper case one character at a time, as PostgreSQL's UPPER folds it (each
    character to one): Python's ``str.upper`` turns some into several ('ß' -> 'SS',
    'ﬁ' -> 'FI'), which PostgreSQL leaves as they are, so SQLite and PostgreSQL would find
    different nicknames. Used on SQLite for both sides of a nickname match."""
    upper = text.upper()
    if len(upper) == len(text):
        return upper  # every character mapped to one (upper case never shortens)
    return "".join(u if len(u := ch.upper()) == 1 else ch for ch in text)


def normalise_tracking_no(raw: str | None) -> str:
    """Tracking numbers as one string: full-width forms read as ASCII, nothing invisible, no
    spaces anywhere, upper case (' ｙｔ 123\\u200b\\n' -> 'YT123')."""
    return search_text(raw).upper()


def search_text(raw: str | None) -> str:
    """What someone typed or pasted into a search box, read as what it shows: full-width
    letters and digits as ASCII (NFKC: 'ＴＢ０５２０１５' -> 'TB052015'), without whitespace
    or invisible characters (zero-width space, BOM, joiners pasted from IM). Case is kept."""
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(ch for ch in text if _visible(ch))


def digits_lost(raw: str | None, *, letters: bool = False) -> bool:
    """Whether an identifier cell (a phone, an order, sub-order, refund or Alipay number, a
    tracking number, a merchant code) shows a number a spreadsheet turned into scientific
    notation, so that its digits are gone: '1.39E+10', '8.6139E+12', '３.５１５E+18'.
    ``letters``: the column may hold letters too, and only the forms spreadsheets write count
    ('1.39E+10', '139E+10'; not '23E05', a merchant's code). Such a value is never stored as if
    it were the number (issue 12, section 4)."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    pattern = _SCIENTIFIC_SHOWN if letters else _SCIENTIFIC
    return pattern.fullmatch(text) is not None


# Excel keeps 15 significant digits of a number: a longer identifier it read as a number and
# saved with the number format "0" shows its first 15 digits and zeros after them.
EXCEL_DIGITS = 15


def excel_padded(value: str) -> bool:
    """Whether ``value`` (an identifier as read) is digits only, longer than Excel's 15, with
    nothing but zeros after the 15th: what Excel writes for a long number it stored as one
    ('3515026031512340000'). A real number ends so once in thousands, so one such value proves
    nothing; ``excel_padded_column`` judges a column."""
    return (
        len(value) > EXCEL_DIGITS
        and value.isascii()
        and value.isdigit()
        and set(value[EXCEL_DIGITS:]) == {"0"}
    )


def excel_padded_column(long_numbers: int, padded: int) -> bool:
    """Whether a column of a file whose ``long_numbers`` identifiers are longer than 15 digits,
    ``padded`` of them ``excel_padded``, was saved by Excel as numbers: two or more padded, and
    at least half of the long ones (a real export of 10,000 orders holds a few by chance; a
    file Excel saved holds nothing else). Issue 12 section 4."""
    return padded >= 2 and padded * 2 >= long_numbers


def digits_lost_message(label: str, value: str) -> str:
    """What to tell the user about ``value`` of the column ``label`` (``digits_lost``)."""
    from django.utils.translation import gettext as _

    return _(
        "%(label)s“%(value)s”已被表格软件改成科学计数法，原来的号码已经丢失。"
        "请从原始文件重新导出或把这一列设成文本后重新填写，不要用 Excel 打开后直接保存。"
    ) % {"label": label, "value": value[:40]}


def tracking_no_refusal(tracking_no: str) -> str | None:
    """Why a normalised tracking number can't be a courier's (6-40 letters, digits or '-'; not
    a number a spreadsheet showed in scientific notation), or None when it can."""
    from django.utils.translation import gettext as _

    if digits_lost(tracking_no, letters=True):
        return digits_lost_message(_("运单号"), tracking_no)
    if TRACKING_NO.fullmatch(tracking_no):
        return None
    return _("运单号“%(no)s”格式不对：应为 6-40 位字母或数字。") % {"no": tracking_no[:40]}


def meaningful_text(raw: str | None) -> str:
    """``raw`` stripped, or "" when nothing in it can be read: whitespace of any kind,
    invisible format characters (zero-width space, joiners, BOM) and blank letters (Hangul
    filler) don't make a reason."""
    text = (raw or "").strip()
    return text if any(_visible(ch) for ch in text) else ""


def plain_int(raw: str | None, *, digits: int = 18) -> int | None:
    """A whole number written with ASCII digits only (at most ``digits`` of them, so it fits
    a 64-bit id), or None. Unlike ``str.isdigit`` it refuses '²' and other scripts' digits,
    which ``int()`` would choke on or read differently."""
    text = (raw or "").strip()
    if text.isascii() and text.isdigit() and len(text) <= digits:
        return int(text)
    return None


# What every tracking-number column of the desk holds (parcels, tickets, orders, loss reports,
# invoices): a number is checked against it after normalising, which may lengthen it (NFKC
# writes 'ﷺ' as 18 letters).
TRACKING_NO_LENGTH = 40


def tracking_no_length_refusal(tracking_no: str) -> str | None:
    """Why a normalised tracking number can't be stored: longer than ``TRACKING_NO_LENGTH``
    characters (the form allowed 60, the column holds 40: a server error on PostgreSQL, issue
    12 section 1), or None when it fits."""
    from django.utils.translation import gettext as _

    if len(tracking_no) <= TRACKING_NO_LENGTH:
        return None
    return _("运单号最多 %(limit)s 个字符（现在 %(n)s 个），请检查是否扫描了两次。") % {
        "limit": TRACKING_NO_LENGTH,
        "n": len(tracking_no),
    }
