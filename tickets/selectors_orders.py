"""Reads about an order's own deadlines and desk changes: the receipt extension rule, the
auto-confirm warning (on the order page, the ticket page and the dashboard), the order's
change history and the returned parcels that hang on the order without a ticket."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import (
    Case,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Func,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Order, OrderChange, ReturnParcel, Ticket
from .roles import Role, has_role
from .selectors import AnyOf, visible_parcels, visible_tickets

# Warn when a shipped order confirms itself within this long while a logistics ticket is open
# (DOMAIN.md "Orders": the agent handling a logistics problem must see the deadline).
AUTO_CONFIRM_WARNING = timedelta(days=3)
# 延长收货 (DOMAIN.md "Orders": a shipped order turns to success 10 days after shipping unless
# the receipt time is extended; seeds/004 "点击‘延长收货时间’，可避免……交易在默认的情况下自动
# 成功"). The seller centre offers these lengths, in days; the desk refuses any other.
RECEIPT_EXTENSION_DAYS = (3, 5, 7, 10)
# How often the desk records an extension on one order. The platform limits how often a
# seller may extend; a record beyond this is a mistake (the wrong order, a second click), so
# it is refused with the reason. The desk's own rule, to be adjusted if the platform's differs.
RECEIPT_EXTENSIONS_MAX = 2
DASHBOARD_WARNINGS = 10


def receipt_extension_refusal(order: Order, days: int | None, now: datetime) -> str | None:
    """Why ``order``'s receipt may not be extended by ``days`` now, or None when it may
    (``days`` None: whether any extension is possible).

    The rule (DOMAIN.md "Orders", seeds/004): only a shipped order that has not confirmed
    itself yet (its auto-confirm time is still ahead), by one of ``RECEIPT_EXTENSION_DAYS``,
    at most ``RECEIPT_EXTENSIONS_MAX`` times per order."""
    if order.status != Order.Status.SHIPPED or order.shipped_at is None:
        return _("只有“卖家已发货”的订单可以延长收货时间（这个订单现在是“%(status)s”）。") % {
            "status": order.get_status_display()
        }
    if days is not None and days not in RECEIPT_EXTENSION_DAYS:
        return _("延长天数只能是 %(choices)s 天。") % {
            "choices": "、".join(str(d) for d in RECEIPT_EXTENSION_DAYS)
        }
    deadline = order.auto_confirm_at
    if deadline <= now:
        return _("自动确认收货时间 %(at)s 已经过了，平台上交易多半已经成功，不能再延长。") % {
            "at": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M")
        }
    done = order.changes.filter(kind=OrderChange.Kind.RECEIPT_EXTENSION).count()
    if done >= RECEIPT_EXTENSIONS_MAX:
        return _("这个订单已经延长过 %(n)s 次收货时间，不能再延长。") % {"n": done}
    return None


@dataclass(frozen=True)
class AutoConfirmDue:
    """When an order confirms receipt by itself (自动确认收货): ``deadline`` (aware), and
    ``passed`` when that moment is already behind us (the platform has most likely closed
    the trade, so the warning says so, with the year, instead of naming a coming day)."""

    deadline: datetime
    passed: bool


def auto_confirm_warning(order: Order, tickets, now: datetime) -> AutoConfirmDue | None:
    """The order's auto-confirm deadline when ``order`` (shipped) confirms itself within
    ``AUTO_CONFIRM_WARNING`` of ``now`` (aware), or already should have, while one of
    ``tickets`` (the order's tickets) is an open logistics problem; None otherwise. The
    deadline counts any receipt extension (``Order.auto_confirm_at``)."""
    deadline = order.auto_confirm_at
    if deadline is None or deadline - now > AUTO_CONFIRM_WARNING:
        return None
    if not any(t.is_open and t.reason == Ticket.Reason.LOGISTICS for t in tickets):
        return None
    return AutoConfirmDue(deadline, passed=deadline <= now)


class _Days(Func):
    """A whole number of days as a duration: an interval on PostgreSQL, microseconds on SQLite
    (how Django keeps a duration there); an integer times a duration is not portable."""

    output_field = DurationField()

    def as_postgresql(self, compiler, connection, **extra):
        template = "make_interval(days => %(expressions)s)"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        template = "(%(expressions)s * 86400000000)"
        return self.as_sql(compiler, connection, template=template, **extra)


@dataclass(frozen=True)
class AutoConfirmWarning:
    ticket: Ticket
    order: Order
    deadline: datetime  # aware
    passed: bool  # the deadline is behind ``now``


def auto_confirm_warnings(
    user, now: datetime, *, limit: int = DASHBOARD_WARNINGS
) -> list[AutoConfirmWarning]:
    """The dashboard's auto-confirm warnings, at most ``limit``, the deadlines still ahead
    first (soonest first), then those already passed (the oldest first): open
    logistics tickets whose shipped order confirms itself within ``AUTO_CONFIRM_WARNING``. An
    agent sees those of the tickets assigned to them and of the unassigned ones in their shops
    (the queue they take work from), a supervisor every one in their shops.

    Bounded and indexed: it reads open tickets only (the partial index on open tickets, or the
    assignee index for an agent: a few thousand rows at most, never the ticket history), joins
    each to its order by primary key, and stops at ``limit``."""
    tickets = visible_tickets(user).open().filter(reason=Ticket.Reason.LOGISTICS)
    if not has_role(user, Role.SUPERVISOR):
        tickets = tickets.filter(Q(assignee=user) | Q(assignee__isnull=True))
    deadline = ExpressionWrapper(
        F("order__shipped_at")
        + Value(timedelta(days=settings.DESK_AUTO_CONFIRM_DAYS), output_field=DurationField())
        + _Days(F("order__receipt_extended_days")),
        output_field=DateTimeField(),
    )
    # The orders of those tickets first, from ``ticket_open_logistics_idx`` alone: in one
    # query PostgreSQL started from every shipped order instead (11,000 at a million, 98 ms).
    # Handed back as one array parameter (``AnyOf``): the supervisor's 1,600 ids at a million
    # as placeholders took 8 of the 13 ms of Python this function spent.
    orders = list(tickets.values_list("order_id", flat=True))
    rows = (
        tickets.filter(
            AnyOf(F("order_id"), orders),
            order__status=Order.Status.SHIPPED,
            order__shipped_at__isnull=False,
        )
        .annotate(deadline=deadline)
        .filter(deadline__lte=now + AUTO_CONFIRM_WARNING)
        # The deadlines still ahead first (soonest first), those already passed after them:
        # a pile of long-passed ones must never push a deadline hours away off the panel.
        .annotate(passed=Case(When(deadline__lte=now, then=1), default=0))
        .select_related("order", "shop", "assignee")
        .order_by("passed", "deadline", "id")[:limit]
    )
    return [
        AutoConfirmWarning(t, t.order, t.order.auto_confirm_at, t.order.auto_confirm_at <= now)
        for t in rows
    ]


def order_history(order: Order) -> QuerySet[OrderChange]:
    """The changes agents made to ``order`` in the desk (flag and memo, receipt extensions),
    newest first."""
    return order.changes.select_related("actor").order_by("-created_at", "-id")


def order_parcels(user, order: Order) -> QuerySet[ReturnParcel]:
    """Returned parcels registered for ``order`` that the user may see, with their ticket
    (None for a parcel that came back before anybody opened a ticket)."""
    return (
        visible_parcels(user)
        .filter(order=order)
        .select_related("ticket", "received_by")
        .order_by("-created_at")
    )
