"""Telling people (issue 13 section 2): the bell's rows in the desk and the team chat's robots.

``notify`` is the one writer. It runs inside the transaction of the event it tells about, so
a notification exists exactly when its event does, and it queues the chat message for after
the commit: the chat is a copy that may fail, be retried or time out (``chat_send``, run by
the Celery task ``CHAT_SEND_TASK`` with backoff) without ever taking the desk's row with it or
blocking the request. The bell's row holds the event's kind and parameters, put into words in
the reader's language when shown (``tickets.notification_messages``); the chat speaks the
desk's default language, whoever caused the event (``chat_language``). Neither carries what
anyone typed (a reason or a note may hold a buyer's phone, name or address; DOMAIN.md
"Information leak"): a chat message is a ``ChatCard`` (the kind of event, shop, ticket
number, status and agent), a row's parameters are numbers, values and staff names.
"""

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from celery import signature
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aftersales import outbound
from tickets.chat_urls import ChatUrlRefused, chat_url_target
from tickets.models import (
    ChatWebhook,
    Notification,
    PlatformIntervention,
    Shop,
    Ticket,
    User,
)
from tickets.notification_messages import message_render
from tickets.selectors import supervisors_for_shop, tickets_near_breach

from . import DeskError

Kind = Notification.Kind

# The Celery task that sends one chat message (``tickets.tasks.chat_send``): named, so this
# module never imports the tasks above it.
CHAT_SEND_TASK = "tickets.tasks.chat_send"


class ChatSendError(Exception):
    """A chat message was not delivered; its text is the short reason recorded on the robot
    (``ChatWebhook.last_error``: no URL, no secret)."""


class ChatRetry(ChatSendError):
    """Not delivered for a reason that may pass (the robot's server failed, limited the rate,
    was unreachable, slow or dropped the connection): the task retries it with backoff."""


class ChatRefused(ChatSendError):
    """Not delivered and no retry would help (a URL or address the desk refuses, a redirect,
    a 4xx status, an errcode such as a wrong token or signature): recorded, not retried."""


@dataclass(frozen=True)
class ChatCard:
    """What a chat message may say: the event's kind (a ``Notification.Kind`` value), and the
    shop's name, ticket number, ticket status label, agent and a fixed headline, each may be
    empty. Nothing a person typed goes here."""

    kind: str
    headline: str = ""
    shop: str = ""
    ticket: str = ""
    status: str = ""
    agent: str = ""


def chat_language():
    """The team chat's language, the desk's default (``LANGUAGE_CODE``), as a context
    manager: a chat card's words (a status label, a headline) are made inside it, so an event
    caused by someone working in English still speaks the team's language."""
    return translation.override(settings.LANGUAGE_CODE)


def ticket_card(kind: str, ticket: Ticket, headline: str = "") -> ChatCard:
    """The chat card of an event on ``ticket``: shop name, number, status label (in the
    chat's language), assignee."""
    with chat_language():
        return ChatCard(
            kind=kind,
            headline=str(headline),
            shop=ticket.shop.name,
            ticket=ticket.number,
            status=ticket.get_status_display(),
            agent=str(ticket.assignee) if ticket.assignee_id else "",
        )


# A parameter is a number, a flag or a short string (a number, a value, a name), never text.
PARAM_MAX_CHARS = 150


def notification_params_check(kind: str, params: dict) -> None:
    """Refuses parameters a notification must not hold: a value that is not a string, an
    integer or a flag, or a string longer than ``PARAM_MAX_CHARS`` (what someone typed has no
    place in a notification: DOMAIN.md "Information leak"), and parameters the words of
    ``kind`` cannot say (``message_render``). Raises ``ValueError``: a mistake in the code
    that writes the notification, never the user's."""
    for key, value in params.items():
        if not isinstance(value, str | int | bool) or (
            isinstance(value, str) and len(value) > PARAM_MAX_CHARS
        ):
            raise ValueError(f"notification parameter {key!r} is no number, value or name")
    try:
        message_render(kind, params)
    except (KeyError, ValueError, TypeError) as exc:
        raise ValueError(f"a {kind} notification cannot say {sorted(params)}: {exc!r}") from exc


