"""What a team running the desk watches it with (issue 15): JSON log lines, a request id, and
error reports to Sentry, all keeping the desk's rule that no log or report carries a buyer's
phone number, name, address or nickname, a query string, a cookie or a request body
(QUALITY.md section 8; ``aftersales.logging`` holds the rule).

- ``JsonFormatter``: with ``LOG_FORMAT=json`` every log line the desk, Django, Celery and
  gunicorn write is one JSON object: ``time`` (ISO 8601 with the desk's offset, milliseconds),
  ``level``, ``logger``, ``message``, ``process``, ``request_id`` when the line was written
  while a request was served, ``exc_info``/``stack_info`` when there is one. The message and
  traceback are the ones ``RedactPersonalData`` left (the filter runs first, on the handler);
  nothing else of the record is written (Django's ``request`` extra would print the URL with
  its query string).
- ``RequestIdMiddleware``: the id of each request: the proxy's ``X-Request-ID`` when it is a
  plain token (letters, digits, ``-``, ``_``, ``.``; 8 to 64 of them, one a letter, nothing
  the logs would mask such as a phone number: ``request_id_acceptable``), else a new one; sent
  back in the response's ``X-Request-ID`` and written on every log line of that request.
- ``sentry_init``/``scrub_event``: Sentry with the Django and Celery integrations,
  ``send_default_pii=False``, and every event and breadcrumb run through ``scrub_event``.
"""

import contextvars
import logging
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from django.core.signals import request_finished
from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

from aftersales.logging import _LOGGED_PATH, PATH_LOGGERS, REDACTED, redact, redact_path

# The id of the request being served in this thread or task, or None.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_GOOD_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class JsonFormatter(_LibraryJsonFormatter):
    """One JSON object per record (python-json-logger serializes it; Chinese kept as written,
    not ``\\u`` escapes): the fields the module's docstring lists and no others."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)

    def add_fields(self, log_data: dict, record: logging.LogRecord, message_dict: dict) -> None:
        log_data["time"] = (
            datetime.fromtimestamp(record.created, tz=UTC)
            .astimezone()
            .isoformat("T", "milliseconds")
        )
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.getMessage()
        log_data["process"] = record.process
        current = request_id.get()
        if current:
            log_data["request_id"] = current
        # The traceback as the redacting filter left it in exc_text (the library would format
        # exc_info afresh, with the phone numbers the filter took out).
        if record.exc_text:
            log_data["exc_info"] = record.exc_text
        elif record.exc_info:
            log_data["exc_info"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            log_data["stack_info"] = record.stack_info


class RequestIdMiddleware:
    """Gives each request an id (the proxy's ``X-Request-ID`` if it is a plain token, else a
    new random one), written on its log lines and in the response's ``X-Request-ID``."""

    def __init__(self, get_response):
        self.get_response = get_response
        # Django logs a 4xx/5xx ("Not Found: ...") after the middleware returned: the id is
        # kept until the response is closed (request_finished), not reset on the way out.
        request_finished.connect(_forget_request_id, dispatch_uid="desk-request-id")

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        current = given if request_id_acceptable(given) else uuid.uuid4().hex
        request.request_id = current
        request_id.set(current)
        response = self.get_response(request)
        response["X-Request-ID"] = current
        return response


def request_id_acceptable(given: str) -> bool:
    """Whether a client's ``X-Request-ID`` may be kept as the request's id: a plain token
    (``_GOOD_REQUEST_ID``) holding a letter, that ``redact`` leaves as it is - so never a
    phone number (``13812345678``, ``req-13812345678``) or anything else the logs would
    mask; the id is written on every log line as it is."""
    return (
        bool(_GOOD_REQUEST_ID.fullmatch(given))
        and any(c.isalpha() for c in given)
        and redact(given) == given
    )


def _forget_request_id(**kwargs) -> None:
    request_id.set(None)


# --- Sentry ----------------------------------------------------------------------------

