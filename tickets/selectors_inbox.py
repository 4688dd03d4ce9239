"""Reads for the supervisor's inbox (主管待办, issue 13 section 1): everything waiting for a
supervisor in the shops the user serves, oldest first, each with the moment it started
waiting; and the per-agent counts of overdue and stale tickets that the inbox and the
dashboard both show (the queryset rules ``TicketQuerySet.overdue`` / ``.stale``, never a
second rule)."""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import NamedTuple

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from .inbox import INBOX_SOURCES, InboxItem
from .models import Escalation, Promise, User
from .models.tickets import overdue_q, stale_q
from .selectors import visible_ledger, visible_tickets
from .selectors_registers import (
    handover_due,
    handover_flagged_filter,
    visible_alerts,
    visible_handover,
    visible_interventions,
)

# The highest page number read as asked (5,000,000 items of a kind); a higher one is the last
# page there is, like any page past the end.
MAX_PAGE = 100_000
# Each kind shows at most this many items a page, oldest first; the page says how many wait.
PER_KIND = 50


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
    """Compensation entries above the threshold with no decision yet and not reversed (the
    approvals page's list and the inbox's): a reversal is no request, and a reversed entry
    leaves nothing to decide."""
    return visible_ledger(user).filter(
        requires_approval=True,
        approval__isnull=True,
        reverses__isnull=True,
        reversal__isnull=True,
    )


def _escalations(user, now, reading: "_Reading") -> list[InboxItem]:
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
            # Its raiser never decides it (escalation_decide): shown, with no form.
            extra={"waiting_for_other": e.raised_by_id == user.pk},
            obj=e,
        )
        for e in reading.take("escalation", open_escalations(user))
    ]


def _approvals(user, now, reading: "_Reading") -> list[InboxItem]:
    if not user.has_perm("tickets.approve_compensation"):
        return []
    entries = reading.take(
        "approval",
        compensation_waiting(user)
        .select_related("ticket", "order", "shop", "recorded_by")
        .order_by("recorded_at", "id"),
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
            # Its author never decides it (compensation_decide): shown, with no button.
            action=None
            if entry.recorded_by_id == user.pk
            else {
                "url": reverse("tickets:approval_decide", args=[entry.pk]),
                "label": pgettext("inbox button", "批准"),
                "fields": {"approved": "1"},
            },
            extra={"waiting_for_other": entry.recorded_by_id == user.pk},
            obj=entry,
        )
        for entry in entries
    ]


