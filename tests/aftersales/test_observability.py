"""Operations (issue 15): JSON log lines with a request id, and Sentry's reports, keep the
desk's rule that no phone number, name, address, nickname, query string, cookie or request
body leaves the process (QUALITY.md section 8)."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sentry_sdk
from django.http import HttpResponse
from django.urls import path
from gunicorn.config import Config
from sentry_sdk.transport import Transport

from aftersales import urls as desk_urls
from aftersales.gunicorn_conf import DeskLogger
from aftersales.observability import JsonFormatter, scrub_event, sentry_init

ROOT = Path(__file__).resolve().parents[2]
PHONE = "13812345678"
NAME = "张三丰"
ADDRESS = "北京市朝阳区建国路88号3单元"
NICK = "小鹿tb8821"


def _run(code: str, **env) -> subprocess.CompletedProcess:
    """``code`` in a fresh Python with the desk's settings and ``env`` added."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "aftersales.settings", **env}
    environment.pop("LOG_FORMAT", None) if "LOG_FORMAT" not in env else None
    # The browser tests set it for their live server while they run; a deploy check in the
    # same session would then refuse it (async.E001).
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.run(
        [sys.executable, "-c", code],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


# Asks the desk for a page that is not there, with a phone in the query string and a nickname
# in the path, and for the login page with the proxy's request id.
_REQUESTS = f"""
import django
django.setup()
from django.test import Client
c = Client(SERVER_NAME="127.0.0.1")
c.get("/orders/{NICK}/nowhere/?q={PHONE}")
c.get("/no-such-page/", headers={{"X-Request-ID": "lb-req-0001"}})
import logging
try:
    raise ValueError("buyer {PHONE} not found")
except ValueError:
    logging.getLogger("tickets.test").exception("lookup failed for {PHONE}")
"""


def test_json_logs_are_one_object_a_line_without_personal_data(tmp_path):
    done = _run(_REQUESTS, LOG_FORMAT="json", VAR_DIR=str(tmp_path), DEBUG="1")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    not_found = [r for r in records if r["logger"] == "django.request"]
    assert len(not_found) == 2
    for record in records:
        assert {"time", "level", "logger", "message", "process"} <= set(record)
        assert record["time"].endswith("+08:00")  # the desk's time, Asia/Shanghai
        assert record["process"] > 0
        assert "request" not in record  # Django's extra (the URL with its query) is not written
    assert not_found[0]["level"] == "WARNING"
    assert not_found[0]["message"] == "Not Found: /orders/*/*/"
    assert len(not_found[0]["request_id"]) == 32  # a new id for a request that brought none
    assert not_found[1]["request_id"] == "lb-req-0001"  # the proxy's
    failed = next(r for r in records if r["logger"] == "tickets.test")
    assert failed["message"] == "lookup failed for 138****5678"
    assert "ValueError: buyer 138****5678 not found" in failed["exc_info"]
    assert "request_id" not in failed  # written outside any request
    assert PHONE not in done.stderr and "tb8821" not in done.stderr


def test_text_logs_stay_the_default_and_a_wrong_format_is_refused(tmp_path):
    done = _run(_REQUESTS, VAR_DIR=str(tmp_path), DEBUG="1")
    assert done.returncode == 0, done.stderr
    assert "WARNING django.request Not Found: /orders/*/*/" in done.stderr
    assert not done.stderr.lstrip().startswith("{")
    wrong = _run("import django; django.setup()", LOG_FORMAT="xml", DEBUG="1")
    assert wrong.returncode != 0
    assert "LOG_FORMAT must be text or json, got 'xml'" in wrong.stderr


def test_gunicorn_writes_json_lines_through_the_same_filter(monkeypatch, capsys):
    monkeypatch.setenv("LOG_FORMAT", "json")
    logger = DeskLogger(Config())
    assert all(isinstance(h.formatter, JsonFormatter) for h in logger.error_log.handlers)
    logger.error("Error handling request /orders/?q=%s", PHONE)
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["logger"] == "gunicorn.error"
    assert line["message"] == "Error handling request /orders/?[redacted]"


@pytest.mark.django_db
def test_each_request_gets_an_id_in_its_answer(client):
    for good in ("edge-7f3a9c21", "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "lb.20261130.a1"):
        given = client.get("/healthz/web", headers={"X-Request-ID": good})
        assert given["X-Request-ID"] == good
    new = client.get("/healthz/web")
    assert len(new["X-Request-ID"]) == 32
    # a header that is no plain token (a phone and a space, too long, a newline) is replaced,
    # and so is one that could be a phone number: all digits, or holding one
    for bad in (
        f"call {PHONE}",
        "x" * 65,
        "short",
        "a\u00e9b-12345678",
        PHONE,
        f"req-{PHONE}",
        "1234567890123",
        "１３８１２３４５６７８",
    ):
        answer = client.get("/healthz/web", headers={"X-Request-ID": bad})
        assert answer["X-Request-ID"] != bad
        assert len(answer["X-Request-ID"]) == 32


# --- Sentry ------------------------------------------------------------------------------


# A realistic event as the Django integration builds it for a failing view (request, user,
# an exception with local variables, a log message with its parameters, breadcrumbs).
def _event() -> dict:
    return {
        "level": "error",
        "logentry": {
            "message": "could not ship to %s",
            "params": [PHONE],
            "formatted": f"could not ship to {PHONE}",
        },
        "message": f"buyer {PHONE} {NAME}",
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": f"no route for 0086 {PHONE}",
                    "stacktrace": {
                        "frames": [
                            {
                                "filename": "tickets/services/exchanges.py",
                                "function": "exchange_ship",
                                "lineno": 88,
                                "vars": {
                                    "receiver": NAME,
                                    "address": ADDRESS,
                                    "phone": PHONE,
                                    "nick": NICK,
                                },
                            }
                        ]
                    },
                }
            ]
        },
        "request": {
            "url": f"https://desk.example.com/buyers/{NICK}/",
            "method": "POST",
            "query_string": f"q={PHONE}",
            "cookies": {"sessionid": "abc123secret", "csrftoken": "tok"},
            "data": {"receiver_name": NAME, "receiver_address": ADDRESS},
            "headers": {
                "Cookie": "sessionid=abc123secret",
                "Referer": f"https://desk.example.com/orders/?q={PHONE}",
                "User-Agent": "Mozilla/5.0",
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": "Bearer dsk_secret",
            },
            "env": {"REMOTE_ADDR": "10.0.0.7", "SERVER_NAME": "web-1"},
        },
        "user": {
            "id": "7",
            "username": "agent.li",
            "email": "li@example.com",
            "ip_address": "10.0.0.7",
        },
        "extra": {"sys.argv": ["gunicorn"], "receiver": NAME},
        "breadcrumbs": {
            "values": [
                {
                    "category": "query",
                    "message": "SELECT ... WHERE phone = %s",
                    "data": {"params": [PHONE]},
                },
                {"category": "httplib", "data": {"url": f"https://oss.example/k?sig=1&p={PHONE}"}},
                {"category": "tickets", "message": f"called {PHONE}"},
            ]
        },
    }


