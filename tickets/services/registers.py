"""Writes for the registers (issue 5): courier losses, quality problems and production alerts,
wrong shipments, product feedback, platform interventions, invoice requests, reviews, shift
handover and VIP follow-ups.

Callers fetch every object through ``tickets.selectors`` / ``tickets.selectors_registers``
first, so a service never sees another shop's rows. Each function checks the actor's
permission, runs in one transaction and raises ``DeskError`` with a message for the user when
a rule refuses the action.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.models import (
    Courier,
    CourierLossReport,
    HandoverNote,
    InvoiceRequest,
    LedgerEntry,
    Order,
    PlatformIntervention,
    ProductFeedback,
    ProductionAlert,
    QualityProblem,
    Review,
    ReviewContact,
    Shop,
    Sku,
    Ticket,
    User,
    VipCustomer,
    VipFollowUp,
    WrongShipment,
)
from tickets.money import cents, committed_total, parse_money
from tickets.roles import Role, has_role, user_roles
from tickets.text import normalise_tracking_no

from . import DeskError, require_perm
from .ledger import ledger_record

L = CourierLossReport.Status
INV = InvoiceRequest.Status


def _ticket_matches(ticket: Ticket | None, order: Order | None) -> None:
    if ticket is not None and order is not None and ticket.order_id != order.pk:
        raise DeskError(_("售后单不属于这个订单。"))


# --- courier losses -------------------------------------------------------------------
# The courier-loss pipeline: drafted → handed to courier → accepted / rejected → settled.
LOSS_FLOW: dict[str, set[str]] = {
    L.DRAFTED: {L.HANDED},
    L.HANDED: {L.ACCEPTED, L.REJECTED},
    L.ACCEPTED: {L.SETTLED},
    L.REJECTED: set(),
    L.SETTLED: set(),
}


@transaction.atomic
def courier_loss_create(
    *,
    actor: User,
    order: Order,
    courier: Courier,
    tracking_no: str,
    damage: str,
    items_description: str,
    items_value,
    shop_action: str,
    claimed_amount,
    ticket: Ticket | None = None,
    note: str = "",
) -> CourierLossReport:
    """A loss report for one lost or damaged parcel; one report per courier + tracking no."""
    require_perm(actor, "tickets.add_courierlossreport")
    _ticket_matches(ticket, order)
    tracking_no = normalise_tracking_no(tracking_no)
    if not tracking_no:
        raise DeskError(_("请填写运单号。"))
    if not items_description.strip():
        raise DeskError(_("请写明丢失或破损的物品。"))
    value = parse_money(items_value)
    claimed = parse_money(claimed_amount)
    if claimed > value:
        raise DeskError(_("索赔金额不能超过物品价值。"))
    if CourierLossReport.objects.filter(courier=courier, tracking_no=tracking_no).exists():
        raise DeskError(_("这个运单已经有丢件报告了。"))
    try:
        with transaction.atomic():
            return CourierLossReport.objects.create(
                shop_id=order.shop_id,
                courier=courier,
                tracking_no=tracking_no,
                order=order,
                ticket=ticket,
                damage=damage,
                items_description=items_description.strip(),
                items_value=value,
                shop_action=shop_action,
                claimed_amount=claimed,
                note=note.strip(),
                created_by=actor,
            )
    except IntegrityError as exc:
        raise DeskError(_("这个运单已经有丢件报告了。")) from exc


def courier_loss_refusal(report: CourierLossReport, to_status: str, user: User) -> str | None:
    """Why ``user`` may not move ``report`` to ``to_status`` now, or None."""
    if to_status not in LOSS_FLOW.get(report.status, set()):
        return _("“%(from)s”不能改为“%(to)s”。") % {
            "from": report.get_status_display(),
            "to": L(to_status).label if to_status in L.values else to_status,
        }
    if to_status == L.SETTLED and not has_role(user, Role.FINANCE, Role.SUPERVISOR):
        return _("只有财务或主管可以登记结算。")
    return None


@transaction.atomic
def courier_loss_transition(
    *,
    actor: User,
    report: CourierLossReport,
    to_status: str,
    received_amount=None,
    note: str = "",
) -> CourierLossReport:
    """Moves a report along the pipeline. Settling records the amount received from the
    courier (zero when the courier paid nothing after accepting is not allowed: reject it)."""
    require_perm(actor, "tickets.change_courierlossreport")
    report = CourierLossReport.objects.select_for_update().get(pk=report.pk)
    refusal = courier_loss_refusal(report, to_status, actor)
    if refusal:
        raise DeskError(refusal)
    now = timezone.now()
    fields = ["status", "updated_at"]
    if to_status == L.HANDED:
        report.handed_at = now
        fields.append("handed_at")
    elif to_status in (L.ACCEPTED, L.REJECTED):
        report.decided_at = now
        fields.append("decided_at")
    elif to_status == L.SETTLED:
        if received_amount in (None, ""):
            raise DeskError(_("请填写实收赔款。"))
        received = parse_money(received_amount)
        if received > report.claimed_amount:
            raise DeskError(_("实收赔款不能超过索赔金额。"))
        report.received_amount = received
        report.settled_at = now
        fields += ["received_amount", "settled_at"]
    if note.strip():
        stamp = timezone.localtime(now).strftime("%Y-%m-%d %H:%M")
        line = f"[{stamp} {actor}] {note.strip()}"
        report.note = f"{report.note}\n{line}".strip()
        fields.append("note")
    report.status = to_status
    report.save(update_fields=fields)
    return report


@dataclass(frozen=True)
class CourierSettlement:
    courier: Courier
    reports: list[CourierLossReport]
    claimed: Decimal
    received: Decimal

    @property
    def outstanding(self) -> Decimal:
        return self.claimed - self.received


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The month's first instant and the next month's first instant, local time."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(first, time.min, tzinfo=tz),
        datetime.combine(following, time.min, tzinfo=tz),
    )


def courier_loss_settlement(reports, month: date) -> list[CourierSettlement]:
    """Per courier company: the month's reports (by date written), claimed vs received.
    Rejected reports count as claimed with nothing received; ``reports`` is already scoped."""
    start, end = month_bounds(month)
    rows = list(
        reports.filter(created_at__gte=start, created_at__lt=end)
        .select_related("courier", "order", "shop")
        .order_by("courier__name", "created_at", "id")
    )
    groups: dict[int, list[CourierLossReport]] = {}
    for report in rows:
        groups.setdefault(report.courier_id, []).append(report)
    result = []
    for items in groups.values():
        claimed = sum((r.claimed_amount for r in items), Decimal("0.00"))
        received = sum((r.received_amount or Decimal("0") for r in items), Decimal("0.00"))
        result.append(CourierSettlement(items[0].courier, items, claimed, received))
    return result


# --- quality problems and production alerts -------------------------------------------
@transaction.atomic
def quality_problem_register(
    *,
    actor: User,
    shop: Shop,
    sku: Sku,
    problem_type: str,
    batch: str = "",
    description: str = "",
    order: Order | None = None,
    ticket: Ticket | None = None,
) -> tuple[QualityProblem, ProductionAlert | None]:
    """Registers one complaint and raises (or updates) the production alert for the SKU and
    batch once DESK_QUALITY_ALERT_COUNT complaints arrived within DESK_QUALITY_ALERT_DAYS.
    Complaints already reported to production (before the last alert was sent) don't count
    again. Returns the problem and the open alert, if any."""
    require_perm(actor, "tickets.add_qualityproblem")
    if order is not None and order.shop_id != shop.pk:
        raise DeskError(_("订单不属于这个店铺。"))
    _ticket_matches(ticket, order)
    batch = (batch or sku.batch or "").strip()
    problem = QualityProblem.objects.create(
        shop=shop,
        order=order,
        ticket=ticket,
        sku=sku,
        batch=batch,
        problem_type=problem_type,
        description=description.strip(),
        reported_by=actor,
    )
    return problem, _production_alert_check(sku=sku, batch=batch, now=problem.created_at)


def _production_alert_check(*, sku: Sku, batch: str, now) -> ProductionAlert | None:
    # One SKU+batch at a time: lock its open alert (or the SKU row when there is none).
    Sku.objects.select_for_update().filter(pk=sku.pk).first()
    since = now - timedelta(days=settings.DESK_QUALITY_ALERT_DAYS)
    last_sent = ProductionAlert.objects.filter(
        sku=sku, batch=batch, sent_at__isnull=False
    ).aggregate(at=Max("sent_at"))["at"]
    if last_sent and last_sent > since:
        since = last_sent
    recent = QualityProblem.objects.filter(
        sku=sku, batch=batch, created_at__gt=since, created_at__lte=now
    ).count()
    alert = ProductionAlert.objects.filter(sku=sku, batch=batch, sent_at__isnull=True).first()
    if alert is not None:
        if recent > alert.complaint_count:
            alert.complaint_count = recent
            alert.save(update_fields=["complaint_count", "updated_at"])
        return alert
    if recent >= settings.DESK_QUALITY_ALERT_COUNT:
        return ProductionAlert.objects.create(sku=sku, batch=batch, complaint_count=recent)
    return None


@transaction.atomic
def production_alert_mark_sent(*, actor: User, alert: ProductionAlert) -> ProductionAlert:
    """A supervisor has told production; the alert leaves the dashboard."""
    require_perm(actor, "tickets.change_productionalert")
    alert = ProductionAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.sent_at is not None:
        raise DeskError(_("这条预警已经反馈给生产了。"))
    alert.sent_at = timezone.now()
    alert.sent_by = actor
    alert.save(update_fields=["sent_at", "sent_by", "updated_at"])
    return alert


@transaction.atomic
def product_feedback_record(
    *, actor: User, sku: Sku, topic: str, text: str, order: Order | None = None
) -> ProductFeedback:
    require_perm(actor, "tickets.add_productfeedback")
    if not text.strip():
        raise DeskError(_("请填写顾客的反馈。"))
    return ProductFeedback.objects.create(
        sku=sku, order=order, topic=topic, text=text.strip(), recorded_by=actor
    )


@transaction.atomic
def wrong_shipment_register(
    *,
    actor: User,
    order: Order,
    kind: str,
    ordered_description: str = "",
    sent_description: str = "",
    packed_by: str = "",
    listing_to_check: bool = False,
    ticket: Ticket | None = None,
) -> WrongShipment:
    require_perm(actor, "tickets.add_wrongshipment")
    _ticket_matches(ticket, order)
    if not (ordered_description.strip() or sent_description.strip()):
        raise DeskError(_("请写明应发和实发的商品。"))
    return WrongShipment.objects.create(
        shop_id=order.shop_id,
        order=order,
        ticket=ticket,
        kind=kind,
        packed_by=packed_by.strip(),
        ordered_description=ordered_description.strip(),
        sent_description=sent_description.strip(),
        listing_to_check=listing_to_check,
        recorded_by=actor,
    )


# --- platform interventions -----------------------------------------------------------
@transaction.atomic
def intervention_register(
    *,
    actor: User,
    order: Order,
    case_no: str,
    reason: str,
    deadline: datetime | None = None,
    evidence: str = "",
    ticket: Ticket | None = None,
) -> PlatformIntervention:
    require_perm(actor, "tickets.add_platformintervention")
    _ticket_matches(ticket, order)
    case_no = "".join(case_no.split())
    if not case_no or not reason.strip():
        raise DeskError(_("请填写介入编号和介入原因。"))
    if PlatformIntervention.objects.filter(case_no=case_no).exists():
        raise DeskError(_("介入编号 %(no)s 已经登记过了。") % {"no": case_no})
    return PlatformIntervention.objects.create(
        shop_id=order.shop_id,
        order=order,
        ticket=ticket,
        case_no=case_no,
        reason=reason.strip(),
        deadline=deadline,
        evidence=evidence.strip(),
        recorded_by=actor,
    )


@transaction.atomic
def intervention_update(
    *, actor: User, intervention: PlatformIntervention, evidence: str, outcome: str
) -> PlatformIntervention:
    """Adds to our evidence and records the platform's decision; a decided case is closed."""
    require_perm(actor, "tickets.change_platformintervention")
    case = PlatformIntervention.objects.select_for_update().get(pk=intervention.pk)
    if case.closed_at is not None:
        raise DeskError(_("这个介入已经结案。"))
    if outcome not in PlatformIntervention.Outcome.values:
        raise DeskError(_("未知的介入结果。"))
    case.evidence = evidence.strip()
    case.outcome = outcome
    fields = ["evidence", "outcome", "updated_at"]
    if outcome != PlatformIntervention.Outcome.PENDING:
        case.closed_at = timezone.now()
        fields.append("closed_at")
    case.save(update_fields=fields)
    return case


