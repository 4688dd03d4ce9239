"""What the URL walk (``tests/aftersales/test_url_walk.py``) walks: every URL pattern of the
project, the data it starts from, the hostile values, and how a request is sent and what it
read. Kept apart from the test so the test reads as what it checks."""

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from http.cookies import SimpleCookie
from io import BytesIO
from pathlib import Path
from urllib.parse import quote, quote_plus

from django.apps import apps
from django.contrib import admin
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.forms import BaseForm
from django.http import QueryDict
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern
from django.utils import timezone
from hypothesis import strategies as st

ROLES = ("anonymous", "agent", "supervisor", "finance", "admin")


# --- the URL patterns ----------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    """One leaf of the resolver: its patterns from the root and a readable name (the route as
    written, e.g. ``tickets/<id:pk>/note/``)."""

    patterns: tuple
    name: str

    @property
    def admin(self) -> bool:
        return self.name.startswith("admin/")


def url_routes(patterns=None, prefix=()) -> list[Route]:
    """Every URL pattern of the project, recursively through each ``include`` (the admin's
    too): one ``Route`` per leaf."""
    routes = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        pieces = (*prefix, entry.pattern)
        if isinstance(entry, URLResolver):
            routes += url_routes(entry.url_patterns, pieces)
        elif isinstance(entry, URLPattern):
            routes.append(Route(pieces, "".join(str(p) for p in pieces) or "/"))
    return routes


PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<parameter>[^>]+)>")

# The model a path parameter names, by the path segment before it ("tickets/<id:pk>" is a
# ticket, ".../promises/<id:promise_pk>" a promise). The admin's ``<path:object_id>`` is the
# model its URL names. A new URL with an id adds its segment here (a test says so).
SEGMENT_MODELS = {
    "orders": "tickets.Order",
    "tickets": "tickets.Ticket",
    "views": "tickets.SavedView",
    "promises": "tickets.Promise",
    "money": "tickets.LedgerEntry",
    "charges": "tickets.ExchangeCharge",
    "photos": "tickets.TicketPhoto",
    "parcels": "tickets.ReturnParcel",
    "approvals": "tickets.LedgerEntry",
    "imports": "tickets.OrderImport",
    "losses": "tickets.CourierLossReport",
    "quality": "tickets.QualityProblem",
    "alerts": "tickets.ProductionAlert",
    "wrong": "tickets.WrongShipment",
    "interventions": "tickets.PlatformIntervention",
    "invoices": "tickets.InvoiceRequest",
    "reviews": "tickets.Review",
    "compensations": "tickets.LedgerEntry",
    "handover": "tickets.HandoverNote",
    "vips": "tickets.VipCustomer",
    "follow-ups": "tickets.VipFollowUp",
    "sheets": "finance_exports.Sheet",
    "lines": "finance_exports.ExchangeLine",
    "escalations": "tickets.Escalation",
    "notifications": "tickets.Notification",
}


def parameter_model(route_text: str, position: int) -> str | None:
    """The model ("app.Model") of the path parameter starting at ``position`` of the route
    text, or None when the walk doesn't know it."""
    before = [s for s in route_text[:position].split("/") if s and not s.startswith("<")]
    if not before:
        return None
    segment = before[-1]
    if segment in SEGMENT_MODELS:
        return SEGMENT_MODELS[segment]
    if len(before) >= 3 and before[0] == "admin":  # admin/<app>/<model>/<path:object_id>/
        try:
            model = apps.get_model(before[1], before[2])
        except LookupError:
            return None
        return model._meta.label
    return None


