"""Nothing private in the logs (QUALITY.md section 8, issue 12 section 5): Python's logging
(Django, runserver, Celery) through the redacting filter, gunicorn's error log through the same.
The real web server's log: tests/aftersales/test_server_log.py."""

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from gunicorn.config import Config

from aftersales import gunicorn_conf
from aftersales import logging as desk_logging
from aftersales.logging import RedactPersonalData, handler_redacts, redact, redact_path
from tests.factories import make_order

ROOT = Path(__file__).resolve().parents[2]
PHONE = "13987654321"
NICK = "小鹿tb8821"


@pytest.mark.parametrize(
    "written",
    [
        PHONE,
        "139-8765-4321",
        "139 8765 4321",
        "+86 13987654321",
        "8613987654321",
        "0086 13987654321",
        "013987654321",
    ],
)
def test_a_mobile_number_in_any_common_writing_is_masked(written):
    cleaned = redact(f"buyer {written} called")
    assert cleaned == "buyer 139****4321 called"


@pytest.mark.parametrize("written", ["021-87654321", "02187654321", "0571-8888-4321"])
def test_a_landline_is_masked_to_its_area_code_and_last_four(written):
    masked = redact(f"call {written} now")
    assert "****4321 now" in masked
    assert "8765" not in masked
    assert "8888" not in masked


def test_csrf_and_host_refusals_are_logged_without_what_the_client_wrote(rf):
    stream = io.StringIO()
    # (children of Django's loggers, so the real ones keep their handlers for other tests)
    csrf = _logger_into(stream, "django.security.csrf.tests")
    csrf.warning(
        "Forbidden (%s): %s",
        "Origin checking failed - http://小鹿tb8821.example does not match any trusted origins.",
        "/login/",
    )
    host = _logger_into(stream, "django.security.DisallowedHost.tests")
    try:
        raise ValueError("Invalid HTTP_HOST header: '小鹿tb8821'.")
    except ValueError:
        host.error("Invalid HTTP_HOST header: '小鹿tb8821'. You may need ...", exc_info=True)
    written = stream.getvalue()
    assert "Origin checking failed - [redacted] does not match" in written
    assert "Invalid HTTP_HOST header: [redacted]" in written
    assert "tb8821" not in written


def test_a_query_string_is_never_kept_whatever_it_holds():
    line = f'"GET /orders/?q={NICK}&page=2 HTTP/1.1" 200 1234'
    assert redact(line) == '"GET /orders/?[redacted] HTTP/1.1" 200 1234'
    url = "Referer: http://desk.example.com/buyers/?nick=%E5%B0%8F%E9%B9%BF"
    assert redact(url) == "Referer: http://desk.example.com/buyers/?[redacted]"
    # order numbers and other long digit runs are not phones
    assert redact("order 3512345678901234567 shipped") == "order 3512345678901234567 shipped"


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/orders/张三/", "/orders/*/"),
        ("/orders/%E5%BC%A0%E4%B8%89/", "/orders/*/"),
        ("/buyers/tb8821/history/", "/buyers/*/history/"),
        ("/no-such-page/", "/*/"),
        ("/tickets/123/", "/tickets/123/"),
        ("/admin/tickets/ticket/5/change/", "/admin/tickets/ticket/5/change/"),
        ("/static/css/desk.css", "/static/css/desk.css"),
        ("/static/湖北省武汉市.css", "/static/*"),
        ("/static/tb8821/", "/static/*/"),
        ("/", "/"),
    ],
)
def test_a_logged_path_keeps_only_route_words_and_numbers(path, logged):
    assert redact_path(path) == logged


def test_a_session_id_is_never_kept():
    assert "abc123" not in redact("Cookie: sessionid=abc123; csrftoken=z")
    assert "abc123" not in redact('{"sessionid": "abc123"}')


def _logger_into(stream: io.StringIO, name: str) -> logging.Logger:
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactPersonalData())
    logger = logging.getLogger(name)
    logger.handlers, logger.propagate = [handler], False
    return logger


def test_the_filter_redacts_the_message_and_the_traceback():
    stream = io.StringIO()
    logger = _logger_into(stream, "tests.redaction")
    try:
        raise ValueError(f"no order for /orders/?q={NICK} ({PHONE})")
    except ValueError:
        logger.exception("search failed for %s", PHONE)
    logger.info("stack", stack_info=True)
    written = stream.getvalue()
    assert "search failed for 139****4321" in written
    assert "ValueError: no order for /orders/?[redacted] (139****4321)" in written
    assert PHONE not in written
    assert NICK not in written


def _desk_handlers(logger: logging.Logger) -> list[logging.Handler]:
    # pytest's own capture handlers are not the desk's
    return [h for h in logger.handlers if not type(h).__module__.startswith("_pytest")]