# --- invoices -------------------------------------------------------------------------
@transaction.atomic
def invoice_request_register(
    *, actor: User, order: Order, title: str, amount, tax_no: str = ""
) -> InvoiceRequest:
    require_perm(actor, "tickets.add_invoicerequest")
    if not title.strip():
        raise DeskError(_("请填写发票抬头。"))
    value = parse_money(amount)
    if value > order.paid_amount:
        raise DeskError(_("开票金额不能超过买家实付 ¥%(paid)s。") % {"paid": order.paid_amount})
    return InvoiceRequest.objects.create(
        shop_id=order.shop_id,
        order=order,
        title=title.strip(),
        tax_no="".join(tax_no.split()).upper(),
        amount=value,
        recorded_by=actor,
    )


def invoice_may_decline(invoice: InvoiceRequest) -> bool:
    """A C-store may decline an invoice request; a Tmall store must issue one."""
    return not invoice.shop.is_tmall and invoice.status == INV.REQUESTED


@transaction.atomic
def invoice_decline(*, actor: User, invoice: InvoiceRequest, reason: str) -> InvoiceRequest:
    require_perm(actor, "tickets.change_invoicerequest")
    invoice = InvoiceRequest.objects.select_for_update().select_related("shop").get(pk=invoice.pk)
    if invoice.shop.is_tmall:
        raise DeskError(_("天猫店必须开具发票，不能拒绝。"))
    if invoice.status != INV.REQUESTED:
        raise DeskError(_("只有待处理的申请可以拒绝。"))
    if not reason.strip():
        raise DeskError(_("拒绝时请写明理由。"))
    invoice.status = INV.DECLINED
    invoice.decline_reason = reason.strip()[:200]
    invoice.save(update_fields=["status", "decline_reason", "updated_at"])
    return invoice


