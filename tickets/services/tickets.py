"""Opening and working tickets. ``ticket_transition`` is the one door for status changes,
``ticket_set_return_tracking`` the one way a return tracking number is set, and every line
of the timeline is written by ``timeline.timeline_write``."""

from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.models import (
    Escalation,
    Notification,
    Order,
    OrderItem,
    Promise,
    Sku,
    Ticket,
    TicketEvent,
    TicketItem,
    User,
)
from tickets.roles import Role, has_role
from tickets.selectors import open_promises, transition_refusal, work_refusal
from tickets.sla import clock_restart, clock_stop, sla_due_times
from tickets.text import (
    meaningful_text,
    normalise_tracking_no,
    tracking_no_length_refusal,
    tracking_no_refusal,
)

from . import DeskError, require_perm
from .exchanges import ReplacementRequest, replacements_write
from .notifications import (
    notifications_handled,
    notify,
    sla_warnings_reassigned,
    sla_warnings_settle,
    supervisors_of,
    ticket_card,
    ticket_url,
)
from .timeline import timeline_write

S = Ticket.Status

# Kinds that need the goods back or sent out: only for orders that were shipped.
_GOODS_KINDS = {Ticket.Kind.RETURN, Ticket.Kind.EXCHANGE, Ticket.Kind.REPAIR, Ticket.Kind.RESHIP}
_SHIPPED = {Order.Status.SHIPPED, Order.Status.SUCCESS}
# Entering one of these means the buyer's problem is solved (the SLA's "resolved").
_RESOLVING = {S.REFUNDED, S.COMPENSATED, S.SHIPPED, S.CLOSED}


@dataclass(frozen=True)
class ItemRequest:
    """An order item and how many of it the ticket concerns; for an exchange, ``send_sku`` is
    the SKU that goes out instead (None: the same SKU again)."""

    order_item: OrderItem
    quantity: int
    send_sku: Sku | None = None


@dataclass(frozen=True)
class PromiseRequest:
    kind: str
    text: str
    due_on: date | None = None


def _event(ticket: Ticket, actor: User | None, kind: str, message: str = "", **extra):
    return timeline_write(ticket=ticket, actor=actor, kind=kind, message=message, **extra)


def _line(ticket: Ticket, actor: User | None, kind: str, key: str, **params):
    """A line the desk words itself (``tickets.timeline_lines``): ``key`` with ``params``."""
    return timeline_write(ticket=ticket, actor=actor, kind=kind, line=(key, params))


def _responded(ticket: Ticket, now) -> list[str]:
    """The first note, status change or money entry by staff is the ticket's first response
    (taking or assigning it is not, nor is escalating it: the buyer hears nothing from that)."""
    if ticket.first_responded_at is None:
        ticket.first_responded_at = now
        return ["first_responded_at"]
    return []


def ticket_responded(ticket: Ticket) -> None:
    """Records now as the ticket's first response if it has none yet (money recorded by staff
    counts as a response, like a note or a status change)."""
    locked = _lock(ticket)
    if _responded(locked, timezone.now()):
        locked.save(update_fields=["first_responded_at", "updated_at"])
        sla_warnings_settle(locked)


def _lock(ticket: Ticket) -> Ticket:
    """Reloads the ticket under a row lock, so two agents' changes queue instead of racing."""
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def _refuse_goods_twice(order: Order, items: list[ItemRequest]) -> None:
    """DeskError when an item's pieces on open goods tickets plus ``items`` would exceed what
    was ordered (the order row locked first, so two openings count one after the other)."""
    Order.objects.select_for_update().filter(pk=order.pk).exists()
    taken = {}
    for row in (
        TicketItem.objects.filter(
            order_item__in=[i.order_item for i in items],
            ticket__kind__in=_GOODS_KINDS,
            ticket__status__in=Ticket.OPEN_STATUSES,
        )
        .select_related("ticket")
        .order_by("ticket_id")
    ):
        numbers, count = taken.get(row.order_item_id, ([], 0))
        taken[row.order_item_id] = ([*numbers, row.ticket.number], count + row.quantity)
    for item in items:
        numbers, count = taken.get(item.order_item.pk, ([], 0))
        if count + item.quantity > item.order_item.quantity:
            raise DeskError(
                _(
                    "“%(title)s”共买了 %(ordered)s 件，未完结的售后单 %(tickets)s 已经在处理 "
                    "%(taken)s 件，这张单最多还能选 %(left)s 件。"
                )
                % {
                    "title": item.order_item.title,
                    "ordered": item.order_item.quantity,
                    "tickets": "、".join(numbers),
                    "taken": count,
                    "left": max(item.order_item.quantity - count, 0),
                }
            )