def test_every_handler_the_desk_configures_redacts():
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    unfiltered = [
        (logger.name, handler)
        for logger in loggers
        for handler in _desk_handlers(logger)
        if not isinstance(handler, logging.NullHandler) and not handler_redacts(handler)
    ]
    assert unfiltered == []
    # Django's loggers write through the desk's handler, not Django's default ones
    for name in ("django", "django.request", "django.security", "django.server"):
        logger = logging.getLogger(name)
        while logger and not _desk_handlers(logger):
            logger = logger.parent
        handlers = _desk_handlers(logger)
        assert handlers and all(handler_redacts(h) for h in handlers), name


@pytest.fixture
def console():
    """What the desk's configured console handler writes during the test."""
    [handler] = [h for h in _desk_handlers(logging.getLogger()) if handler_redacts(h)]
    written = io.StringIO()
    previous = handler.setStream(written)
    yield written
    handler.setStream(previous)


def test_django_request_logging_of_a_404_and_runserver_lines_carry_no_phone_or_nickname(
    client, agent, shop_a, console
):
    # given: a buyer the agent may search for
    make_order(shop_a, phone=PHONE, buyer_nick=NICK)
    client.force_login(agent)
    # when: searches and a 404 with the phone in the path and the query
    assert client.get(reverse("tickets:order_search"), {"q": PHONE}).status_code == 200
    response = client.get(f"/orders/{PHONE}/", {"q": NICK})
    assert response.status_code == 404
    assert client.get(f"/buyers/{NICK}/").status_code == 404
    logging.getLogger("django.server").info(
        '"%s" %s %s', f"GET /orders/?q={PHONE}&nick={NICK} HTTP/1.1", "200", "5120"
    )
    # then
    written = console.getvalue()
    assert "Not Found: /orders/139****4321/" in written
    assert "Not Found: /buyers/*/" in written
    assert '"GET /orders/?[redacted] HTTP/1.1" 200 5120' in written
    assert PHONE not in written
    assert NICK not in written
    assert client.cookies["sessionid"].value not in written


NAME_AND_ADDRESS = "张三 139 1234 5678 北京市朝阳区"


def test_a_path_with_spaces_is_masked_whole_in_djangos_request_lines(client, agent, console):
    client.force_login(agent)
    # when: a name and an address typed into the path, spaces and all
    assert client.get(f"/orders/{NAME_AND_ADDRESS}/").status_code == 404
    assert client.get("/orders/zhang san beijing/").status_code == 404
    # then
    written = console.getvalue()
    assert "Not Found: /orders/*/" in written
    for secret in ("张三", "北京市", "\\u5317", "san beijing", "1234 5678"):
        assert secret not in written, written


def test_an_exception_quoting_the_path_is_logged_without_it(rf):
    # given: a server error whose exception quotes the segment it could not read
    request = rf.get(f"/admin/tickets/shop/{NAME_AND_ADDRESS}/history/")
    try:
        raise ValueError(f"Field 'id' expected a number but got {NAME_AND_ADDRESS!r}.")
    except ValueError:
        stream = io.StringIO()
        _logger_into(stream, "django.request").error(
            "Internal Server Error: %s", request.path, exc_info=True, extra={"request": request}
        )
    # then: neither the message nor the traceback holds the name, the address or the phone
    written = stream.getvalue()
    assert "Internal Server Error: /admin/tickets/shop/*/history/" in written
    assert "got '*'" in written
    for secret in ("张三", "北京市", "1234", "5678"):
        assert secret not in written, written


def test_a_csrf_failure_is_logged_without_the_path(client, console):
    # given: a form posted without its token to an address holding a name
    path = "/admin/tickets/shop/张三北京市朝阳区/change/"
    response = Client(enforce_csrf_checks=True).post(path, {"name": "x"})
    assert response.status_code == 403
    written = console.getvalue()
    assert "Forbidden (CSRF cookie not set.): /admin/tickets/shop/*/change/" in written, written
    assert "张三" not in written
    assert "\\u5f20" not in written


def test_gunicorns_line_for_a_request_it_cannot_parse_keeps_only_the_address(tmp_path):
    cfg = Config()
    cfg.set("errorlog", str(tmp_path / "error.log"))
    log = gunicorn_conf.DeskLogger(cfg)
    raw = "GET /orders/张三 北京市建国路88号 HTTP/1.1"
    log.warning(f"Invalid request from ip=203.0.113.9: Invalid HTTP request line: {raw!r}")
    log.warning(f"Invalid request from ip=::1: Invalid header name 'ZZZ {NAME_AND_ADDRESS}'")
    written = (tmp_path / "error.log").read_text()
    assert "Invalid request from ip=203.0.113.9: [redacted]" in written
    assert "Invalid request from ip=::1: [redacted]" in written
    assert "张三" not in written
    assert "建国路" not in written