@transaction.atomic
def invoice_record_issue(
    *, actor: User, invoice: InvoiceRequest, invoice_no: str, posting_tracking_no: str = ""
) -> InvoiceRequest:
    """Finance records the invoice number, and later the posting's tracking number."""
    require_perm(actor, "tickets.change_invoicerequest")
    if not has_role(actor, Role.FINANCE, Role.SUPERVISOR):
        raise DeskError(_("只有财务可以登记发票号码。"))
    invoice = InvoiceRequest.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == INV.DECLINED:
        raise DeskError(_("已拒绝的申请不能开票。"))
    invoice_no = "".join(invoice_no.split()) or invoice.invoice_no
    if not invoice_no:
        raise DeskError(_("请填写发票号码。"))
    invoice.invoice_no = invoice_no
    invoice.status = INV.ISSUED
    tracking = normalise_tracking_no(posting_tracking_no)
    if tracking:
        invoice.posting_tracking_no = tracking
        invoice.status = INV.POSTED
    invoice.save(update_fields=["invoice_no", "posting_tracking_no", "status", "updated_at"])
    return invoice


# --- reviews --------------------------------------------------------------------------
@transaction.atomic
def review_register(
    *,
    actor: User,
    order: Order,
    rating: str,
    made_at: datetime,
    text: str = "",
    assign: bool = True,
) -> Review:
    """Registers a neutral or negative review and, unless told not to, hands it to the next
    agent on shift (round-robin)."""
    require_perm(actor, "tickets.add_review")
    if rating not in Review.Rating.values:
        raise DeskError(_("未知的评价类型。"))
    if made_at > timezone.now() + timedelta(minutes=5):
        raise DeskError(_("评价时间不能晚于现在。"))
    if Review.objects.filter(order=order, rating=rating, made_at=made_at).exists():
        raise DeskError(_("这条评价已经登记过了。"))
    review = Review.objects.create(
        shop_id=order.shop_id,
        order=order,
        rating=rating,
        made_at=made_at,
        text=text.strip(),
        recorded_by=actor,
    )
    if assign:
        agent = next_agent_on_shift(order.shop_id)
        if agent is not None:
            review.assignee = agent
            review.assigned_at = timezone.now()
            review.save(update_fields=["assignee", "assigned_at", "updated_at"])
    return review


