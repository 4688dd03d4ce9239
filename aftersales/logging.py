"""Nothing the desk or its servers write to a log carries a buyer's phone number, a URL's query
string or a session id (QUALITY.md section 8, issue 12 section 5).

A query string is personal data by nature: the desk's searches put phones, nicknames, names
and addresses there (``/orders/?q=13812345678``, ``/buyers/?nick=…``), so logs never carry
one, whatever it holds. A nickname or a name cannot be recognised in free text; they reach a
log only through a URL, and that door is closed.

One rule (``redact``), applied at every door:

- Python's logging (Django's request and security loggers, ``runserver``, Celery, the desk's
  own loggers): the ``RedactPersonalData`` filter sits on every handler ``settings.LOGGING``
  configures, and rewrites the message, the traceback and the stack of each record.
- gunicorn (the web process of the ``Procfile``): ``aftersales.gunicorn_conf`` writes the
  access log without query strings, referrers or cookies, and puts the same filter on its error
  log, which names a failing request's URL.
"""

import logging
import re

# A mainland mobile number, bare or written 138-1234-5678 / 138 1234 5678 / +86 138...
_PHONE = re.compile(r"(?<!\d)(?:\+?86[-\s]?)?(1[3-9]\d)[-\s]?(\d{4})[-\s]?(\d{4})(?!\d)")
_SESSION = re.compile(r"""(sessionid["']?\s*[=:]\s*["']?)[^;\s"',]+""", re.IGNORECASE)
# A URL's query string: what follows "?" after a path (or a whole http://host/path URL).
_QUERY = re.compile(r"""(/[^\s?#"'<>]*)\?[^\s"'<>]+""")

REDACTED = "[redacted]"


def redact(text: str) -> str:
    """``text`` with every query string, mobile number and session id taken out.

    Query strings become ``?[redacted]``, a mobile number its masked form (``138****5678``,
    as the pages show it), a session cookie's value ``[redacted]``. Takes and returns ``str``;
    never raises. Rule: QUALITY.md section 8, issue 12 section 5.
    """
    text = _QUERY.sub(rf"\1?{REDACTED}", text)
    text = _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    return _SESSION.sub(rf"\1{REDACTED}", text)


class RedactPersonalData(logging.Filter):
    """A handler filter that runs ``redact`` over a record's formatted message, traceback and
    stack before any formatter sees them; it never drops a record (always returns True)."""

    _traceback = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set, so the traceback is written redacted.
            record.exc_text = self._traceback.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def handler_redacts(handler: logging.Handler) -> bool:
    """True when ``handler`` runs ``RedactPersonalData`` over what it writes."""
    return any(isinstance(f, RedactPersonalData) for f in handler.filters)
