"""Recording money: postage, compensation and refunds, their reversals and approvals.

Rules (DOMAIN.md "Record money", QUALITY.md "Money"):
- amounts are positive Decimals with at most two places, read by ``tickets.money.parse_money``;
- a refund never exceeds what the buyer paid for the ticket's items minus what any ticket has
  refunded for those items, and refunds plus compensation on an order never exceed what the
  buyer paid for it;
- compensation that takes a ticket's total (or an order's outside tickets) above
  DESK_COMPENSATION_APPROVAL_THRESHOLD counts only once a supervisor has approved it
  (``compensation_needs_approval``);
- a correction is a reversing entry, at most one per entry;
- one form submission (its server-issued key) makes one entry, however often it is posted.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.models import (
    LedgerApproval,
    LedgerEntry,
    Notification,
    Order,
    Ticket,
    TicketEvent,
    User,
)
from tickets.money import committed_total, parse_money
from tickets.selectors import refund_room, transition_refusal
from tickets.selectors_exchanges import exchange_price_position
from tickets.text import meaningful_text

from . import DeskError, require_perm
from .notifications import (
    chat_language,
    notifications_handled,
    notify,
    supervisors_of,
    ticket_card,
)
from .tickets import ticket_responded, ticket_transition
from .timeline import timeline_write

K = LedgerEntry.Kind
_KEY_SALT = "tickets.ledger.submission"


# --- one-time form keys ---------------------------------------------------------------
def submission_key_issue(user: User) -> str:
    """A signed one-time key for a money form: the same key posted twice makes one entry."""
    return signing.dumps({"u": user.pk, "k": uuid.uuid4().hex}, salt=_KEY_SALT)


def submission_key_read(user: User, token: str, *, max_age: int = 12 * 3600) -> str:
    """The key inside a token this server issued to this user, or DeskError."""
    try:
        data = signing.loads(token or "", salt=_KEY_SALT, max_age=max_age)
    except signing.BadSignature as exc:
        raise DeskError(_("表单已过期或无效，请刷新页面后重新提交。")) from exc
    if data.get("u") != user.pk:
        raise DeskError(_("表单已过期或无效，请刷新页面后重新提交。"))
    return data["k"]


# --- writes ---------------------------------------------------------------------------
def _existing(key: str | None, **expected) -> LedgerEntry | None:
    """The entry this form submission already made, or None. A key that made an entry for
    something else (another order, ticket or entry: a key replayed from another page) is
    refused, never answered with that other entry."""
    done = LedgerEntry.objects.filter(idempotency_key=key).first() if key else None
    if done is not None and any(getattr(done, f) != v for f, v in expected.items()):
        raise DeskError(_("表单已过期或无效，请刷新页面后重新提交。"))
    return done


def refund_cap(
    order: Order, ticket: Ticket | None, *, position=None, entries=None, items=None
) -> Decimal:
    """Yuan that may still be refunded on ``ticket`` (or compensated on ``order`` when None):
    what the buyer paid for the ticket's items less refunds and compensation already made
    (``refund_room``). An exchange refunds only what its price difference leaves owed to the
    buyer, and the price difference the buyer paid on top (补差价) may come back too
    (``position``: the exchange's ``PricePosition`` when the caller has read it already;
    ``entries`` and ``items``: the order's ledger rows and ticket items, as ``refund_room``
    takes them)."""
    room = refund_room(order, ticket, entries=entries, items=items)
    if ticket is not None and ticket.kind == Ticket.Kind.EXCHANGE:
        position = position or exchange_price_position(ticket)
        room = min(position.to_refund, room + max(position.charged, Decimal("0")))
    return max(room, Decimal("0"))


def compensation_needs_approval(*, order: Order, amount: Decimal) -> bool:
    """Whether compensation of ``amount`` (yuan) recorded now on ``order`` (on one of its
    tickets or outside them, as a review's is) waits for a supervisor: when what the
    order has been compensated so far, on any of its tickets or outside them, plus ``amount``
    is above ``DESK_COMPENSATION_APPROVAL_THRESHOLD``. "So far" is every compensation entry
    neither reversed nor rejected: counted, approved and still waiting alike
    (``tickets.money.committed_total``), so four entries of 50.00 on one ticket, or one on each
    of two tickets of the order, are no way round a limit of 50 (issue 13 second review). The
    one place this is decided; ``ledger_record`` calls it holding the order's row lock, which
    every entry on the order takes first, so two entries at once are judged one after the
    other and cannot both slip under."""
    limit = settings.DESK_COMPENSATION_APPROVAL_THRESHOLD
    if amount > limit:
        return True
    so_far = LedgerEntry.objects.filter(kind=K.COMPENSATION, order=order)
    return committed_total(so_far) + amount > limit


@transaction.atomic
def ledger_record(
    *,
    actor: User,
    order: Order,
    kind: str,
    amount,
    payment_method: str,
    ticket: Ticket | None = None,
    note: str = "",
    idempotency_key: str | None = None,
) -> LedgerEntry:
    """Records postage, compensation or a refund. Returns the entry the key already made when
    the same submission arrives again."""
    require_perm(actor, "tickets.add_ledgerentry")
    done = _existing(idempotency_key, order_id=order.pk, ticket_id=ticket.pk if ticket else None)
    if done is not None:
        return done
    amount = parse_money(amount)
    if kind not in K.values:
        raise DeskError(_("未知的资金类型。"))
    if ticket is not None and ticket.order_id != order.pk:
        raise DeskError(_("售后单不属于这个订单。"))
    # Money on one order is decided one submission at a time.
    order = Order.objects.select_for_update().get(pk=order.pk)
    position = None
    if kind == K.REFUND and ticket is not None and ticket.kind == Ticket.Kind.EXCHANGE:
        # An exchange sends goods instead of money: it refunds only a price difference.
        position = exchange_price_position(ticket)
        if amount > position.to_refund:
            raise DeskError(
                _(
                    "换货单只退差价：应退 ¥%(owed)s，已退 ¥%(done)s，最多再退 ¥%(room)s。"
                    "买家要退款而不换货，请撤销换货单，另建退货退款单。"
                )
                % {
                    "owed": position.refund_owed,
                    "done": position.refunded,
                    "room": position.to_refund,
                }
            )
    if kind in (K.REFUND, K.COMPENSATION):
        room = refund_cap(order, ticket if kind == K.REFUND else None, position=position)
        if amount > room:
            raise DeskError(
                _("金额 ¥%(amount)s 超出可退/可赔上限 ¥%(room)s（买家实付减去已退款和已赔偿）。")
                % {"amount": amount, "room": room}
            )
    needs_approval = kind == K.COMPENSATION and compensation_needs_approval(
        order=order, amount=amount
    )
    try:
        with transaction.atomic():
            entry = LedgerEntry.objects.create(
                shop_id=order.shop_id,
                order=order,
                ticket=ticket,
                kind=kind,
                amount=amount,
                payment_method=payment_method,
                note=note.strip()[:255],
                requires_approval=needs_approval,
                recorded_by=actor,
                recorded_at=timezone.now(),
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        done = _existing(
            idempotency_key, order_id=order.pk, ticket_id=ticket.pk if ticket else None
        )
        if done is None:
            raise
        return done
    if ticket is not None:
        _money_event(actor, ticket, entry)
        _advance_ticket(actor, ticket, entry)
    if needs_approval:
        _approval_needed(actor, order, ticket, entry)
    return entry


def approval_url(entry: LedgerEntry) -> str:
    """Where ``entry``'s approval is decided: its row on the approvals page. Also what names
    the entry in its "approval needed" notifications (``compensation_decide`` marks them
    read by it)."""
    return reverse("tickets:approval_list") + f"#entry-{entry.pk}"


def _approval_needed(actor: User, order: Order, ticket: Ticket | None, entry: LedgerEntry) -> None:
    """Tells the shop's supervisors that ``entry`` waits for their approval (issue 13)."""
    number = ticket.number if ticket is not None else order.order_no
    notify(
        recipients=supervisors_of(order.shop_id),
        actor=actor,
        kind=Notification.Kind.APPROVAL_NEEDED,
        params={"who": str(actor), "amount": str(entry.amount), "no": number},
        url=approval_url(entry),
        shop=order.shop,
        ticket=ticket,
        card=(
            ticket_card(Notification.Kind.APPROVAL_NEEDED, ticket, f"¥{entry.amount}")
            if ticket is not None
            else None
        ),
    )


def _money_event(actor: User, ticket: Ticket, entry: LedgerEntry) -> None:
    if entry.is_reversal:
        state = "reversal"
    elif entry.requires_approval:
        state = "awaiting_approval"
    else:
        state = "counted"
    line = {
        "state": state,
        "kind": str(entry.kind),
        "amount": str(entry.amount),
        "method": str(entry.payment_method),
        "note": entry.note,
    }
    timeline_write(ticket=ticket, actor=actor, kind=TicketEvent.Kind.MONEY, line=("money", line))
    ticket_responded(ticket)


def _advance_ticket(actor: User, ticket: Ticket, entry: LedgerEntry) -> None:
    """A refund on a received return (or an open refund-only ticket) marks it refunded;
    compensation that counts marks a compensation ticket compensated."""
    ticket.refresh_from_db()
    target = {
        (K.REFUND, Ticket.Kind.RETURN, Ticket.Status.RECEIVED): Ticket.Status.REFUNDED,
        (K.REFUND, Ticket.Kind.REFUND_ONLY, Ticket.Status.OPEN): Ticket.Status.REFUNDED,
        (K.COMPENSATION, Ticket.Kind.COMPENSATION, Ticket.Status.OPEN): Ticket.Status.COMPENSATED,
    }.get((entry.kind, ticket.kind, ticket.status))
    if target and not entry.is_reversal and transition_refusal(ticket, target) is None:
        ticket_transition(actor=actor, ticket=ticket, to_status=target)


@transaction.atomic
def ledger_reverse(
    *, actor: User, entry: LedgerEntry, reason: str, idempotency_key: str | None = None
) -> LedgerEntry:
    """Corrects ``entry`` with a reversing entry of the same amount (never an edit)."""
    require_perm(actor, "tickets.add_ledgerentry")
    done = _existing(idempotency_key, reverses_id=entry.pk)
    if done is not None:
        return done
    reason = meaningful_text(reason)
    if not reason:
        raise DeskError(_("请写明冲销原因。"))
    entry = LedgerEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.is_reversal:
        raise DeskError(_("冲销记录本身不能再冲销；如需更正，请重新登记一笔。"))
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise DeskError(_("这笔记录已经冲销过了。"))
    try:
        with transaction.atomic():
            reversal = LedgerEntry.objects.create(
                shop_id=entry.shop_id,
                order_id=entry.order_id,
                ticket_id=entry.ticket_id,
                kind=entry.kind,
                amount=entry.amount,
                payment_method=entry.payment_method,
                note=reason[:255],
                reverses=entry,
                recorded_by=actor,
                recorded_at=timezone.now(),
                idempotency_key=idempotency_key,
            )
    except IntegrityError as exc:
        done = _existing(idempotency_key, reverses_id=entry.pk)
        if done is not None:
            return done
        raise DeskError(_("这笔记录已经冲销过了。")) from exc
    if entry.ticket_id:
        _money_event(actor, entry.ticket, reversal)
    if entry.requires_approval:
        # Nothing is left to approve: the request leaves every supervisor's bell and queue.
        notifications_handled(kind=Notification.Kind.APPROVAL_NEEDED, url=approval_url(entry))
    return reversal


@transaction.atomic
def compensation_decide(
    *, actor: User, entry: LedgerEntry, approved: bool, reason: str = ""
) -> LedgerApproval:
    """A supervisor approves or rejects compensation above the threshold. Two supervisors
    deciding at once give one decision: the row is locked and the state re-checked. The
    supervisors' "approval needed" notifications of the entry are marked read, and whoever
    recorded it is told. Raises ``DeskError`` when the entry needs no approval, was decided
    already, has been reversed meanwhile (there is no money left to decide on:
    ``ledger_reverse`` takes it out of the queue), or was recorded by ``actor``: whoever
    recorded compensation above the limit never approves or rejects it, whatever their role;
    another supervisor does (issue 13 review: an approval is a second person's check; every
    door - the approvals page, the inbox, the dashboard - comes here)."""
    require_perm(actor, "tickets.approve_compensation")
    entry = LedgerEntry.objects.select_for_update().get(pk=entry.pk)
    if not entry.requires_approval:
        raise DeskError(_("这笔记录不需要审批。"))
    if LedgerApproval.objects.filter(entry=entry).exists():
        raise DeskError(_("这笔赔偿已经审批过了。"))
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise DeskError(_("这笔赔偿已经冲销，不需要再审批。"))
    if entry.recorded_by_id == actor.pk:
        raise DeskError(_("这笔赔偿是你登记的，不能自己审批，需由另一位主管审批。"))
    if not approved and not reason.strip():
        raise DeskError(_("拒绝时请写明理由。"))
    decision = LedgerApproval.objects.create(
        entry=entry, approved=approved, decided_by=actor, reason=reason.strip()[:255]
    )
    if entry.ticket_id:
        decided = {"approved": approved, "amount": str(entry.amount), "reason": reason.strip()}
        timeline_write(
            ticket=entry.ticket,
            actor=actor,
            kind=TicketEvent.Kind.MONEY,
            line=("compensation_decided", decided),
        )
        if approved:
            _advance_ticket(actor, entry.ticket, entry)
    with chat_language():
        verdict = _("已批准") if approved else _("已拒绝")
    # Every supervisor's "approval needed" row for this entry is done (issue 13 review).
    notifications_handled(kind=Notification.Kind.APPROVAL_NEEDED, url=approval_url(entry))
    # A rejection's reason stays on the timeline and the approval: a person typed it.
    notify(
        recipients=[entry.recorded_by],
        actor=actor,
        kind=Notification.Kind.APPROVAL_DECIDED,
        params={
            "approved": approved,
            "amount": str(entry.amount),
            "no": entry.ticket.number if entry.ticket_id else entry.order.order_no,
        },
        url=reverse("tickets:ticket_detail", args=[entry.ticket_id]) if entry.ticket_id else "",
        shop=entry.shop,
        ticket=entry.ticket,
        card=(
            ticket_card(Notification.Kind.APPROVAL_DECIDED, entry.ticket, verdict)
            if entry.ticket_id
            else None
        ),
    )
    return decision
