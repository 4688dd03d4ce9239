"""Normalising what people and scanners type, so the same thing is stored one way."""


def normalise_tracking_no(raw: str) -> str:
    """Tracking numbers: no spaces anywhere, upper case (' yt 123\\n' -> 'YT123')."""
    return "".join((raw or "").split()).upper()


def meaningful_text(raw: str | None) -> str:
    """``raw`` stripped, or "" when nothing in it can be read: whitespace of any kind, and
    invisible format characters (zero-width space, joiners, BOM) don't make a reason."""
    import unicodedata

    text = (raw or "").strip()
    visible = [ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf"]
    return text if visible else ""
