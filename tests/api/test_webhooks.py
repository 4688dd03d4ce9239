"""Outgoing webhooks for an ERP (issue 16), sent to a local HTTP receiver started by the test:
signed with the endpoint's secret, sent after the commit (a rolled-back event sends nothing),
retried after a failure with every attempt kept, never a buyer's phone, address or nickname;
the exchange list's lines go to each endpoint for its own shops only."""

import contextlib
import hashlib
import hmac
import ipaddress
import json
import socket
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from aftersales import outbound
from aftersales.celery import app
from api import webhooks
from api.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from api.tasks import webhook_deliver
from api.webhooks import WebhookSendError, webhook_secret, webhook_send
from finance_exports.builders import get_builder
from finance_exports.services import exchange_list_approve, sheet_build
from tests.factories import make_order, make_ticket, make_user
from tests.finance_exports.helpers import queued_exchange, record
from tests.tickets.test_chat_webhook import Receiver
from tickets.models import LedgerEntry, Order, Ticket
from tickets.roles import Role
from tickets.services.tickets import ticket_transition

from .test_tokens import cookie_texts

pytestmark = pytest.mark.django_db(transaction=True)
OK = (200, b"ok", 0)
PERSONAL = ("13812345678", "13912345678", "解放大道", "张三", "小鱼爱吃猫")


@pytest.fixture
def eager():
    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, False
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


def endpoint(url, *, shops=(), all_shops=False, events=("ticket.status_changed",)):
    hook = WebhookEndpoint.objects.create(
        name="ERP", url=url, events=list(events), all_shops=all_shops, secret=webhook_secret()
    )
    hook.shops.set(shops)
    return hook


def verify(hook, headers, body) -> bool:
    """What a receiver does: recompute the signature over timestamp and body."""
    parts = dict(part.split("=", 1) for part in headers["X-Desk-Signature"].split(","))
    expected = hmac.new(
        hook.secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


class HeaderReceiver(Receiver):
    """The chat tests' receiver, keeping each request's headers too."""

    def __init__(self, replies):
        super().__init__(replies)
        self.headers = []
        handler = self.server.RequestHandlerClass
        receiver = self
        original = handler.do_POST

        def do_post(handler_self):
            receiver.headers.append(dict(handler_self.headers))
            return original(handler_self)

        handler.do_POST = do_post


def test_a_status_change_is_delivered_signed_after_the_commit_without_personal_data(
    agent, shop_a, eager
):
    order = make_order(shop_a, phone="13812345678")
    ticket = make_ticket(order, agent, kind=Ticket.Kind.RETURN)
    with HeaderReceiver([OK]) as receiver:
        hook = endpoint(receiver.url + "/erp/hook", shops=[shop_a])
        # when an agent moves the ticket, with the buyer's phone in the note
        ticket_transition(
            actor=agent,
            ticket=ticket,
            to_status=Ticket.Status.AWAITING_RETURN,
            note="买家张三 13812345678 解放大道 1 号",
        )
    # then one signed delivery arrived after the commit
    assert len(receiver.requests) == 1
    path, body = receiver.requests[0]
    headers = receiver.headers[0]
    assert path == "/erp/hook" and verify(hook, headers, body)
    assert headers["X-Desk-Event"] == "ticket.status_changed"
    payload = json.loads(body)
    assert payload["event"] == "ticket.status_changed"
    assert payload["ticket"]["number"] == ticket.number
    # in Beijing time, as the API's answers write their times
    assert payload["occurred_at"].endswith("+08:00")
    assert (payload["ticket"]["from_status"], payload["ticket"]["to_status"]) == (
        "open",
        "awaiting_return",
    )
    text = body.decode()
    for personal in (*PERSONAL, order.receiver_name, order.buyer_nick):
        assert personal not in text
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered" and delivery.attempts == 1
    assert str(delivery.pk) == headers["X-Desk-Delivery"]
    # a signature over another body or with another secret does not verify
    assert not verify(hook, headers, body + b" ")


def test_a_rolled_back_event_sends_nothing(agent, shop_a, eager):
    ticket = make_ticket(make_order(shop_a), agent, kind=Ticket.Kind.RETURN)
    with Receiver([OK]) as receiver:
        endpoint(receiver.url, shops=[shop_a])
        with transaction.atomic():
            ticket_transition(actor=agent, ticket=ticket, to_status=Ticket.Status.AWAITING_RETURN)
            transaction.set_rollback(True)
    assert receiver.requests == [] and not WebhookDelivery.objects.exists()


def test_another_shops_endpoint_hears_nothing(agent, shop_a, shop_b, eager):
    ticket = make_ticket(make_order(shop_a), agent, kind=Ticket.Kind.RETURN)
    with Receiver([OK]) as receiver:
        endpoint(receiver.url, shops=[shop_b])
        endpoint(receiver.url, shops=[shop_a], events=["refund.recorded"])
        ticket_transition(actor=agent, ticket=ticket, to_status=Ticket.Status.AWAITING_RETURN)
    assert receiver.requests == []


def test_a_failing_receiver_is_retried_and_every_attempt_kept(agent, shop_a, settings):
    assert set(webhook_deliver.autoretry_for) >= {OSError}
    assert webhook_deliver.max_retries == settings.DESK_WEBHOOK_MAX_RETRIES
    assert webhook_deliver.retry_backoff and webhook_deliver.retry_backoff_max == 600
    ticket = make_ticket(make_order(shop_a), agent, kind=Ticket.Kind.RETURN)
    with HeaderReceiver([(500, b"busy", 0), (503, b"later", 0), OK]) as receiver:
        hook = endpoint(receiver.url, shops=[shop_a])
        ticket_transition(actor=agent, ticket=ticket, to_status=Ticket.Status.AWAITING_RETURN)
        delivery = WebhookDelivery.objects.get()
        # run in this process, the task retries at once (a worker waits the backoff first)
        result = webhook_deliver.apply(args=(delivery.pk,))
    assert result.state == "SUCCESS" and result.get() == "delivered"
    assert len(receiver.requests) == 3
    # every try carries the same delivery id and a valid signature
    assert {h["X-Desk-Delivery"] for h in receiver.headers} == {str(delivery.pk)}
    assert all(
        verify(hook, h, b) for h, (_p, b) in zip(receiver.headers, receiver.requests, strict=True)
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 3)
    codes = list(WebhookAttempt.objects.order_by("at", "id").values_list("status_code", flat=True))
    assert codes == [500, 503, 200]


def test_the_last_failure_marks_the_delivery_failed(agent, shop_a, settings):
    ticket = make_ticket(make_order(shop_a), agent, kind=Ticket.Kind.RETURN)
    with Receiver([(500, b"down", 0)]) as receiver:
        endpoint(receiver.url, shops=[shop_a])
        ticket_transition(actor=agent, ticket=ticket, to_status=Ticket.Status.AWAITING_RETURN)
        delivery = WebhookDelivery.objects.get()
        previous = webhook_deliver.max_retries
        webhook_deliver.max_retries = 1
        try:
            result = webhook_deliver.apply(args=(delivery.pk,))
        finally:
            webhook_deliver.max_retries = previous
    assert result.state == "FAILURE" and len(receiver.requests) == 2
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 2, "HTTP 500")


