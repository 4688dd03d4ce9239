"""Reads for the registers (issue 5): who may see which rows, and the rules that only look.

Every register's list, detail, count, dashboard entry and sheet starts from one of the
``visible_*`` querysets, built on ``tickets.selectors.scope_to_user``, so another shop's row is
never seen and its id is a 404. The rest answer a question without changing anything: may
this loss report move on, what a courier owes for a month, who is on shift, may this buyer be
contacted again, how much a review may still be compensated, when a handover item is late.
The writes live in ``tickets.services`` (one module per register).

Times are aware and in Beijing time (``Asia/Shanghai``); money is yuan as ``Decimal``.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    Courier,
    CourierLossReport,
    HandoverNote,
    InvoiceRequest,
    LedgerEntry,
    PlatformIntervention,
    ProductFeedback,
    ProductionAlert,
    QualityProblem,
    Review,
    ReviewContact,
    User,
    VipCustomer,
    VipFollowUp,
    WrongShipment,
)
from .money import ZERO, cents, committed_total
from .roles import Role, has_role, user_roles
from .selectors import scope_to_user, visible_orders
from .workflow import loss_allowed_next


# --- who sees which rows --------------------------------------------------------------
def visible_losses(user) -> QuerySet[CourierLossReport]:
    """Courier-loss reports of the shops the user may see."""
    return scope_to_user(CourierLossReport.objects.all(), user)


def visible_quality_problems(user) -> QuerySet[QualityProblem]:
    """Quality complaints registered in the shops the user may see."""
    return scope_to_user(QualityProblem.objects.all(), user)


def visible_alerts(user) -> QuerySet[ProductionAlert]:
    """An alert belongs to no shop: a user sees it when a complaint behind it (same SKU and
    batch) was registered in one of their shops."""
    complaints = visible_quality_problems(user).filter(
        sku_id=OuterRef("sku_id"), batch=OuterRef("batch")
    )
    return ProductionAlert.objects.filter(Exists(complaints))


def alert_complaints(user, alert: ProductionAlert) -> QuerySet[QualityProblem]:
    """The complaints (and through them the affected orders) behind an alert."""
    return visible_quality_problems(user).filter(sku_id=alert.sku_id, batch=alert.batch)


def visible_feedback(user) -> QuerySet[ProductFeedback]:
    """Feedback is kept per SKU (SKUs belong to no shop); when it names an order, that order
    must be visible."""
    if not user_roles(user):
        return ProductFeedback.objects.none()
    feedback = ProductFeedback.objects.all()
    if user.is_superuser or user.all_shops:
        return feedback
    return feedback.filter(Q(order__isnull=True) | Q(order__in=visible_orders(user).values("pk")))


def visible_wrong_shipments(user) -> QuerySet[WrongShipment]:
    """Wrong, missing and extra shipments of the shops the user may see."""
    return scope_to_user(WrongShipment.objects.all(), user)


def visible_interventions(user) -> QuerySet[PlatformIntervention]:
    """Platform interventions on orders of the shops the user may see."""
    return scope_to_user(PlatformIntervention.objects.all(), user)


def visible_invoices(user) -> QuerySet[InvoiceRequest]:
    """Invoice requests of the shops the user may see."""
    return scope_to_user(InvoiceRequest.objects.all(), user)


def visible_reviews(user) -> QuerySet[Review]:
    """Neutral and negative reviews of the shops the user may see."""
    return scope_to_user(Review.objects.all(), user)


def visible_handover(user) -> QuerySet[HandoverNote]:
    """Handover items of the shops the user may see."""
    return scope_to_user(HandoverNote.objects.all(), user)


def visible_vips(user) -> QuerySet[VipCustomer]:
    """VIP customers of the shops the user may see."""
    return scope_to_user(VipCustomer.objects.all(), user)


def visible_follow_ups(user) -> QuerySet[VipFollowUp]:
    """Follow-ups of the VIPs the user may see."""
    return scope_to_user(VipFollowUp.objects.all(), user, shop_field="vip__shop")


# --- courier losses (DOMAIN.md "The daily routine" 7) ---------------------------------
def courier_loss_refusal(report: CourierLossReport, to_status: str, user: User) -> str | None:
    """Why ``user`` may not move ``report`` to ``to_status`` now, or None. The steps are
    ``tickets.workflow.LOSS_FLOW``; settling with the courier is finance's or a supervisor's."""
    if to_status not in loss_allowed_next(report.status):
        status = CourierLossReport.Status
        return _("“%(from)s”不能改为“%(to)s”。") % {
            "from": report.get_status_display(),
            "to": status(to_status).label if to_status in status.values else to_status,
        }
    if to_status == CourierLossReport.Status.SETTLED and not has_role(
        user, Role.FINANCE, Role.SUPERVISOR
    ):
        return _("只有财务或主管可以登记结算。")
    return None


def courier_loss_next_steps(report: CourierLossReport, user: User) -> list[tuple[str, str]]:
    """The moves ``user`` may make on ``report`` now, as (status, label), in flow order."""
    return [
        (status, CourierLossReport.Status(status).label)
        for status in loss_allowed_next(report.status)
        if courier_loss_refusal(report, status, user) is None
    ]


@dataclass(frozen=True)
class CourierSettlement:
    """One courier company's month: its reports, what was claimed and received (yuan)."""

    courier: Courier
    reports: list[CourierLossReport]
    claimed: Decimal
    received: Decimal

    @property
    def outstanding(self) -> Decimal:
        return self.claimed - self.received


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The first instant of ``month`` (any day in it) and of the month after, both aware in
    the current time zone (Beijing): a half-open range ``[start, end)``."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(first, time.min, tzinfo=tz),
        datetime.combine(following, time.min, tzinfo=tz),
    )