# --- values --------------------------------------------------------------------------------
# Hostile values by kind; the property-based examples draw from all of them.
HUGE = [
    "9" * 25,
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "9" * 400,
    "-1",
    "0",
    "00000000000000000001",
    "1e400",
    "1e28",
    "-0",
    "2147483648",
    "32768",
]
CALENDAR = [
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "9999-12-31 23:59:59",
    "9999-12",
    "0001-01",
    "10000-01-01",
    "0000-00-00",
    "2026-02-30",
    "2026-13",
    "1900-01-01",
]
DIGITS = ["١٢٣", "１２３", "²³", "௧௨", "١", "１２３４５６７８９０", "Ⅻ", "𝟙𝟚𝟛"]
CONTROL = [
    "\x01\x02\x1b[31m\x7f",
    "\t\r\n",
    "\u200b",
    "\ufeff",
    "\u202e",
    "\uffff",
    "\ufffe",
    "\U0010ffff",
    "\x85",
    "\x1f",
]
LONG = ["a" * 41, "Y" * 61, "x" * 256, "9" * 41, "安" * 300, "x" * 5000, "T" + "9" * 30]
WRONG_TYPE = [
    "",
    " ",
    "abc",
    "1.5",
    "NaN",
    "inf",
    "0x10",
    "1_000",
    "1,2,3",
    "on",
    "true",
    "[]",
    "{}",
    "'",
    '"',
    "<script>alert(1)</script>",
    "%",
    "../../etc/passwd",
    "T00000001",
    "t81",
    "me",
    "none",
    "unfinished",
]
NUL = ["\x00", "abc\x00def", "YT12\x0034", "\x00" * 3]
# A flood gives every key a view reads one value at once, one request per value: a value of
# each kind that has broken a desk somewhere (64-bit and 32-bit overflow, negative, the
# calendar's ends as dates, datetimes and months, other digits, too long, not a number,
# empty, invisible characters).
FLOOD = [
    "9" * 25,
    "9" * 18,
    "-1",
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "１２３",
    "x" * 300,
    "\x1b\u200b\ufeff",
]
ADMIN_FLOOD = ["9" * 25, "-1", "0001-01-01", "9999-12-31"]
# A list or search page applies its filter only when every key is valid: there, each key gets
# each of these alone (the other keys left out), so a value that passes validation reaches
# the query, the paging and the date arithmetic behind it.
ONE_KEY = ["9" * 25, "-1", "0001-01-01", "9999-12-31"]
HOSTILE = [*HUGE, *CALENDAR, *DIGITS, *CONTROL, *LONG, *WRONG_TYPE, *NUL]


def form_classes() -> list[type]:
    """Every form class of the desk (the modules that define them are imported first, so
    the answer does not depend on which tests ran before)."""
    import aftersales.lockout_views  # noqa: F401
    import tickets.admin
    import tickets.forms
    import tickets.forms_orders
    import tickets.forms_registers
    import tickets.imports.forms
    import tickets.views.statistics  # noqa: F401

    found, todo = [], [BaseForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith(("tickets", "finance_exports", "aftersales")):
                found.append(sub)
    return found


def filter_keys() -> set[str]:
    """Every query key of every FilterSet of the desk (a range is two: ``created_min``...)."""
    import django_filters

    import tickets.filters_registers  # noqa: F401

    keys, todo = set(), [django_filters.FilterSet]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            for name, flt in sub.base_filters.items():
                widget = flt.extra.get("widget") or flt.field_class.widget
                suffixes = getattr(widget, "suffixes", None)
                keys |= {f"{name}_{s}" for s in suffixes} if suffixes else {name}
    return keys


# Names views read by hand (request.GET / request.POST), and the admin's own parameters.
HAND_READ = {
    "q",
    "page",
    "tracking_no",
    "parcel",
    "nick",
    "order",
    "view",
    "query",
    "ids",
    "shared",
    "assignee",
    "next",
    "language",
    "username",
    "password",
    "submission",
    "postage-amount",
    "postage-kind",
    "postage-payment_method",
    "postage-note",
    "postage-submission",
}
ADMIN_READ = {
    "p",
    "o",
    "e",
    "q",
    "all",
    "_changelist_filters",
    "_popup",
    "_to_field",
    "_save",
    "_continue",
    "_addanother",
    "action",
    "_selected_action",
    "select_across",
    "index",
    "post",
}


def admin_keys(models=None) -> set[str]:
    """The admin's own parameters and lookups over the fields of ``models`` (every model
    registered in the admin when None)."""
    keys = set(ADMIN_READ)
    lookups = ("", "__exact", "__gte", "__lt", "__isnull", "__year", "__month", "__day")
    for model in admin.site._registry if models is None else models:
        for model_field in model._meta.get_fields():
            name = model_field.name
            keys |= {name + lookup for lookup in lookups}
            keys |= {f"{name}__id__exact", f"{name}__pk__exact", f"{name}_id"}
    return keys


def admin_route_keys(route: Route) -> list[str]:
    """For an admin URL, the admin's parameters and its model's lookups."""
    parts = route.name.split("/")
    try:
        model = apps.get_model(parts[1], parts[2])
    except (IndexError, LookupError, ValueError):
        return sorted(ADMIN_READ)
    return sorted(admin_keys([model]))


def choice_values() -> list[str]:
    """Every declared choice of every model (statuses, kinds, reasons ...): valid values get
    a form past its first check."""
    values = set()
    for model in apps.get_models():
        for model_field in model._meta.get_fields():
            for value, _label in getattr(model_field, "flatchoices", None) or []:
                values.add(str(value))
    return sorted(values)


@dataclass
class World:
    """The data every walk starts from, built once per module through the real services."""

    folder: str = ""
    ids: dict[str, list[int]] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)
    desk_keys: list[str] = field(default_factory=list)
    admin_keys: list[str] = field(default_factory=list)
    choices: list[str] = field(default_factory=list)
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)

    def ids_of(self, label: str | None) -> list[int]:
        if label is None or not self.ids.get(label):
            return sorted({pk for pks in self.ids.values() for pk in pks})
        return self.ids[label]