def test_before_send_leaves_no_personal_data_in_a_realistic_event():
    event = scrub_event(_event(), {})
    text = json.dumps(event, ensure_ascii=False)
    for private in (
        PHONE,
        NAME,
        ADDRESS,
        "tb8821",
        "abc123secret",
        "dsk_secret",
        "li@example.com",
        "agent.li",
        "10.0.0.7",
        "Mozilla",
    ):
        assert private not in text, private
    # what helps find the bug stays
    frame = event["exception"]["values"][0]["stacktrace"]["frames"][0]
    assert frame == {
        "filename": "tickets/services/exchanges.py",
        "function": "exchange_ship",
        "lineno": 88,
    }
    assert event["exception"]["values"][0]["value"] == "no route for 138****5678"
    assert event["logentry"]["formatted"] == "could not ship to 138****5678"
    assert event["request"] == {
        "method": "POST",
        "url": "https://desk.example.com/buyers/*/",
        "headers": {"Content-Type": "application/x-www-form-urlencoded"},
    }
    assert event["user"] == {"id": "7"}
    assert "extra" not in event


FULLWIDTH_PHONE = "１３８１２３４５６７８"
TOKEN = "dsk_" + "Q2hhbmdlTWUtbm90LWEtcmVhbC10b2tlbi0wMTIzNDU2Nzg"


