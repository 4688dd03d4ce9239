"""The seller centre's refund export: each refund request opens or updates its ticket.

A refund request (退款编号) is kept as a ``RefundRequest`` tied to the ticket it opened (or to
the open ticket of the same kind an agent had already opened on the order). Re-importing the
export moves the ticket along through ``ticket_transition`` where the workflow allows it and
notes on the timeline what the seller centre says; a platform intervention (客服介入) lands
in the intervention register with its evidence deadline. No money is recorded here: a refund
the platform made is recorded by an agent, with the ledger's own checks.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from tickets.models import (
    Notification,
    Order,
    OrderItem,
    PlatformIntervention,
    RefundRequest,
    Shop,
    Ticket,
    TicketEvent,
    User,
)
from tickets.selectors import transition_refusal
from tickets.services import DeskError, require_perm
from tickets.services.notifications import intervention_url, notifications_handled
from tickets.services.tickets import (
    ItemRequest,
    ticket_open,
    ticket_set_return_tracking,
    ticket_transition,
)
from tickets.services.timeline import timeline_write
from tickets.timeline_lines import line_stored

from .cleaning import (
    clean_amount,
    clean_datetime,
    clean_identifier,
    clean_order_no,
    clean_text,
    clean_tracking_no,
    is_yes,
)
from .layout import Layout, fold, mapping
from .orders import Context, _Row, _rows

T = Ticket.Status

# What each 退款状态 means for the ticket (values of [refund_statuses] in columns.toml).
REQUESTED, AWAITING_RETURN, RETURNED = "requested", "awaiting_return", "returned"
REFUSED, CLOSED, SUCCESS = "refused", "closed", "success"
_MEANINGS = {REQUESTED, AWAITING_RETURN, RETURNED, REFUSED, CLOSED, SUCCESS}
# Changes the agent should read on the timeline (the buyer changed the request, or its status).
_WORTH_A_NOTE = {"status", "amount", "needs_return", "reason", "description"}


@dataclass(frozen=True)
class RefundData:
    """One row of the refund export, cleaned."""

    refund_no: str
    order_no: str
    status: str
    meaning: str
    amount: Decimal
    needs_return: bool
    goods_status: str = ""
    reason: str = ""
    description: str = ""
    return_courier_name: str = ""
    return_tracking_no: str = ""
    intervention_status: str = ""
    timeout_at: datetime | None = None
    applied_at: datetime | None = None
    evidence_deadline: datetime | None = None
    sub_order_no: str = ""
    title: str = ""
    item_code: str = ""
    responsibility: str = ""

    def stored(self) -> dict:
        """The ``RefundRequest`` fields this row sets."""
        return {
            "status": self.status[:60],
            "goods_status": self.goods_status[:60],
            "needs_return": self.needs_return,
            "amount": self.amount,
            "reason": self.reason[:100],
            "description": self.description,
            "return_courier_name": self.return_courier_name[:50],
            "return_tracking_no": self.return_tracking_no[:40],
            "intervention_status": self.intervention_status[:60],
            "timeout_at": self.timeout_at,
            "evidence_deadline": self.evidence_deadline,
        }


def ticket_reason(text: str) -> str:
    """The ticket reason for a buyer's refund reason: the first keyword of the mapping found
    in it, else "other"."""
    folded = fold(text)
    return next(
        (reason for keyword, reason in mapping().refund_reasons if keyword in folded),
        Ticket.Reason.OTHER,
    )


def ticket_responsibility(responsibility_text: str, reason: str) -> str:
    folded = fold(responsibility_text)
    for text, value in mapping().responsibility_texts.items():
        if text and text in folded:
            return value
    return mapping().responsibility_by_reason.get(reason, Ticket.Responsibility.SELLER)


def intervention_active(text: str) -> bool:
    return fold(text) not in mapping().no_intervention_texts


def _refund_values(row: _Row) -> RefundData | None:
    refund_no = row.take("refund_no", clean_order_no)
    order_no = row.take("order_no", clean_order_no)
    status = clean_text(row.raw("refund_status"))
    meaning = mapping().refund_statuses.get(fold(status))
    if meaning not in _MEANINGS:
        row.refuse("refund_status", _("未知的退款状态“%(value)s”。") % {"value": status})
    amount = row.take("amount", clean_amount)
    timeout_at = row.take("timeout_at", clean_datetime)
    applied_at = row.take("applied_at", clean_datetime)
    evidence_deadline = row.take("evidence_deadline", clean_datetime)
    sub_order_no = row.take("sub_order_no", clean_order_no, required=False)
    return_tracking_no = row.take("return_tracking_no", clean_tracking_no)
    item_code = row.take("item_code", clean_identifier)
    if not row.ok:
        return None
    return RefundData(
        refund_no=refund_no,
        order_no=order_no,
        status=status,
        meaning=meaning,
        amount=amount,
        needs_return=is_yes(row.raw("needs_return")),
        goods_status=clean_text(row.raw("goods_status")),
        reason=clean_text(row.raw("reason")),
        description=clean_text(row.raw("description")),
        return_courier_name=clean_text(row.raw("return_courier")),
        return_tracking_no=return_tracking_no,
        intervention_status=clean_text(row.raw("intervention")),
        timeout_at=timeout_at,
        applied_at=applied_at,
        evidence_deadline=evidence_deadline,
        sub_order_no=sub_order_no or "",
        title=clean_text(row.raw("title")),
        item_code=item_code,
        responsibility=clean_text(row.raw("responsibility")),
    )


def import_refunds(records, layout: Layout, name: str, ctx: Context, actor: User) -> None:
    """Syncs every refund row through ``refund_request_sync``; a row the services refuse is
    reported with their message (the whole import is then rolled back by the caller)."""
    counts = ctx.report.counts["refunds"]
    for row in _rows(records, layout, name, ctx.report):
        data = _refund_values(row)
        if data is None:
            continue
        _warn_above_paid(row, ctx.shop, data)
        try:
            with transaction.atomic():
                outcome = refund_request_sync(actor=actor, shop=ctx.shop, refund=data)
        except DeskError as exc:
            # Named on the field it is about: the refund number when the number is wrong,
            # else the order (not in the desk, no items, a ticket the order can't have).
            row.refuse(getattr(exc, "field", "order_no"), exc.message)
            continue
        except PermissionDenied:
            row.refuse("refund_no", _("你没有创建售后单或登记小二介入的权限。"))
            continue
        except IntegrityError:
            # Imports into one shop are serialised (``run._serialise_per_shop``); a writer
            # outside them that took the number meanwhile is a row to send again, not a 500.
            row.refuse(
                "refund_no",
                _("退款编号 %(no)s 刚被另一次导入写入：请重新导入或发送。")
                % {"no": data.refund_no},
            )
            continue
        for key in outcome:
            counts[key] += 1


def _warn_above_paid(row: _Row, shop: Shop, refund: RefundData) -> None:
    """A request for more than the buyer paid for the order is imported - it is what the
    seller centre says the buyer asked - but said, on the amount: a refund the desk records
    is capped at what the buyer paid (the ledger's check, QUALITY.md 18), so an agent must
    look before recording it (issue 16 third review 8; both doors, as they share this)."""
    paid = (
        Order.objects.filter(shop=shop, order_no=refund.order_no)
        .values_list("paid_amount", flat=True)
        .first()
    )
    if paid is not None and refund.amount > paid:
        row.warn(
            "amount",
            _(
                "退款 %(no)s 申请退款 %(amount)s 元，超过订单实付的 %(paid)s 元：工作台登记"
                "退款时最多退实付金额，请到卖家中心核对。"
            )
            % {"no": refund.refund_no, "amount": refund.amount, "paid": paid},
        )


class _FieldError(DeskError):
    """A refusal of the refund service about one field of the record (``field``)."""

    def __init__(self, message, field: str):
        super().__init__(message)
        self.field = field


# --- the service ------------------------------------------------------------------------
def _note(ticket: Ticket, actor: User, line: tuple[str, dict]) -> None:
    """A line on the timeline saying what the seller centre reported (``line``: a key and
    parameters of ``tickets.timeline_lines``). Not a reply to the buyer, so unlike an
    agent's note it does not count as the first response."""
    timeline_write(ticket=ticket, actor=actor, kind=TicketEvent.Kind.NOTE, line=line)


def _items_for(order: Order, refund: RefundData) -> list[ItemRequest]:
    items = list(order.items.order_by("pk"))
    if not items:
        raise DeskError(
            _("订单 %(no)s 还没有商品明细，无法建售后单：请先导入宝贝明细文件。")
            % {"no": order.order_no}
        )
    chosen: list[OrderItem] = []
    if refund.sub_order_no:
        chosen = [i for i in items if i.sub_order_no == refund.sub_order_no]
    if not chosen and refund.item_code:
        chosen = [i for i in items if i.sku_code == refund.item_code]
    if not chosen and refund.title:
        chosen = [i for i in items if i.title == refund.title]
    return [ItemRequest(item, item.quantity) for item in (chosen or items)]


def _describe(refund: RefundData) -> tuple[str, dict]:
    """The timeline line of a refund the seller centre reported: its number, status (as the
    file says it), amount, reason and the buyer's words."""
    return (
        "seller_refund",
        {
            "no": refund.refund_no,
            "status": refund.status,
            "amount": str(refund.amount),
            "reason": refund.reason or "",
            "description": refund.description or "",
        },
    )


def _ticket_for(actor: User, order: Order, refund: RefundData) -> tuple[Ticket, str]:
    kind = Ticket.Kind.RETURN if refund.needs_return else Ticket.Kind.REFUND_ONLY
    waiting = (
        order.tickets.filter(kind=kind, refund_request__isnull=True)
        .exclude(status__in=Ticket.FINISHED_STATUSES)
        .order_by("created_at")
        .first()
    )
    if waiting is not None:
        _note(waiting, actor, _describe(refund))
        return waiting, "linked"
    reason = ticket_reason(refund.reason)
    ticket = ticket_open(
        actor=actor,
        order=order,
        kind=kind,
        reason=reason,
        responsibility=ticket_responsibility(refund.responsibility, reason),
        items=_items_for(order, refund),
        # the ticket's description is text: the line's words in the default language
        description=line_stored(*_describe(refund))[0],
        return_tracking_no=refund.return_tracking_no,
        # The buyer's clock started when they applied, not when the file came (issue 13).
        clock_started_at=refund.applied_at,
    )
    return ticket, "opened"


def _follow(actor: User, ticket: Ticket, refund: RefundData) -> None:
    """Moves the ticket as far as the seller centre's status says and the workflow allows."""
    ticket.refresh_from_db()
    if not ticket.is_open:
        return
    tracking = refund.return_tracking_no
    goods_coming_back = refund.meaning in (AWAITING_RETURN, RETURNED)
    if goods_coming_back and transition_refusal(ticket, T.AWAITING_RETURN) is None:
        ticket_transition(
            actor=actor,
            ticket=ticket,
            responds=False,  # the seller centre's news, not the shop's reply to the buyer
            to_status=T.AWAITING_RETURN,
            note_line=("seller_status", {"status": refund.status}),
            tracking_no=tracking,
        )
        return
    if tracking and ticket.return_tracking_no != tracking and ticket.status == T.AWAITING_RETURN:
        ticket_set_return_tracking(
            actor=actor, ticket=ticket, tracking_no=tracking, by_seller_centre=True
        )
    elif refund.meaning == SUCCESS:
        if transition_refusal(ticket, T.REFUNDED) is None:
            ticket_transition(
                actor=actor,
                ticket=ticket,
                responds=False,
                to_status=T.REFUNDED,
                note_line=("seller_refund_done", {}),
            )
        else:
            _note(ticket, actor, ("seller_refund_succeeded", {"amount": str(refund.amount)}))
    elif refund.meaning == CLOSED and ticket.status in (T.OPEN, T.AWAITING_RETURN):
        ticket_transition(
            actor=actor,
            ticket=ticket,
            responds=False,  # the seller centre's news, not the shop's reply to the buyer
            to_status=T.CANCELLED,
            note_line=("seller_refund_closed", {}),
        )


def _sync_intervention(actor, order: Order, request: RefundRequest) -> str | None:
    """Registers or updates the platform intervention on this refund, keyed by the order's
    shop and 退款编号 (a case number is unique within its shop only: another shop's case of
    the same number is neither seen nor touched, issue 16 review 6). Returns the count key
    ("interventions_created", "interventions_updated") or None when nothing changed or the
    platform has not stepped in. A deadline that moves takes the old deadline's warnings out
    of every bell. Raises ``PermissionDenied``."""
    if not intervention_active(request.intervention_status):
        return None
    require_perm(actor, "tickets.add_platformintervention")
    deadline = request.evidence_deadline or request.timeout_at
    reason = (request.reason or request.intervention_status)[:200]
    case = (
        PlatformIntervention.objects.select_for_update()
        .filter(shop_id=order.shop_id, case_no=request.refund_no)
        .first()
    )
    if case is None:
        PlatformIntervention.objects.create(
            shop_id=order.shop_id,
            order=order,
            ticket=request.ticket,
            case_no=request.refund_no,
            reason=reason,
            deadline=deadline,
            recorded_by=actor,
        )
        return "interventions_created"
    if case.deadline == deadline and case.ticket_id == request.ticket_id:
        return None
    moved = case.deadline != deadline
    case.deadline, case.ticket = deadline, request.ticket
    case.save(update_fields=["deadline", "ticket", "updated_at"])
    if moved:
        # The warning of the old deadline is moot (issue 13 second review): it leaves every
        # bell as a closed case's does; a new deadline near enough is warned of anew by the
        # minutely check (its key holds the deadline).
        notifications_handled(
            kind=Notification.Kind.INTERVENTION_DEADLINE, url=intervention_url(case)
        )
    return "interventions_updated"


@transaction.atomic
def refund_request_sync(*, actor: User, shop: Shop, refund: RefundData) -> list[str]:
    """Opens or updates the ticket of one refund request from the seller centre, and its
    platform intervention. Returns what happened, as count keys ("opened", "linked",
    "updated", "unchanged", "ignored" for a request withdrawn before the desk saw it,
    "interventions_created", "interventions_updated")."""
    require_perm(actor, "tickets.add_orderimport")
    order = Order.objects.filter(shop=shop, order_no=refund.order_no).first()
    if order is None:
        raise _FieldError(
            _("订单 %(no)s 不在工作台里：请先导入订单文件。") % {"no": refund.order_no}, "order_no"
        )
    request = (
        RefundRequest.objects.select_for_update()
        .filter(shop=shop, refund_no=refund.refund_no)
        .first()
    )
    values = refund.stored()
    if request is None and refund.meaning == CLOSED:
        # Withdrawn before the desk ever saw it: nothing to follow up.
        return ["ignored"]
    if request is None:
        ticket, outcome = _ticket_for(actor, order, refund)
        request = RefundRequest.objects.create(
            shop=shop, order=order, ticket=ticket, refund_no=refund.refund_no, **values
        )
    else:
        if request.order_id != order.pk:
            raise _FieldError(
                _("退款编号 %(no)s 已经属于另一个订单。") % {"no": refund.refund_no}, "refund_no"
            )
        changed = [name for name, value in values.items() if getattr(request, name) != value]
        if not changed:
            return ["unchanged"]
        for name in changed:
            setattr(request, name, values[name])
        request.save(update_fields=[*changed, "updated_at"])
        outcome = "updated"
        if set(changed) & _WORTH_A_NOTE:
            _note(request.ticket, actor, _describe(refund))
    _follow(actor, request.ticket, refund)
    intervention = _sync_intervention(actor, order, request)
    return [outcome, intervention] if intervention else [outcome]
