"""Nothing the desk or its servers write to a log carries a buyer's phone number, a URL's query
string or a session id (QUALITY.md section 8, issue 12 section 5).

A query string is personal data by nature: the desk's searches put phones, nicknames, names
and addresses there (``/orders/?q=13812345678``, ``/buyers/?nick=…``), so logs never carry
one, whatever it holds. A nickname or a name cannot be recognised in free text; they reach a
log only through a URL, and that door is closed: a path in a request's log line keeps only
the words of the desk's own routes and numbers (``redact_path``), so ``/orders/张三/`` typed
into the address bar is logged as ``/orders/*/``.

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
from urllib.parse import unquote

# A mainland mobile number, bare or written 138-1234-5678 / 138 1234 5678 / 138.1234.5678 /
# +86 138..., or with the dashes a Chinese input method types (一 for -, 138一1234一5678; —, －).
_PHONE_SEPARATOR = r"[-\s.\u4e00\u2014\u2013\uff0d\uff0e]?"
_PHONE = re.compile(
    rf"(?<!\d)(?:(?:\+|00)?86[-\s]?|0)?(1[3-9]\d){_PHONE_SEPARATOR}(\d{{4}}){_PHONE_SEPARATOR}"
    r"(\d{4})(?!\d)"
)
# Full-width digits (１３８１２３４５６７８, as a Chinese input method types them) read as ASCII
# ones when looking for phone numbers; one character for one, so the places stay the same.
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
# An email address (an Alipay account is often one).
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# A credential in free text: an Authorization header's value (its scheme kept), a bearer
# token anywhere, the desk's API tokens (dsk_ and URL-safe Base64, api/tokens.py).
_AUTHORIZATION = re.compile(
    r"""(?i)(authorization["']?\s*[:=]\s*["']?)(?:(bearer|basic|token)\s+)?[^\s"',;]+"""
)
_BEARER = re.compile(r"""(?i)\b(bearer)\s+(?!\[redacted\])[^\s"',;]+""")
_API_TOKEN = re.compile(r"\bdsk_[A-Za-z0-9_-]+")
# A mainland landline: its area code (010, 021, 0571 ...) and 7-8 digits.
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[-\s]?(\d{3,4})[-\s]?(\d{4})(?!\d)")
# An identifier that is no phone number even where its digits would read as one: a UUID (a
# Celery task's id) or a run of 32 or more hexadecimal digits (a UUID without its hyphens, a
# hash), standing as a word of its own. Their digits are left as written.
_HEX_ID = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32,})"
    r"(?![0-9A-Za-z])"
)
# Django's CSRF refusals quote the request's Origin or Referer, which may name a page and its
# search; its DisallowedHost quotes the Host header, text the client wrote.
_CSRF_QUOTE = re.compile(r"(checking failed - ).*?( does not match)")
_BAD_HOST = re.compile(r"(Invalid HTTP_HOST header: ).*", re.DOTALL)
_SESSION = re.compile(r"""(sessionid["']?\s*[=:]\s*["']?)[^;\s"',]+""", re.IGNORECASE)
# A URL's query string: what follows "?" after a path (or a whole http://host/path URL).
_QUERY = re.compile(r"""(/[^\s?#"'<>]*)\?[^\s"'<>]+""")
# A query string without its "?" (a form's body, "name=张三&phone=..." in a message): two or
# more key=value pairs joined by "&". The keys stay, every value goes.
_PAIR = r"""[\w.%\[\]-]+=[^\s&#"'<>]*"""
_QUERY_PAIRS = re.compile(rf"(?<![\w.%\[\]-]){_PAIR}(?:&{_PAIR})+")

REDACTED = "[redacted]"
# What stands in a logged path for a segment that is neither a route's word nor a number.
MASKED_SEGMENT = "*"
# The loggers whose messages name a request's path: Django's "Not Found: /path", runserver's
# '"GET /path HTTP/1.1" 404', gunicorn's "Error handling request /path".
PATH_LOGGERS = frozenset({"django.request", "django.server", "gunicorn.error"})
# gunicorn's own lines that name the server's files and sockets, never a request's path: their
# paths stay as written (phones are still masked).
SERVER_PATH_LINES = frozenset(
    {
        "Control socket listening at %s",
        "Worker reloading: %s modified",
        "Listening at: %s (%s)",
        "Listening at: %s",
        "Spawned dirty arbiter (pid: %s) at %s",
    }
)
# A path standing alone in a log message: after a space, a quote or the start.
_LOGGED_PATH = re.compile(r"""(?:(?<=[\s"'])|^)/[^\s?#"'<>]*""")
_NUMBER = re.compile(r"[0-9]+")
# A static file's name (the desk's own files under STATIC_URL): ASCII only.
_FILE_NAME = re.compile(r"[A-Za-z0-9_.-]+")


