"""Outgoing webhooks for an ERP (issue 16): a ticket's status changed, an exchange-goods list
was signed (with its lines: the goods to send out), a refund was recorded.

The events are read from the desk's own rows as they are saved (``post_save`` of the timeline,
the ledger and the sheets, connected in ``ApiConfig.ready``), so the desk never imports this
app and no service had to change. Each event writes one ``WebhookDelivery`` per endpoint that
hears it, in the event's own transaction (a rolled-back event sends nothing), and queues the
Celery task ``api.tasks.webhook_deliver`` after the commit; the task POSTs the JSON body,
signed with the endpoint's secret, and is retried with backoff when the receiver fails or is
slow (``DESK_WEBHOOK_MAX_RETRIES``, 2 s doubling, at most 10 min apart). Every attempt is kept
(``WebhookAttempt``), visible to administrators in the admin.

A body carries what an ERP needs to act: numbers, statuses, shop codes, the goods and amounts,
never a buyer's name, phone, address or nickname, nor anything an agent typed (a note may quote
a phone; DOMAIN.md "Information leak"), as the chat robots' cards.

Where and how a body is sent is the chat robots' rule and transport (``aftersales.outbound``,
issue 16 review 7 and 8): the URL https to public addresses only unless
``DESK_CHAT_ALLOW_PRIVATE_URLS`` (checked when the endpoint is saved and again, after DNS,
before each attempt, which connects to the checked address), redirects never followed (a 3xx
is a failure), and one attempt bounded as a whole by ``DESK_WEBHOOK_TIMEOUT_SECONDS``.
"""

import hashlib
import hmac
import json
import secrets
import time
from datetime import timedelta

from celery import signature
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_save
from django.utils import timezone

from aftersales.outbound import OutboundFailed, OutboundRefused, Target, post, url_target
from finance_exports.models import ExchangeLine, Sheet
from tickets.models import LedgerEntry, Ticket, TicketEvent
from tickets.selectors_exchanges import goods_lines, items_with_replacements

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

E = WebhookEvent
DELIVER_TASK = "api.tasks.webhook_deliver"
SIGNATURE_HEADER = "X-Desk-Signature"


class WebhookSendError(Exception):
    """An attempt failed in a way a later one may mend (the receiver's HTTP error other than
    a redirect, a network error, the deadline, a name that did not resolve): the task
    retries. Its text is the short reason recorded on the attempt."""