@transaction.atomic
def ticket_open(
    *,
    actor: User,
    order: Order,
    kind: str,
    reason: str,
    responsibility: str,
    items: list[ItemRequest],
    description: str = "",
    promises: list[PromiseRequest] = (),
    assignee: User | None = None,
    return_tracking_no: str = "",
    idempotency_key: str | None = None,
    clock_started_at: datetime | None = None,
) -> Ticket:
    """Opens a ticket on ``order`` for the given items (each never more than ordered).

    The service-level clock starts at ``clock_started_at`` (aware; the refund import passes
    the buyer's 退款申请时间), else now; a time in the future counts as now. The due times
    are counted from it in the shop's business hours (``tickets.sla``).

    Goods move once (issue 11 review): an item's pieces on open return, exchange, repair and
    reship tickets together never exceed what was ordered, so the same piece is not sent
    back or sent out twice; the order is locked while this is counted. The same form
    submission (``idempotency_key``) twice opens one ticket, returned again. DeskError with
    the reason otherwise."""
    require_perm(actor, "tickets.add_ticket")
    if idempotency_key:
        # Opening tickets on one order queues here; a repeated submission then finds the first.
        Order.objects.select_for_update().filter(pk=order.pk).exists()
        done = Ticket.objects.filter(idempotency_key=idempotency_key).first()
        if done is not None:
            if done.order_id != order.pk:  # a key from another order's form
                raise DeskError(_("表单已过期或无效，请刷新页面后重新提交。"))
            return done
    if order.status == Order.Status.WAITING_PAYMENT:
        raise DeskError(_("订单还未付款，不能创建售后单。"))
    if kind in _GOODS_KINDS and order.status not in _SHIPPED:
        raise DeskError(_("订单尚未发货，只能创建“仅退款”或“赔偿”售后单。"))
    if not items:
        raise DeskError(_("请至少选择一件售后商品。"))
    seen = set()
    for item in items:
        if item.order_item.order_id != order.pk:
            raise DeskError(_("所选商品不属于这个订单。"))
        if item.order_item.pk in seen:
            raise DeskError(_("同一件商品只能选一次。"))
        seen.add(item.order_item.pk)
        if not 0 < item.quantity <= item.order_item.quantity:
            raise DeskError(
                _("“%(title)s”的售后数量必须在 1 到 %(max)s 之间（订单购买了 %(max)s 件）。")
                % {"title": item.order_item.title, "max": item.order_item.quantity}
            )
    if kind in _GOODS_KINDS:
        _refuse_goods_twice(order, items)
    now = timezone.now()
    started = min(clock_started_at or now, now)
    first_due, resolution_due = sla_due_times(started, reason, order.shop.business_hours)
    ticket = Ticket.objects.create(
        shop_id=order.shop_id,
        order=order,
        kind=kind,
        reason=reason,
        responsibility=responsibility,
        description=description,
        opened_by=actor,
        first_response_due=first_due,
        resolution_due=resolution_due,
        created_at=now,
        clock_started_at=started,
        idempotency_key=idempotency_key or None,
    )
    created = TicketItem.objects.bulk_create(
        [TicketItem(ticket=ticket, order_item=i.order_item, quantity=i.quantity) for i in items]
    )
    _event(ticket, actor, TicketEvent.Kind.OPENED, description, to_status=S.OPEN)
    if kind == Ticket.Kind.EXCHANGE:
        # What goes out is said when the exchange is opened: the SKU chosen, else the same
        # SKU again; an item outside the catalogue with nothing chosen goes out as it came.
        replacements_write(
            actor=actor,
            ticket=ticket,
            requests=[
                ReplacementRequest(made.pk, wanted.send_sku or wanted.order_item.sku, made.quantity)
                for made, wanted in zip(created, items, strict=True)
                if wanted.send_sku or wanted.order_item.sku
            ],
        )
    if normalise_tracking_no(return_tracking_no):
        ticket_set_return_tracking(actor=actor, ticket=ticket, tracking_no=return_tracking_no)
    for promise in promises:
        promise_add(
            actor=actor, ticket=ticket, kind=promise.kind, text=promise.text, due_on=promise.due_on
        )
    if assignee is not None:
        ticket_assign(actor=actor, ticket=ticket, assignee=assignee)
    return ticket