def test_free_text_credentials_emails_and_full_width_phones_are_scrubbed_everywhere():
    # given: an event whose free text and tags hold what a careless message or tag would
    event = {
        "level": "error",
        "message": f"retry with Authorization: Bearer {TOKEN} for {FULLWIDTH_PHONE}",
        "exception": {
            "values": [
                {
                    "type": "PermissionDenied",
                    "value": f"token {TOKEN} refused; buyer li.si@example.com.cn",
                }
            ]
        },
        "tags": {"buyer_phone": FULLWIDTH_PHONE, "alipay": "li.si@example.com.cn"},
        "contexts": {"call": {"header": "authorization=Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="}},
    }
    text = json.dumps(scrub_event(event, {}), ensure_ascii=False)
    # then: none of it leaves the process
    for private in (
        TOKEN,
        TOKEN[4:],
        FULLWIDTH_PHONE,
        "li.si@example.com.cn",
        "QWxhZGRpbjpvcGVuIHNlc2FtZQ",
    ):
        assert private not in text, private
    assert "138****5678" in text and "Bearer [redacted]" in text and "dsk_[redacted]" in text


def test_the_log_filter_takes_the_same_out():
    from aftersales.logging import RedactPersonalData

    record = logging.LogRecord(
        "tickets.api",
        logging.WARNING,
        __file__,
        1,
        "refused %s for %s, %s",
        (f"Authorization: Bearer {TOKEN}", FULLWIDTH_PHONE, "zhang@example.com"),
        None,
    )
    RedactPersonalData().filter(record)
    assert record.getMessage() == (
        "refused Authorization: Bearer [redacted] for 138****5678, [redacted]"
    )


def test_a_request_loggers_event_names_the_path_as_the_logs_do():
    event = scrub_event(
        {
            "logger": "django.request",
            "logentry": {
                "message": "Internal Server Error: %s",
                "params": [f"/buyers/{NICK}/"],
                "formatted": "Internal Server Error: /buyers/tb8821/",
            },
        }
    )
    assert event["logentry"]["formatted"] == "Internal Server Error: /buyers/*/"
    assert "tb8821" not in json.dumps(event, ensure_ascii=False)


class _Captured(Transport):
    """Keeps the events the SDK would send, instead of sending them."""

    def __init__(self, options=None):
        super().__init__(options)
        self.events: list[dict] = []

    def capture_envelope(self, envelope):
        event = envelope.get_event()
        if event is not None:
            self.events.append(event)


def _ship_to_buyer(request):
    receiver, address, phone = NAME, ADDRESS, PHONE  # locals a frame would carry
    raise ValueError(f"courier refused {phone} for {receiver} at {address[:2]}")


def _fine(request):
    return HttpResponse("ok")


urlpatterns = [path("test-sentry/ship/", _ship_to_buyer), *desk_urls.urlpatterns]


@pytest.fixture
def sentry_events():
    transport = _Captured()
    sentry_init(dsn="https://public@sentry.example/1", environment="test", transport=transport)
    yield transport.events
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN: the SDK stays installed but sends nothing


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_a_failing_view_reaches_sentry_scrubbed(client, sentry_events, admin_user):
    client.raise_request_exception = False
    client.force_login(admin_user)
    response = client.post(
        f"/test-sentry/ship/?q={PHONE}",
        {"receiver_name": NAME, "receiver_address": ADDRESS},
        headers={"Referer": f"https://desk.example.com/orders/?q={PHONE}"},
    )
    assert response.status_code == 500
    sentry_sdk.flush()
    assert sentry_events, "the error was reported"
    event = sentry_events[0]
    text = json.dumps(event, ensure_ascii=False)
    for private in (PHONE, NAME, ADDRESS, "sessionid", admin_user.username):
        assert private not in text, private
    assert event["exception"]["values"][-1]["type"] == "ValueError"
    request = event.get("request", {})
    assert not {"query_string", "cookies", "data", "env"} & set(request)
    assert set(request.get("headers", {})) <= {"Content-Type", "Content-Length"}
    assert all("vars" not in f for f in event["exception"]["values"][-1]["stacktrace"]["frames"])