def courier_loss_settlement(reports, month: date) -> list[CourierSettlement]:
    """The monthly settlement with each courier company (DOMAIN.md "The daily routine" 7):
    per courier, the reports written in ``month`` (by ``created_at``, Beijing time) and the
    yuan claimed and received. A rejected report counts as claimed with nothing received.
    ``reports`` is a ``QuerySet[CourierLossReport]`` the caller has already scoped."""
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
        claimed = sum((r.claimed_amount for r in items), ZERO)
        received = sum((r.received_amount or ZERO for r in items), ZERO)
        result.append(CourierSettlement(items[0].courier, items, claimed, received))
    return result


# --- invoices (DOMAIN.md "Platform rules": Invoices) ----------------------------------
def invoice_may_decline(invoice: InvoiceRequest) -> bool:
    """A C-store may decline a request still waiting; a Tmall store must issue one."""
    return not invoice.shop.is_tmall and invoice.status == InvoiceRequest.Status.REQUESTED


def invoice_may_issue(invoice: InvoiceRequest, user: User) -> bool:
    """Finance (or a supervisor) records the invoice number of a request not declined."""
    return (
        user.has_perm("tickets.change_invoicerequest")
        and has_role(user, Role.FINANCE, Role.SUPERVISOR)
        and invoice.status != InvoiceRequest.Status.DECLINED
    )


# --- reviews (DOMAIN.md "The daily routine" 9, "Platform rules": Harassment) -----------
def shift_start(now: datetime | None = None) -> datetime:
    """When the current shift began: local midnight of ``now`` (the night shift works until
    morning), aware."""
    local = timezone.localtime(now or timezone.now())
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def agents_on_shift(shop_id: int, now: datetime | None = None) -> QuerySet[User]:
    """Active agents serving the shop who have logged in since the shift began, by id."""
    return (
        User.objects.filter(is_active=True, groups__name=Role.AGENT)
        .filter(Q(all_shops=True) | Q(shops=shop_id))
        .filter(last_login__gte=shift_start(now))
        .distinct()
        .order_by("pk")
    )


def next_agent_on_shift(shop_id: int, now: datetime | None = None) -> User | None:
    """Round-robin: the agent on shift after the one who received the shop's last assigned
    review; None when nobody is on shift."""
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


def review_is_late(review: Review, now: datetime | None = None) -> bool:
    """A review still unassigned an hour after it was made is late."""
    now = now or timezone.now()
    return review.assignee_id is None and now - review.made_at > timedelta(hours=1)