def notify(
    *,
    recipients,
    kind: str,
    params: dict,
    url: str = "",
    shop: Shop | None = None,
    ticket: Ticket | None = None,
    dedupe_key: str | None = None,
    card: ChatCard | None = None,
    actor: User | None = None,
) -> int:
    """Puts a notification of ``kind`` (a ``Notification.Kind`` value) with ``params`` in
    each recipient's bell and queues the chat message ``card`` (None: no chat) for the robots
    of ``kind`` in ``shop`` after the transaction commits. ``params`` are what the kind's
    words need (``tickets.notification_messages``: numbers, values of choices, aware times in
    ISO 8601, staff names), put into words when read, in the reader's language; a buyer's
    data and anything a person typed never go there (``notification_params_check`` raises
    ``ValueError`` for a value that is no number, value or name). Recipients are users;
    duplicates and inactive ones are dropped. With ``dedupe_key`` (≤ 80 characters) a
    recipient is told once per key ever, and the chat only when somebody was told for the
    first time (a scheduled check finding the same ticket again sends nothing). ``actor``:
    whoever did what the notification tells about, never told of their own action (a
    supervisor who escalates is no recipient of the escalation; issue 13 review); the chat
    still hears it. Returns how many rows were written."""
    notification_params_check(kind, params)
    people = {
        u.pk: u
        for u in recipients
        if u is not None and u.is_active and (actor is None or u.pk != actor.pk)
    }
    if dedupe_key:
        told = set(
            Notification.objects.filter(
                dedupe_key=dedupe_key, recipient_id__in=list(people)
            ).values_list("recipient_id", flat=True)
        )
        people = {pk: u for pk, u in people.items() if pk not in told}
        if not people:
            return 0  # told before (or nobody to tell: a repeated check would repeat the chat)
    now = timezone.now()
    rows = [
        Notification(
            recipient_id=pk,
            kind=kind,
            params=params,
            url=url,
            shop=shop,
            ticket=ticket,
            dedupe_key=dedupe_key,
            created_at=now,
        )
        for pk in people
    ]
    if dedupe_key:
        # Two runs of one check at once (a second beat started by mistake, a task handed to a
        # second worker) both read "not told yet": each row goes in on its own savepoint, and
        # a row that meets the other run's (the unique key waits for that run to commit) is
        # not counted, so only a run that told somebody queues the chat (issue 15).
        written = 0
        for row in rows:
            try:
                with transaction.atomic():
                    row.save(force_insert=True)
            except IntegrityError:
                continue
            written += 1
        if not written:
            return 0
    else:
        Notification.objects.bulk_create(rows)
        written = len(rows)
    # The team's chat hears the event even when no bell rings for it (the only supervisor of
    # a shop escalating, or approving their own entry, is nobody's recipient but the shop's
    # robot is still configured to hear it).
    if card is not None:
        chat_queue(card, shop_id=shop.pk if shop else None)
    return written


def chat_queue(card: ChatCard, *, shop_id: int | None) -> int:
    """Queues ``card`` to every active robot of its kind for ``shop_id`` (and to the robots
    of that kind for no shop), after the surrounding transaction commits; returns how many."""
    hooks = ChatWebhook.objects.filter(kind=card.kind, is_active=True)
    hooks = (
        hooks.filter(shop__isnull=True) | hooks.filter(shop_id=shop_id)
        if shop_id
        else (hooks.filter(shop__isnull=True))
    )
    ids = list(hooks.values_list("pk", flat=True))
    payload = asdict(card)
    for pk in ids:
        transaction.on_commit(
            lambda pk=pk: signature(CHAT_SEND_TASK, args=(pk, payload)).apply_async()
        )
    return len(ids)