def build_world(folder: str) -> World:
    """Demo shops, staff, orders, tickets, money and parcels (``tickets.demo``), plus one row
    of every register, an exchange list and a finance sheet, a photo, a pending compensation,
    an exchange charge, a saved view and an import batch, all through the services, so every
    detail page has a real id. The rows made here for the agent's shop come first in
    ``World.ids``, so the first id of a model is one the agent may open."""
    from finance_exports.models import ExchangeLine, Sheet
    from finance_exports.services import SheetBuildFailed, sheet_build
    from tests.factories import make_order, make_ticket
    from tickets.demo import build_demo
    from tickets.models import (
        ChatWebhook,
        Courier,
        LedgerEntry,
        Order,
        OrderItem,
        Review,
        Sku,
        Ticket,
        TicketItem,
        User,
        VipCustomer,
    )
    from tickets.services.courier_losses import courier_loss_create
    from tickets.services.exchanges import exchange_charge_record
    from tickets.services.handover import handover_add
    from tickets.services.interventions import intervention_register
    from tickets.services.invoices import invoice_request_register
    from tickets.services.ledger import ledger_record, submission_key_issue
    from tickets.services.photos import photo_add
    from tickets.services.quality import product_feedback_record, quality_problem_register
    from tickets.services.reviews import review_compensate, review_register
    from tickets.services.saved_views import saved_view_create
    from tickets.services.tickets import ItemRequest, promise_add, ticket_escalate, ticket_open
    from tickets.services.vips import vip_add, vip_follow_ups_plan
    from tickets.services.wrong_shipments import wrong_shipment_register

    today = timezone.localdate()
    build_demo(seed=12, orders=40, tickets=30, days=20, today=today, password="walk-pw-1")
    boss = User.objects.get(username="supervisor")
    agent = User.objects.get(username="agent")
    # An order the demo's registers left alone (its review, invoice or VIP would refuse the
    # ones made here: one review per order, invoices within what was paid, a VIP once).
    order = (
        Order.objects.filter(shop__in=agent.shops.all(), status=Order.Status.SUCCESS)
        .filter(reviews__isnull=True, invoice_requests__isnull=True)
        .exclude(buyer_nick__in=VipCustomer.objects.values("buyer_nick"))
        .order_by("pk")
        .first()
    )
    if order is None:  # the demo's registers took every order of the agent's shops
        order = make_order(
            agent.shops.order_by("pk").first(),
            buyer_nick="walk-漫游者",
            items=((Decimal("129.00"), 1),),
        )
    item = order.items.order_by("pk").first()
    sku = Sku.objects.order_by("pk").first()
    paid = item.sku.price if item.sku_id and item.sku.price else item.unit_price
    dearer = Sku.objects.filter(price__gt=paid + 10).order_by("pk").first()
    money = {"actor": agent, "order": order}
    exchange = ticket_open(
        **money,
        kind=Ticket.Kind.EXCHANGE,
        reason=Ticket.Reason.NOT_SUITABLE,
        responsibility=Ticket.Responsibility.BUYER,
        items=[ItemRequest(item, 1, send_sku=dearer)],
    )
    made = [order, exchange]
    made.append(promise_add(actor=agent, ticket=exchange, kind="gift", text="送袜子一双"))
    for kind, amount in (
        (LedgerEntry.Kind.COMPENSATION, "80.00"),
        (LedgerEntry.Kind.POSTAGE, "12"),
    ):
        # 80 is above the approval threshold: a compensation waiting for a supervisor.
        made.append(
            ledger_record(
                **money,
                ticket=exchange,
                kind=kind,
                amount=amount,
                payment_method=LedgerEntry.PaymentMethod.ALIPAY_TRANSFER,
            )
        )
    made.append(exchange_charge_record(actor=agent, ticket=exchange, amount="5.00"))
    made.append(photo_add(actor=agent, ticket=exchange, data=_png(), original_name="p.png"))

    ref = {"actor": boss, "order": order}
    made.append(
        courier_loss_create(
            **ref,
            courier=Courier.objects.order_by("pk").first(),
            tracking_no="YT1234567890",
            damage="lost",
            items_description="卫衣",
            items_value="99",
            shop_action="reship",
            claimed_amount="99",
        )
    )
    made += [
        p
        for p in quality_problem_register(
            actor=boss, shop=order.shop, sku=sku, problem_type="stitching"
        )
        if p is not None
    ]
    made.append(product_feedback_record(actor=boss, sku=sku, topic="size", text="偏小"))
    made.append(wrong_shipment_register(**ref, kind="wrong", sent_description="黑色 M"))
    made.append(intervention_register(**ref, case_no="C1", reason="未发货"))
    made.append(invoice_request_register(**ref, title="某公司", amount="50"))
    review = review_register(
        **ref, rating=Review.Rating.NEGATIVE, made_at=timezone.now(), text="差", assign=False
    )
    made.append(review)
    made.append(
        review_compensate(
            actor=boss,
            review=review,
            amount="5",
            payment_method=LedgerEntry.PaymentMethod.RED_PACKET,
        )
    )
    made.append(handover_add(actor=boss, shop=order.shop, note="交接", order=order))
    made.append(vip_add(actor=boss, shop=order.shop, buyer_nick=order.buyer_nick))
    # A VIP since before this month (one added on a month's last day waits for the next).
    VipCustomer.objects.filter(pk=made[-1].pk).update(
        created_at=timezone.now() - timedelta(days=40)
    )
    vip_follow_ups_plan(actor=boss, month=today.replace(day=1))
    made.append(saved_view_create(actor=agent, name="我的", query="status=open"))
    # Issue 13: an open escalation (the inbox and its decision), the supervisor's bell, and a
    # chat robot for the admin's pages (nothing is sent: the walk never commits).
    made.append(ticket_escalate(actor=agent, ticket=exchange, reason="买家要求主管答复"))
    made.append(
        ChatWebhook.objects.create(
            name="售后群", provider="wecom", kind="assigned", url="https://chat.invalid/k"
        )
    )
    made.append(_import_batch(agent, order.shop))
    # An exchange waiting in the queue for the next list, which the list below takes (the
    # demo built its own lists already, up to yesterday's).
    spare = (
        Order.objects.filter(shop__in=agent.shops.all(), status=Order.Status.SUCCESS)
        .filter(tickets__isnull=True)
        .exclude(pk=order.pk)
        .order_by("pk")
        .first()
    )
    made.append(make_ticket(spare, agent, status=Ticket.Status.QUEUED_FOR_EXCHANGE))
    for kind, day in (("exchanges", today + timedelta(days=1)), ("finance", today)):
        # A sheet that failed to build is still a sheet whose pages the walk visits.
        try:
            made.append(
                sheet_build(kind=kind, business_date=day, now=timezone.now() + timedelta(days=2))
            )
        except SheetBuildFailed as failed:
            made.append(failed.sheet)
    assert ExchangeLine.objects.exists() and Sheet.objects.exists()

    world = World(folder=folder)
    for row in made:
        world.ids.setdefault(row._meta.label, []).append(row.pk)
    for model in apps.get_models():
        if model._meta.app_label in ("tickets", "finance_exports", "auth"):
            pks = model.objects.order_by("pk").values_list("pk", flat=True)[:4]
            world.ids.setdefault(model._meta.label, []).extend(
                pk for pk in pks if isinstance(pk, int)
            )
    world.texts = [
        order.order_no,
        order.buyer_nick,
        order.receiver_phone[-4:],
        order.alipay_no,
        order.tracking_no,
        exchange.number,
        sku.code,
        "YT1234567890",
        today.isoformat(),
        today.strftime("%Y-%m"),
        f"{today:%Y-%m-%d}T10:00",
        "1",
        "2",
        "12.50",
        *[submission_key_issue(u) for u in User.objects.filter(username__in=ROLES)],
    ]
    world.texts = [t for t in world.texts if t]
    world.choices = choice_values()
    dynamic = [
        *(
            f"{n}_{pk}"
            for pk in OrderItem.objects.values_list("pk", flat=True)
            for n in ("qty", "send")
        ),
        *(
            f"{name}_{pk}_{n}"
            for pk in TicketItem.objects.values_list("pk", flat=True)
            for name in ("send", "qty")
            for n in range(3)
        ),
    ]
    desk = set(HAND_READ) | filter_keys() | set(dynamic)
    for form_class in form_classes():
        desk |= set(form_class.base_fields)
    world.desk_keys = sorted(desk)
    world.admin_keys = sorted(admin_keys() | desk)
    for role in ROLES[1:]:
        client = Client()
        client.force_login(User.objects.get(username=role))
        world.cookies[role] = {k: v.value for k, v in client.cookies.items()}
    # Every request's savepoint is rolled back, the session's idle clock with it: a long run
    # must not log the roles out half way.
    Session.objects.update(expire_date=timezone.now() + timedelta(days=30))
    return world