def buyer_contact_counts(buyer_nick: str, now: datetime | None = None) -> tuple[int, int]:
    """What the harassment guard counts for a buyer (``contact_refusal``), in every shop of
    the company: (contacts about the buyer's reviews still being followed, contacts in the 24
    hours before ``now``). Two counts over the contacts of the buyer's reviews."""
    now = now or timezone.now()
    contacts = ReviewContact.objects.filter(review__order__buyer_nick=buyer_nick)
    following = contacts.filter(review__outcome=Review.Outcome.PENDING).count()
    recent = contacts.filter(contacted_at__gt=now - timedelta(hours=24)).count()
    return following, recent


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
    following, recent = buyer_contact_counts(review.order.buyer_nick, now)
    if following >= settings.DESK_REVIEW_MAX_CONTACTS_TOTAL:
        return _(
            "这位买家的中差评已经联系 %(n)s 次，达到上限 %(max)s 次；"
            "再联系可能被判为恶意骚扰（扣 12 分）。"
        ) % {"n": following, "max": settings.DESK_REVIEW_MAX_CONTACTS_TOTAL}
    if recent >= settings.DESK_REVIEW_MAX_CONTACTS_PER_DAY:
        return _(
            "24 小时内已经联系这位买家 %(n)s 次，达到上限 %(max)s 次；"
            "请明天再联系，以免被判为恶意骚扰。"
        ) % {"n": recent, "max": settings.DESK_REVIEW_MAX_CONTACTS_PER_DAY}
    return None


def review_standard_compensation(review: Review) -> Decimal:
    """The most a review may be compensated in total, in yuan: DESK_REVIEW_COMPENSATION for
    its rating (5 for a neutral, 10 for a negative review; DOMAIN.md "The daily routine" 9)."""
    return cents(settings.DESK_REVIEW_COMPENSATION[review.rating])


def review_compensation_note(review: Review) -> str:
    """The marker that starts the ledger note of a review's compensation (stored data, the
    same in every language, so the review finds its entries again)."""
    return f"[中差评#{review.pk}]"


def review_compensations(review: Review) -> QuerySet[LedgerEntry]:
    """The review's compensation entries, oldest first, with the reversals of them whatever
    the reversal's note says."""
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
    return max(review_standard_compensation(review) - review_compensation_given(review), ZERO)


# --- shift handover (DOMAIN.md "The daily routine" 1) ---------------------------------
HANDOVER_DEADLINE = time(12, 0)


def handover_shift_date(now: datetime | None = None) -> date:
    """The night a handover item written at ``now`` belongs to: before noon it is still last
    night's."""
    local = timezone.localtime(now or timezone.now())
    return local.date() if local.time() >= HANDOVER_DEADLINE else local.date() - timedelta(days=1)


def handover_due(note: HandoverNote) -> datetime:
    """The morning shift deals with the night's items by 12:00 the next day (aware)."""
    tz = timezone.get_current_timezone()
    return datetime.combine(note.shift_date + timedelta(days=1), HANDOVER_DEADLINE, tzinfo=tz)


def handover_is_flagged(note: HandoverNote, now: datetime | None = None) -> bool:
    """An item not handled by its deadline is flagged."""
    return note.handled_at is None and (now or timezone.now()) >= handover_due(note)


def handover_flagged_filter(now: datetime | None = None) -> Q:
    """The same rule as ``handover_is_flagged``, as a query on ``HandoverNote``: unhandled
    items of nights whose noon deadline has passed."""
    local = timezone.localtime(now or timezone.now())
    last_due_night = local.date() - timedelta(days=1 if local.time() >= HANDOVER_DEADLINE else 2)
    return Q(handled_at__isnull=True, shift_date__lte=last_due_night)


# --- VIP follow-ups (DOMAIN.md "The daily routine" 10) --------------------------------
def first_of_month(day: date | None = None) -> date:
    """The month a follow-up belongs to, as its first day (today's month by default)."""
    return (day or timezone.localdate()).replace(day=1)


def vip_follow_ups_due_month(now: datetime) -> date | None:
    """The month whose follow-ups should exist at ``now``: this month (Beijing time) from its
    1st at ``DESK_VIP_FOLLOW_UPS_AT``, when beat plans them; None before that time on the
    1st (last month's calls are over by then, so they are never planned late)."""
    month = first_of_month(timezone.localdate(now))
    hour, minute = settings.DESK_VIP_FOLLOW_UPS_AT
    due = timezone.make_aware(datetime.combine(month, time(hour, minute)))
    return month if now >= due else None