# --- A proxy in front ---------------------------------------------------------------------

_PROXY_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.SECURE_PROXY_SSL_HEADER, s.USE_X_FORWARDED_HOST]))"
)
_PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "ci-" + "q7Zr2xLp9Wv4Ns8Kd3Hf6Tb1Yc5Mg0Je" * 2,
    "ALLOWED_HOSTS": "desk.example.com",
}


@pytest.mark.parametrize(
    ("env", "trusted"),
    [
        ({}, False),
        ({"BEHIND_PROXY": "1"}, True),
        ({"TRUSTED_PROXIES": "1"}, True),
        ({"TRUSTED_PROXIES": "1", "BEHIND_PROXY": "0"}, False),
    ],
)
def test_forwarded_proto_and_host_are_trusted_only_behind_a_proxy(env, trusted, tmp_path):
    done = _run(_PROXY_SETTINGS, VAR_DIR=str(tmp_path), **_PRODUCTION, **env)
    assert done.returncode == 0, done.stderr
    header, forwarded_host = json.loads(done.stdout)
    assert header == (["HTTP_X_FORWARDED_PROTO", "https"] if trusted else None)
    assert forwarded_host is trusted


@pytest.mark.django_db
def test_behind_the_proxy_the_forwarded_host_and_https_are_what_the_desk_sees(client, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.USE_X_FORWARDED_HOST = True
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["desk.example.com"]
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "desk.example.com"}
    # the proxy received https: no redirect loop, the login page links to the public host
    response = client.get("/", headers=forwarded)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    # plain http through the proxy is sent to https on the public host
    response = client.get("/login/", headers={"X-Forwarded-Host": "desk.example.com"})
    assert response.status_code == 301
    assert response["Location"] == "https://desk.example.com/login/"
    # a forwarded host outside ALLOWED_HOSTS is refused
    bad = client.get("/login/", headers={**forwarded, "X-Forwarded-Host": "evil.example"})
    assert bad.status_code == 400


def test_the_deploy_check_passes_behind_a_proxy_that_gives_the_clients_address(tmp_path):
    code = (
        "import sys, django; django.setup(); from django.core.management import call_command; "
        "call_command('check', deploy=True, fail_level='WARNING')"
    )
    done = _run(code, VAR_DIR=str(tmp_path), TRUSTED_PROXIES="1", **_PRODUCTION)
    assert done.returncode == 0, done.stderr
    done = _run(code, VAR_DIR=str(tmp_path), BEHIND_PROXY="1", TRUSTED_PROXIES="2", **_PRODUCTION)
    assert done.returncode == 0, done.stderr


def test_a_proxy_without_trusted_proxies_is_warned_about_at_start_up(tmp_path):
    # BEHIND_PROXY alone trusts the proxy's proto and host; the client's address is still
    # the proxy's, so one client's wrong passwords would lock every client out
    code = (
        "import sys, django; django.setup(); from django.core.management import call_command; "
        "call_command('check', deploy=True, fail_level='WARNING')"
    )
    done = _run(code, VAR_DIR=str(tmp_path), BEHIND_PROXY="1", **_PRODUCTION)
    assert done.returncode != 0
    assert "aftersales.W001" in done.stderr and "TRUSTED_PROXIES" in done.stderr
    # the same warning from a plain check (migrate and runserver run it too), not an error
    plain = _run(
        "import django; django.setup(); from django.core.management import call_command; "
        "call_command('check')",
        VAR_DIR=str(tmp_path),
        BEHIND_PROXY="1",
        **_PRODUCTION,
    )
    assert plain.returncode == 0, plain.stderr
    assert "aftersales.W001" in plain.stderr