def _alerts(user, now, reading: "_Reading") -> list[InboxItem]:
    if not user.has_perm("tickets.change_productionalert"):
        return []
    alerts = reading.take(
        "alert",
        visible_alerts(user)
        .filter(sent_at__isnull=True)
        .select_related("sku")
        .order_by("created_at", "id"),
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


def _interventions(user, now, reading: "_Reading", within=timedelta(days=2)) -> list[InboxItem]:
    if not user.has_perm("tickets.view_platformintervention"):
        return []
    cases = reading.take(
        "intervention",
        visible_interventions(user)
        .filter(closed_at__isnull=True, deadline__isnull=False, deadline__lte=now + within)
        .select_related("shop")
        .order_by("deadline", "id"),
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


def _promises(user, now, reading: "_Reading") -> list[InboxItem]:
    if not user.has_perm("tickets.view_promise"):
        return []
    today = timezone.localdate(now)
    promises = reading.take(
        "promise",
        Promise.objects.filter(
            ticket__in=visible_tickets(user),
            fulfilled_at__isnull=True,
            waived_at__isnull=True,
            due_on__lt=today,
        )
        .select_related("ticket__shop", "made_by")
        .order_by("due_on", "id"),
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


def _handover(user, now, reading: "_Reading") -> list[InboxItem]:
    if not user.has_perm("tickets.change_handovernote"):
        return []
    notes = reading.take(
        "handover",
        visible_handover(user)
        .filter(handled_at__isnull=True)
        .filter(handover_flagged_filter(now))
        .select_related("shop", "ticket")
        .order_by("shift_date", "id"),
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


BUILT_IN = {
    "escalation": _escalations,
    "approval": _approvals,
    "alert": _alerts,
    "intervention": _interventions,
    "promise": _promises,
    "handover": _handover,
}
# The kinds' names, as the inbox's badges say them (a registered source's kind without one
# here is shown by its key).
KIND_LABELS = {
    "escalation": gettext_lazy("升级"),
    "approval": gettext_lazy("赔偿审批"),
    "signature": gettext_lazy("换货清单签字"),
    "alert": gettext_lazy("生产预警"),
    "intervention": gettext_lazy("小二介入"),
    "promise": gettext_lazy("承诺过期"),
    "handover": gettext_lazy("夜班交接"),
}


@dataclass
class _Reading:
    """One reading of the built-in kinds: each reads at most ``PER_KIND`` rows from
    ``offset`` and notes its true total in ``totals`` (kind -> rows waiting)."""

    offset: int = 0
    totals: dict[str, int] = field(default_factory=dict)

    def take(self, kind: str, rows) -> list:
        """The rows of ``rows`` (an ordered QuerySet) on this reading's page; counts them all
        with a second query only when the page does not already say how many there are."""
        page = list(rows[self.offset : self.offset + PER_KIND])
        if self.offset == 0 and len(page) < PER_KIND:
            self.totals[kind] = len(page)
        else:
            self.totals[kind] = rows.count()
        return page


@dataclass
class InboxKindCount:
    """How many items of one ``kind`` the page shows (``shown``) and how many wait
    (``total``; None when a registered source gave its first ``PER_KIND`` and no count, so
    there may be more). ``truncated``: the page does not show them all."""

    kind: str
    shown: int
    total: int | None

    @property
    def label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))

    @property
    def truncated(self) -> bool:
        return self.total is None or self.total > self.shown


@dataclass
class InboxPage:
    """What the inbox shows: ``items`` oldest first; ``counts`` per kind that has any, in
    the built-in order then the registered sources'; ``kind`` the one kind the page is
    limited to (None: all), on page ``page`` of ``pages`` (``PER_KIND`` items a page)."""

    items: list[InboxItem]
    counts: list[InboxKindCount]
    kind: str | None = None
    page: int = 1
    pages: int = 1

    @property
    def kind_label(self) -> str:
        """The name of the kind the page is limited to ("" for all)."""
        return str(KIND_LABELS.get(self.kind, self.kind)) if self.kind else ""

    @property
    def total(self) -> int:
        """Items waiting in all (a registered source that gave no count: what it gave)."""
        return sum(c.total if c.total is not None else c.shown for c in self.counts)

    @property
    def truncated(self) -> list[InboxKindCount]:
        """The kinds of which the page shows only a part (the page says so, with a link)."""
        return [c for c in self.counts if c.truncated]


def inbox_kinds() -> list[str]:
    """The kinds a page may be limited to: the built-in ones and those registered sources
    gave so far (their items' ``kind``)."""
    return [*BUILT_IN, *(k for k in KIND_LABELS if k not in BUILT_IN)]


def inbox_read(
    user, now: datetime | None = None, *, kind: str | None = None, page: int = 1
) -> InboxPage:
    """What waits for ``user`` as a supervisor (issue 13 section 1), never silently cut
    (issue 13 review, finding 6). Without ``kind``: every kind's oldest ``PER_KIND`` items,
    oldest first across kinds, from the built-in kinds above and the sources other apps
    registered (``tickets.inbox.register_inbox_source``), with each kind's true total, so
    the page says "50 of N" and links to the rest. With a built-in ``kind``: that kind's
    items only, page ``page`` (1-based, clamped to the pages there are) of ``PER_KIND``,
    oldest first. A registered source gives its own first items and no total (``total``
    None once it gives ``PER_KIND``). Each built-in kind costs one query, two when it has
    more than a page; ``now`` aware (default now)."""
    now = now or timezone.now()
    if kind in BUILT_IN:
        # Clamped before it becomes an offset: ?page=99999999999999999999999 overflowed the
        # database's integer (a 500); a page past the end shows the last one below.
        page = min(max(page, 1), MAX_PAGE)
        reading = _Reading(offset=(page - 1) * PER_KIND)
        rows = BUILT_IN[kind](user, now, reading)
        total = reading.totals.get(kind, 0)
        pages = max(1, -(-total // PER_KIND))
        if page > pages:  # past the end: the last page
            page = pages
            reading = _Reading(offset=(page - 1) * PER_KIND)
            rows = BUILT_IN[kind](user, now, reading)
        counts = [InboxKindCount(kind, len(rows), total)] if total else []
        return InboxPage(rows, counts, kind=kind, page=page, pages=pages)
    reading = _Reading()
    items: list[InboxItem] = []
    for source in BUILT_IN.values():
        items.extend(source(user, now, reading))
    registered: dict[str, int] = {}
    for source in INBOX_SOURCES:
        for item in source(user, now):
            items.append(item)
            registered[item.kind] = registered.get(item.kind, 0) + 1
    if kind is not None:
        items = [item for item in items if item.kind == kind]
    shown: dict[str, int] = {}
    for item in items:
        shown[item.kind] = shown.get(item.kind, 0) + 1
    counts = [
        InboxKindCount(k, shown.get(k, 0), n)
        for k, n in reading.totals.items()
        if n and (kind is None or k == kind)
    ] + [
        InboxKindCount(k, n, n if n < PER_KIND else None)
        for k, n in registered.items()
        if kind is None or k == kind
    ]
    return InboxPage(sorted(items, key=lambda item: item.since), counts, kind=kind)


def supervisor_inbox(user, now: datetime | None = None) -> list[InboxItem]:
    """The items of the inbox's first page, oldest first (``inbox_read``; its ``counts``
    say how many wait of each kind)."""
    return inbox_read(user, now).items


def inbox_count(user, now: datetime | None = None) -> int:
    """How many items wait for ``user`` in all, not only those one page shows."""
    return inbox_read(user, now).total


class OpenCounts(NamedTuple):
    """One assignee's open tickets among those a user may see: how many (``open``), and how
    many of them are overdue (``overdue_q``) and stale (``stale_q``)."""

    open: int
    overdue: int
    stale: int


NO_OPEN_TICKETS = OpenCounts(0, 0, 0)


def open_ticket_counts(user, now=None) -> dict[int | None, OpenCounts]:
    """Per assignee id (None: the unassigned queue), ``OpenCounts`` of the open tickets
    ``user`` may see; an assignee with none is absent. One query whatever the number of
    tickets, by the list's rules (``TicketQuerySet.overdue`` / ``.stale``: ``overdue_q`` and
    ``stale_q``), so every figure made of these is what the list's filter shows.

    The dashboard's cards (queue, overdue and stale, the shops' and the user's own) and the
    per-agent table come from this one pass over the open tickets rather than five counts:
    ``ticket_open_due_idx`` carries every column it reads, so PostgreSQL answers it from the
    index alone (at 100,000 tickets 1 ms instead of 25 ms reading the agent's 1,076 heap
    pages; bench/README.md, "The dashboard at a million tickets"). ``now`` aware."""
    now = now or timezone.now()
    rows = (
        visible_tickets(user)
        .open()
        .values("assignee")
        .annotate(
            n=Count("id"),
            overdue=Count("id", filter=overdue_q(now, already_open=True)),
            stale=Count("id", filter=stale_q(now)),
        )
        .order_by()
    )
    return {r["assignee"]: OpenCounts(r["n"], r["overdue"], r["stale"]) for r in rows}


def overdue_and_stale_by_assignee(
    user, now=None, *, counts: dict[int | None, OpenCounts] | None = None
) -> list[tuple[User | None, int, int]]:
    """The per-agent table of the inbox and the supervisor's dashboard (issue 13 section 1),
    the only one: per assignee (None: the queue), how many of the tickets ``user`` may see
    are overdue (``TicketQuerySet.overdue``, i.e. ``overdue_q``, the rule of the list, its
    filter, the export and the statistics) and stale (``TicketQuerySet.stale``). Both rules
    read open tickets only, so a closed or cancelled ticket counts in neither column.
    Returns [(assignee, overdue, stale)] for assignees with at least one of either, most
    overdue first, then most stale, the queue after the people with the same counts. ``now``
    aware (default now); ``counts``: ``open_ticket_counts(user, now)`` when the caller read
    it already. Two queries whatever the number of tickets (one with ``counts``)."""
    if counts is None:
        counts = open_ticket_counts(user, now)
    keys = [k for k, c in counts.items() if c.overdue or c.stale]
    people = User.objects.in_bulk([k for k in keys if k]) if any(keys) else {}
    rows = [(people.get(k) if k else None, counts[k].overdue, counts[k].stale) for k in keys]
    return sorted(rows, key=lambda r: (-r[1], -r[2], r[0] is None, str(r[0] or "")))