@transaction.atomic
def ticket_transition(
    *,
    actor: User | None,
    ticket: Ticket,
    to_status: str,
    note: str = "",
    tracking_no: str = "",
    waive_reason: str = "",
    by_list: bool = False,
    responds: bool = True,
    note_line: tuple[str, dict] | None = None,
) -> Ticket:
    """Moves ``ticket`` to ``to_status`` if its kind's workflow allows it, and records who and
    when on the timeline, with ``note`` (what a person typed) or ``note_line`` (what the
    desk says, as a line of ``tickets.timeline_lines``, in each reader's language). ``actor``
    None means the desk itself (a scheduled task).

    Ending a ticket (closed, cancelled) with a promise to the buyer not yet kept is refused
    unless ``waive_reason`` says why it will not be kept; each such promise is then marked
    waived with that reason, on the timeline (DOMAIN.md "Breach of promise"). ``by_list``: the
    exchange-goods list itself is moving the ticket (``finance_exports``); nobody else may.
    ``responds`` False: the move is not the shop's first response to the buyer (the refund
    import following the seller centre). Any move ends a wait for the buyer; entering
    awaiting_return stops the service-level clock, leaving it restarts it (``tickets.sla``).
    Finishing or cancelling it closes its open escalation (``_escalation_end``), whichever
    door finished it (the ticket page, the bulk form, the refund import, the exchange list,
    the money). Its "about to breach" warnings that the move made moot (a stopped clock, a
    reply, a resolution, the end) leave every bell (``sla_warnings_settle``). Raises
    ``DeskError`` with the reason when refused."""
    if note and note_line:
        raise ValueError("a status change says either a person's note or the desk's line")
    if actor is not None:
        require_perm(actor, "tickets.change_ticket")
    ticket = _lock(ticket)
    refusal = transition_refusal(ticket, to_status, by_list=by_list)
    if refusal:
        raise DeskError(refusal)
    tracking_no = normalise_tracking_no(tracking_no)
    now = timezone.now()
    if to_status in Ticket.FINISHED_STATUSES:
        _waive_open_promises(actor, ticket, waive_reason, now)
    if to_status == S.SHIPPED and ticket.kind in (
        Ticket.Kind.EXCHANGE,
        Ticket.Kind.RESHIP,
        Ticket.Kind.REPAIR,
    ):
        if not tracking_no:
            raise DeskError(_("发出商品时必须填写运单号。"))
        refusal = tracking_no_refusal(tracking_no)
        if refusal:
            raise DeskError(refusal)
        ticket.outbound_tracking_no = tracking_no
    from_status = ticket.status
    ticket.status = to_status
    ticket.status_changed_at = now
    if to_status in _RESOLVING and ticket.resolved_at is None:
        ticket.resolved_at = now
    if to_status in Ticket.FINISHED_STATUSES:
        ticket.closed_at = now
        ticket.escalated = False
    ticket.awaiting_buyer = False
    if to_status in Ticket.PAUSING_STATUSES:
        clock_stop(ticket, now)
    else:
        clock_restart(ticket, now)
    if actor is not None and responds:
        _responded(ticket, now)
    ticket.save()
    sla_warnings_settle(ticket)
    _event(
        ticket,
        actor,
        TicketEvent.Kind.STATUS,
        note,
        from_status=from_status,
        to_status=to_status,
        ticket_saved=True,  # the save above stamped updated_at: no second UPDATE
        line=note_line,
    )
    if to_status in Ticket.FINISHED_STATUSES:
        _escalation_end(actor, ticket, now)
    if to_status == S.AWAITING_RETURN and tracking_no:
        ticket_set_return_tracking(actor=actor, ticket=ticket, tracking_no=tracking_no)
    return ticket