def _png() -> bytes:
    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    return out.getvalue()


def _import_batch(agent, shop):
    from tickets.imports.batches import order_import_upload

    sample = Path(__file__).resolve().parents[1] / "docs" / "samples" / "refunds-sample.csv"
    upload = SimpleUploadedFile("退款列表.csv", sample.read_bytes(), "text/csv")
    return order_import_upload(actor=agent, shop=shop, files={"refunds": upload})


# --- building requests ---------------------------------------------------------------------
def encode(text: str, how: str) -> str:
    """``text`` for a query string or form body: UTF-8 (as browsers send), GB18030 or Latin-1
    bytes (what an old client sends), or UTF-8 followed by a broken escape."""
    if how == "utf-8":
        return quote_plus(text)
    if how == "gbk":
        return quote_plus(text, encoding="gb18030", errors="replace")
    if how == "latin-1":
        return quote_plus(text, encoding="latin-1", errors="replace")
    return quote_plus(text) + how


BROKEN = ["%", "%G1", "%E4%B8", "%FF%FE", "%C0%80", "%ED%A0%80", "%u4e2d", "%%"]
ENCODINGS = ["utf-8"] * 6 + ["gbk", "latin-1", *BROKEN]


def raw_pairs(pairs) -> str:
    """(key, value, key encoding, value encoding) tuples as one raw query string."""
    return "&".join(f"{encode(k, hk)}={encode(v, hv)}" for k, v, hk, hv in pairs)


