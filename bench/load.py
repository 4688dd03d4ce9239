"""Many agents working the desk at once: a bounded, open-loop load test over HTTP.

Start the desk first (it starts nothing itself; see bench/README.md, "The load benchmark"),
then:

    .venv/bin/python bench/load.py --base http://127.0.0.1:8000 --agents 50 --seconds 60

Each simulated agent logs in with its own session (many may share one of ``--accounts``:
``agent``, ``agent2`` … ``agent5`` serve different shops, ``supervisor`` all of them) and then
starts one action every ``--pace`` seconds (open loop: the next action starts one pace after
the previous one started, or at once when that one took longer, which is counted as late):
the dashboard, the ticket list, a filtered list (a status, overdue only or an assignee, the
values read from the list's own filter form), a ticket page, an order search (an order
number, part of a nickname or a phone's last four digits), an order page, and writes: a note
on a ticket, a status change the ticket page offers, a money entry posted with the one-time
key the page's form carries. Every id, number and nickname comes from pages the agent's
account was shown, so every request should succeed: a 404 is an error here, as is any 5xx,
any other unexpected status, a connection error or a timeout. A write the desk refuses with
its message (a refund above what is left, a move the ticket no longer allows) is counted as
refused, not as an error.

Only the standard library: one thread and one HTTP connection per agent, and a cookie store
of its own per agent. The store sends the session and CSRF cookies back also when they are
marked Secure: in production the desk stands behind a TLS proxy, which the script plays by
sending ``X-Forwarded-Proto: https`` (``SECURE_PROXY_SSL_HEADER``; ``--no-proxy-header``
leaves it out), so a desk with ``DEBUG=0`` answers on plain HTTP on the loopback.

Prints a table per page kind (count, p50/p95/p99 in ms, errors, refused writes), requests per
second over the measured seconds, the late actions, the load average while measuring, and
the CPU the script itself used (it shares the machine with the server). ``--json`` prints the
same as JSON instead. Exit status 0 when the run took place (errors or not), 2 when it could
not start (a login refused, no ticket visible to an account).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import re
import resource
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from html import unescape
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlencode, urlsplit

DEFAULT_ACCOUNTS = "agent,agent2,agent3,agent4,agent5,supervisor"
DEFAULT_PASSWORD = "demo-desk-2026"  # noqa: S105 - the demo accounts' documented password

# What an agent does, and how often (weights; --mix changes them). Writes are 15 % of actions.
MIX = {
    "dashboard": 10,
    "ticket list": 12,
    "ticket list, filtered": 14,
    "ticket page": 25,
    "order search": 12,
    "order page": 12,
    "note": 7,
    "status change": 4,
    "money entry": 4,
}
# Kinds of request in the report: the actions' pages, the writes' POSTs, and the ticket page
# a write comes back to (the redirect a browser follows).
AFTER_WRITE = "ticket page after a write"
# "script": an exception in this script itself (a bug here, not the desk's), with its text.
ERROR_CLASSES = ("5xx", "4xx", "other status", "connection", "timeout", "script")
# A status the script never chooses: cancelling a ticket undoes the work on it. Closing one
# is chosen only where the page offers no other move (many tickets at the top of the list,
# waiting for a return or on the exchange list, offer only closing or cancelling), so the
# desk keeps most of its open tickets from run to run.
STATUS_NOT_CHOSEN = {"cancelled"}
STATUS_LAST_CHOSEN = {"closed"}
# A ticket page read this long ago is opened again before writing on it.
PAGE_FRESH_SECONDS = 30.0
SAMPLE_CAP = 400


# --- reading the desk's pages -------------------------------------------------------------
_ATTR = re.compile(r'([\w:-]+)(?:="([^"]*)")?')
_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
_INPUT = re.compile(r"<input\b([^>]*)>")
_SELECT = re.compile(r"<select\b([^>]*)>(.*?)</select>", re.S)
_OPTION = re.compile(r"<option\b([^>]*)>")
_TEXTAREA = re.compile(r"<textarea\b([^>]*)>(.*?)</textarea>", re.S)
_TICKET_LINK = re.compile(r'href="/tickets/(\d+)/"')
_ORDER_LINK = re.compile(r'href="/orders/(\d+)/[^"]*"[^>]*>([^<]*)<')
_ORDER_NO = re.compile(r"[0-9A-Za-z-]{6,}")
_ORDER_NO_CELL = re.compile(r'<td class="mono">([0-9A-Za-z-]{6,})</td>')
_BUYER_LINK = re.compile(r'<a class="buyer-link" href="[^"]*">([^<]+)</a>')
_MASKED_PHONE = re.compile(r"\b1\d\d\*{4}(\d{4})\b")
_MESSAGE = re.compile(r'<li class="msg ([\w ]*)">(.*?)</li>', re.S)


def attributes(text: str) -> dict[str, str]:
    """The attributes of one tag's inside (``name="q" required``) as a dict; a bare attribute
    maps to "". The desk's templates and Django's widgets quote every value with ``"``."""
    return {name: unescape(value or "") for name, value in _ATTR.findall(text)}