_ROUTE_WORDS: frozenset[str] | None = None


def _route_words() -> frozenset[str]:
    """Every literal word of the desk's URL patterns, the admin's included (its regexes' words
    too: app labels, model names, ``change``, ``history``). Read once from the resolver and
    kept; an empty set, not kept, while the URLconf cannot be loaded yet (a line logged before
    the application is: then every non-number is masked, and the next line asks again)."""
    global _ROUTE_WORDS
    if _ROUTE_WORDS is not None:
        return _ROUTE_WORDS
    try:
        from django.urls import get_resolver

        words: set[str] = set()
        pending = [get_resolver()]
        while pending:
            resolver = pending.pop()
            for entry in resolver.url_patterns:
                words.update(re.findall(r"[A-Za-z_][A-Za-z0-9_.-]*", str(entry.pattern)))
                if hasattr(entry, "url_patterns"):
                    pending.append(entry)
    except Exception:  # a log line must never fail for this
        return frozenset()
    _ROUTE_WORDS = frozenset(words)
    return _ROUTE_WORDS


# The folders of the desk's static files (a segment under STATIC_URL that is neither these nor
# a file name with its extension is masked like any other: /static/tb8821/).
_STATIC_DIRS = frozenset(
    {"admin", "css", "js", "img", "images", "fonts", "icons", "simple_history"}
)


def _static_prefix() -> str:
    try:
        from django.conf import settings

        return "/" + (settings.STATIC_URL or "").strip("/") + "/"
    except Exception:  # settings not configured: no static prefix
        return "\0"


def redact_path(path: str) -> str:
    """A URL path (without its query string), as a log may keep it: every segment that is
    neither a word of the desk's routes nor a number is replaced by ``*``, so a nickname, a
    name or an address typed into a path (``/orders/张三/``, ``/buyers/tb8821/``) never reaches
    a log; under ``STATIC_URL`` plain ASCII file names (with their extension) and the static
    folders' names stay. Percent-encoded segments are read decoded. Takes and returns
    ``str``; never raises. Rule: QUALITY.md section 8, issue 12."""
    words = _route_words()
    prefix = _static_prefix()
    static = path.startswith(prefix)
    folders = _STATIC_DIRS | set(prefix.strip("/").split("/"))
    kept = []
    for segment in path.split("/"):
        plain = unquote(segment, errors="replace")
        if (
            not plain
            or _NUMBER.fullmatch(plain)
            or plain in words
            or (static and _FILE_NAME.fullmatch(plain) and ("." in plain or plain in folders))
        ):
            kept.append(segment)
        else:
            kept.append(MASKED_SEGMENT)
    return "/".join(kept)


def redact(text: str) -> str:
    """``text`` with every query string, mobile number, email address, credential and session
    id taken out.

    Query strings become ``?[redacted]``, and ``key=value`` pairs joined by ``&`` without
    a ``?`` ``key=[redacted]``; a mobile number its masked form (``138****5678``, as the
    pages show it, also behind 0, 86, 0086 or +86, in full-width digits, and written with
    ``.`` or a Chinese dash ``一`` between its groups), a
    landline its area code and last four digits (``021****4321``), an email address
    ``[redacted]``, an Authorization header's value, a bearer token and a desk API token
    (``dsk_...``) ``[redacted]`` (the scheme and ``dsk_`` kept), a session cookie's value
    ``[redacted]``. The digits of a UUID
    or of a run of 32+ hexadecimal digits (a Celery task's id, a hash) are no phone number and
    stay as written. Takes and returns ``str``; never raises. Rule: QUALITY.md section 8, issue
    12 section 5.
    """
    text = _QUERY.sub(rf"\1?{REDACTED}", text)
    text = _QUERY_PAIRS.sub(
        lambda m: "&".join(f"{pair.split('=', 1)[0]}={REDACTED}" for pair in m[0].split("&")),
        text,
    )
    text = _AUTHORIZATION.sub(
        lambda m: f"{m.group(1)}{m.group(2) + ' ' if m.group(2) else ''}{REDACTED}", text
    )
    text = _BEARER.sub(rf"\1 {REDACTED}", text)
    text = _API_TOKEN.sub(f"dsk_{REDACTED}", text)
    text = _EMAIL.sub(REDACTED, text)
    kept, start = [], 0
    for hex_id in _HEX_ID.finditer(text):
        kept += [_without_phones(text[start : hex_id.start()]), hex_id.group(0)]
        start = hex_id.end()
    text = "".join([*kept, _without_phones(text[start:])])
    return _SESSION.sub(rf"\1{REDACTED}", text)


