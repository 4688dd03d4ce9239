"""Path converters the desk's URLs share (issue 12, section 1: every id is checked before it
reaches the database)."""


class IdConverter:
    """``<id:pk>``: a row's id in a URL, 1 to 18 ASCII digits, so it always fits the database's
    64-bit ids (Django's ``<int:...>`` takes any number of digits; a 25-digit id overflowed
    PostgreSQL's bigint: a server error). A longer number, like any non-number, matches no URL:
    the 404 page. ``to_python`` gives an ``int``; ``to_url`` writes one."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))