def test_an_unreachable_receiver_is_an_error_to_retry(agent, shop_a, settings):
    settings.DESK_WEBHOOK_TIMEOUT_SECONDS = 1
    settings.DESK_CHAT_ALLOW_PRIVATE_URLS = True  # a receiver inside the company's network
    ticket = make_ticket(make_order(shop_a), agent, kind=Ticket.Kind.RETURN)
    endpoint("http://127.0.0.1:9/nothing-listens", shops=[shop_a])
    ticket_transition(actor=agent, ticket=ticket, to_status=Ticket.Status.AWAITING_RETURN)
    delivery = WebhookDelivery.objects.get()
    with pytest.raises(WebhookSendError, match="network error"):
        webhook_send(delivery_id=delivery.pk)
    assert WebhookAttempt.objects.get().status_code is None
    delivery.refresh_from_db()
    assert delivery.status == "pending"


# --- where a webhook may go, and for how long (issue 16 review 7 and 8) --------------------
@pytest.fixture
def dns(monkeypatch):
    """Host names resolve from this dict (name -> addresses) instead of the network, for the
    admin's check and the sender's alike; a name not in it does not resolve."""
    names = {"erp.example.com": ["93.184.216.34"]}

    def resolve(host, port):
        with contextlib.suppress(ValueError):
            return [str(ipaddress.ip_address(host))]  # an address resolves to itself
        if host not in names:
            raise OSError("name not known")
        return names[host]

    monkeypatch.setattr(outbound, "host_addresses", resolve)
    return names


