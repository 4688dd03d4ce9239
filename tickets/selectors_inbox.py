"""Reads for the supervisor's inbox (主管待办, issue 13 section 1): everything waiting for a
supervisor in the shops the user serves, oldest first, each with the moment it started
waiting; and the per-agent counts of overdue and stale tickets that the inbox and the
dashboard both show (the queryset rules ``TicketQuerySet.overdue`` / ``.stale``, never a
second rule)."""

from datetime import datetime, time, timedelta

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from .inbox import INBOX_SOURCES, InboxItem
from .models import Escalation, Promise, User
from .selectors import visible_ledger, visible_tickets
from .selectors_registers import (
    handover_due,
    handover_flagged_filter,
    visible_alerts,
    visible_handover,
    visible_interventions,
)

PER_KIND = 50  # each kind shows at most this many (oldest first); the page says when more wait


def visible_escalations(user):
    """Escalations of the tickets ``user`` may see."""
    return Escalation.objects.filter(ticket__in=visible_tickets(user))


def open_escalations(user):
    return (
        visible_escalations(user)
        .filter(decided_at__isnull=True)
        .select_related("ticket__shop", "ticket__assignee", "raised_by")
        .order_by("raised_at", "id")
    )


def compensation_waiting(user):
    """Compensation entries above the threshold with no decision yet (the approvals page's
    list)."""
    return visible_ledger(user).filter(
        requires_approval=True, approval__isnull=True, reverses__isnull=True
    )


def _escalations(user, now) -> list[InboxItem]:
    if not user.has_perm("tickets.decide_escalation"):
        return []
    return [
        InboxItem(
            kind="escalation",
            since=e.raised_at,
            title=_("%(no)s 升级：%(reason)s") % {"no": e.ticket.number, "reason": e.reason},
            detail=_("%(who)s 升级，处理人 %(agent)s")
            % {"who": e.raised_by, "agent": e.ticket.assignee or _("未分配")},
            url=reverse("tickets:ticket_detail", args=[e.ticket_id]),
            shop=e.ticket.shop.name,
            obj=e,
        )
        for e in open_escalations(user)[:PER_KIND]
    ]


def _approvals(user, now) -> list[InboxItem]:
    if not user.has_perm("tickets.approve_compensation"):
        return []
    entries = (
        compensation_waiting(user)
        .select_related("ticket", "order", "shop", "recorded_by")
        .order_by("recorded_at", "id")[:PER_KIND]
    )
    return [
        InboxItem(
            kind="approval",
            since=entry.recorded_at,
            title=_("赔偿 ¥%(amount)s 待审批（%(no)s）")
            % {
                "amount": entry.amount,
                "no": entry.ticket.number if entry.ticket_id else entry.order.order_no,
            },
            detail=_("%(who)s 登记：%(note)s") % {"who": entry.recorded_by, "note": entry.note}
            if entry.note
            else _("%(who)s 登记") % {"who": entry.recorded_by},
            url=reverse("tickets:approval_list") + f"#entry-{entry.pk}",
            shop=entry.shop.name,
            action={
                "url": reverse("tickets:approval_decide", args=[entry.pk]),
                "label": pgettext("inbox button", "批准"),
                "fields": {"approved": "1"},
            },
            obj=entry,
        )
        for entry in entries
    ]


def _alerts(user, now) -> list[InboxItem]:
    if not user.has_perm("tickets.change_productionalert"):
        return []
    alerts = (
        visible_alerts(user)
        .filter(sent_at__isnull=True)
        .select_related("sku")
        .order_by("created_at", "id")[:PER_KIND]
    )
    return [
        InboxItem(
            kind="alert",
            since=alert.created_at,
            title=_("生产问题预警：%(sku)s %(batch)s")
            % {"sku": alert.sku.code, "batch": alert.batch},
            detail=_("%(n)s 起投诉，尚未反馈生产") % {"n": alert.complaint_count},
            url=reverse("registers:alert_detail", args=[alert.pk]),
            action={
                "url": reverse("registers:alert_sent", args=[alert.pk]),
                "label": _("已反馈生产"),
                "fields": {},
            },
        )
        for alert in alerts
    ]


def _interventions(user, now, within=timedelta(days=2)) -> list[InboxItem]:
    if not user.has_perm("tickets.view_platformintervention"):
        return []
    cases = (
        visible_interventions(user)
        .filter(closed_at__isnull=True, deadline__isnull=False, deadline__lte=now + within)
        .select_related("shop")
        .order_by("deadline", "id")[:PER_KIND]
    )
    return [
        InboxItem(
            kind="intervention",
            since=case.created_at,
            title=_("小二介入 %(no)s：举证截止 %(at)s")
            % {"no": case.case_no, "at": f"{timezone.localtime(case.deadline):%m-%d %H:%M}"},
            detail=case.reason,
            url=reverse("registers:intervention_detail", args=[case.pk]),
            shop=case.shop.name,
            late=case.deadline < now,
        )
        for case in cases
    ]