def chat_text(card: dict) -> str:
    """The message's words, in the desk's default language (the team's chat): one line per
    field that has a value."""
    with translation.override(settings.LANGUAGE_CODE):
        lines = [f"【{_('售后工作台')}】{Kind(card['kind']).label}"]
        if card.get("headline"):
            lines.append(card["headline"])
        for label, key in (
            (_("店铺"), "shop"),
            (_("售后单"), "ticket"),
            (_("状态"), "status"),
            (_("处理人"), "agent"),
        ):
            if card.get(key):
                lines.append(f"{label}：{card[key]}")
        return "\n".join(lines)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's robot signature (加签): HMAC-SHA256 keyed with ``secret`` over
    ``f"{timestamp_ms}\\n{secret}"``, Base64, then URL-encoded (UTF-8), as DingTalk's custom
    robot documentation gives it; the timestamp is in milliseconds and must be within an hour
    of DingTalk's clock."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), digestmod=hashlib.sha256
    ).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def chat_request(hook: ChatWebhook, card: dict, *, now_ms: int | None = None):
    """The HTTP request for ``hook``: a JSON text message (``{"msgtype": "text", "text":
    {"content": …}}``, the same for DingTalk and WeCom) POSTed to the robot's URL, which for
    DingTalk with a secret gains ``timestamp`` and ``sign`` query parameters. A
    ``urllib.request.Request`` used as a description (URL, body, headers): ``chat_send``
    sends it itself, never through ``urlopen``."""
    url = hook.url
    if hook.provider == ChatWebhook.Provider.DINGTALK and hook.secret:
        stamp = now_ms if now_ms is not None else int(time.time() * 1000)
        joiner = "&" if urllib.parse.urlsplit(url).query else "?"
        url = f"{url}{joiner}timestamp={stamp}&sign={dingtalk_sign(hook.secret, stamp)}"
    body = json.dumps(
        {"msgtype": "text", "text": {"content": chat_text(card)}}, ensure_ascii=False
    ).encode()
    return urllib.request.Request(  # noqa: S310 - never opened by urllib (chat_send)
        url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )


# A robot's answer (errcode) that means "later": DingTalk's 130101 (sending too fast, 20 a
# minute per robot), WeCom's 45009 (API frequency limit) and -1 (system busy). Any other
# errcode is a refusal (a wrong token or signature, a keyword missing) that no retry mends.
CHAT_RETRY_ERRCODES = frozenset({-1, 130101, 45009})


def _chat_record(webhook_id: int, error: str = "") -> None:
    """Writes the outcome of one attempt on robot ``webhook_id``: when, and either success
    (``last_success_at``, the failure count back to 0) or ``error`` (at most 200 characters of
    the sender's own words) with one more consecutive failure. An update of those columns
    only, so an administrator's edit of the robot meanwhile is kept."""
    now = timezone.now()
    rows = ChatWebhook.objects.filter(pk=webhook_id)
    if error:
        rows.update(
            last_attempt_at=now,
            last_error=error[:200],
            consecutive_failures=F("consecutive_failures") + 1,
        )
    else:
        rows.update(last_attempt_at=now, last_success_at=now, last_error="", consecutive_failures=0)


def _chat_post(request: urllib.request.Request) -> None:
    """POSTs ``request`` (``chat_request``) once through the desk's outbound transport
    (``aftersales.outbound.post``, shared with the ERP webhooks), the whole attempt -
    resolving and checking the address, connecting, TLS, sending and reading the answer -
    ending within ``DESK_CHAT_TIMEOUT_SECONDS`` (each socket operation is bounded by what is
    left, and a watchdog shuts the socket down at the deadline, so an answer dripped a byte
    at a time is cut too). Redirects are never followed. Returns None when the robot took
    the message.

    Raises ``ChatRetry`` (HTTP 408/429/5xx, a rate-limit errcode, a network error, a
    dropped connection, the deadline, a name that did not resolve) or ``ChatRefused`` (a
    refused URL or address, a redirect, any other HTTP status, any other errcode)."""
    deadline = time.monotonic() + settings.DESK_CHAT_TIMEOUT_SECONDS
    try:
        target = chat_url_target(request.full_url, deadline=deadline)
    except ChatUrlRefused as exc:
        raise (ChatRetry if exc.transient else ChatRefused)(exc.reason) from exc
    try:
        answer = outbound.post(
            target, request.data, dict(request.header_items()), deadline=deadline
        )
    except outbound.OutboundFailed as exc:
        raise (ChatRetry if exc.retry else ChatRefused)(str(exc)) from exc
    status = answer.status
    if status in (408, 429) or status >= 500:
        raise ChatRetry(f"HTTP {status}")
    if not 200 <= status < 300:
        raise ChatRefused(f"HTTP {status}")
    try:
        code = json.loads(answer.body or b"{}").get("errcode", 0)
    except (ValueError, AttributeError):
        code = 0  # a robot that answers 2xx without JSON took the message
    try:
        code = int(code)
    except (TypeError, ValueError):
        raise ChatRefused("errcode not understood") from None
    if code in CHAT_RETRY_ERRCODES:
        raise ChatRetry(f"errcode {code}")
    if code != 0:
        raise ChatRefused(f"errcode {code}")