def _escalation_end(actor: User | None, ticket: Ticket, now: datetime) -> None:
    """A finished or cancelled ticket waits for no supervisor (issue 13 review): its open
    escalation closes as ``Escalation.Decision.TICKET_FINISHED``, decided by ``actor`` (None:
    the desk itself) at ``now``, with a line on the timeline, and the supervisors'
    "escalation raised" notifications of the ticket are marked read. The caller holds the
    ticket's row lock and clears ``Ticket.escalated`` itself, in the same transaction."""
    escalation = (
        Escalation.objects.select_for_update()
        .filter(ticket=ticket, decided_at__isnull=True)
        .first()
    )
    if escalation is not None:
        escalation.decision = Escalation.Decision.TICKET_FINISHED
        escalation.decided_by = actor
        escalation.decided_at = now
        escalation.save(update_fields=["decision", "decided_by", "decided_at", "updated_at"])
        _line(ticket, actor, TicketEvent.Kind.ESCALATED, "escalation_closed")
    notifications_handled(kind=Notification.Kind.ESCALATION_RAISED, ticket=ticket)


def _waive_open_promises(actor: User | None, ticket: Ticket, reason: str, now) -> None:
    pending = list(open_promises(ticket).select_for_update())
    if not pending:
        return
    reason = meaningful_text(reason)
    if not reason:
        raise DeskError(
            _("还有 %(n)s 个对买家的承诺没有兑现（%(what)s）。请先兑现，或写明不兑现的原因。")
            % {"n": len(pending), "what": "；".join(p.text for p in pending)}
        )
    if actor is None:
        raise DeskError(_("有未兑现的承诺，只能由客服写明原因后结束。"))
    for promise in pending:
        promise.waived_at = now
        promise.waived_by = actor
        promise.waived_reason = reason[:255]
        promise.save(update_fields=["waived_at", "waived_by", "waived_reason", "updated_at"])
        _line(
            ticket,
            actor,
            TicketEvent.Kind.PROMISE,
            "promise_waived",
            text=promise.text,
            reason=promise.waived_reason,
        )


@transaction.atomic
def ticket_set_return_tracking(
    *,
    actor: User | None,
    ticket: Ticket,
    tracking_no: str,
    note: str = "",
    by_seller_centre: bool = False,
) -> Ticket:
    """Sets the tracking number of the parcel the buyer sends back (退回运单号), normalised,
    and says so on the timeline with the number it replaces. The one way this field changes:
    the ticket form, a status change, unpacking and the refund import all come here. Setting
    the number it already has changes nothing. Raises ``DeskError`` on a finished ticket, and
    for a number longer than the column holds (``tracking_no_length_refusal``)."""
    tracking_no = normalise_tracking_no(tracking_no)
    refusal = tracking_no_length_refusal(tracking_no)
    if refusal:
        raise DeskError(refusal)
    ticket = _lock(ticket)
    if not tracking_no or tracking_no == ticket.return_tracking_no:
        return ticket
    if not ticket.is_open:
        raise DeskError(_("已完结的售后单不能再改退回运单号。"))
    before = ticket.return_tracking_no
    ticket.return_tracking_no = tracking_no
    ticket.save(update_fields=["return_tracking_no", "updated_at"])
    if by_seller_centre:  # the refund import: the seller centre says the buyer sent it
        _line(ticket, actor, TicketEvent.Kind.TRACKING, "tracking_sent_back", no=tracking_no)
    else:
        _line(
            ticket,
            actor,
            TicketEvent.Kind.TRACKING,
            "tracking_set",
            no=tracking_no,
            before=before,
            note=note or "",
        )
    return ticket