@dataclass
class Form:
    """One ``<form>`` of a page: where it posts, its fields' values as a browser would send
    them untouched (hidden inputs, text inputs' values, each select's selected option or its
    first), the names of its required fields, and each select's option values."""

    action: str
    method: str
    values: dict[str, str]
    required: set[str]
    options: dict[str, list[str]]


def page_forms(html: str) -> list[Form]:
    """Every form of ``html`` (a page the desk rendered), in page order."""
    forms = []
    for head, body in _FORM.findall(html):
        attrs = attributes(head)
        values: dict[str, str] = {}
        required: set[str] = set()
        options: dict[str, list[str]] = {}
        for tag in _INPUT.findall(body):
            field_attrs = attributes(tag)
            name = field_attrs.get("name")
            if not name:
                continue
            kind = field_attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in field_attrs:
                continue
            if kind in ("submit", "button", "file"):
                continue
            values.setdefault(name, field_attrs.get("value", ""))
            if "required" in field_attrs:
                required.add(name)
        for head_attrs, inside in _SELECT.findall(body):
            select_attrs = attributes(head_attrs)
            name = select_attrs.get("name")
            if not name:
                continue
            choices = [attributes(tag) for tag in _OPTION.findall(inside)]
            options[name] = [choice.get("value", "") for choice in choices]
            chosen = [c.get("value", "") for c in choices if "selected" in c]
            values.setdefault(name, (chosen or options[name] or [""])[0])
        for head_attrs, inside in _TEXTAREA.findall(body):
            area_attrs = attributes(head_attrs)
            if area_attrs.get("name"):
                values.setdefault(area_attrs["name"], unescape(inside))
                if "required" in area_attrs:
                    required.add(area_attrs["name"])
        forms.append(
            Form(
                action=attrs.get("action", ""),
                method=attrs.get("method", "get").lower(),
                values=values,
                required=required,
                options=options,
            )
        )
    return forms


def page_messages(html: str) -> list[tuple[str, str]]:
    """The messages framework's lines on a page: ``(tags, text)``, e.g. ``("error", "…")``."""
    return [
        (tags, unescape(re.sub(r"<[^>]+>", "", text)).strip())
        for tags, text in _MESSAGE.findall(html)
    ]