# Request headers an event keeps: none a client writes freely or that carries a credential.
_KEPT_HEADERS = frozenset({"content-type", "content-length", "accept-language", "x-request-id"})


# A word holding a Chinese character: a buyer's name, address or nickname (小鹿tb8821) as free
# text in an exception's message cannot be told from other words, so in a report every such
# word is "*" (the desk's own Chinese messages go too; the type, file and line stay).
# The Han characters: the main block and extension A, the compatibility ideographs, and the
# supplementary planes' extensions B to I and their compatibility supplement (U+20000 to
# U+323AF: rarer characters a name may hold, 𠈌).
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U000323af"
_IN_A_WORD = "^\\s\"'<>()\\[\\]{},;:：，。"
_CJK_WORD = re.compile(f"[{_IN_A_WORD}]*[{_HAN}][{_IN_A_WORD}]*")
# A database's refusal quotes the row it refused (PostgreSQL: 'Key (buyer_nick)=(tb8821)
# already exists', 'Failing row contains (...)'): a Latin nickname or a name there cannot be
# told apart, so such an exception's value is dropped; its type and constraint stay.
_DATABASE_REFUSALS = ("IntegrityError", "DataError")
_SQLITE_CONSTRAINT = re.compile(r"constraint failed: ([\w.]+)")


def _scrub_strings(value: Any) -> Any:
    """``value`` with ``redact`` run over every string in it, at any depth, and every word
    holding a Chinese character replaced by ``*``."""
    if isinstance(value, str):
        return _CJK_WORD.sub("*", redact(value))
    if isinstance(value, dict):
        # keys too: a tag's name is text a caller chose (sentry_sdk.set_tag(phone, ...))
        return {_scrub_strings(key): _scrub_strings(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_strings(item) for item in value]
    return value


def _scrub_request(request: dict) -> dict:
    """The event's request with only its method, its path (``redact_path``: a nickname or a
    name in the path becomes ``*``) and harmless headers: no query string, cookies, body, or
    environment."""
    url = str(request.get("url") or "")
    scheme, sep, rest = url.partition("://")
    host, _slash, path = rest.partition("/") if sep else ("", "/", url.lstrip("/"))
    clean_path = redact_path("/" + path.split("?", 1)[0].split("#", 1)[0])
    headers = {
        name: value
        for name, value in (request.get("headers") or {}).items()
        if name.lower() in _KEPT_HEADERS
    }
    kept = {"method": request.get("method"), "headers": headers}
    if url:
        kept["url"] = f"{scheme}://{host}{clean_path}" if sep else clean_path
    return {key: value for key, value in kept.items() if value}


def _scrub_frames(event: dict) -> None:
    """Drops every frame's local variables (a buyer's name or address in a variable cannot be
    recognised; the line and function stay), in exceptions and in threads."""
    for holder in ("exception", "threads"):
        for entry in (event.get(holder) or {}).get("values") or []:
            for frame in (entry.get("stacktrace") or {}).get("frames") or []:
                frame.pop("vars", None)


def _database_refusal_classes() -> tuple[type, ...]:
    import sqlite3

    from django.db import DataError, IntegrityError

    found: list[type] = [IntegrityError, DataError, sqlite3.IntegrityError, sqlite3.DataError]
    try:
        import psycopg
    except ImportError:  # pragma: no cover - SQLite-only installs
        pass
    else:
        found += [psycopg.IntegrityError, psycopg.DataError]
    return tuple(found)


def _constraint_of(exc: BaseException) -> str | None:
    """The constraint a database refusal names: PostgreSQL's diagnostic (on the exception or
    the driver's one it was raised from), else SQLite's 'constraint failed: <name>'."""
    for candidate in (exc, exc.__cause__):
        name = getattr(getattr(candidate, "diag", None), "constraint_name", None)
        if name:
            return name
    found = _SQLITE_CONSTRAINT.search(str(exc))
    return found[1] if found else None


def _scrub_database_refusals(event: dict, hint: dict | None) -> None:
    """Replaces the value of every database ``IntegrityError``/``DataError`` in the event
    (Django's and the driver's it was raised from) by ``constraint <name>`` or
    ``[redacted]``: the text quotes the refused row. Recognised through the exception itself
    (``hint["exc_info"]`` and its causes), else by the type's name."""
    values = (event.get("exception") or {}).get("values") or []
    if not values:
        return
    refusals: dict[tuple[str, str | None], str] = {}
    exc = ((hint or {}).get("exc_info") or (None, None, None))[1]
    classes = _database_refusal_classes()
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, classes):
            constraint = _constraint_of(exc)
            text = f"constraint {constraint}" if constraint else REDACTED
            refusals[(type(exc).__name__, type(exc).__module__)] = text
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    for value in values:
        key = (value.get("type"), value.get("module"))
        if key in refusals:
            value["value"] = refusals[key]
        elif value.get("type") in _DATABASE_REFUSALS:
            value["value"] = REDACTED