# --- What the second review found still in a report (issue 15) ---------------------------


def test_keys_rare_characters_fragments_dotted_phones_and_bare_query_strings_are_scrubbed():
    # given: an event with each of them where a careless tag, message or breadcrumb puts it
    event = {
        "level": "error",
        "message": "buyer 𠈌明 called from 138.1234.5678, then 138一1234一5678",
        "exception": {
            "values": [{"type": "ValueError", "value": "form name=zhangsan&city=beijing bad"}]
        },
        "tags": {PHONE: "buyer", "买家张三": "x", "shop": "a"},
        "breadcrumbs": {
            "values": [
                {
                    "category": "httplib",
                    "data": {
                        "url": "https://oss.example/k#nick=tb8821",
                        "http.fragment": "nick=tb8821",
                        "http.method": "GET",
                    },
                }
            ]
        },
    }
    scrubbed = scrub_event(event, {})
    text = json.dumps(scrubbed, ensure_ascii=False)
    # then: none of it leaves the process
    for private in (PHONE, "1234.5678", "1234一5678", "𠈌", "张三", "tb8821", "zhangsan"):
        assert private not in text, private
    # and what helps find the bug stays
    assert "138****5678, then 138****5678" in scrubbed["message"]
    assert scrubbed["exception"]["values"][0]["value"] == (
        "form name=[redacted]&city=[redacted] bad"
    )
    assert scrubbed["tags"]["138****5678"] == "buyer" and scrubbed["tags"]["shop"] == "a"
    crumb = scrubbed["breadcrumbs"]["values"][0]["data"]
    assert crumb == {"url": "https://oss.example/k", "http.method": "GET"}


def test_the_logs_mask_the_same_phones_and_bare_query_strings():
    from aftersales.logging import redact

    assert redact("138.1234.5678 / 138一1234一5678 / 138 1234 5678") == (
        "138****5678 / 138****5678 / 138****5678"
    )
    assert redact("posted name=张三&phone=x") == "posted name=[redacted]&phone=[redacted]"
    # one key=value alone is no query string (Ticket(id=5) in a message stays)
    assert redact("Ticket(id=5) closed, 3.14 yuan") == "Ticket(id=5) closed, 3.14 yuan"


@pytest.mark.django_db
def test_a_refusal_by_the_database_reaches_sentry_without_the_row(sentry_events):
    from django.db import IntegrityError, connection, transaction

    # given: a table with a unique nickname and a check, as the desk's constraints are
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE sentry_probe (nick varchar(20) CONSTRAINT "
            "sentry_probe_nick_unique UNIQUE, n integer CONSTRAINT sentry_probe_n_positive "
            "CHECK (n > 0))"
        )
        cursor.execute("INSERT INTO sentry_probe VALUES (%s, %s)", ["tb8821", 1])
    # when: the database refuses a row holding a Latin nickname, twice over
    for row in (["tb8821", 2], ["buyerzhang", -1]):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("INSERT INTO sentry_probe VALUES (%s, %s)", row)
        except IntegrityError as exc:
            sentry_sdk.capture_exception(exc)
    sentry_sdk.flush()
    # then: reported with the type and the constraint, never the refused row
    assert len(sentry_events) == 2
    for event, constraint in zip(
        sentry_events, ("sentry_probe_nick_unique", "sentry_probe_n_positive"), strict=True
    ):
        values = event["exception"]["values"]
        # (the frames' source lines are this file's code, which names the values itself)
        for value in values:
            value.pop("stacktrace", None)
        text = json.dumps(event, ensure_ascii=False)
        assert "tb8821" not in text and "buyerzhang" not in text
        assert "Key (" not in text and "Failing row" not in text
        assert values[-1]["type"] == "IntegrityError"
        if connection.vendor == "postgresql":
            assert {v["value"] for v in values} == {f"constraint {constraint}"}
        else:  # SQLite names the column (unique) or the constraint (check)
            assert all(v["value"].startswith("constraint ") for v in values)