def test_gunicorns_error_log_names_a_failing_request_without_its_query(tmp_path):
    cfg = Config()
    cfg.set("errorlog", str(tmp_path / "error.log"))
    cfg.set("accesslog", str(tmp_path / "access.log"))
    cfg.set("access_log_format", gunicorn_conf.access_log_format)
    log = gunicorn_conf.DeskLogger(cfg)
    try:
        raise RuntimeError(f"worker died on /buyers/?nick={NICK}")
    except RuntimeError:
        # what gunicorn's worker writes when the application raises
        log.exception("Error handling request %s %s", "GET", f"/orders/{NICK}/?q={PHONE}")
    written = (tmp_path / "error.log").read_text()
    assert "Error handling request GET /orders/*/?[redacted]" in written
    assert "RuntimeError: worker died on /buyers/?[redacted]" in written
    assert PHONE not in written
    assert NICK not in written


def test_celery_keeps_the_redacting_logging_instead_of_its_own():
    # what `celery worker` and `celery beat` do at start-up, then a task's failure logged
    script = (
        "import logging\n"
        "from aftersales.celery import app\n"
        "app.log.setup(loglevel='INFO')\n"
        "logging.getLogger('celery.app.trace').error("
        f"'Task failed: %s', 'GET /orders/?q={NICK} {PHONE}')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.setdefault("DEBUG", "1")
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "ERROR celery.app.trace Task failed: GET /orders/?[redacted] 139****4321" in (
        result.stderr
    )
    assert PHONE not in result.stderr + result.stdout
    assert NICK not in result.stderr + result.stdout


def test_a_path_logged_before_the_urls_load_does_not_stick(monkeypatch):
    # given: a line logged while the URLconf cannot be loaded yet (every word masked)
    monkeypatch.setattr(desk_logging, "_ROUTE_WORDS", None)
    monkeypatch.setattr("django.urls.get_resolver", lambda: 1 / 0)
    assert redact_path("/tickets/123/") == "/*/123/"
    # when: the application has loaded, the route words are read then
    monkeypatch.undo()
    monkeypatch.setattr(desk_logging, "_ROUTE_WORDS", None)
    assert redact_path("/tickets/123/") == "/tickets/123/"


@pytest.mark.parametrize(
    "identifier",
    [
        "7c1e9a2d-4b0f-4e61-b042-13987654321a",  # a Celery task's id, a phone's digits inside
        "9f8e7d6c-5b4a-4c3d-b042-12346232abcd",  # "b042****6232a" in the console before
        "7c1e9a2d4b0f4e61b04213987654321a",  # the same without hyphens
        # a hash, a landline's look inside
        "e3b0c44298fc1c149afb02187654321ae41e4649b934ca495991b7852b855",
    ],
)
def test_the_digits_of_a_task_id_or_hexadecimal_id_are_not_a_phone(identifier):
    line = f"Task tickets.tasks.x[{identifier}] succeeded; buyer {PHONE} called"
    assert redact(line) == f"Task tickets.tasks.x[{identifier}] succeeded; buyer 139****4321 called"


@pytest.mark.parametrize(
    "glued", [f"tb{PHONE}", f"a{PHONE}b", f"{PHONE}abcdef", f"b{PHONE}a6232", f"x-{PHONE}-y"]
)
def test_a_phone_glued_to_letters_that_make_no_id_is_still_masked(glued):
    assert PHONE not in redact(f"note {glued} end")


def test_gunicorns_own_socket_and_listening_lines_keep_their_paths(tmp_path):
    cfg = Config()
    cfg.set("errorlog", str(tmp_path / "error.log"))
    log = gunicorn_conf.DeskLogger(cfg)
    log.info("Control socket listening at %s", "/run/user/1000/gunicorn/desk.ctl")
    log.info("Listening at: %s (%s)", "unix:/tmp/desk-web.sock", 4242)
    log.info("Worker reloading: %s modified", "/srv/desk/tickets/views.py")
    # a request's path in the same log is still masked
    log.exception("Error handling request %s", f"/orders/{NICK}/")
    written = (tmp_path / "error.log").read_text()
    assert "Control socket listening at /run/user/1000/gunicorn/desk.ctl" in written
    assert "Listening at: unix:/tmp/desk-web.sock (4242)" in written
    assert "Worker reloading: /srv/desk/tickets/views.py modified" in written
    assert "Error handling request /orders/*/" in written
    assert NICK not in written


def test_gunicorns_master_stamps_its_lines_in_beijing_time_like_its_workers(settings):
    assert gunicorn_conf.TIME_ZONE == settings.TIME_ZONE
    # the master's first lines are written before any worker loads Django's settings
    script = (
        "from gunicorn.config import Config\n"
        "from aftersales import gunicorn_conf\n"
        "log = gunicorn_conf.DeskLogger(Config())\n"
        "log.info('Starting gunicorn %s', 'x')\n"
    )
    env = {**os.environ, "TZ": "UTC"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "+0800] [" in result.stderr, result.stderr
    assert "Starting gunicorn x" in result.stderr