def endpoint_form(url, shops=()):
    """The admin's form for an endpoint at ``url`` hearing status changes, of ``shops``
    (ids), or of every shop when none is given."""
    shop_fields = {"shops": list(shops)} if shops else {"all_shops": "on"}
    return {
        "name": "旺店通",
        "url": url,
        "events": ["ticket.status_changed"],
        "is_active": "on",
        **shop_fields,
    }


@pytest.mark.parametrize(
    ("url", "names", "refusal"),
    [
        ("http://169.254.169.254/latest/meta-data/", {}, "https://"),
        ("https://169.254.169.254/latest/meta-data/", {}, "本机、内网、链路本地"),
        ("https://127.0.0.1/hook", {}, "本机、内网、链路本地"),
        ("https://[::ffff:10.0.0.5]/hook", {}, "本机、内网、链路本地"),
        ("https://erp.internal.example/hook", {"erp.internal.example": ["10.1.2.3"]}, "内网"),
        # one private address among public ones is enough to refuse
        ("https://mixed.example/hook", {"mixed.example": ["93.184.216.34", "192.168.1.2"]}, "内网"),
        ("https://user:pw@erp.example.com/hook", {}, "用户名或密码"),
        ("https://nowhere.example/hook", {}, "无法解析"),
        ("ftp://erp.example.com/hook", {}, "https://"),
    ],
)
def test_the_admin_refuses_an_address_the_desk_would_not_send_to(client, dns, url, names, refusal):
    dns.update(names)
    client.force_login(make_user("root-wh", None, is_superuser=True, is_staff=True))
    response = client.post(reverse("admin:api_webhookendpoint_add"), endpoint_form(url))
    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.errors.get("url", []))
    assert refusal in errors, errors
    assert not WebhookEndpoint.objects.exists()


def test_the_admin_takes_a_public_https_address(client, dns):
    client.force_login(make_user("root-wh", None, is_superuser=True, is_staff=True))
    response = client.post(
        reverse("admin:api_webhookendpoint_add"), endpoint_form("https://erp.example.com/hook")
    )
    assert response.status_code == 302
    assert WebhookEndpoint.objects.get().url == "https://erp.example.com/hook"


def test_http_and_private_addresses_only_with_the_setting(client, settings):
    settings.DESK_CHAT_ALLOW_PRIVATE_URLS = True
    client.force_login(make_user("root-wh", None, is_superuser=True, is_staff=True))
    response = client.post(
        reverse("admin:api_webhookendpoint_add"), endpoint_form("http://10.0.0.5:8080/hook")
    )
    assert response.status_code == 302
    # credentials stay refused even then
    response = client.post(
        reverse("admin:api_webhookendpoint_add"), endpoint_form("http://u:p@10.0.0.5/hook")
    )
    assert response.status_code == 200 and WebhookEndpoint.objects.count() == 1


def test_an_address_that_resolves_inside_at_send_time_is_not_sent_to(agent, shop_a, dns):
    """The name was public when saved; by the time of sending it resolves to loopback (DNS
    rebinding, or a record changed): nothing is sent, and no retry would help."""
    ticket = make_ticket(make_order(shop_a), agent, kind=Ticket.Kind.RETURN)
    endpoint("https://erp.example.com/hook", shops=[shop_a])
    ticket_transition(actor=agent, ticket=ticket, to_status=Ticket.Status.AWAITING_RETURN)
    delivery = WebhookDelivery.objects.get()
    dns["erp.example.com"] = ["127.0.0.1"]
    # (had it connected, 127.0.0.1:443 would refuse: a network error, retried)
    result = webhook_deliver.apply(args=(delivery.pk,))
    assert result.state == "SUCCESS" and result.get() == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        "failed",
        1,
        "address not public",
    )
    # and a metadata address stored before the rule existed is refused the same way
    delivery.endpoint.url = "https://169.254.169.254/latest/meta-data/"
    delivery.endpoint.save(update_fields=["url"])
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="pending")
    assert webhook_send(delivery_id=delivery.pk) == "failed"
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 2


def test_a_redirect_is_a_failure_and_never_followed(agent, shop_a):
    ticket = make_ticket(make_order(shop_a), agent, kind=Ticket.Kind.RETURN)
    moved = {"headers": {"Location": "/elsewhere"}}
    with Receiver([OK]) as elsewhere, Receiver([(302, b"", 0, moved)]) as receiver:
        moved["headers"]["Location"] = elsewhere.url + "/latest/meta-data/"
        endpoint(receiver.url + "/hook", shops=[shop_a])
        ticket_transition(actor=agent, ticket=ticket, to_status=Ticket.Status.AWAITING_RETURN)
        delivery = WebhookDelivery.objects.get()
        result = webhook_deliver.apply(args=(delivery.pk,))
    # one POST to the endpoint, none (POST or GET) to where it pointed, and no retry
    assert result.get() == "failed"
    assert len(receiver.requests) == 1 and elsewhere.requests == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.last_error == "HTTP 302: redirect not followed"
    assert WebhookAttempt.objects.get().status_code == 302