@transaction.atomic
def ticket_await_buyer(*, actor: User, ticket: Ticket, note: str = "") -> Ticket:
    """Marks the ticket as waiting for the buyer's answer (photos, a choice, an address): the
    service-level clock stops until ``ticket_buyer_answered`` or a status change brings it
    back to the shop (issue 13 section 3). Asking the buyer is a response. ``note``: what
    was asked, on the timeline. Raises ``DeskError`` when the ticket already waits, is
    finished or solved, or awaits the return parcel (its clock stands already)."""
    require_perm(actor, "tickets.change_ticket")
    ticket = _lock(ticket)
    if ticket.awaiting_buyer:
        raise DeskError(_("这张售后单已经在等待买家回复。"))
    if ticket.status not in Ticket.BUYER_WAIT_STATUSES:
        raise DeskError(
            _("“%(status)s”的售后单不能设为等待买家：只有还需要客服处理的售后单才能暂停计时。")
            % {"status": ticket.get_status_display()}
        )
    now = timezone.now()
    ticket.awaiting_buyer = True
    fields = ["awaiting_buyer", *clock_stop(ticket, now), *_responded(ticket, now)]
    ticket.save(update_fields=[*fields, "updated_at"])
    sla_warnings_settle(ticket)
    _line(ticket, actor, TicketEvent.Kind.NOTE, "awaiting_buyer", note=meaningful_text(note) or "")
    return ticket


@transaction.atomic
def ticket_buyer_answered(*, actor: User, ticket: Ticket, note: str = "") -> Ticket:
    """The buyer answered: the ticket is the shop's again and its clock runs, the due times
    not yet missed when it began to wait moved forward by the business time it waited
    (``tickets.sla.clock_restart``: a missed one stays missed); the
    timeline says how long. Raises ``DeskError`` when the ticket was not waiting for the
    buyer."""
    require_perm(actor, "tickets.change_ticket")
    ticket = _lock(ticket)
    if not ticket.awaiting_buyer:
        raise DeskError(_("这张售后单没有在等待买家回复。"))
    before = ticket.paused_seconds
    ticket.awaiting_buyer = False
    fields = ["awaiting_buyer", *clock_restart(ticket, timezone.now())]
    ticket.save(update_fields=[*fields, "updated_at"])
    _line(
        ticket,
        actor,
        TicketEvent.Kind.NOTE,
        "buyer_answered",
        minutes=(ticket.paused_seconds - before) // 60,
        note=meaningful_text(note) or "",
    )
    return ticket


@transaction.atomic
def ticket_assign(*, actor: User, ticket: Ticket, assignee: User | None) -> Ticket:
    """Gives the ticket to ``assignee`` (None: back to the queue). The assignee must serve the
    ticket's shop; an agent may take a ticket for themself, a supervisor may assign anyone.
    The ticket's "about to breach" warnings leave every bell but the new assignee's
    (``sla_warnings_reassigned``)."""
    require_perm(actor, "tickets.change_ticket")
    ticket = _lock(ticket)
    if not ticket.is_open:
        raise DeskError(_("已完结的售后单不能再分配。"))
    if not has_role(actor, Role.SUPERVISOR):
        if assignee is not None and assignee != actor:
            raise DeskError(_("只有主管可以把售后单分配给别人；你可以认领给自己。"))
        if ticket.assignee_id not in (None, actor.pk):
            raise DeskError(
                _("这张售后单已由 %(name)s 处理，只有主管可以改派。") % {"name": ticket.assignee}
            )
    refusal = work_refusal(assignee, ticket.shop_id) if assignee is not None else None
    if refusal:
        raise DeskError(refusal)
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    ticket.assignee = assignee
    ticket.save(update_fields=["assignee", "updated_at"])
    sla_warnings_reassigned(ticket)
    _line(ticket, actor, TicketEvent.Kind.ASSIGNED, "assigned", name=str(assignee or ""))
    if assignee is not None and assignee != actor:
        notify(
            recipients=[assignee],
            kind=Notification.Kind.ASSIGNED,
            params={"who": str(actor), "no": ticket.number},
            url=ticket_url(ticket),
            shop=ticket.shop,
            ticket=ticket,
            card=ticket_card(Notification.Kind.ASSIGNED, ticket),
        )
    return ticket


