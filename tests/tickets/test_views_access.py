"""Who may reach what: another shop's ids are a 404 on every URL, roles are checked on the
server, every change is a POST, and nothing changes when a request is refused."""

import re
from decimal import Decimal

import pytest
from django.urls import URLPattern, get_resolver, reverse

from tests.factories import make_order, make_sku, make_ticket, make_user
from tests.tickets.test_photos_privacy_replies import image_bytes
from tickets.models import (
    ExchangeCharge,
    ExchangeReplacement,
    LedgerEntry,
    PersonalDataAccess,
    Promise,
    ReturnParcel,
    Ticket,
    TicketEvent,
    TicketPhoto,
)
from tickets.roles import Role
from tickets.services.exchanges import (
    ReplacementRequest,
    exchange_charge_record,
    exchange_set_replacements,
)
from tickets.services.ledger import ledger_record
from tickets.services.parcels import parcel_unpack
from tickets.services.photos import photo_add
from tickets.services.tickets import promise_add

PASSWORD = "pw-for-tests-1"


def _ticket_routes():
    resolver = get_resolver()
    tickets_patterns = next(
        p for p in resolver.url_patterns if getattr(p, "namespace", None) == "tickets"
    )
    return [p for p in tickets_patterns.url_patterns if isinstance(p, URLPattern)]


ROUTES = [(p.name, sorted(p.pattern.converters)) for p in _ticket_routes()]


@pytest.fixture
def other_shop_objects(shop_b, supervisor):
    """One of everything, in shop B."""
    order = make_order(shop_b)
    ticket = make_ticket(order, supervisor, kind=Ticket.Kind.RETURN)
    promise = promise_add(actor=supervisor, ticket=ticket, kind="gift", text="送小礼品")
    entry = ledger_record(
        actor=supervisor,
        order=order,
        ticket=ticket,
        kind="compensation",
        amount="80.00",
        payment_method="alipay_transfer",
    )
    photo = photo_add(actor=supervisor, ticket=ticket, data=image_bytes())
    parcel = parcel_unpack(
        actor=supervisor, tracking_no="B-PARCEL", condition="intact", order=order
    ).parcel
    # An exchange whose replacement is dearer, with the difference paid.
    exchange = make_ticket(make_order(shop_b, items=((Decimal("10.00"), 1),)), supervisor)
    exchange_set_replacements(
        actor=supervisor,
        ticket=exchange,
        requests=[ReplacementRequest(exchange.items.get().pk, make_sku(price=Decimal("30")), 1)],
    )
    charge = exchange_charge_record(actor=supervisor, ticket=exchange, amount="20")
    return {
        "exchange": exchange,
        "charge": charge,
        "order": order,
        "ticket": ticket,
        "promise": promise,
        "entry": entry,
        "photo": photo,
        "parcel": parcel,
    }


def _kwargs(name, params, objects):
    values = {}
    for param in params:
        if param == "pk":
            values["pk"] = objects[
                "order"
                if name.startswith("order")
                else "parcel"
                if name.startswith("parcel")
                else "exchange"
                if name.startswith("exchange")
                else "ticket"
            ].pk
        elif param == "order_pk":
            values[param] = objects["order"].pk
        elif param == "promise_pk":
            values[param] = objects["promise"].pk
        elif param == "entry_pk":
            values[param] = objects["entry"].pk
        elif param == "photo_pk":
            values[param] = objects["photo"].pk
        elif param == "charge_pk":
            values[param] = objects["charge"].pk
    return values


def _snapshot():
    return tuple(
        model.objects.count()
        for model in (
            Ticket,
            TicketEvent,
            LedgerEntry,
            Promise,
            TicketPhoto,
            ReturnParcel,
            PersonalDataAccess,
            ExchangeReplacement,
            ExchangeCharge,
        )
    )