def _pieces(route: Route):
    """The route as pieces: ("text", literal), ("param", converter, model) or
    ("regex", pattern)."""
    offset = 0
    for pattern in route.patterns:
        text = str(pattern)
        if isinstance(pattern, RegexPattern):
            if pattern.regex.pattern not in ("", "^"):
                yield ("regex", pattern.regex.pattern)
        else:
            position = 0
            for match in PARAM.finditer(text):
                yield ("text", text[position : match.start()])
                model = parameter_model(route.name, offset + match.start())
                yield ("param", match.group("converter") or "str", model)
                position = match.end()
            yield ("text", text[position:])
        offset += len(text)


def real_path(world: World, route: Route, pick: int = 0) -> str | None:
    """The route with each path parameter filled by a real id of its model (the ``pick``-th;
    the first is the agent's), or None when a piece can't be written without guessing
    (a regular expression)."""
    out = ""
    for piece in _pieces(route):
        if piece[0] == "regex":
            return None
        if piece[0] == "text":
            out += quote(piece[1], safe="/")
        elif piece[1] == "slug":
            out += "agents"
        else:
            ids = world.ids_of(piece[2])
            out += str(ids[pick % len(ids)])
    return "/" + out


def path_strategy(world: World, route: Route):
    """A path for ``route``: each parameter a real id of its model, another real id, a number
    (up to far beyond 64 bits) or something that is no number at all."""
    parts = []
    for piece in _pieces(route):
        if piece[0] == "text":
            parts.append(st.just(quote(piece[1], safe="/")))
        elif piece[0] == "param":
            parts.append(_parameter(world, piece[1], piece[2]))
        else:
            regex = st.from_regex(piece[1], fullmatch=True, alphabet=UTF8).filter(
                lambda t: "\n" not in t
            )
            parts.append(regex.map(lambda t: quote(t, safe="/")))
    return st.tuples(*parts).map(lambda done: "/" + "".join(done))


