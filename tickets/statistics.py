"""The supervisors' statistics (issue 5): per agent, per product and per day, over a date range
and the user's shops. Reads only; every figure starts from the scoped querysets in
``tickets.selectors`` / ``tickets.selectors_registers``.

Definitions (the tests hold hand-computed figures for them):
- resolved: tickets whose ``resolved_at`` falls in the range, counted for their assignee;
- median first response (minutes) / resolution (hours): the shop's working time, as the
  service levels count it (``tickets.sla``): business time in the shop's hours from the start
  of the ticket's clock (the opening, or the buyer's 退款申请时间 for a refund import), the
  resolution less the time the clock was paused waiting for the buyer or the parcel; over
  tickets created in the range that have the time, per assignee;
- overdue: tickets created in the range that are overdue now, by the desk's one rule
  (``Ticket.objects.overdue``, as the list, its filter and the dashboard count them: never a
  closed or cancelled ticket, never a due time that passed while the clock was paused), per
  assignee, with the tickets nobody is assigned and the total beside them
  (``overdue_summary``): the total is what the ticket list shows with "only overdue" and the
  same shops and creation dates (``overdue_list_query``);
- reviews revised: reviews whose ``revised_at`` falls in the range, per assignee;
- compensation paid: compensation ledger entries recorded in the range that count (approved or
  below the threshold, reversals subtracted), per agent who recorded them;
- per product: tickets created in the range by product (item title) and reason;
- per day: tickets by the day created and the day resolved, reviews by the day made and the
  day revised (Beijing time).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from statistics import median
from urllib.parse import urlencode

from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from .business_hours import business_time_between
from .models import LedgerEntry, Shop, Ticket, TicketItem
from .money import counted
from .selectors import visible_ledger, visible_tickets
from .selectors_registers import visible_reviews


@dataclass
class StatsRange:
    start: date
    end: date  # inclusive
    shop_ids: list[int] | None = None

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        tz = timezone.get_current_timezone()
        return (
            datetime.combine(self.start, time.min, tzinfo=tz),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=tz),
        )

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def shops(self, queryset, shop_field="shop"):
        if self.shop_ids:
            return queryset.filter(**{f"{shop_field}__in": self.shop_ids})
        return queryset


@dataclass
class AgentRow:
    agent: str
    agent_id: int | None = None
    resolved: int = 0
    first_response_minutes: float | None = None
    resolution_hours: float | None = None
    overdue: int = 0
    reviews_revised: int = 0
    compensation: Decimal = field(default_factory=lambda: Decimal("0.00"))


def _in(range_: StatsRange, name: str) -> Q:
    start, end = range_.bounds
    return Q(**{f"{name}__gte": start, f"{name}__lt": end})


def per_agent(user, range_: StatsRange, now: datetime | None = None) -> list[AgentRow]:
    now = now or timezone.now()
    tickets = range_.shops(visible_tickets(user)).filter(assignee__isnull=False)
    rows: dict[int, AgentRow] = {}
    names: dict[int, str] = {}

    def row(user_id, name):
        names.setdefault(user_id, name)
        return rows.setdefault(user_id, AgentRow(agent=name, agent_id=user_id))

    def name_of(first, last, username):
        return f"{last}{first}".strip() or username

    for item in (
        tickets.filter(_in(range_, "resolved_at"))
        .values("assignee", "assignee__first_name", "assignee__last_name", "assignee__username")
        .annotate(n=Count("id"))
    ):
        row(
            item["assignee"],
            name_of(
                item["assignee__first_name"],
                item["assignee__last_name"],
                item["assignee__username"],
            ),
        ).resolved = item["n"]

    created = tickets.filter(_in(range_, "created_at"))
    first, whole = defaultdict(list), defaultdict(list)
    hours = {shop.pk: shop.business_hours for shop in Shop.objects.all()}
    for t in created.values(
        "shop",
        "paused_seconds",
        "assignee",
        "assignee__first_name",
        "assignee__last_name",
        "assignee__username",
        "clock_started_at",
        "first_responded_at",
        "resolved_at",
    ):
        agent = t["assignee"]
        row(
            agent,
            name_of(t["assignee__first_name"], t["assignee__last_name"], t["assignee__username"]),
        )
        started, shop_hours = t["clock_started_at"], hours[t["shop"]]
        if t["first_responded_at"]:
            worked = business_time_between(started, t["first_responded_at"], shop_hours)
            first[agent].append(worked.total_seconds() / 60)
        if t["resolved_at"]:
            worked = business_time_between(started, t["resolved_at"], shop_hours)
            worked -= timedelta(seconds=t["paused_seconds"])
            whole[agent].append(max(worked, timedelta(0)).total_seconds() / 3600)
    for agent, values in first.items():
        rows[agent].first_response_minutes = round(median(values), 1)
    for agent, values in whole.items():
        rows[agent].resolution_hours = round(median(values), 1)
    for item in created.overdue(now).values("assignee").annotate(n=Count("id")):
        rows[item["assignee"]].overdue = item["n"]

    reviews = range_.shops(visible_reviews(user)).filter(
        _in(range_, "revised_at"), assignee__isnull=False
    )
    for item in reviews.values(
        "assignee", "assignee__first_name", "assignee__last_name", "assignee__username"
    ).annotate(n=Count("id")):
        row(
            item["assignee"],
            name_of(
                item["assignee__first_name"],
                item["assignee__last_name"],
                item["assignee__username"],
            ),
        ).reviews_revised = item["n"]

    entries = counted(range_.shops(visible_ledger(user))).filter(
        _in(range_, "recorded_at"), kind=LedgerEntry.Kind.COMPENSATION
    )
    for entry in entries.values(
        "recorded_by",
        "recorded_by__first_name",
        "recorded_by__last_name",
        "recorded_by__username",
        "amount",
        "reverses",
    ):
        r = row(
            entry["recorded_by"],
            name_of(
                entry["recorded_by__first_name"],
                entry["recorded_by__last_name"],
                entry["recorded_by__username"],
            ),
        )
        sign = -1 if entry["reverses"] else 1
        r.compensation += sign * entry["amount"]
    return sorted(rows.values(), key=lambda r: r.agent)


@dataclass
class OverdueSummary:
    """The overdue column's rows that are no agent's: ``unassigned`` (tickets in the queue)
    and ``total`` (every overdue ticket the column counts, the agents' and the queue's)."""

    unassigned: int
    total: int


def overdue_summary(user, range_: StatsRange, now: datetime | None = None) -> OverdueSummary:
    """How many of the tickets created in ``range_`` (its dates and shops, within what
    ``user`` sees) are overdue at ``now`` (aware, default now) by the desk's one rule
    (``TicketQuerySet.overdue``): those nobody is assigned, and all of them. The total equals
    the sum of ``per_agent``'s overdue column and the unassigned, and the count of the ticket
    list filtered by ``overdue_list_query(range_)``. One query."""
    now = now or timezone.now()
    created = range_.shops(visible_tickets(user)).filter(_in(range_, "created_at"))
    counted_ = created.overdue(now).aggregate(
        total=Count("id"), unassigned=Count("id", filter=Q(assignee__isnull=True))
    )
    return OverdueSummary(unassigned=counted_["unassigned"], total=counted_["total"])


def overdue_list_query(range_: StatsRange, assignee: str | int | None = None) -> str:
    """The ticket list's query string (``tickets:ticket_list``) that lists the overdue
    tickets the statistics count for ``range_``: only overdue, created in its dates (Beijing
    time), in its shop when it names one; ``assignee`` a user id, ``"none"`` for the queue, or
    None for everyone. E.g. ``overdue=true&created_min=2026-11-01&created_max=2026-11-30``."""
    params = {
        "overdue": "true",
        "created_min": range_.start.isoformat(),
        "created_max": range_.end.isoformat(),
    }
    if range_.shop_ids and len(range_.shop_ids) == 1:
        params["shop"] = str(range_.shop_ids[0])
    if assignee is not None:
        params["assignee"] = str(assignee)
    return urlencode(params)


def per_product(
    user, range_: StatsRange, limit: int = 30
) -> tuple[list[tuple[str, str]], list[dict]]:
    """(reasons as columns, rows of {product, counts per reason, total}), most complaints first.
    A ticket counts once per product it names."""
    tickets = range_.shops(visible_tickets(user)).filter(_in(range_, "created_at"))
    items = (
        TicketItem.objects.filter(ticket__in=tickets.values("pk"))
        .values(product=F("order_item__title"), reason=F("ticket__reason"))
        .annotate(n=Count("ticket", distinct=True))
    )
    table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item in items:
        table[item["product"]][item["reason"]] += item["n"]
    used = {reason for counts in table.values() for reason in counts}
    reasons = [(value, label) for value, label in Ticket.Reason.choices if value in used]
    rows = [
        {
            "product": product,
            "counts": [counts.get(value, 0) for value, _label in reasons],
            "total": sum(counts.values()),
        }
        for product, counts in table.items()
    ]
    rows.sort(key=lambda r: (-r["total"], r["product"]))
    return reasons, rows[:limit]


def _by_day(queryset, field_name: str, range_: StatsRange) -> dict[date, int]:
    tz = timezone.get_current_timezone()
    return {
        item["day"]: item["n"]
        for item in queryset.filter(_in(range_, field_name))
        .annotate(day=TruncDate(field_name, tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"))
    }


def per_day(user, range_: StatsRange) -> list[dict]:
    tickets = range_.shops(visible_tickets(user))
    reviews = range_.shops(visible_reviews(user))
    series = {
        "tickets_created": _by_day(tickets, "created_at", range_),
        "tickets_resolved": _by_day(tickets, "resolved_at", range_),
        "reviews_made": _by_day(reviews, "made_at", range_),
        "reviews_revised": _by_day(reviews, "revised_at", range_),
    }
    return [{"day": day, **{k: v.get(day, 0) for k, v in series.items()}} for day in range_.days()]


# --- server-drawn charts --------------------------------------------------------------
@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


def bar_chart(days: list[dict], keys: tuple[str, str], *, width=560, height=180) -> dict:
    """Two bars per day, scaled to the largest value; returns numbers for the SVG template."""
    pad_left, pad_bottom, pad_top = 28, 18, 8
    plot_w, plot_h = width - pad_left - 4, height - pad_bottom - pad_top
    top = max([1, *(d[k] for d in days for k in keys)])
    slot = plot_w / max(len(days), 1)
    bar_w = max(slot / 2 - 1, 1)
    bars, labels = [], []
    for index, day in enumerate(days):
        for j, key in enumerate(keys):
            h = plot_h * day[key] / top
            bars.append(
                Bar(
                    x=round(pad_left + index * slot + j * bar_w, 1),
                    y=round(pad_top + plot_h - h, 1),
                    width=round(bar_w, 1),
                    height=round(h, 1),
                    css=f"s{j}",
                    title=f"{day['day']:%m-%d} {day[key]}",
                )
            )
        step = max(1, len(days) // 8)
        if index % step == 0:
            labels.append({"x": round(pad_left + index * slot, 1), "text": f"{day['day']:%m-%d}"})
    return {
        "width": width,
        "height": height,
        "bars": bars,
        "labels": labels,
        "top": top,
        "axis_y": height - pad_bottom,
        "pad_left": pad_left,
        "pad_top": pad_top,
    }