def shift_start(now: datetime | None = None) -> datetime:
    """The current shift began at local midnight (the night shift works until morning)."""
    local = timezone.localtime(now or timezone.now())
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def agents_on_shift(shop_id: int, now: datetime | None = None):
    """Active agents serving the shop who have logged in since the shift began."""
    return (
        User.objects.filter(is_active=True, groups__name=Role.AGENT)
        .filter(Q(all_shops=True) | Q(shops=shop_id))
        .filter(last_login__gte=shift_start(now))
        .distinct()
        .order_by("pk")
    )


def next_agent_on_shift(shop_id: int, now: datetime | None = None) -> User | None:
    """Round-robin: the agent after the one who received the shop's last assigned review."""
    agents = list(agents_on_shift(shop_id, now))
    if not agents:
        return None
    last = (
        Review.objects.filter(shop_id=shop_id, assignee__in=agents)
        .order_by("-assigned_at", "-id")
        .values_list("assignee_id", flat=True)
        .first()
    )
    ids = [a.pk for a in agents]
    if last is None:
        return agents[0]
    return agents[(ids.index(last) + 1) % len(agents)]


@transaction.atomic
def review_assign(*, actor: User, review: Review, assignee: User | None) -> Review:
    """Assigns by hand (supervisors to anyone serving the shop; agents only to themselves)."""
    require_perm(actor, "tickets.change_review")
    review = Review.objects.select_for_update().get(pk=review.pk)
    if assignee is not None:
        serves = assignee.is_superuser or assignee.all_shops
        serves = serves or assignee.shops.filter(pk=review.shop_id).exists()
        if not serves or not user_roles(assignee) & {Role.AGENT, Role.SUPERVISOR}:
            raise DeskError(_("%(who)s 不负责这个店铺。") % {"who": assignee})
        if assignee != actor and not has_role(actor, Role.SUPERVISOR):
            raise DeskError(_("只有主管可以把评价分配给别人。"))
    review.assignee = assignee
    review.assigned_at = timezone.now() if assignee else None
    review.save(update_fields=["assignee", "assigned_at", "updated_at"])
    return review