def webhook_secret() -> str:
    """A new endpoint secret: ``whsec_`` and 43 URL-safe characters (32 random bytes)."""
    return "whsec_" + secrets.token_urlsafe(32)


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Desk-Signature`` value: ``t=<unix seconds>,v1=<hex HMAC-SHA256>`` keyed with
    the endpoint's ``secret`` over ``f"{timestamp}.".encode() + body``. A receiver computes the
    same and compares in constant time, and refuses a timestamp far from its clock (a replay)."""
    digest = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, digestmod=hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


# --- who hears what -----------------------------------------------------------------------
def endpoints_for(event: str, shop_id: int) -> list[WebhookEndpoint]:
    """Active endpoints that hear ``event`` for the shop ``shop_id``."""
    candidates = WebhookEndpoint.objects.filter(is_active=True).filter(
        Q(all_shops=True) | Q(shops=shop_id)
    )
    return [e for e in candidates.distinct().order_by("pk") if event in e.events]


def _queue(deliveries: list[WebhookDelivery]) -> None:
    for delivery in deliveries:
        _queue_one(delivery.pk)


def _queue_one(delivery_id: int) -> None:
    transaction.on_commit(lambda: signature(DELIVER_TASK, args=(delivery_id,)).apply_async())


def attempts_allowed() -> int:
    """How many attempts a delivery gets in all: the first and ``DESK_WEBHOOK_MAX_RETRIES``
    retries (the task's retry policy), however many times it was queued."""
    return settings.DESK_WEBHOOK_MAX_RETRIES + 1


# A pending delivery untouched this long has no task coming for it: longer than the retry
# policy's longest wait (10 min) and one attempt's deadline, so a delivery between two of its
# retries is never queued a second time.
CATCH_UP_AFTER = timedelta(minutes=15)
CATCH_UP_BATCH = 500


def webhook_deliveries_catch_up(*, now=None) -> dict[str, int]:
    """Queues again the deliveries no task will send: pending, whose endpoint is active, and
    untouched (``updated_at``: written, tried or queued) for ``CATCH_UP_AFTER`` - the task was
    lost (the broker was down when the event committed) or skipped them (the endpoint was
    switched off, and is on again). Run by beat (``CELERY_BEAT_SCHEDULE["webhook-catch-up"]``).

    Each one is claimed by one conditional UPDATE (``WHERE status = 'pending' AND
    updated_at < cutoff``, setting ``updated_at``) before it is queued, so two beats or two
    workers running this at once queue it once: the second finds it claimed. A delivery that
    has had ``attempts_allowed()`` attempts is marked failed instead, with the reason in
    ``last_error`` (the task's last failure does that; this covers a task that died before).
    At most ``CATCH_UP_BATCH`` are queued per run, oldest first; the next run takes the rest.
    Returns ``{"queued": n, "failed": n}``."""
    now = now or timezone.now()
    cutoff = now - CATCH_UP_AFTER
    S = WebhookDelivery.Status
    stale = WebhookDelivery.objects.filter(
        status=S.PENDING, endpoint__is_active=True, updated_at__lt=cutoff
    )
    allowed = attempts_allowed()
    failed = stale.filter(attempts__gte=allowed).update(
        status=S.FAILED,
        last_error=f"gave up after {allowed} attempts",
        updated_at=now,
    )
    queued = 0
    candidates = stale.filter(attempts__lt=allowed).order_by("updated_at", "pk")
    for pk in candidates.values_list("pk", flat=True)[:CATCH_UP_BATCH]:
        claimed = WebhookDelivery.objects.filter(
            pk=pk, status=S.PENDING, updated_at__lt=cutoff
        ).update(updated_at=now)
        if claimed:
            _queue_one(pk)
            queued += 1
    return {"queued": queued, "failed": failed}


def event_record(*, event: str, key: str, shop_id: int, payload: dict) -> list[WebhookDelivery]:
    """Writes the deliveries of one event for the endpoints of ``shop_id`` that hear it and
    queues them after the commit. ``key`` names the event: the same event saved again writes
    nothing (one delivery per endpoint and key)."""
    made = []
    for endpoint in endpoints_for(event, shop_id):
        delivery, created = WebhookDelivery.objects.get_or_create(
            endpoint=endpoint,
            event_key=key,
            defaults={"event": event, "payload": {**payload, "event": event}},
        )
        if created:
            made.append(delivery)
    _queue(made)
    return made


# --- the events ---------------------------------------------------------------------------
def _anyone_hears(event: str) -> bool:
    """Whether any active endpoint hears ``event`` (one small query; a desk with no webhooks
    pays nothing more for its status changes and refunds)."""
    return any(
        event in events
        for events in WebhookEndpoint.objects.filter(is_active=True).values_list(
            "events", flat=True
        )
    )


def _when(moment) -> str | None:
    """ISO 8601 in Beijing time ("2026-03-01T10:15:30.123456+08:00"), as the API's answers
    write their times (issue 16 third review 9: the payloads said +00:00)."""
    return timezone.localtime(moment).isoformat() if moment else None


def ticket_status_changed(sender, instance: TicketEvent, created: bool, **kwargs) -> None:
    """``post_save`` of a timeline row: a status change (``ticket_transition`` writes one for
    every move) is the event."""
    if not created or instance.kind != TicketEvent.Kind.STATUS or kwargs.get("raw"):
        return
    if not _anyone_hears(E.TICKET_STATUS_CHANGED):
        return
    ticket = Ticket.objects.select_related("shop", "order").get(pk=instance.ticket_id)
    event_record(
        event=E.TICKET_STATUS_CHANGED,
        key=f"ticket-event:{instance.pk}",
        shop_id=ticket.shop_id,
        payload={
            "occurred_at": _when(instance.created_at),
            "ticket": {
                "id": ticket.pk,
                "number": ticket.number,
                "shop": ticket.shop.code,
                "order_no": ticket.order.order_no,
                "kind": ticket.kind,
                "from_status": instance.from_status,
                "to_status": instance.to_status,
                "return_tracking_no": ticket.return_tracking_no,
                "outbound_tracking_no": ticket.outbound_tracking_no,
            },
        },
    )


def refund_recorded(sender, instance: LedgerEntry, created: bool, **kwargs) -> None:
    """``post_save`` of a ledger entry: a refund (or the reversal of one) was recorded."""
    if not created or instance.kind != LedgerEntry.Kind.REFUND or kwargs.get("raw"):
        return
    if not _anyone_hears(E.REFUND_RECORDED):
        return
    entry = LedgerEntry.objects.select_related("shop", "order", "ticket").get(pk=instance.pk)
    event_record(
        event=E.REFUND_RECORDED,
        key=f"ledger:{entry.pk}",
        shop_id=entry.shop_id,
        payload={
            "occurred_at": _when(entry.recorded_at),
            "refund": {
                "id": entry.pk,
                "shop": entry.shop.code,
                "order_no": entry.order.order_no,
                "ticket": entry.ticket.number if entry.ticket_id else None,
                "amount": str(entry.amount),
                "payment_method": entry.payment_method,
                "reverses": entry.reverses_id,
                "requires_approval": entry.requires_approval,
                "recorded_at": _when(entry.recorded_at),
            },
        },
    )


def _goods(line: ExchangeLine) -> dict:
    ticket = line.ticket
    return {
        "ticket": ticket.number,
        "order_no": ticket.order.order_no,
        "send": [
            {
                "sku_code": row.code,
                "title": row.title,
                "colour": row.colour,
                "size": row.size,
                "quantity": row.quantity,
            }
            for row in goods_lines(ticket.items.all())
        ],
        "returned": [
            {
                "sku_code": item.order_item.sku_code,
                "title": item.order_item.title,
                "colour": item.order_item.colour,
                "size": item.order_item.size,
                "quantity": item.quantity,
            }
            for item in ticket.items.all()
        ],
    }


def exchange_list_signed(sender, instance: Sheet, created: bool, **kwargs) -> None:
    """``post_save`` of a sheet: an exchange-goods list saved as signed. Its signature (who and
    when) names the event, so a rewrite of the signed file sends nothing again, and a list
    signed anew after a line was taken off is a new event. Each endpoint hears the lines of
    its own shops only."""
    if (
        kwargs.get("raw")
        or instance.kind != Sheet.Kind.EXCHANGES
        or instance.status != Sheet.Status.APPROVED
        or instance.approved_at is None
    ):
        return
    key = f"exchange-list:{instance.pk}:{int(instance.approved_at.timestamp())}"
    lines = list(
        ExchangeLine.objects.filter(sheet=instance, removed_at__isnull=True)
        .select_related("ticket__order", "ticket__shop")
        .prefetch_related(items_with_replacements("ticket__items"))
        .order_by("pk")
    )
    by_shop: dict[int, list[ExchangeLine]] = {}
    for line in lines:
        by_shop.setdefault(line.ticket.shop_id, []).append(line)
    made = []
    for endpoint in WebhookEndpoint.objects.filter(is_active=True).order_by("pk"):
        if E.EXCHANGE_LIST_SIGNED not in endpoint.events:
            continue
        shops = (
            set(by_shop)
            if endpoint.all_shops
            else set(endpoint.shops.values_list("pk", flat=True)) & set(by_shop)
        )
        if not shops:
            continue
        delivery, was_created = WebhookDelivery.objects.get_or_create(
            endpoint=endpoint,
            event_key=key,
            defaults={
                "event": E.EXCHANGE_LIST_SIGNED,
                "payload": {
                    "event": E.EXCHANGE_LIST_SIGNED,
                    "occurred_at": _when(instance.approved_at),
                    "exchange_list": {
                        "id": instance.pk,
                        "business_date": instance.business_date.isoformat(),
                        "signed_at": _when(instance.approved_at),
                        "signed_by": instance.approved_by.username
                        if instance.approved_by_id
                        else None,
                    },
                    "lines": [
                        {"shop": line.ticket.shop.code, **_goods(line)}
                        for shop_id in sorted(shops)
                        for line in by_shop[shop_id]
                    ],
                },
            },
        )
        if was_created:
            made.append(delivery)
    _queue(made)


def connect() -> None:
    post_save.connect(ticket_status_changed, sender=TicketEvent, dispatch_uid="api-ticket-status")
    post_save.connect(refund_recorded, sender=LedgerEntry, dispatch_uid="api-refund-recorded")
    post_save.connect(exchange_list_signed, sender=Sheet, dispatch_uid="api-exchange-signed")


# --- sending ------------------------------------------------------------------------------
def webhook_target(url: str, *, deadline: float | None = None) -> Target:
    """Checks an endpoint's ``url`` as the chat robots' are (``aftersales.outbound.url_target``
    with ``DESK_CHAT_ALLOW_PRIVATE_URLS``: https, no credentials, every address the host
    resolves to public) and returns where to send. Raises ``OutboundRefused`` (its
    ``message`` for the administrator). Resolves the host name (DNS), by ``deadline`` (a
    ``time.monotonic()`` value) when given: a name not resolved by then is "unresolved"."""
    return url_target(url, allow_private=settings.DESK_CHAT_ALLOW_PRIVATE_URLS, deadline=deadline)


def webhook_request(
    delivery: WebhookDelivery, *, now: int | None = None
) -> tuple[str, bytes, dict[str, str]]:
    """The signed POST of ``delivery`` as (URL, body, headers): its JSON body,
    ``X-Desk-Event``, ``X-Desk-Delivery`` (the delivery's id, the same on every retry: a
    receiver drops one it already took) and ``X-Desk-Signature`` (``webhook_signature``)."""
    endpoint = delivery.endpoint
    body = json.dumps(
        {"id": delivery.pk, **delivery.payload}, ensure_ascii=False, separators=(",", ":")
    ).encode()
    stamp = now if now is not None else int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "aftersales-desk-webhook/1",
        "X-Desk-Event": delivery.event,
        "X-Desk-Delivery": str(delivery.pk),
        SIGNATURE_HEADER: webhook_signature(endpoint.secret, stamp, body),
    }
    return endpoint.url, body, headers