def vips_to_follow_up(month: date, vips: QuerySet[VipCustomer] | None = None):
    """The VIPs among ``vips`` (all by default) who are owed a follow-up in ``month`` (its
    first day): the active ones added before the month's last day began (00:00 Beijing time).

    DOMAIN.md "The daily routine" 10 says "once a month, call back a list of special
    customers"; it says nothing of a VIP added at the month's very end. The desk's rule
    (issue 13 review, finding 11): a VIP added on the last day of a month does not get that
    month's call as if the month had been there to make it - their first follow-up is the
    next month's, planned on its 1st. A VIP added earlier in the month is planned at once (the
    minutely catch-up check) and called that month. Returns a ``QuerySet[VipCustomer]``."""
    next_month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    last_day_began = timezone.make_aware(datetime.combine(next_month - timedelta(days=1), time.min))
    vips = vips if vips is not None else VipCustomer.objects.all()
    return vips.filter(is_active=True, created_at__lt=last_day_began)


def vips_waiting_for_next_month(month: date, vips: QuerySet[VipCustomer] | None = None):
    """The active VIPs among ``vips`` (all by default) who are owed no follow-up in ``month``
    (its first day) because they were added on its last day: the active ones that
    ``vips_to_follow_up`` leaves out, so the rule lives there alone. Their first call is the
    next month's. Empty before the month's last day. Returns a ``QuerySet[VipCustomer]``."""
    vips = vips if vips is not None else VipCustomer.objects.all()
    owed = vips_to_follow_up(month, vips).values("pk")
    return vips.filter(is_active=True).exclude(pk__in=owed)


def vip_follow_ups_pending(now: datetime) -> bool:
    """Whether a VIP owed a follow-up in the month due at ``now`` (``vips_to_follow_up``) has
    none yet (beat was down on the 1st, or a VIP was added or taken back on since): the
    minutely catch-up check's question, one query."""
    month = vip_follow_ups_due_month(now)
    if month is None:
        return False
    planned = VipFollowUp.objects.filter(vip=OuterRef("pk"), month=month)
    return vips_to_follow_up(month).filter(~Exists(planned)).exists()


def shop_agents(shop_id: int) -> list[User]:
    """Active agents serving the shop (its own or every shop), by id."""
    return list(
        User.objects.filter(is_active=True, groups__name=Role.AGENT)
        .filter(Q(all_shops=True) | Q(shops=shop_id))
        .distinct()
        .order_by("pk")
    )


def vip_follow_up_agents(vips, month: date) -> dict[int, User | None]:
    """Who calls each of ``vips`` (VipCustomer rows) in ``month``: the agent who had the VIP's
    latest earlier follow-up while they still serve the shop (the buyer hears the same voice),
    otherwise the shop's agent with the fewest follow-ups that month (then the lowest id);
    None when the shop has no agent. ``{vip id: agent}``."""
    vips = list(vips)
    previous: dict[int, int] = {}
    earlier = (
        VipFollowUp.objects.filter(vip__in=[v.pk for v in vips], month__lt=month)
        .filter(assignee__isnull=False)
        .order_by("vip_id", "-month")
        .values_list("vip_id", "assignee_id")
    )
    for vip_id, assignee_id in earlier:
        previous.setdefault(vip_id, assignee_id)
    load = {
        row["assignee_id"]: row["n"]
        for row in VipFollowUp.objects.filter(month=month, assignee__isnull=False)
        .order_by()
        .values("assignee_id")
        .annotate(n=Count("pk"))
    }
    agents_of: dict[int, list[User]] = {}
    chosen: dict[int, User | None] = {}
    for vip in vips:
        if vip.shop_id not in agents_of:
            agents_of[vip.shop_id] = shop_agents(vip.shop_id)
        agents = agents_of[vip.shop_id]
        agent = next((a for a in agents if a.pk == previous.get(vip.pk)), None)
        if agent is None and agents:
            agent = min(agents, key=lambda a: (load.get(a.pk, 0), a.pk))
        if agent is not None:
            load[agent.pk] = load.get(agent.pk, 0) + 1
        chosen[vip.pk] = agent
    return chosen