def test_an_answer_dripped_beyond_the_deadline_is_cut_at_the_deadline(agent, shop_a, settings):
    """A receiver sending its answer a byte at a time can't hold the sender longer than
    DESK_WEBHOOK_TIMEOUT_SECONDS in all, and the delivery is not marked delivered."""
    settings.DESK_WEBHOOK_TIMEOUT_SECONDS = 1
    ticket = make_ticket(make_order(shop_a), agent, kind=Ticket.Kind.RETURN)
    with Receiver([(200, b"ok", 0, {"drip": 0.2})]) as receiver:
        endpoint(receiver.url, shops=[shop_a])
        ticket_transition(actor=agent, ticket=ticket, to_status=Ticket.Status.AWAITING_RETURN)
        delivery = WebhookDelivery.objects.get()
        started = time.monotonic()
        with pytest.raises(WebhookSendError, match="deadline exceeded"):
            webhook_send(delivery_id=delivery.pk)
        took = time.monotonic() - started
    assert took < 2.5, took  # the answer's ~20 bytes would take ~4 s
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.last_error == "deadline exceeded"
    assert WebhookAttempt.objects.get().duration_ms < 2500


def test_a_refund_recorded_is_delivered_with_its_amount(agent, shop_a, eager):
    order = make_order(shop_a, items=((Decimal("99.00"), 1),))
    ticket = make_ticket(order, agent, kind=Ticket.Kind.REFUND_ONLY)
    with Receiver([OK]) as receiver:
        endpoint(receiver.url, shops=[shop_a], events=["refund.recorded"])
        record(agent, order, "30.00", LedgerEntry.Kind.REFUND, ticket=ticket, note="13812345678")
    payload = json.loads(receiver.requests[0][1])
    assert payload["event"] == "refund.recorded"
    assert payload["refund"]["amount"] == "30.00" and payload["refund"]["ticket"] == ticket.number
    assert "13812345678" not in receiver.requests[0][1].decode()


def test_a_signed_exchange_list_carries_its_lines_to_each_shops_endpoint(
    agent, shop_a, shop_b, settings, eager
):
    settings.FINANCE_SHEET_TIMES = {**settings.FINANCE_SHEET_TIMES, "exchanges": (0, 0)}
    supervisor = make_user("boss-wh", Role.SUPERVISOR, all_shops=True)
    agent.shops.add(shop_b)
    ticket_a = queued_exchange(agent, make_order(shop_a, status=Order.Status.SUCCESS))
    ticket_b = queued_exchange(agent, make_order(shop_b, status=Order.Status.SUCCESS))
    day = timezone.localdate() + timedelta(days=2)
    sheet = sheet_build(
        kind="exchanges",
        business_date=day,
        now=get_builder("exchanges").cutoff(day) + timedelta(minutes=1),
    )
    with Receiver([OK]) as receiver:
        endpoint(receiver.url + "/a", shops=[shop_a], events=["exchange_list.signed"])
        exchange_list_approve(actor=supervisor, sheet=sheet)
    assert len(receiver.requests) == 1
    payload = json.loads(receiver.requests[0][1])
    assert payload["exchange_list"]["signed_by"] == "boss-wh"
    assert [line["ticket"] for line in payload["lines"]] == [ticket_a.number]
    line = payload["lines"][0]
    assert line["send"][0]["quantity"] == 1 and line["send"][0]["title"]
    assert ticket_b.number not in receiver.requests[0][1].decode()
    for personal in PERSONAL:
        assert personal not in receiver.requests[0][1].decode()


def test_the_admin_shows_the_secret_once(client, shop_a, dns):
    root = make_user("root-wh", None, is_superuser=True, is_staff=True)
    client.force_login(root)
    response = client.post(
        reverse("admin:api_webhookendpoint_add"),
        endpoint_form("https://erp.example.com/hook", shops=[shop_a.pk]),
        follow=True,
    )
    hook = WebhookEndpoint.objects.get()
    assert hook.secret.startswith("whsec_")
    assert hook.secret in response.content.decode()
    page = client.get(reverse("admin:api_webhookendpoint_change", args=[hook.pk]))
    assert hook.secret not in page.content.decode()
    # the deliveries list is read-only for everyone
    assert client.get(reverse("admin:api_webhookdelivery_changelist")).status_code == 200
    assert client.get(reverse("admin:api_webhookdelivery_add")).status_code == 403


