"""The real web server's log (issue 12 section 5): the Procfile's web command, started as
`make run` starts it (honcho), serves a logged-in agent's searches by a full phone number and
by a nickname, a 404 with the phone in its path and query, and a page asked for with the
search in its Referer; what the server wrote (access log, error log, Django's log) holds none
of the phone, the nickname, the receiver's name and address, or the session id.

The server uses the test database the suite runs on: on PostgreSQL the same database by name;
on SQLite (an in-memory test database) a copy of it in a file.
"""

import http.cookiejar
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from tests.factories import make_order, make_shop, make_user
from tickets.models import Order
from tickets.roles import Role

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PHONE = "13987654321"
NICK = "小鹿tb8821"
RECEIVER = "欧阳娜娜"
ADDRESS = "珞喻路1037号"
PASSWORD = "pw-for-tests-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url(var_dir: Path) -> str:
    """Where the server finds the test database: its name on PostgreSQL, a file copy of the
    in-memory database on SQLite."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        user = urllib.parse.quote(db["USER"] or "")
        password = f":{urllib.parse.quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
        return f"postgres://{user}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    path = var_dir / "server.sqlite3"
    connection.ensure_connection()
    copy = sqlite3.connect(path)
    try:
        connection.connection.backup(copy)
    finally:
        copy.close()
    return f"sqlite:///{path}"


def _server_env(var_dir: Path) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "BIND", "PORT"}
    }
    env.update(
        DEBUG="1",
        DATABASE_URL=_database_url(var_dir),
        VAR_DIR=str(var_dir),
        WEB_CONCURRENCY="1",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
    )
    return env


class Browser:
    """Cookies and Referer like a browser; redirects followed."""

    def __init__(self, base: str):
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def open(self, path: str, data: dict | None = None, referer: str | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body)  # noqa: S310 - http only
        if referer:
            request.add_header("Referer", self.base + referer)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.cookies if c.name == name)


def _wait_until_up(browser: Browser, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "the web server stopped"
        try:
            if browser.open("/healthz/web")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError("the web server did not answer within 60 s")


@pytest.mark.django_db(transaction=True)
def test_the_web_servers_log_holds_no_phone_nickname_name_address_or_session_id(tmp_path, settings):
    # given: an agent and a buyer's order, and the Procfile's web process on that database;
    # the password hashed as the desk hashes it (the suite's quick hasher is the tests' own,
    # and the server checks it with the desk's settings)
    from django.conf import global_settings

    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    shop = make_shop("log-shop")
    make_user("log-agent", Role.AGENT, shops=[shop], password=PASSWORD)
    order = make_order(shop, phone=PHONE, buyer_nick=NICK)
    Order.objects.filter(pk=order.pk).update(receiver_name=RECEIVER, receiver_address=ADDRESS)
    env = _server_env(tmp_path)
    port = _free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [str(BIN / "honcho"), "start", "-f", "Procfile", "-p", str(port), "web"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        browser = Browser(f"http://127.0.0.1:{port}")
        _wait_until_up(browser, server)

        # when: the agent logs in and searches as the desk is used
        status, page = browser.open("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = {"username": "log-agent", "password": PASSWORD, "csrfmiddlewaretoken": token}
        status, page = browser.open("/login/", form)
        assert status == 200
        session_id = browser.cookie("sessionid")
        nick_q = urllib.parse.urlencode({"q": NICK})
        assert browser.open(f"/orders/?q={PHONE}")[0] == 200
        status, page = browser.open(f"/orders/?q={PHONE[-4:]}")
        assert status == 200
        assert "139****4321" in page  # the server's database holds the buyer's order
        assert browser.open(f"/orders/?{nick_q}", referer=f"/orders/?q={PHONE}")[0] == 200
        assert browser.open(f"/tickets/?{nick_q}", referer=f"/orders/?{nick_q}")[0] == 200
        buyer = urllib.parse.urlencode({"nick": NICK})
        assert browser.open(f"/buyers/?{buyer}")[0] == 200
        assert browser.open(f"/no-such-page/?q={PHONE}&{nick_q}")[0] == 404
        assert browser.open(f"/orders/{PHONE}/?{nick_q}")[0] == 404
        for typed in (NICK, RECEIVER, ADDRESS):
            assert browser.open(f"/buyers/{urllib.parse.quote(typed)}/")[0] == 404
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)

    # then: the server logged the requests ...
    written = log_path.read_text(encoding="utf-8", errors="replace")
    assert '"GET /orders/ HTTP/1.1" 200' in written, written
    assert '"GET /buyers/ HTTP/1.1" 200' in written, written
    assert '"GET /orders/139****4321/ HTTP/1.1" 404' in written, written
    assert "Not Found: /*/" in written, written  # Django's log is here too
    assert '"GET /buyers/*/ HTTP/1.1" 404' in written, written
    # ... and nothing of the buyer's or the session
    for secret in (
        PHONE,
        NICK,
        urllib.parse.quote(NICK),
        "tb8821",
        RECEIVER,
        ADDRESS,
        session_id,
    ):
        assert secret not in written, f"{secret!r} in the server's log:\n{written}"