# --- one agent's HTTP client ----------------------------------------------------------
class Cookies:
    """One agent's cookies: name → value from every ``Set-Cookie``, a cookie set with
    ``Max-Age=0`` or an expiry in the past removed. Sent back on every request whatever its
    Secure flag (see the module's docstring); paths and domains are the desk's own."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def take(self, headers: list[tuple[str, str]]) -> None:
        for name, value in headers:
            if name.lower() != "set-cookie":
                continue
            jar = SimpleCookie()
            try:
                jar.load(value)
            except CookieError:
                continue
            for key, morsel in jar.items():
                gone = morsel["max-age"] == "0" or "1970" in morsel["expires"]
                if gone:
                    self.values.pop(key, None)
                else:
                    self.values[key] = morsel.value

    def header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.values.items())


@dataclass
class Answer:
    status: int
    location: str
    body: str


class Recorder:
    """What every agent measured, under one lock: per kind of request the times (ms) of the
    answers that came in time, the errors by class, a few examples of each error, the writes
    the desk refused and with which words, and the actions that started late. Only what
    starts within the measured window (``time.monotonic()`` seconds, set by ``measure``)
    is kept: logins and the first look around are not measured."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.window = (math.inf, -math.inf)
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, Counter] = defaultdict(Counter)
        self.examples: list[str] = []
        self.refused: Counter = Counter()
        self.refusals: Counter = Counter()
        self.writes: Counter = Counter()
        self.actions = 0
        self.late = 0

    def measure(self, began: float, seconds: float) -> None:
        self.window = (began, began + seconds)

    def counts(self, moment: float) -> bool:
        """Whether something that started at ``moment`` (monotonic) is measured."""
        return self.window[0] <= moment < self.window[1]

    def answer(self, kind: str, ms: float, error: str | None, example: str = "") -> None:
        with self.lock:
            self.times[kind].append(ms)
            if error:
                self.errors[kind][error] += 1
                if len(self.examples) < 12:
                    self.examples.append(f"{kind}: {example}")

    def action(self, late: bool) -> None:
        with self.lock:
            self.actions += 1
            self.late += late

    def write(self, kind: str, refusal: str | None) -> None:
        with self.lock:
            self.writes[kind] += 1
            if refusal is not None:
                self.refused[kind] += 1
                self.refusals[refusal[:80]] += 1