@transaction.atomic
def ticket_note(
    *, actor: User, ticket: Ticket, text: str, submission: str | None = None
) -> TicketEvent:
    """``text`` on the ticket's timeline. ``submission``: the bulk form it came from
    (``tickets.services.bulk``), kept on the note so that form sent again is recognised."""
    require_perm(actor, "tickets.change_ticket")
    text = meaningful_text(text)
    if not text:
        raise DeskError(_("备注不能为空。"))
    ticket = _lock(ticket)
    fields = _responded(ticket, timezone.now())
    if fields:
        ticket.save(update_fields=[*fields, "updated_at"])
        sla_warnings_settle(ticket)
    return _event(ticket, actor, TicketEvent.Kind.NOTE, text, submission=submission)


@transaction.atomic
def ticket_escalate(*, actor: User, ticket: Ticket, reason: str) -> Escalation:
    """Asks a supervisor to decide (for example, compensation the buyer won't accept): an open
    ``Escalation`` with ``reason`` (required), ``Ticket.escalated`` set until it is decided,
    a timeline line, and a notification to the shop's supervisors other than ``actor`` (the
    chat card carries no reason: it may quote the buyer). Not the ticket's first response:
    the buyer hears nothing from it. Raises ``DeskError`` when the ticket is finished or
    already waits for a decision, ``PermissionDenied`` without ``escalate_ticket``."""
    require_perm(actor, "tickets.escalate_ticket")
    reason = meaningful_text(reason)
    if not reason:
        raise DeskError(_("请写明升级原因，方便主管判断。"))
    ticket = _lock(ticket)
    if ticket.escalated or ticket.escalations.filter(decided_at__isnull=True).exists():
        raise DeskError(_("这张售后单已经升级给主管了。"))
    if not ticket.is_open:
        raise DeskError(_("已完结的售后单不能升级。"))
    now = timezone.now()
    # Asking a supervisor is not answering the buyer: no first response (issue 13 review).
    ticket.escalated = True
    ticket.save(update_fields=["escalated", "updated_at"])
    escalation = Escalation.objects.create(
        ticket=ticket, reason=reason, raised_by=actor, raised_at=now
    )
    _event(ticket, actor, TicketEvent.Kind.ESCALATED, reason)
    notify(
        recipients=supervisors_of(ticket.shop_id),
        actor=actor,  # a supervisor who escalates needs no bell for it
        kind=Notification.Kind.ESCALATION_RAISED,
        params={"who": str(actor), "no": ticket.number},
        url=reverse("tickets:inbox") + f"#escalation-{escalation.pk}",
        shop=ticket.shop,
        ticket=ticket,
        card=ticket_card(Notification.Kind.ESCALATION_RAISED, ticket),
    )
    return escalation


@transaction.atomic
def promise_add(
    *, actor: User, ticket: Ticket, kind: str, text: str, due_on: date | None = None
) -> Promise:
    """Records what the agent promised the buyer; it stays on the ticket until kept."""
    require_perm(actor, "tickets.add_promise")
    text = meaningful_text(text)
    if not text:
        raise DeskError(_("请写明承诺内容。"))
    ticket = _lock(ticket)  # a cancel at the same moment waits, then this sees it
    if not ticket.is_open:
        raise DeskError(_("已完结的售后单不能再记录承诺。"))
    promise = Promise.objects.create(
        ticket=ticket, kind=kind, text=text, due_on=due_on, made_by=actor
    )
    due = f"{due_on:%Y-%m-%d}" if due_on else ""
    _line(ticket, actor, TicketEvent.Kind.PROMISE, "promise_made", text=text, due=due)
    return promise


@transaction.atomic
def promise_fulfil(*, actor: User, promise: Promise) -> Promise:
    require_perm(actor, "tickets.change_promise")
    promise = Promise.objects.select_for_update().get(pk=promise.pk)
    if promise.fulfilled_at is not None:
        raise DeskError(_("这个承诺已经兑现过了。"))
    if promise.waived_at is not None:
        raise DeskError(_("这个承诺已经登记为未兑现。"))
    promise.fulfilled_at = timezone.now()
    promise.fulfilled_by = actor
    promise.save(update_fields=["fulfilled_at", "fulfilled_by", "updated_at"])
    _line(promise.ticket, actor, TicketEvent.Kind.PROMISE, "promise_fulfilled", text=promise.text)
    return promise