def my_vip_follow_ups(user, now: datetime | None = None) -> QuerySet[VipFollowUp]:
    """The follow-ups of this month (Beijing time) assigned to ``user`` and not yet made,
    within the shops the user sees: the reminder on their dashboard."""
    month = first_of_month(timezone.localdate(now or timezone.now()))
    return visible_follow_ups(user).filter(assignee=user, month=month, done=False)


# --- the registers' front page -------------------------------------------------------
def register_waiting(user, keys, now: datetime | None = None) -> dict[str, int]:
    """What each register in ``keys`` (the front page's: ``loss``, ``review`` ...) holds that
    is still to do or recent, among the rows the user may see: loss reports neither settled
    nor rejected, reviews still followed, quality complaints of the last 7 days, production
    alerts not sent, feedback and wrong shipments of the last 30 days, interventions not
    closed, invoice requests waiting, handover items not handled, and this month's VIP calls
    not made (Beijing time). One COUNT per register asked for."""
    now = now or timezone.now()
    week, month = now - timedelta(days=7), now - timedelta(days=30)
    L = CourierLossReport.Status
    rows = {
        "loss": lambda: visible_losses(user).exclude(status__in=[L.SETTLED, L.REJECTED]),
        "review": lambda: visible_reviews(user).filter(outcome=Review.Outcome.PENDING),
        "quality": lambda: visible_quality_problems(user).filter(created_at__gte=week),
        "alert": lambda: visible_alerts(user).filter(sent_at__isnull=True),
        "feedback": lambda: visible_feedback(user).filter(created_at__gte=month),
        "wrong": lambda: visible_wrong_shipments(user).filter(created_at__gte=month),
        "intervention": lambda: visible_interventions(user).filter(closed_at__isnull=True),
        "invoice": lambda: visible_invoices(user).filter(status=InvoiceRequest.Status.REQUESTED),
        "handover": lambda: visible_handover(user).filter(handled_at__isnull=True),
        "vip": lambda: visible_follow_ups(user).filter(
            month=first_of_month(timezone.localdate(now)), done=False
        ),
    }
    return {key: rows[key]().count() for key in keys if key in rows}


# --- the dashboard --------------------------------------------------------------------
def dashboard_registers(user, now=None) -> dict:
    """What the registers put on the dashboard: open production alerts (supervisors), platform
    interventions due within two days, handover items (flagged after 12:00), the VIP calls of
    this month assigned to the user and not yet made, late reviews. The flagged handover items
    and the VIP calls are counted by a query of their own only when their list is full."""
    now = now or timezone.now()
    result = {"now": now}
    if user.has_perm("tickets.change_productionalert"):
        result["alerts"] = list(
            visible_alerts(user).filter(sent_at__isnull=True).select_related("sku")[:10]
        )
    if user.has_perm("tickets.view_platformintervention"):
        result["interventions"] = list(
            visible_interventions(user)
            .filter(closed_at__isnull=True, deadline__isnull=False)
            .filter(deadline__lte=now + timedelta(days=2))
            .select_related("order", "shop")
            .order_by("deadline")[:10]
        )
    if user.has_perm("tickets.view_handovernote"):
        handover = visible_handover(user).filter(handled_at__isnull=True)
        items = list(handover.select_related("ticket", "shop").order_by("shift_date", "id")[:10])
        for item in items:
            item.flagged = handover_is_flagged(item, now)
        result["handover"] = items
        # Fewer than a page: every unhandled item is there, and the count is theirs.
        result["handover_flagged"] = (
            sum(item.flagged for item in items)
            if len(items) < 10
            else handover.filter(handover_flagged_filter(now)).count()
        )
    if user.has_perm("tickets.change_vipfollowup"):
        calls = my_vip_follow_ups(user, now)
        result["vip_follow_ups"] = list(
            calls.select_related("vip__shop").order_by("vip__shop__code", "vip__buyer_nick")[:20]
        )
        shown = len(result["vip_follow_ups"])
        result["vip_follow_ups_count"] = shown if shown < 20 else calls.count()
    if user.has_perm("tickets.view_review"):
        result["late_reviews"] = (
            visible_reviews(user)
            .filter(assignee__isnull=True, made_at__lt=now - timedelta(hours=1))
            .filter(outcome=Review.Outcome.PENDING)
            .count()
        )
    return result