class Client:
    """One simulated agent's browser: a keep-alive connection (opened again whenever the
    server closes it, as gunicorn's sync workers do after every answer), its cookies, and the
    proxy header. ``get``/``post`` time each request and hand it to the recorder, with the
    kind of page it is reported under and the statuses that are right for it."""

    def __init__(self, base: str, recorder: Recorder, timeout: float, proxy_header: bool):
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"--base must be http(s)://host[:port], not {base!r}")
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.https else 80)
        self.origin = f"https://{parts.netloc}"
        self.recorder = recorder
        self.timeout = timeout
        self.proxy_header = proxy_header and not self.https
        self.cookies = Cookies()
        self.connection: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self.connection is None:
            factory = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
            self.connection = factory(self.host, self.port, timeout=self.timeout)
        return self.connection

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def _send(self, method: str, path: str, body: bytes | None, referer: str) -> Answer:
        headers = {"Accept": "text/html", "Accept-Language": "zh-CN,zh;q=0.9"}
        if self.proxy_header:
            headers["X-Forwarded-Proto"] = "https"
        if self.cookies.values:
            headers["Cookie"] = self.cookies.header()
        if referer:
            headers["Referer"] = self.origin + referer
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            reused = self.connection is not None and self.connection.sock is not None
            connection = self._connect()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                # A kept-alive connection the server had already closed: send it again on a
                # new one, as a browser does. A new connection failing is an error.
                if reused and attempt == 1:
                    continue
                raise
            except Exception:
                self.close()
                raise
            if response.will_close:
                self.close()
            self.cookies.take(response.getheaders())
            return Answer(
                response.status,
                response.getheader("Location") or "",
                data.decode("utf-8", "replace"),
            )
        raise AssertionError("unreachable")

    def request(
        self,
        kind: str,
        method: str,
        path: str,
        *,
        fields: dict[str, str] | None = None,
        referer: str = "",
        expected: tuple[int, ...] = (200,),
    ) -> Answer | None:
        """The answer to one request, timed and recorded under ``kind`` when the recorder is
        measured; None after a connection error or a timeout (recorded as such). An answer
        whose status is not in ``expected`` is recorded as an error and still returned."""
        body = urlencode(fields).encode() if fields is not None else None
        record = self.recorder.counts(time.monotonic())
        started = time.perf_counter()
        try:
            answer = self._send(method, path, body, referer)
        except TimeoutError:
            if record:
                self.recorder.answer(kind, _ms(started), "timeout", f"{method} {path}")
            return None
        except (OSError, http.client.HTTPException) as exc:
            if record:
                error = f"{method} {path}: {type(exc).__name__}"
                self.recorder.answer(kind, _ms(started), "connection", error)
            return None
        error = None
        if kind != "login" and urlsplit(answer.location).path == "/login/":
            error = "other status"  # the session is gone: whatever the status, a failure
        elif answer.status not in expected:
            if answer.status >= 500:
                error = "5xx"
            elif answer.status >= 400:
                error = "4xx"
            else:
                error = "other status"
        if record:
            where = f" -> {answer.location}" if answer.location else ""
            example = f"{method} {path} answered {answer.status}{where}"
            self.recorder.answer(kind, _ms(started), error, example)
        return answer

    def get(self, kind: str, path: str, **kwargs) -> Answer | None:
        return self.request(kind, "GET", path, **kwargs)

    def post(self, kind: str, path: str, fields: dict[str, str], **kwargs) -> Answer | None:
        kwargs.setdefault("expected", (302,))
        return self.request(kind, "POST", path, fields=fields, **kwargs)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _local_path(location: str) -> str:
    """The path and query of a redirect's Location, absolute or not."""
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- what an agent has seen -----------------------------------------------------------
@dataclass
class Samples:
    """Ids, numbers and nicknames this agent's pages showed it, and the ticket list's filter
    choices: what the agent's next requests are made of."""

    ticket_ids: list[str] = field(default_factory=list)
    order_ids: list[str] = field(default_factory=list)
    order_nos: list[str] = field(default_factory=list)
    nicknames: list[str] = field(default_factory=list)
    phone_tails: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)

    @staticmethod
    def _add(pool: list[str], values) -> None:
        for value in values:
            if value and value not in pool:
                if len(pool) >= SAMPLE_CAP:
                    pool.pop(0)
                pool.append(value)

    def read(self, html: str) -> None:
        """Everything ``html`` names: tickets and orders it links to, the order numbers of a
        ticket list's rows, buyers' nicknames, masked phones' last four digits, and, from a
        ticket list's filter form, the statuses and assignees it offers."""
        self._add(self.ticket_ids, _TICKET_LINK.findall(html))
        links = _ORDER_LINK.findall(html)
        self._add(self.order_ids, [order_id for order_id, _text in links])
        self._add(self.order_nos, [t.strip() for _id, t in links if _ORDER_NO.fullmatch(t.strip())])
        self._add(self.order_nos, _ORDER_NO_CELL.findall(html))
        self._add(self.nicknames, [unescape(nick) for nick in _BUYER_LINK.findall(html)])
        self._add(self.phone_tails, _MASKED_PHONE.findall(html))
        if self.statuses or 'name="status"' not in html:
            return
        for form in page_forms(html):
            # the ticket list's filter form (a GET form with the status choices)
            if form.method == "get" and "status" in form.options:
                self._add(self.statuses, form.options["status"])
                self._add(self.assignees, form.options.get("assignee", []))