def chat_send(*, webhook_id: int, card: dict) -> bool:
    """Sends one message (``card``, a ``ChatCard`` as a dict) to robot ``webhook_id`` in one
    attempt bounded by ``DESK_CHAT_TIMEOUT_SECONDS`` as a whole (``_chat_post``: the URL and
    its addresses checked again first, redirects not followed), and records the outcome on
    the robot (``last_attempt_at``, ``last_success_at``, ``last_error``,
    ``consecutive_failures``). Returns True when the robot took it, False when the robot was
    deleted or switched off meanwhile (nothing sent, nothing recorded).

    Raises ``ChatRetry`` when a later attempt may succeed and ``ChatRefused`` when none
    will (both ``ChatSendError``, recorded before they are raised); the task
    ``tickets.tasks.chat_send`` holds the retry policy."""
    hook = ChatWebhook.objects.filter(pk=webhook_id, is_active=True).first()
    if hook is None:
        return False
    try:
        _chat_post(chat_request(hook, card))
    except ChatSendError as exc:
        _chat_record(hook.pk, str(exc))
        raise
    _chat_record(hook.pk)
    return True


# --- who is told ---------------------------------------------------------------------
def supervisors_of(shop_id: int | None) -> list[User]:
    """Active supervisors who serve ``shop_id`` (None: every supervisor)."""
    return list(supervisors_for_shop(shop_id))


# --- what scheduled checks find ------------------------------------------------------
def sla_breach_warnings_send(*, now: datetime | None = None) -> int:
    """Tells the assignee (or, for a ticket nobody has taken, the shop's supervisors) of each
    open ticket whose first reply or resolution falls due within
    ``DESK_SLA_WARNING_MINUTES`` from ``now`` and is not met yet. Once per ticket, due time
    and deadline (the key holds the due time: a due time that moves is a new breach). Run
    every minute by beat (``tickets.tasks.notifications_due``); returns how many rows."""
    now = now or timezone.now()
    soon = now + timedelta(minutes=settings.DESK_SLA_WARNING_MINUTES)
    written = 0
    for ticket, which, due in tickets_near_breach(now, soon):
        with transaction.atomic():
            with chat_language():
                label = _("首次响应时限") if which == "first" else _("解决时限")
                local = timezone.localtime(due)
                headline = _("%(what)s %(at)s") % {"what": label, "at": f"{local:%m-%d %H:%M}"}
            written += notify(
                recipients=[ticket.assignee]
                if ticket.assignee_id
                else supervisors_of(ticket.shop_id),
                kind=Kind.SLA_BREACH_SOON,
                params={"no": ticket.number, "which": which, "due": due.isoformat()},
                url=ticket_url(ticket),
                shop=ticket.shop,
                ticket=ticket,
                dedupe_key=f"sla:{ticket.pk}:{which}:{int(due.timestamp())}",
                card=ticket_card(Kind.SLA_BREACH_SOON, ticket, headline),
            )
    return written


def intervention_deadline_warnings_send(*, now: datetime | None = None) -> int:
    """Tells the shop's supervisors (and the agent of the linked ticket) once per case and
    deadline when an open platform intervention's evidence is due within
    ``DESK_INTERVENTION_WARNING_HOURS`` (or already past). Run by the same beat task; returns
    how many rows."""
    now = now or timezone.now()
    cases = (
        PlatformIntervention.objects.filter(closed_at__isnull=True, deadline__isnull=False)
        .filter(deadline__lte=now + timedelta(hours=settings.DESK_INTERVENTION_WARNING_HOURS))
        .select_related("shop", "ticket__assignee")
        .order_by("deadline", "id")
    )
    written = 0
    for case in cases[:500]:
        with transaction.atomic():
            people = supervisors_of(case.shop_id)
            if case.ticket_id and case.ticket.assignee_id:
                people.append(case.ticket.assignee)
            local = timezone.localtime(case.deadline)
            with chat_language():
                headline = _("举证截止 %(at)s") % {"at": f"{local:%m-%d %H:%M}"}
            written += notify(
                recipients=people,
                kind=Kind.INTERVENTION_DEADLINE,
                params={"case": case.case_no, "deadline": case.deadline.isoformat()},
                url=intervention_url(case),
                shop=case.shop,
                ticket=case.ticket,
                dedupe_key=f"intervention:{case.pk}:{int(case.deadline.timestamp())}",
                card=ChatCard(
                    kind=Kind.INTERVENTION_DEADLINE,
                    headline=headline,
                    shop=case.shop.name,
                    ticket=case.ticket.number if case.ticket_id else "",
                ),
            )
    return written


def ticket_url(ticket: Ticket) -> str:
    return reverse("tickets:ticket_detail", args=[ticket.pk])


