"""Normalising what people and scanners type, so the same thing is stored one way."""


def normalise_tracking_no(raw: str) -> str:
    """Tracking numbers: no spaces anywhere, upper case (' yt 123\\n' -> 'YT123')."""
    return "".join((raw or "").split()).upper()