# --- one simulated agent --------------------------------------------------------------
class Agent:
    """One simulated agent: logs in, reads a few pages to know what it may touch, then runs
    the mix until the deadline, one action every ``pace`` seconds."""

    def __init__(self, number: int, account: str, client: Client, rng: random.Random):
        self.number = number
        self.account = account
        self.client = client
        self.rng = rng
        self.samples = Samples()
        self.ticket_page: tuple[str, str, float] | None = None  # path, html, when read
        self.notes = 0
        self.actions = {
            "dashboard": self.do_dashboard,
            "ticket list": self.do_ticket_list,
            "ticket list, filtered": self.do_ticket_list_filtered,
            "ticket page": self.do_ticket_page,
            "order search": self.do_order_search,
            "order page": self.do_order_page,
            "note": self.do_note,
            "status change": self.do_status_change,
            "money entry": self.do_money_entry,
        }

    # setting up
    def login(self, password: str) -> str | None:
        """Logs in through the login form; returns None, or why it failed."""
        page = self.client.get("login", "/login/")
        if page is None or page.status != 200:
            return f"GET /login/ answered {page.status if page else 'nothing'}"
        forms = [f for f in page_forms(page.body) if "password" in f.values]
        if not forms:
            return "the login page has no login form"
        fields = {**forms[0].values, "username": self.account, "password": password}
        answer = self.client.post("login", "/login/", fields, referer="/login/")
        if answer is None or answer.status != 302 or "/login/" in answer.location:
            return f"{self.account}: the login was refused (wrong --password?)"
        return None

    def look_around(self) -> str | None:
        """The pages an agent opens first (dashboard, list, a ticket, an order), read for
        samples; returns None, or why the account has nothing to work on."""
        for path in ("/", "/tickets/"):
            answer = self.client.get("warm-up", path)
            if answer is not None and answer.status == 200:
                self.samples.read(answer.body)
        if not self.samples.ticket_ids:
            return f"{self.account} sees no ticket on the dashboard or the ticket list"
        if self.open_ticket("warm-up") and self.samples.order_ids:
            self._page("warm-up", f"/orders/{self.rng.choice(self.samples.order_ids)}/")
        return None

    # the actions
    def run(self, deadline: float, pace: float, mix: dict[str, int]) -> None:
        kinds = list(mix)
        weights = [mix[kind] for kind in kinds]
        start = time.monotonic() + self.rng.uniform(0, pace)
        while True:
            now = time.monotonic()
            if start > now:
                time.sleep(start - now)
            if time.monotonic() >= deadline:
                return
            began = time.monotonic()
            kind = self.rng.choices(kinds, weights)[0]
            try:
                self.actions[kind]()
            except Exception as exc:  # a fault of this script: reported, the agent goes on
                self.client.recorder.answer(kind, 0.0, "script", f"{type(exc).__name__}: {exc}")
            finished = time.monotonic()
            if self.client.recorder.counts(began):
                self.client.recorder.action(late=finished - began > pace)
            start = max(began + pace, finished)

    def _page(self, kind: str, path: str) -> Answer | None:
        answer = self.client.get(kind, path)
        if answer is not None and answer.status == 200:
            self.samples.read(answer.body)
        return answer

    def do_dashboard(self) -> None:
        self._page("dashboard", "/")

    def do_ticket_list(self) -> None:
        page = self.rng.choice(["", "", "", "?page=2"])
        self._page("ticket list", "/tickets/" + page)

    def do_ticket_list_filtered(self) -> None:
        s = self.samples
        choice = self.rng.choice(["status", "overdue", "assignee"])
        if choice == "status" and s.statuses:
            query = {"status": self.rng.choice(s.statuses)}
        elif choice == "assignee" and s.assignees:
            query = {"assignee": self.rng.choice(s.assignees)}
        else:
            query = {"overdue": "true"}
        self._page("ticket list, filtered", "/tickets/?" + urlencode(query))

    def open_ticket(self, kind: str = "ticket page") -> str | None:
        """Opens one of the tickets seen; returns its page's HTML (None if it did not load)."""
        path = f"/tickets/{self.rng.choice(self.samples.ticket_ids)}/"
        answer = self._page(kind, path)
        if answer is None or answer.status != 200:
            self.ticket_page = None
            return None
        self.ticket_page = (path, answer.body, time.monotonic())
        return answer.body

    def do_ticket_page(self) -> None:
        self.open_ticket()

    def do_order_search(self) -> None:
        s = self.samples
        ways = [
            ("order no", s.order_nos),
            ("nickname part", s.nicknames),
            ("phone tail", s.phone_tails),
        ]
        name, pool = self.rng.choice([way for way in ways if way[1]] or [("", [])])
        if not pool:
            return self.do_order_page()
        term = self.rng.choice(pool)
        if name == "nickname part" and len(term) > 4:
            term = term[1:4]  # three characters from its middle, as an agent types a part
        answer = self.client.get(
            "order search", "/orders/?" + urlencode({"q": term}), expected=(200, 302)
        )
        if answer is None:
            return None
        if answer.status == 302:  # one result opens by itself, in a browser too
            target = _local_path(answer.location)
            self._page("ticket page" if target.startswith("/tickets/") else "order page", target)
        elif answer.status == 200:
            self.samples.read(answer.body)
        return None

    def do_order_page(self) -> None:
        if not self.samples.order_ids:
            return self.do_ticket_page()
        self._page("order page", f"/orders/{self.rng.choice(self.samples.order_ids)}/")
        return None

    def _form_on_ticket(self, wanted, rank=lambda form: 0) -> tuple[str, Form] | None:
        """A form of a ticket page that ``wanted(form)`` accepts, one of those with the lowest
        ``rank(form)`` at random: on the page the agent read last if it is fresh, else on up to
        three tickets opened for it."""
        for attempt in range(4):
            if (attempt or self.ticket_page is None) and self.open_ticket() is None:
                continue
            path, html, read_at = self.ticket_page
            if time.monotonic() - read_at > PAGE_FRESH_SECONDS:
                self.ticket_page = None
                continue
            forms = [form for form in page_forms(html) if form.method == "post" and wanted(form)]
            if forms:
                best = min(map(rank, forms))
                return path, self.rng.choice([form for form in forms if rank(form) == best])
        return None

    def _submit(self, kind: str, page: str, form: Form, fields: dict[str, str]) -> None:
        """Posts a write, follows its redirect back to the ticket page and reads that page's
        message: an error message means the desk refused the write."""
        measured = self.client.recorder.counts(time.monotonic())
        answer = self.client.post(kind, form.action, fields, referer=page)
        self.ticket_page = None
        if answer is None or answer.status != 302:
            return
        back = self.client.get(AFTER_WRITE, _local_path(answer.location))
        if back is None or back.status != 200:
            return
        self.ticket_page = (_local_path(answer.location), back.body, time.monotonic())
        errors = [text for tags, text in page_messages(back.body) if "error" in tags]
        if measured:
            self.client.recorder.write(kind, errors[0] if errors else None)

    def do_note(self) -> None:
        found = self._form_on_ticket(lambda form: form.action.endswith("/note/"))
        if found is None:
            return
        page, form = found
        self.notes += 1
        text = f"压测备注 {self.number}-{self.notes}：已联系买家，等待回复（bench/load.py）"
        self._submit("note", page, form, {**form.values, "text": text})

    def do_status_change(self) -> None:
        def movable(form: Form) -> bool:
            return (
                form.action.endswith("/transition/")
                and form.values.get("to_status") not in STATUS_NOT_CHOSEN
                # a move that needs a tracking number or a reason the agent would have to
                # type is left to the people who have them
                and not any(not form.values.get(name) for name in form.required)
            )

        found = self._form_on_ticket(
            movable, rank=lambda form: form.values.get("to_status") in STATUS_LAST_CHOSEN
        )
        if found is None:
            return self.do_note()
        page, form = found
        self._submit("status change", page, form, dict(form.values))
        return None

    def do_money_entry(self) -> None:
        found = self._form_on_ticket(lambda form: form.action.endswith("/money/"))
        if found is None:
            return self.do_note()
        page, form = found
        fields = dict(form.values)
        # The form suggests postage at the rate card's price; a refund or compensation is
        # typed by the agent: a small amount, within what the buyer paid.
        fields["amount"] = fields.get("amount") or "1.00"
        self._submit("money entry", page, form, fields)
        return None