def _without_phones(text: str) -> str:
    """``text`` with its mobile numbers and landlines masked (``redact``'s rule), written in
    ASCII or full-width digits (the mask in ASCII)."""
    for pattern in (_PHONE, _LANDLINE):
        plain = text.translate(_FULLWIDTH_DIGITS)
        kept, start = [], 0
        for match in pattern.finditer(plain):
            kept += [text[start : match.start()], f"{match.group(1)}****{match.group(3)}"]
            start = match.end()
        text = "".join([*kept, text[start:]])
    return text


# gunicorn's line for a request it could not parse repeats the raw request line or header.
_INVALID_REQUEST = re.compile(r"^(Invalid request from ip=\S*?: ).*", re.DOTALL)


def _escaped(text: str) -> str:
    """``text`` as Django's request logging writes it (``unicode_escape``, CVE-2025-48432)."""
    return text.encode("unicode_escape").decode("ascii")


def _without_request_path(text: str, path: str) -> str:
    """``text`` with the request's ``path`` written as ``redact_path`` would (the whole path,
    raw or escaped, and each masked segment standing alone: an exception that quotes the
    value it could not read, ``got '张三 北京市'``). A masked ASCII segment shorter than four
    characters is left where it stands alone, not to cut up the traceback's own words."""
    logged = redact_path(path)
    for form in (path, _escaped(path)):
        text = text.replace(form, logged)
    for segment in path.split("/"):
        if segment and redact_path(f"/{segment}") == f"/{MASKED_SEGMENT}":
            if segment.isascii() and len(segment) < 4:
                continue
            for form in (segment, _escaped(segment)):
                text = text.replace(form, MASKED_SEGMENT)
    return text


class RedactPersonalData(logging.Filter):
    """A handler filter that runs ``redact`` over a record's formatted message, traceback and
    stack before any formatter sees them; it never drops a record (always returns True).

    A record about a request (Django's ``request`` extra: Not Found, server errors, CSRF
    failures) also loses the request's path as ``redact_path`` writes it, wherever it stands;
    a record of ``PATH_LOGGERS`` every path-like word (but for gunicorn's lines naming its own
    files and sockets, ``SERVER_PATH_LINES``); gunicorn's line for a request it could
    not parse everything after the client's address."""

    _traceback = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        path = getattr(getattr(record, "request", None), "path", None)
        path = path if isinstance(path, str) and path.strip("/") else None
        cleaned = message
        if path:
            cleaned = _without_request_path(cleaned, path)
        own_path = isinstance(record.msg, str) and record.msg in SERVER_PATH_LINES
        if record.name in PATH_LOGGERS and not own_path:
            cleaned = _LOGGED_PATH.sub(lambda m: redact_path(m.group(0)), cleaned)
        if record.name.startswith("gunicorn"):
            cleaned = _INVALID_REQUEST.sub(rf"\1{REDACTED}", cleaned)
        if record.name.startswith("django.security"):
            cleaned = _CSRF_QUOTE.sub(rf"\1{REDACTED}\2", cleaned)
            if _BAD_HOST.search(cleaned):
                # the traceback repeats the Host header and says nothing more
                cleaned = _BAD_HOST.sub(rf"\1{REDACTED}", cleaned)
                record.exc_info, record.exc_text = None, None
        cleaned = redact(cleaned)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set, so the traceback is written redacted.
            record.exc_text = self._traceback.formatException(record.exc_info)
        if record.exc_text:
            text = _without_request_path(record.exc_text, path) if path else record.exc_text
            record.exc_text = redact(text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def handler_redacts(handler: logging.Handler) -> bool:
    """True when ``handler`` runs ``RedactPersonalData`` over what it writes."""
    return any(isinstance(f, RedactPersonalData) for f in handler.filters)