# Any character a UTF-8 request can carry (lone surrogates can't be sent at all).
UTF8 = st.characters(codec="utf-8")


def _parameter(world: World, converter: str, model: str | None):
    hostile = st.one_of(
        st.sampled_from(HOSTILE).filter(bool).map(lambda v: quote(v, safe="")),
        st.sampled_from(["%FF", "%00", "%C0%AF", "..%2F..", "%E4%B8"]),
    )
    number = st.one_of(
        st.sampled_from(world.ids_of(model)).map(str),
        st.sampled_from(world.ids_of(model)).map(str),
        st.integers(min_value=0, max_value=2**31).map(str),
        st.integers(min_value=2**31, max_value=10**40).map(str),
        st.sampled_from(["0", "00", "0001", "9" * 18, "9" * 19, "9" * 25]),
    )
    if converter == "slug":
        return st.one_of(
            st.sampled_from(["agents", "products", "days", "x", "-", "_" * 300]),
            st.from_regex(r"[-a-zA-Z0-9_]{1,40}", fullmatch=True),
        )
    if converter in ("int", "id"):
        return st.one_of(number, number, hostile)
    return st.one_of(number, hostile, st.text(UTF8, min_size=1).map(lambda v: quote(v, safe="")))


def value_strategy(world: World):
    """One parameter's value: half of the time one the desk could accept (a real id, order
    number, choice, date, one-time key), else something hostile."""
    plausible = st.one_of(
        st.sampled_from(sorted({pk for pks in world.ids.values() for pk in pks})).map(str),
        st.sampled_from(world.texts),
        st.sampled_from(world.choices),
    )
    hostile = st.one_of(
        st.sampled_from(HOSTILE),
        st.integers(min_value=-(10**40), max_value=10**40).map(str),
        st.dates().map(date.isoformat),
        st.datetimes().map(lambda d: d.isoformat(timespec="minutes")),
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.text(UTF8, max_size=30),
        st.text(alphabet=st.characters(categories=["Nd", "No", "Cc", "Cf"]), max_size=12),
        st.builds(
            lambda text, n: text * n, st.sampled_from(["9", "安", "x"]), st.integers(1, 3000)
        ),
    )
    return st.one_of(plausible, hostile)