def test_the_secret_goes_into_no_cookie(client, shop_a, dns):
    """Issue 16 review 9: the secret is shown once on the page after saving (or after the
    new-secret action), never sent to the browser in a cookie (signed, not encrypted)."""
    root = make_user("root-wh", None, is_superuser=True, is_staff=True)
    client.force_login(root)
    response = client.post(
        reverse("admin:api_webhookendpoint_add"),
        endpoint_form("https://erp.example.com/hook", shops=[shop_a.pk]),
    )
    assert response.status_code == 302
    hook = WebhookEndpoint.objects.get()
    shown = client.get(response["Location"])
    assert hook.secret in shown.content.decode()
    steps = [response, shown]
    first = hook.secret
    # a new secret, from the list's action
    changelist = reverse("admin:api_webhookendpoint_changelist")
    response = client.post(changelist, {"action": "new_secret", "_selected_action": [hook.pk]})
    hook.refresh_from_db()
    assert hook.secret != first
    shown = client.get(response["Location"]) if response.status_code == 302 else response
    assert hook.secret in shown.content.decode()
    steps += [response, shown]
    for step in steps:
        assert "messages" not in step.cookies
        for secret in (first, hook.secret):
            assert not [text for text in cookie_texts(step) if secret in text]


def test_a_dns_lookup_that_hangs_ends_at_the_attempts_deadline(
    agent, shop_a, settings, monkeypatch
):
    """A DNS server that never answers can't hold the sender past DESK_WEBHOOK_TIMEOUT_SECONDS:
    the lookup (socket.getaddrinfo, which has no timeout of its own) is waited for only as long
    as the attempt has left; the attempt is recorded and retried, nothing is sent."""
    # given: an endpoint whose name the resolver never answers for (released at the end)
    settings.DESK_WEBHOOK_TIMEOUT_SECONDS = 1
    ticket = make_ticket(make_order(shop_a), agent, kind=Ticket.Kind.RETURN)
    endpoint("https://erp.example.com/hook", shops=[shop_a])
    ticket_transition(actor=agent, ticket=ticket, to_status=Ticket.Status.AWAITING_RETURN)
    delivery = WebhookDelivery.objects.get()
    release, asked = threading.Event(), []

    def hanging_getaddrinfo(host, *args, **kwargs):
        asked.append(host)
        release.wait(30)
        raise OSError("resolver gave up")

    monkeypatch.setattr(socket, "getaddrinfo", hanging_getaddrinfo)
    # when
    started = time.monotonic()
    try:
        with pytest.raises(WebhookSendError, match="not resolved in time"):
            webhook_send(delivery_id=delivery.pk)
        took = time.monotonic() - started
    finally:
        release.set()
    # then: it asked, gave up at the deadline, and the delivery waits for its retry
    assert asked == ["erp.example.com"]
    assert 0.9 < took < 2.5, took
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.last_error == "host name not resolved in time"
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and attempt.duration_ms < 2500


def test_the_deadline_covers_the_lookup_and_the_post_together(agent, shop_a, settings, monkeypatch):
    """Trying to get around it: a lookup that answers just inside the deadline leaves the POST
    only what is left of the attempt, not a whole new DESK_WEBHOOK_TIMEOUT_SECONDS."""
    settings.DESK_WEBHOOK_TIMEOUT_SECONDS = 1
    ticket = make_ticket(make_order(shop_a), agent, kind=Ticket.Kind.RETURN)
    endpoint("https://erp.example.com/hook", shops=[shop_a])
    ticket_transition(actor=agent, ticket=ticket, to_status=Ticket.Status.AWAITING_RETURN)
    delivery = WebhookDelivery.objects.get()
    left = []

    def slow_getaddrinfo(host, port, *args, **kwargs):
        time.sleep(0.6)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]

    def post(target, body, headers, *, deadline):
        left.append(deadline - time.monotonic())
        return outbound.Answer(200, b"ok")

    monkeypatch.setattr(socket, "getaddrinfo", slow_getaddrinfo)
    monkeypatch.setattr(webhooks, "post", post)
    assert webhook_send(delivery_id=delivery.pk) == "delivered"
    assert len(left) == 1 and 0 < left[0] < 0.45, left