def intervention_url(case: PlatformIntervention) -> str:
    """The case's page: the link of its deadline warnings, and what names the case in them
    (``intervention_update`` marks them read by it when the case is closed)."""
    return reverse("registers:intervention_detail", args=[case.pk])


# --- reading the bell ----------------------------------------------------------------
@transaction.atomic
def notification_mark_read(*, actor: User, notification: Notification) -> Notification:
    """Marks one of ``actor``'s notifications read (already read: unchanged). Another
    person's notification is refused (the view loads only the actor's own)."""
    if notification.recipient_id != actor.pk:
        raise DeskError(_("这不是你的通知。"))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notifications_handled(
    *,
    kind: str,
    ticket: Ticket | None = None,
    url: str = "",
    params: dict | None = None,
    except_for: User | None = None,
) -> int:
    """Marks read, in everybody's bell, the unread notifications of ``kind`` (a
    ``Notification.Kind`` value) that asked for something now done (issue 13 review: a
    decided escalation, an approved or refused compensation, a warning whose cause is gone):
    those of ``ticket``, and/or with exactly ``url`` (a row's link names what it asked about
    when a ticket does not), and, with ``params``, only those whose parameters hold each of
    its keys with that value (``{"which": "first"}``); with ``except_for``, everybody's but
    that user's (a reassigned ticket's warnings stay with its new assignee). Runs in the
    caller's transaction, so the bell's count falls when the work is done. Returns how many
    rows it marked. Raises ``ValueError`` without ``ticket`` or ``url`` (it would mark every
    row of the kind)."""
    if ticket is None and not url:
        raise ValueError("notifications_handled needs a ticket or a url")
    rows = Notification.objects.filter(kind=kind, read_at__isnull=True)
    if ticket is not None:
        rows = rows.filter(ticket=ticket)
    if url:
        rows = rows.filter(url=url)
    for key, value in (params or {}).items():
        rows = rows.filter(**{f"params__{key}": value})
    if except_for is not None:
        rows = rows.exclude(recipient=except_for)
    return rows.update(read_at=timezone.now())


def sla_warnings_settle(ticket: Ticket) -> int:
    """Takes out of every bell the "about to breach" warnings of ``ticket`` (its row as just
    saved) that its state has made moot (issue 13 review), the rule ``tickets_near_breach``
    warns by read backwards: all of them once its clock stands (it waits for the buyer or
    the return parcel, ``paused_at``) or it is finished or cancelled; the first reply's once
    it was answered (``first_responded_at``); the resolution's once it was resolved
    (``resolved_at``). Through ``notifications_handled``, in the caller's transaction; a
    clock that starts again moves the due times, and a due time that comes near again is
    warned of anew (its key holds the due time). Returns how many rows it marked."""
    kind = Kind.SLA_BREACH_SOON
    if not ticket.is_open or ticket.paused_at is not None:
        return notifications_handled(kind=kind, ticket=ticket)
    marked = 0
    if ticket.first_responded_at is not None:
        marked += notifications_handled(kind=kind, ticket=ticket, params={"which": "first"})
    if ticket.resolved_at is not None:
        marked += notifications_handled(kind=kind, ticket=ticket, params={"which": "resolution"})
    return marked


def sla_warnings_reassigned(ticket: Ticket) -> int:
    """Takes the "about to breach" warnings of ``ticket`` (its row as just saved with its new
    assignee) out of the bell of everybody but its new assignee (issue 13 second review): the
    previous assignee's, and the shop's supervisors' that were warned while nobody had it.
    The ticket is no longer theirs to answer; ``sla_breach_warnings_send`` tells the new
    assignee (or, for a ticket handed back to the queue, the supervisors) on its next run,
    the key being per recipient. Every door that reassigns comes through ``ticket_assign``
    (assign, take, bulk, an escalation's take-over). Returns how many rows it marked."""
    return notifications_handled(
        kind=Kind.SLA_BREACH_SOON, ticket=ticket, except_for=ticket.assignee
    )


@transaction.atomic
def notifications_mark_all_read(*, actor: User, up_to: int | None = None) -> int:
    """Marks ``actor``'s unread notifications read, those up to id ``up_to`` when given (the
    newest the page showed, so one that arrived meanwhile stays unread); returns how many."""
    rows = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if up_to is not None:
        rows = rows.filter(pk__lte=up_to)
    return rows.update(read_at=timezone.now())
