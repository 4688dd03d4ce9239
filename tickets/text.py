"""Normalising what people and scanners type, so the same thing is stored one way."""

import re
import unicodedata

# Characters that print as nothing although Unicode files them as letters (Hangul fillers,
# the braille blank): with the format characters (zero-width space, joiners, BOM) they make
# text that looks empty.
_BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}
TRACKING_NO = re.compile(r"[A-Z0-9-]{6,40}")


def _visible(ch: str) -> bool:
    return not ch.isspace() and unicodedata.category(ch) != "Cf" and ch not in _BLANK_LETTERS


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


def tracking_no_refusal(tracking_no: str) -> str | None:
    """Why a normalised tracking number can't be a courier's (6-40 letters, digits or '-'),
    or None when it can."""
    from django.utils.translation import gettext as _

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