def pairs_strategy(world: World, keys: list[str], pool: list[str]):
    """Query or form pairs: mostly the keys the route reads, a few others, each with a value
    and an encoding."""
    key = st.one_of(
        st.sampled_from(keys or pool),
        st.sampled_from(keys or pool),
        st.sampled_from(keys or pool),
        st.sampled_from(pool),
        st.sampled_from(HOSTILE),
    )
    encoding = st.sampled_from(ENCODINGS)
    return st.lists(st.tuples(key, value_strategy(world), encoding, encoding), max_size=6)


def request_strategy(world: World, route: Route, keys: list[str]):
    pool = world.admin_keys if route.admin else world.desk_keys

    @st.composite
    def build(draw):
        method = draw(st.sampled_from(["GET", "POST"]))
        request = {
            "method": method,
            "path": draw(path_strategy(world, route)),
            "query": raw_pairs(draw(pairs_strategy(world, keys, pool))),
            "english": draw(st.booleans()),
            "htmx": draw(st.booleans()),
        }
        if method == "POST":
            if draw(st.integers(0, 5)) == 0:
                request["multipart"] = draw(_multipart(world, keys, pool))
            else:
                request["body"] = raw_pairs(draw(pairs_strategy(world, keys, pool)))
        return request

    return build()


def _multipart(world, keys, pool):
    names = ["photo", "file", "orders_file", "items_file", "refunds_file"]
    return st.builds(
        lambda pairs, name, filename, content: {
            **{k: v for k, v, _a, _b in pairs},
            name: SimpleUploadedFile(filename, content),
        },
        pairs_strategy(world, keys, pool),
        st.sampled_from(names),
        st.sampled_from(["a.png", "b.csv", "c.xlsx", "\x00.txt", "安" * 200, ""]).map(
            lambda n: n or "x"
        ),
        st.binary(max_size=300),
    )


def flood(keys: list[str], value: str) -> str:
    """Every key with ``value``."""
    return "&".join(f"{quote_plus(key)}={quote_plus(value)}" for key in keys)


# --- sending -------------------------------------------------------------------------------
_CLIENTS: dict[str, Client] = {}


class Reads:
    """Records the query and form keys a request's view read (``get``, ``getlist``, ``[]``,
    ``in``), so the walk gives those keys its values."""

    def __init__(self, monkeypatch):
        self.keys: set[str] = set()
        self.on = False
        for name in ("get", "getlist", "__getitem__", "__contains__"):
            original = getattr(QueryDict, name)
            monkeypatch.setattr(QueryDict, name, self._recording(original))

    def _recording(self, original):
        reads = self

        def read(data, key, *args, **kwargs):
            if reads.on and isinstance(key, str):
                reads.keys.add(key)
            return original(data, key, *args, **kwargs)

        return read


def send(world: World, role: str, request: dict):
    """Sends ``request`` as ``role`` inside a savepoint that is rolled back (a POST that
    succeeds changes nothing for the next request). Returns the response; a view's exception
    propagates (the test client re-raises it)."""
    # One client per role (loading the middleware again per request costs more than the
    # request), its cookies back to the role's session each time: a logout, a language switch
    # or a login in an earlier request is forgotten with the rest.
    client = _CLIENTS.setdefault(role, Client(raise_request_exception=True))
    client.cookies = SimpleCookie()
    for name, value in world.cookies.get(role, {}).items():
        client.cookies[name] = value
    if request.get("english"):
        client.cookies["django_language"] = "en"
    headers = {"HX-Request": "true"} if request.get("htmx") else {}
    url = request["path"] + ("?" + request["query"] if request.get("query") else "")
    with transaction.atomic():
        try:
            if request["method"] == "GET":
                response = client.get(url, headers=headers)
            elif "multipart" in request:
                response = client.post(url, data=request["multipart"], headers=headers)
            else:
                response = client.post(
                    url,
                    data=request.get("body", ""),
                    content_type="application/x-www-form-urlencoded",
                    headers=headers,
                )
            if response.streaming:  # a file: read to the end, as a browser would
                b"".join(response.streaming_content)
        finally:
            transaction.set_rollback(True)
    return response