def webhook_send(*, delivery_id: int, final: bool = False) -> str:
    """Makes one attempt at delivery ``delivery_id`` and records it (``WebhookAttempt``).
    The URL and its addresses are checked again first (``webhook_target``), redirects are
    not followed, and the whole attempt - resolving the name, connecting, TLS, sending,
    reading the answer - ends within ``DESK_WEBHOOK_TIMEOUT_SECONDS``.

    Returns "delivered" (a 2xx answer), "skipped" (already delivered or failed, or its
    endpoint switched off or deleted: nothing sent; ``webhook_deliveries_catch_up`` queues it
    again once the endpoint is on) or "failed" (the URL or its address is refused, or the
    receiver answered a redirect: no retry would help, so the delivery is marked failed at
    once; or this was its last allowed attempt, ``attempts_allowed``, counted across every
    time it was queued). Raises ``WebhookSendError`` (another HTTP status, a network error, the
    deadline, a name that did not resolve) for the task to retry; with ``final`` (the task's
    last retry) the delivery is marked failed first."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if (
        delivery is None
        or delivery.status != WebhookDelivery.Status.PENDING
        or not delivery.endpoint.is_active
    ):
        return "skipped"
    # Queued again by the catch-up, a delivery does not start the retry policy over.
    exhausted = delivery.attempts + 1 >= attempts_allowed()
    started = time.monotonic()
    deadline = started + settings.DESK_WEBHOOK_TIMEOUT_SECONDS
    url, body, headers = webhook_request(delivery)
    try:
        # The name's lookup counts against the attempt's deadline: a DNS server that never
        # answers held the worker for the system resolver's own timeout (30 s and more).
        target = webhook_target(url, deadline=deadline)
        answer = post(target, body, headers, deadline=deadline)
    except OutboundRefused as exc:
        if exc.transient:
            _attempted(delivery, None, exc.reason, _ms(started), final=final or exhausted)
            return _retry_unless(exhausted and not final, exc.reason, exc)
        _attempted(delivery, None, exc.reason, _ms(started), final=True)
        return "failed"
    except OutboundFailed as exc:
        if not exc.retry:
            _attempted(delivery, exc.status, str(exc), _ms(started), final=True)
            return "failed"
        _attempted(delivery, None, str(exc), _ms(started), final=final or exhausted)
        return _retry_unless(exhausted and not final, str(exc), exc)
    if not 200 <= answer.status < 300:
        error = f"HTTP {answer.status}"
        _attempted(delivery, answer.status, error, _ms(started), final=final or exhausted)
        return _retry_unless(exhausted and not final, error, None)
    _attempted(delivery, answer.status, "", _ms(started), final=False, delivered=True)
    return "delivered"


def _retry_unless(given_up: bool, reason: str, cause: Exception | None) -> str:
    """ "failed" when the delivery has had its last allowed attempt (marked failed), else
    raises ``WebhookSendError(reason)`` for the task to retry (or fail, on its last retry)."""
    if given_up:
        return "failed"
    raise WebhookSendError(reason) from cause


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _attempted(delivery, status, error: str, ms: int, *, final: bool, delivered: bool = False):
    now = timezone.now()
    WebhookAttempt.objects.create(
        delivery=delivery, at=now, status_code=status, error=error[:255], duration_ms=ms
    )
    S = WebhookDelivery.Status
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_error = error[:255]
    if delivered:
        delivery.status, delivery.delivered_at = S.DELIVERED, now
    elif final:
        delivery.status = S.FAILED
    delivery.save(
        update_fields=[
            "attempts",
            "last_attempt_at",
            "last_error",
            "status",
            "delivered_at",
            "updated_at",
        ]
    )