# --- the run --------------------------------------------------------------------------
def percentile(ordered: list[float], share: float) -> float:
    """The nearest-rank percentile of an ascending list (``share`` 0.95 for p95)."""
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def load_average() -> float | None:
    """The one-minute load average (Linux ``/proc/loadavg``), None elsewhere."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def parse_mix(text: str) -> dict[str, int]:
    """``--mix "note=20,money entry=0"``: the default weights with these changed."""
    mix = dict(MIX)
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, weight = part.partition("=")
        name = name.strip()
        if name not in MIX or not weight.strip().isdigit():
            raise argparse.ArgumentTypeError(
                f"--mix takes kind=weight among: {', '.join(MIX)}; not {part!r}"
            )
        mix[name] = int(weight)
    if not any(mix.values()):
        raise argparse.ArgumentTypeError("--mix leaves nothing to do")
    return {name: weight for name, weight in mix.items() if weight}


def in_parallel(agents: list[Agent], work, limit: int) -> list:
    """``work(agent)`` for every agent, at most ``limit`` at a time; the results in order."""
    results: list = [None] * len(agents)
    gate = threading.Semaphore(limit)

    def one(index: int, agent: Agent) -> None:
        with gate:
            results[index] = work(agent)

    threads = [threading.Thread(target=one, args=pair) for pair in enumerate(agents)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


class CannotStart(Exception):
    """The run could not begin: an account's login was refused or it sees no ticket."""