@pytest.mark.parametrize(("name", "params"), [r for r in ROUTES if r[1]])
def test_another_shops_ids_are_404_on_every_url(client, shop_a, other_shop_objects, name, params):
    # given a supervisor who serves shop A only (they hold every permission)
    boss_of_a = make_user("boss-a", Role.SUPERVISOR, shops=[shop_a])
    client.force_login(boss_of_a)
    url = reverse(f"tickets:{name}", kwargs=_kwargs(name, params, other_shop_objects))
    before = _snapshot()
    # when they GET and POST shop B's ids
    answers = {
        client.get(url).status_code,
        client.post(
            url,
            {
                "to_status": "cancelled",
                "text": "x",
                "reason": "x",
                "assignee": "me",
                "order_no": "1",
                "approved": "1",
            },
        ).status_code,
    }
    # then every answer is "not found" or "wrong method", and nothing changed
    assert answers <= {404, 405}, (url, answers)
    assert 404 in answers
    assert _snapshot() == before


def test_every_tickets_url_needs_a_login(client, other_shop_objects):
    for name, params in ROUTES:
        url = reverse(f"tickets:{name}", kwargs=_kwargs(name, params, other_shop_objects))
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


MUTATING = [
    "order_reveal",
    "ticket_transition",
    "ticket_assign",
    "ticket_note",
    "ticket_escalate",
    "promise_add",
    "promise_fulfil",
    "ledger_record",
    "ledger_reverse",
    "photo_upload",
    "parcel_match",
    "approval_decide",
]


@pytest.mark.parametrize("name", MUTATING)
def test_mutating_urls_refuse_get(client, supervisor, other_shop_objects, name):
    client.force_login(supervisor)
    params = next(p for n, p in ROUTES if n == name)
    before = _snapshot()
    assert (
        client.get(
            reverse(f"tickets:{name}", kwargs=_kwargs(name, params, other_shop_objects))
        ).status_code
        == 405
    )
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("role", "name", "method", "data"),
    [
        (Role.FINANCE, "ticket_new", "get", None),
        (Role.FINANCE, "parcel_unpack", "get", None),
        (Role.FINANCE, "ledger_record", "post", {"kind": "postage", "amount": "5"}),
        (Role.FINANCE, "ticket_transition", "post", {"to_status": "cancelled"}),
        (Role.FINANCE, "order_reveal", "post", {}),
        (Role.AGENT, "approval_list", "get", None),
        (Role.AGENT, "approval_decide", "post", {"approved": "1"}),
    ],
)
def test_wrong_role_is_403_and_changes_nothing(
    client, shop_b, other_shop_objects, role, name, method, data
):
    user = make_user(role=role, shops=[shop_b])
    client.force_login(user)
    params = next(p for n, p in ROUTES if n == name)
    url = reverse(f"tickets:{name}", kwargs=_kwargs(name, params, other_shop_objects))
    before = _snapshot()
    response = getattr(client, method)(url, data or {})
    assert response.status_code == 403
    assert _snapshot() == before


def test_finance_reads_tickets_but_sees_no_buttons(client, finance, other_shop_objects):
    client.force_login(finance)
    page = client.get(reverse("tickets:ticket_detail", args=[other_shop_objects["ticket"].pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'action="/tickets/' not in html  # no forms that change anything


PHONE = re.compile(r"(?<!\d)1\d{10}(?!\d)")


def test_pages_show_no_phone_number_until_revealed(client, agent, shop_a):
    order = make_order(shop_a, phone="13912345678")
    ticket = make_ticket(order, agent)
    client.force_login(agent)
    for url in (
        reverse("tickets:dashboard"),
        reverse("tickets:ticket_list"),
        reverse("tickets:ticket_detail", args=[ticket.pk]),
        reverse("tickets:order_detail", args=[order.pk]),
        reverse("tickets:order_search") + f"?q={order.buyer_nick}",
        reverse("tickets:order_search") + "?q=5678",
    ):
        html = client.get(url, follow=True).content.decode()
        assert not PHONE.search(html), url
        assert "张三" not in html, url
    # the search by the phone's last four digits finds the order
    assert client.get(reverse("tickets:order_search") + "?q=5678").status_code == 302
    revealed = client.post(
        reverse("tickets:order_reveal", args=[order.pk]), headers={"x-requested-with": "fetch"}
    )
    assert "13912345678" in revealed.content.decode()
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.order) == (agent, order)
