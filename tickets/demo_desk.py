"""The demo's day at the desk, made through the services as the staff would make it: agents
escalate tickets (some decided by the supervisor), the supervisor hands tickets to an agent,
compensation above the threshold waits for approval (one approved), and the scheduled warnings
run once (tickets near their due time, interventions near their evidence deadline), so the
supervisor's inbox and everyone's bell hold what a working day leaves there. Every
notification comes from the event's own service (``tickets.services.notifications.notify``
behind it), never written here; the warnings are then dated when the minutely check would
first have sent them (``_warnings_stamped``), not at the seed's run.

A fixed handful, whatever the seed's size: the services write one row at a time, with the
real clock, as they do at the desk.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .demo_registers import ALERT_SENT_AFTER
from .models import (
    Escalation,
    LedgerEntry,
    Notification,
    PlatformIntervention,
    ProductionAlert,
    QualityProblem,
)
from .selectors import visible_tickets
from .services import DeskError
from .services.escalations import escalation_decide
from .services.ledger import compensation_decide, ledger_record
from .services.notifications import (
    intervention_deadline_warnings_send,
    sla_breach_warnings_send,
)
from .services.quality import production_alert_notify
from .services.tickets import ticket_assign, ticket_escalate

# (agent, why the agent asks, the supervisor's decision and note or None while it waits)
ESCALATIONS = [
    ("agent", "买家不接受 10 元补偿，要求全额退款，请主管决定", None),
    ("agent", "买家说要投诉到平台，要求赔偿 50 元", None),
    ("agent2", "退回的包裹里少了一件，买家坚称寄回了两件", None),
    (
        "agent",
        "买家收到后第 20 天才反馈开线，已过售后期，买家不同意补偿方案",
        (Escalation.Decision.EXCEPTION, "同意按质量问题退货，运费我们承担"),
    ),
    (
        "agent2",
        "买家要求补发赠品，活动已结束",
        (Escalation.Decision.INSTRUCT, "可以送 5 元无门槛券代替赠品，向买家说明活动已结束"),
    ),
]
# (agent, yuan, why; approved by the supervisor or still waiting)
COMPENSATIONS = [
    ("agent", Decimal("80.00"), "收到破损件，协商补偿 80 元", False),
    ("agent2", Decimal("60.00"), "延迟发货，买家要求补偿", True),
]


def _open_tickets(user, **filters):
    return (
        visible_tickets(user)
        .open()
        .filter(escalated=False, **filters)
        .select_related("order", "shop")
        .order_by("-created_at", "-pk")
    )


@transaction.atomic
def demo_desk_today(demo) -> dict[str, int]:
    """The day's escalations, assignments, approvals and warnings for ``demo`` (a
    ``tickets.demo.DemoBuilder`` after its rows are written); a seed too small to have an open
    ticket for one of them leaves it out. Returns what it made."""
    staff, supervisor = demo.staff, demo.staff["supervisor"]
    made = {"escalations": 0, "compensation approvals": 0, "assignments": 0}
    taken: set[int] = set()
    for username, reason, decision in ESCALATIONS:
        agent = staff[username]
        ticket = _open_tickets(agent, assignee=agent).exclude(pk__in=taken).first()
        if ticket is None:
            continue
        taken.add(ticket.pk)
        escalation = ticket_escalate(actor=agent, ticket=ticket, reason=reason)
        if decision is not None:
            escalation_decide(
                actor=supervisor, escalation=escalation, decision=decision[0], note=decision[1]
            )
        made["escalations"] += 1
    # The morning's queue handed out: the agent is told.
    for ticket in _open_tickets(staff["agent"], assignee__isnull=True)[:2]:
        ticket_assign(actor=supervisor, ticket=ticket, assignee=staff["agent"])
        made["assignments"] += 1
    for username, amount, why, approved in COMPENSATIONS:
        agent = staff[username]
        candidates = _open_tickets(agent, assignee=agent, order__paid_amount__gte=amount * 2)
        for ticket in candidates.exclude(pk__in=taken)[:5]:
            try:
                entry = ledger_record(
                    actor=agent,
                    order=ticket.order,
                    kind=LedgerEntry.Kind.COMPENSATION,
                    amount=amount,
                    payment_method=LedgerEntry.PaymentMethod.ALIPAY_TRANSFER,
                    ticket=ticket,
                    note=why,
                )
            except DeskError:
                continue  # no room left under the order's cap: the next ticket
            taken.add(ticket.pk)
            if approved:
                compensation_decide(actor=supervisor, entry=entry, approved=True)
            made["compensation approvals"] += 1
            break
    # The alerts of the last days were raised by complaints: the supervisors are told.
    for alert in ProductionAlert.objects.filter(
        sent_at__isnull=True, created_at__gte=demo.now - ALERT_SENT_AFTER
    ).select_related("sku"):
        complaint = (
            QualityProblem.objects.filter(sku_id=alert.sku_id, batch=alert.batch)
            .select_related("shop")
            .order_by("-created_at", "-pk")
            .first()
        )
        if complaint is not None:
            production_alert_notify(alert, complaint.shop)
    since = timezone.now()
    made["deadline warnings"] = intervention_deadline_warnings_send(now=demo.now)
    made["due-time warnings"] = sla_breach_warnings_send(now=demo.now)
    _warnings_stamped(since)
    return made


def _warnings_stamped(since: datetime) -> None:
    """Dates the warnings the checks just wrote (at or after ``since``, aware) at the minute
    beat's minutely check would first have found them on a desk that had been running: a
    minute into the DESK_SLA_WARNING_MINUTES before a due time, a minute into the
    DESK_INTERVENTION_WARNING_HOURS before an intervention's deadline (or after the case was
    registered, if later). So a case whose deadline has passed since was told of while it
    was still near, as its words say, and no warning is dated after what it tells of. Never
    later than the row was written."""
    warned = Notification.objects.filter(created_at__gte=since)
    for note in warned.filter(kind=Notification.Kind.SLA_BREACH_SOON):
        due = datetime.fromisoformat(note.params["due"])
        at = due - timedelta(minutes=settings.DESK_SLA_WARNING_MINUTES - 1)
        Notification.objects.filter(pk=note.pk).update(created_at=min(at, note.created_at))
    deadlines = list(warned.filter(kind=Notification.Kind.INTERVENTION_DEADLINE))
    cases = {
        (case.shop_id, case.case_no): case
        for case in PlatformIntervention.objects.filter(
            case_no__in=[note.params["case"] for note in deadlines]
        )
    }
    for note in deadlines:
        case = cases.get((note.shop_id, note.params["case"]))
        if case is None:
            continue
        near = case.deadline - timedelta(hours=settings.DESK_INTERVENTION_WARNING_HOURS)
        at = max(near, case.created_at) + timedelta(minutes=1)
        Notification.objects.filter(pk=note.pk).update(created_at=min(at, note.created_at))