def run(args: argparse.Namespace) -> dict:
    """Logs the agents in, lets them look around, runs the mix for ``args.seconds`` and
    returns the report (``report``). Raises ``CannotStart`` when an agent cannot log in or
    sees nothing to work on."""
    recorder = Recorder()
    accounts = [name.strip() for name in args.accounts.split(",") if name.strip()]
    agents = [
        Agent(
            number,
            accounts[number % len(accounts)],
            Client(args.base, recorder, args.timeout, args.proxy_header),
            random.Random(f"{args.seed}-{number}"),  # noqa: S311 - a benchmark's choices
        )
        for number in range(args.agents)
    ]
    started = time.monotonic()
    failures = [f for f in in_parallel(agents, lambda a: a.login(args.password), 8) if f]
    if failures:
        raise CannotStart(f"could not log in: {failures[0]}")
    login_seconds = time.monotonic() - started
    failures = [f for f in in_parallel(agents, Agent.look_around, 8) if f]
    if failures:
        raise CannotStart(f"nothing to work on: {failures[0]}")

    loads = [load_average()]
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    began = time.monotonic()
    began_at = time.time()
    deadline = began + args.seconds
    recorder.measure(began, args.seconds)
    threads = [
        threading.Thread(target=agent.run, args=(deadline, args.pace, args.mix), daemon=True)
        for agent in agents
    ]
    for thread in threads:
        thread.start()
    while time.monotonic() < deadline:  # the load average, every 5 s while measuring
        time.sleep(min(5.0, max(0.0, deadline - time.monotonic())))
        loads.append(load_average())
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()) + args.timeout * 3 + 5)
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    for agent in agents:
        agent.client.close()
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    used = list(dict.fromkeys(agent.account for agent in agents))
    result = report(args, used, recorder, login_seconds, cpu, loads)
    result["measured_from"] = round(began_at, 3)  # Unix time: to match the server's own records
    return result


def report(args, accounts, recorder: Recorder, login_seconds, cpu, loads) -> dict:
    """The run's figures as plain data: what ``--json`` prints and the table is made from.
    Requests per second count the requests that started within the measured seconds."""
    order = [*MIX, AFTER_WRITE]
    kinds = sorted(recorder.times, key=lambda k: order.index(k) if k in order else len(order))
    pages = []
    for kind in kinds:
        times = sorted(recorder.times[kind])
        errors = recorder.errors.get(kind, Counter())
        pages.append(
            {
                "kind": kind,
                "count": len(times),
                "p50_ms": round(percentile(times, 0.50), 1),
                "p95_ms": round(percentile(times, 0.95), 1),
                "p99_ms": round(percentile(times, 0.99), 1),
                "max_ms": round(times[-1], 1),
                "errors": sum(errors.values()),
                "errors_by_class": {name: errors[name] for name in ERROR_CLASSES if errors[name]},
                "writes": recorder.writes.get(kind, 0),
                "refused": recorder.refused.get(kind, 0),
            }
        )
    requests = sum(page["count"] for page in pages)
    everything = sorted(t for times in recorder.times.values() for t in times)
    return {
        "base": args.base,
        "agents": args.agents,
        "accounts": accounts,
        "pace_seconds": args.pace,
        "seconds": args.seconds,
        "login_seconds": round(login_seconds, 1),
        "requests": requests,
        "requests_per_second": round(requests / args.seconds, 1),
        "p50_ms": round(percentile(everything, 0.50), 1),
        "p95_ms": round(percentile(everything, 0.95), 1),
        "p99_ms": round(percentile(everything, 0.99), 1),
        "errors": sum(page["errors"] for page in pages),
        "actions": recorder.actions,
        "late_actions": recorder.late,
        "refusals": dict(recorder.refusals.most_common(5)),
        "error_examples": recorder.examples,
        # the one-minute load average at the start and every 5 s until the end (None: not Linux)
        "load_average": loads,
        "client_cpu_seconds": round(cpu, 1),
        "pages": pages,
    }