def _promises(user, now) -> list[InboxItem]:
    if not user.has_perm("tickets.view_promise"):
        return []
    today = timezone.localdate(now)
    promises = (
        Promise.objects.filter(
            ticket__in=visible_tickets(user),
            fulfilled_at__isnull=True,
            waived_at__isnull=True,
            due_on__lt=today,
        )
        .select_related("ticket__shop", "made_by")
        .order_by("due_on", "id")[:PER_KIND]
    )
    zone = timezone.get_current_timezone()
    items = []
    for promise in promises:
        due_end = datetime.combine(promise.due_on + timedelta(days=1), time.min, tzinfo=zone)
        items.append(
            InboxItem(
                kind="promise",
                since=due_end,
                title=_("%(no)s 的承诺已过期：%(text)s")
                % {"no": promise.ticket.number, "text": promise.text},
                detail=_("%(who)s 承诺 %(due)s 兑现")
                % {"who": promise.made_by, "due": f"{promise.due_on:%Y-%m-%d}"},
                url=reverse("tickets:ticket_detail", args=[promise.ticket_id]) + "#promises",
                shop=promise.ticket.shop.name,
                action={
                    "url": reverse("tickets:promise_fulfil", args=[promise.ticket_id, promise.pk]),
                    "label": _("已兑现"),
                    "fields": {},
                },
                late=True,
            )
        )
    return items


def _handover(user, now) -> list[InboxItem]:
    if not user.has_perm("tickets.change_handovernote"):
        return []
    notes = (
        visible_handover(user)
        .filter(handled_at__isnull=True)
        .filter(handover_flagged_filter(now))
        .select_related("shop", "ticket")
        .order_by("shift_date", "id")[:PER_KIND]
    )
    return [
        InboxItem(
            kind="handover",
            since=handover_due(note),
            title=_("夜班交接 12:00 未处理：%(note)s") % {"note": note.note},
            detail=note.ticket.number if note.ticket_id else "",
            url=reverse("registers:handover_list"),
            shop=note.shop.name,
            action={
                "url": reverse("registers:handover_handled", args=[note.pk]),
                "label": _("已处理"),
                "fields": {},
            },
            late=True,
        )
        for note in notes
    ]


BUILT_IN = [_escalations, _approvals, _alerts, _interventions, _promises, _handover]


def supervisor_inbox(user, now: datetime | None = None) -> list[InboxItem]:
    """Everything waiting for ``user`` as a supervisor, oldest first (by ``InboxItem.since``),
    from the built-in kinds above and the sources other apps registered
    (``tickets.inbox.register_inbox_source``). Each kind reads at most ``PER_KIND`` rows with
    one query, so the page costs the same whatever the backlog."""
    now = now or timezone.now()
    items: list[InboxItem] = []
    for source in [*BUILT_IN, *INBOX_SOURCES]:
        items.extend(source(user, now))
    return sorted(items, key=lambda item: item.since)


def inbox_count(user, now: datetime | None = None) -> int:
    return len(supervisor_inbox(user, now))


def overdue_and_stale_by_assignee(user, now=None) -> list[tuple[User | None, int, int]]:
    """The per-agent table of the inbox and the supervisor's dashboard (issue 13 section 1),
    the only one: per assignee (None: the queue), how many of the tickets ``user`` may see
    are overdue (``TicketQuerySet.overdue``, i.e. ``overdue_q``, the rule of the list, its
    filter, the export and the statistics) and stale (``TicketQuerySet.stale``). Both rules
    read open tickets only, so a closed or cancelled ticket counts in neither column.
    Returns [(assignee, overdue, stale)] for assignees with at least one of either, most
    overdue first, then most stale, the queue after the people with the same counts. ``now``
    aware (default now). Three queries whatever the number of tickets."""
    now = now or timezone.now()
    tickets = visible_tickets(user)
    overdue = {
        r["assignee"]: r["n"]
        for r in tickets.overdue(now).values("assignee").annotate(n=Count("id")).order_by()
    }
    stale = {
        r["assignee"]: r["n"]
        for r in tickets.stale(now).values("assignee").annotate(n=Count("id")).order_by()
    }
    keys = set(overdue) | set(stale)
    people = User.objects.in_bulk([k for k in keys if k])
    rows = [(people.get(k) if k else None, overdue.get(k, 0), stale.get(k, 0)) for k in keys]
    return sorted(rows, key=lambda r: (-r[1], -r[2], r[0] is None, str(r[0] or "")))