def contact_refusal(review: Review, now: datetime | None = None) -> str | None:
    """The harassment guard (恶意骚扰, 12 points; DOMAIN.md "Platform rules"): why another
    contact with the buyer of ``review`` would be too many, or None.

    Contacts are counted per buyer (the order's ``buyer_nick``), over every review that buyer
    left in any of the company's shops: the platform punishes contacting the buyer too often,
    whichever review it was about. In the last 24 hours at most
    DESK_REVIEW_MAX_CONTACTS_PER_DAY contacts, counting every review of the buyer; over the
    whole follow-up at most DESK_REVIEW_MAX_CONTACTS_TOTAL, counting the buyer's reviews still
    being followed (outcome pending), so a buyer whose old review was closed long ago can be
    called about a new one."""
    now = now or timezone.now()
    contacts = ReviewContact.objects.filter(review__order__buyer_nick=review.order.buyer_nick)
    following = contacts.filter(review__outcome=Review.Outcome.PENDING).count()
    if following >= settings.DESK_REVIEW_MAX_CONTACTS_TOTAL:
        return _(
            "这位买家的中差评已经联系 %(n)s 次，达到上限 %(max)s 次；"
            "再联系可能被判为恶意骚扰（扣 12 分）。"
        ) % {"n": following, "max": settings.DESK_REVIEW_MAX_CONTACTS_TOTAL}
    recent = contacts.filter(contacted_at__gt=now - timedelta(hours=24)).count()
    if recent >= settings.DESK_REVIEW_MAX_CONTACTS_PER_DAY:
        return _(
            "24 小时内已经联系这位买家 %(n)s 次，达到上限 %(max)s 次；"
            "请明天再联系，以免被判为恶意骚扰。"
        ) % {"n": recent, "max": settings.DESK_REVIEW_MAX_CONTACTS_PER_DAY}
    return None