def report_table(result: dict) -> str:
    """The report as the table a person reads."""
    lines = [
        f"{result['agents']} agents on {result['base']} ({', '.join(result['accounts'])}), "
        f"one action every {result['pace_seconds']:g} s, {result['seconds']:g} s measured "
        f"(logins took {result['login_seconds']:g} s, not measured)",
        f"requests: {result['requests']:,} = {result['requests_per_second']:g}/s; all requests "
        f"p50 {result['p50_ms']:g} ms, p95 {result['p95_ms']:g} ms, p99 {result['p99_ms']:g} ms; "
        f"errors {result['errors']}",
        f"actions: {result['actions']:,}, late (took longer than the pace) "
        f"{result['late_actions']:,} ({_share(result['late_actions'], result['actions'])})",
        f"load average (1 min) while measuring: {_load(result['load_average'])}; this script used "
        f"{result['client_cpu_seconds']:g} s of CPU",
        "",
        f"{'page':28} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'errors':>7} {'refused':>9}",
    ]
    for page in result["pages"]:
        refused = f"{page['refused']}/{page['writes']}" if page["writes"] else ""
        lines.append(
            f"{page['kind']:28} {page['count']:7,} {page['p50_ms']:8.1f} {page['p95_ms']:8.1f} "
            f"{page['p99_ms']:8.1f} {page['max_ms']:8.1f} {page['errors']:7} {refused:>9}"
        )
    for page in result["pages"]:
        if page["errors_by_class"]:
            classes = ", ".join(f"{k} {v}" for k, v in page["errors_by_class"].items())
            lines.append(f"  errors, {page['kind']}: {classes}")
    if result["error_examples"]:
        lines += ["", "first errors:", *(f"  {e}" for e in result["error_examples"])]
    if result["refusals"]:
        lines += ["", "writes refused, with the desk's message:"]
        lines += [f"  {n:5} {text}" for text, n in result["refusals"].items()]
    return "\n".join(lines)


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def _load(values: list[float | None]) -> str:
    """'2.10 at the start, 3.4 on average (1.9-4.2)'; '?' where the system has none."""
    known = [value for value in values if value is not None]
    if not known:
        return "?"
    mean = sum(known) / len(known)
    return f"{known[0]:.2f} at the start, {mean:.2f} on average ({min(known):.2f}-{max(known):.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--base", default="http://127.0.0.1:8000", help="the running desk")
    parser.add_argument("--agents", type=int, default=50, help="simulated agents (default 50)")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured time (60)")
    parser.add_argument("--pace", type=float, default=1.0, help="seconds between actions (1)")
    parser.add_argument("--accounts", default=DEFAULT_ACCOUNTS, help="comma-separated logins")
    parser.add_argument("--password", default=DEFAULT_PASSWORD)
    parser.add_argument("--timeout", type=float, default=30.0, help="per request (30 s)")
    parser.add_argument("--mix", type=parse_mix, default=dict(MIX), help="e.g. 'note=20'")
    parser.add_argument("--seed", default="load", help="the agents' random choices")
    parser.add_argument("--no-proxy-header", dest="proxy_header", action="store_false")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if args.agents < 1 or args.seconds <= 0 or args.pace <= 0:
        parser.error("--agents, --seconds and --pace must be positive")
    base = urlsplit(args.base)
    if base.scheme not in ("http", "https") or not base.hostname:
        parser.error(f"--base must be http(s)://host[:port], not {args.base!r}")
    try:
        result = run(args)
    except CannotStart as exc:
        print(exc, file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else report_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