def scrub_event(event: dict, hint: dict | None = None) -> dict:
    """Sentry's ``before_send`` (and, for breadcrumbs, ``before_breadcrumb``): the event with
    the request reduced to method, path and harmless headers (``_scrub_request``); the user
    reduced to its id; frames without local variables; a log message's parameters dropped
    (its formatted text stays, redacted; a request logger's paths as ``redact_path`` writes
    them); ``extra`` dropped; a database refusal's value reduced to its constraint
    (``_scrub_database_refusals``); then ``redact`` over every string and every key left
    (phones masked, query strings and session ids ``[redacted]``) and every word holding a
    Chinese character ``*``. Always returns the event (never drops a report)."""
    if "request" in event:
        event["request"] = _scrub_request(event["request"] or {})
    if "user" in event:
        user_id = (event["user"] or {}).get("id")
        event["user"] = {"id": user_id} if user_id is not None else {}
    _scrub_frames(event)
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        text = logentry.get("formatted") or logentry.get("message") or ""
        if event.get("logger") in PATH_LOGGERS:
            # "Internal Server Error: /buyers/tb8821/": the path as the logs write it
            text = _LOGGED_PATH.sub(lambda m: redact_path(m.group(0)), text)
        event["logentry"] = {"message": text, "formatted": text}
    event.pop("extra", None)
    _scrub_database_refusals(event, hint)
    breadcrumbs = event.get("breadcrumbs")
    if isinstance(breadcrumbs, dict) and breadcrumbs.get("values"):
        breadcrumbs["values"] = [scrub_breadcrumb(crumb) for crumb in breadcrumbs["values"]]
    return _scrub_strings(event)


def scrub_breadcrumb(crumb: dict, hint: dict | None = None) -> dict:
    """Sentry's ``before_breadcrumb``: a breadcrumb's message redacted, its data kept only as
    redacted strings with no URL query or fragment (an HTTP breadcrumb's ``url``,
    ``http.query``, ``http.fragment``) and no SQL parameters."""
    crumb = dict(crumb)
    data = dict(crumb.get("data") or {})
    data.pop("params", None)
    data.pop("http.query", None)
    data.pop("http.fragment", None)
    if isinstance(data.get("url"), str):
        data["url"] = data["url"].split("?", 1)[0].split("#", 1)[0]
    crumb["data"] = data
    return _scrub_strings(crumb)


def sentry_init(*, dsn: str, environment: str, release: str | None = None, **options) -> None:
    """Starts Sentry for this process (web, worker or beat) with the Django and Celery
    integrations. No personal data is sent by the SDK (``send_default_pii=False``, no request
    bodies, no local variables) and every event passes ``scrub_event``. No performance
    tracing (``traces_sample_rate`` 0): errors only. ``options`` go to ``sentry_sdk.init`` as
    they are (a ``transport``, in the tests)."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=0.0,
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        **options,
    )