def _lock_buyers_reviews(review: Review) -> Review:
    """Locks every review of the buyer of ``review`` (in id order, so two agents never wait
    for each other) and returns ``review`` re-read under the lock: one buyer's contacts are
    counted and logged one at a time, whichever review they are about."""
    nick = Order.objects.values_list("buyer_nick", flat=True).get(pk=review.order_id)
    locked = (
        Review.objects.select_for_update(of=("self",))
        .filter(order__buyer_nick=nick)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    list(locked)
    return Review.objects.select_related("order").get(pk=review.pk)


@transaction.atomic
def review_contact_log(
    *,
    actor: User,
    review: Review,
    channel: str,
    result: str = "",
    contacted_at: datetime | None = None,
) -> ReviewContact:
    """Logs one contact with the buyer, refused by the harassment guard when too many."""
    require_perm(actor, "tickets.add_reviewcontact")
    review = _lock_buyers_reviews(review)
    if review.outcome != Review.Outcome.PENDING:
        raise DeskError(_("这条评价已经有结果了，不需要再联系买家。"))
    if channel not in ReviewContact.Channel.values:
        raise DeskError(_("未知的联系渠道。"))
    now = timezone.now()
    contacted_at = contacted_at or now
    if contacted_at > now + timedelta(minutes=5):
        raise DeskError(_("联系时间不能晚于现在。"))
    refusal = contact_refusal(review, now)
    if refusal:
        raise DeskError(refusal)
    contact = ReviewContact.objects.create(
        review=review,
        agent=actor,
        channel=channel,
        contacted_at=contacted_at,
        result=result.strip()[:200],
    )
    fields = ["updated_at"]
    if review.first_contact_at is None or contacted_at < review.first_contact_at:
        review.first_contact_at = contacted_at
        fields.append("first_contact_at")
    if review.assignee_id is None:
        review.assignee = actor
        review.assigned_at = now
        fields += ["assignee", "assigned_at"]
    review.save(update_fields=fields)
    return contact


def review_standard_compensation(review: Review) -> Decimal:
    """The most a review may be compensated in total, in yuan: DESK_REVIEW_COMPENSATION for
    its rating (5 for a neutral, 10 for a negative review; DOMAIN.md "The daily routine" 9)."""
    return cents(settings.DESK_REVIEW_COMPENSATION[review.rating])


def review_compensation_note(review: Review) -> str:
    """The marker that starts the ledger note of a review's compensation (stored data, the
    same in every language, so the review finds its entries again)."""
    return f"[中差评#{review.pk}]"


def review_compensations(review: Review):
    """The review's compensation entries (``QuerySet[LedgerEntry]``, oldest first) and the
    reversals of them, whatever the reversal's note says."""
    marker = review_compensation_note(review)
    return LedgerEntry.objects.filter(
        Q(note__startswith=marker) | Q(reverses__note__startswith=marker),
        order_id=review.order_id,
        kind=LedgerEntry.Kind.COMPENSATION,
    ).order_by("recorded_at", "id")


def review_compensation_given(review: Review) -> Decimal:
    """The review's compensation so far, in yuan: counted or waiting for approval, reversals
    subtracted, rejected not counted (``tickets.money.committed_total``)."""
    return committed_total(review_compensations(review))


def review_compensation_room(review: Review) -> Decimal:
    """What the review may still be compensated, in yuan (never below 0.00)."""
    room = review_standard_compensation(review) - review_compensation_given(review)
    return max(room, Decimal("0.00"))


@transaction.atomic
def review_compensate(
    *,
    actor: User,
    review: Review,
    amount,
    payment_method: str,
    note: str = "",
    idempotency_key: str | None = None,
) -> LedgerEntry:
    """Money for the buyer of a review (cash, red packet or coupon value), recorded as a
    compensation ledger entry on the order. ``amount`` is yuan (str or Decimal).

    The standard (``review_standard_compensation``) is a total per review, not per entry;
    a review with an outcome takes no more money. The review row is locked while deciding,
    so two submissions can't both fit into the same room. The same ``idempotency_key`` again
    returns the entry it made. Raises ``DeskError`` (``MoneyError`` for what is not an
    amount), ``PermissionDenied`` without the permission."""
    require_perm(actor, "tickets.change_review")
    value = parse_money(amount)
    review = (
        Review.objects.select_for_update(of=("self",)).select_related("order").get(pk=review.pk)
    )
    if idempotency_key:
        done = LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
        if done is not None:
            return done
    if review.outcome != Review.Outcome.PENDING:
        raise DeskError(_("这条评价已经有结果了，不能再登记补偿。"))
    standard = review_standard_compensation(review)
    given = review_compensation_given(review)
    room = max(standard - given, Decimal("0.00"))
    if value > room:
        raise DeskError(
            _("%(rating)s的补偿标准合计最多 ¥%(max)s，已登记 ¥%(done)s，最多还能补偿 ¥%(room)s。")
            % {
                "rating": review.get_rating_display(),
                "max": standard,
                "done": given,
                "room": room,
            }
        )
    full_note = review_compensation_note(review)
    if note.strip():
        full_note = f"{full_note} {note.strip()}"
    return ledger_record(
        actor=actor,
        order=review.order,
        kind=LedgerEntry.Kind.COMPENSATION,
        amount=value,
        payment_method=payment_method,
        note=full_note,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def review_close(*, actor: User, review: Review, outcome: str, buyer_notes: str = "") -> Review:
    """Records the outcome (revised / explained / refused / no answer) and notes on the buyer."""
    require_perm(actor, "tickets.change_review")
    review = Review.objects.select_for_update().get(pk=review.pk)
    if outcome not in Review.Outcome.values or outcome == Review.Outcome.PENDING:
        raise DeskError(_("请选择结果。"))
    if review.outcome != Review.Outcome.PENDING:
        raise DeskError(_("这条评价已经有结果了。"))
    if outcome == Review.Outcome.NO_ANSWER and not review.contacts.exists():
        raise DeskError(_("还没有联系过买家，不能登记为联系不上。"))
    review.outcome = outcome
    fields = ["outcome", "updated_at"]
    if outcome == Review.Outcome.REVISED:
        review.revised_at = timezone.now()
        fields.append("revised_at")
    if buyer_notes.strip():
        review.buyer_notes = buyer_notes.strip()
        fields.append("buyer_notes")
    review.save(update_fields=fields)
    return review


def review_is_late(review: Review, now: datetime | None = None) -> bool:
    """A review still unassigned an hour after it was made is late."""
    now = now or timezone.now()
    return review.assignee_id is None and now - review.made_at > timedelta(hours=1)


# --- shift handover -------------------------------------------------------------------
HANDOVER_DEADLINE = time(12, 0)


def handover_shift_date(now: datetime | None = None) -> date:
    """The night a handover item belongs to: before noon it is still last night's."""
    local = timezone.localtime(now or timezone.now())
    return local.date() if local.time() >= HANDOVER_DEADLINE else local.date() - timedelta(days=1)


def handover_due(note: HandoverNote) -> datetime:
    """The morning shift must deal with the night's items by 12:00 the next day."""
    tz = timezone.get_current_timezone()
    return datetime.combine(note.shift_date + timedelta(days=1), HANDOVER_DEADLINE, tzinfo=tz)


def handover_is_flagged(note: HandoverNote, now: datetime | None = None) -> bool:
    return note.handled_at is None and (now or timezone.now()) >= handover_due(note)


def handover_flagged_filter(now: datetime | None = None) -> Q:
    """The same rule as ``handover_is_flagged``, as a query: unhandled items of nights
    whose noon deadline has passed."""
    local = timezone.localtime(now or timezone.now())
    last_due_night = local.date() - timedelta(days=1 if local.time() >= HANDOVER_DEADLINE else 2)
    return Q(handled_at__isnull=True, shift_date__lte=last_due_night)


@transaction.atomic
def handover_add(
    *,
    actor: User,
    shop: Shop,
    note: str,
    ticket: Ticket | None = None,
    order: Order | None = None,
    shift_date: date | None = None,
) -> HandoverNote:
    require_perm(actor, "tickets.add_handovernote")
    if not note.strip():
        raise DeskError(_("请写明交接内容。"))
    for thing in (ticket, order):
        if thing is not None and thing.shop_id != shop.pk:
            raise DeskError(_("售后单或订单不属于这个店铺。"))
    _ticket_matches(ticket, order)
    return HandoverNote.objects.create(
        shop=shop,
        ticket=ticket,
        order=order or (ticket.order if ticket else None),
        shift_date=shift_date or handover_shift_date(),
        note=note.strip(),
        created_by=actor,
    )


@transaction.atomic
def handover_mark_handled(*, actor: User, item: HandoverNote, note: str = "") -> HandoverNote:
    require_perm(actor, "tickets.change_handovernote")
    item = HandoverNote.objects.select_for_update().get(pk=item.pk)
    if item.handled_at is not None:
        raise DeskError(_("这条交接事项已经处理过了。"))
    item.handled_at = timezone.now()
    item.handled_by = actor
    item.handled_note = note.strip()
    item.save(update_fields=["handled_at", "handled_by", "handled_note", "updated_at"])
    return item


# --- VIPs -----------------------------------------------------------------------------
@transaction.atomic
def vip_add(*, actor: User, shop: Shop, buyer_nick: str, notes: str = "") -> VipCustomer:
    require_perm(actor, "tickets.add_vipcustomer")
    buyer_nick = buyer_nick.strip()
    if not buyer_nick:
        raise DeskError(_("请填写买家会员名。"))
    if VipCustomer.objects.filter(shop=shop, buyer_nick=buyer_nick).exists():
        raise DeskError(_("%(nick)s 已经是这个店铺的 VIP。") % {"nick": buyer_nick})
    return VipCustomer.objects.create(shop=shop, buyer_nick=buyer_nick, notes=notes.strip())


def first_of_month(day: date | None = None) -> date:
    return (day or timezone.localdate()).replace(day=1)


@transaction.atomic
def vip_follow_ups_plan(*, actor: User | None = None, month: date | None = None, vips=None) -> int:
    """Creates this month's follow-up for every active VIP that has none yet; returns how
    many were created. Safe to run again (one follow-up per VIP and month). The monthly task
    runs it without an actor."""
    if actor is not None:
        require_perm(actor, "tickets.add_vipfollowup")
    month = first_of_month(month)
    vips = (vips if vips is not None else VipCustomer.objects.all()).filter(is_active=True)
    missing = vips.exclude(follow_ups__month=month).values_list("pk", flat=True)
    rows = [VipFollowUp(vip_id=pk, month=month) for pk in missing]
    VipFollowUp.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


@transaction.atomic
def vip_follow_up_record(
    *, actor: User, follow_up: VipFollowUp, done: bool, notes: str
) -> VipFollowUp:
    require_perm(actor, "tickets.change_vipfollowup")
    follow_up = VipFollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if done and not notes.strip():
        raise DeskError(_("请写下回访记录。"))
    follow_up.done = done
    follow_up.notes = notes.strip()
    follow_up.done_by = actor if done else None
    follow_up.done_at = timezone.now() if done else None
    follow_up.save(update_fields=["done", "notes", "done_by", "done_at", "updated_at"])
    return follow_up
