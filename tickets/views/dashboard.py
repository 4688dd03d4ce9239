"""The agent's start page: my work by due time, the unassigned queue, today's counts."""

from django.conf import settings
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from tickets.inbox import DASHBOARD_PANELS
from tickets.models import Heartbeat
from tickets.roles import Role, has_role
from tickets.selectors import page_of, visible_parcels, visible_tickets
from tickets.selectors_inbox import (
    NO_OPEN_TICKETS,
    open_ticket_counts,
    overdue_and_stale_by_assignee,
)
from tickets.selectors_orders import auto_confirm_warnings
from tickets.selectors_registers import dashboard_registers
from tickets.views.inbox import inbox_context

# What the rows of "my work" and the queue show (number, shop, order number, kind, status,
# stale and overdue badges, due times, the pause), and no more: the order's other 35 columns,
# the buyer's name and address among them, were read and converted for its number alone
# (1.5 ms of Python for 25 rows at a million tickets).
_ROW_FIELDS = (
    "kind",
    "status",
    "status_changed_at",
    "first_response_due",
    "first_responded_at",
    "resolution_due",
    "resolved_at",
    "paused_at",
    "awaiting_buyer",
    "shop__name",
    "order__order_no",
)


@require_GET
def dashboard(request):
    now = timezone.now()
    if has_role(request.user, Role.FINANCE) and not has_role(
        request.user, Role.AGENT, Role.SUPERVISOR
    ):
        return _finance_dashboard(request, now)
    start_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    tickets = visible_tickets(request.user)
    # The queries below that a time or the assignee drives check the shop as a filter.
    driven = visible_tickets(request.user, shop_as_filter=True)
    is_supervisor = has_role(request.user, Role.SUPERVISOR)
    mine = page_of(
        driven.open()
        .filter(assignee=request.user)
        .select_related("order", "shop")
        .only(*_ROW_FIELDS)
        .order_by("resolution_due"),
        0,
        25,
    )
    # The "today" counts: each its own index (created_at, resolved_at), the shop checked as a
    # filter.
    counts = {
        "opened_today": driven.filter(created_at__gte=start_of_day).count(),
        "resolved_today": driven.filter(resolved_at__gte=start_of_day).count(),
    }
    # The queue, overdue and stale (停滞: open but unchanged in status for
    # DESK_STALE_AFTER_DAYS; never "overdue" once resolved, so counted on its own), each
    # overdue and stale card in two scopes that the cards name (issue 13 review, finding 10):
    # the shops' (every ticket the user sees, assigned or not) and the user's own. All from
    # one pass over the open tickets, per assignee (``open_ticket_counts``), by the list's
    # rules, so each card's number is what its link's filter lists. A supervisor's shop
    # figures are the sums of the inbox's per-agent table (the queue included).
    by_assignee = open_ticket_counts(request.user, now)
    counts["unassigned"] = by_assignee.get(None, NO_OPEN_TICKETS).open
    counts["overdue"] = sum(c.overdue for c in by_assignee.values())
    counts["stale"] = sum(c.stale for c in by_assignee.values())
    if is_supervisor:
        by_agent = overdue_and_stale_by_assignee(request.user, now, counts=by_assignee)
    else:
        by_agent = []
        own = by_assignee.get(request.user.pk, NO_OPEN_TICKETS)
        counts["overdue_mine"] = own.overdue
        counts["stale_mine"] = own.stale
    unassigned = page_of(
        tickets.open()
        .filter(assignee__isnull=True)
        .select_related("order", "shop")
        .only(*_ROW_FIELDS)
        .order_by("first_response_due", "id"),
        0,
        10,
    )
    context = {
        "now": now,
        "mine": mine,
        "unassigned": unassigned,
        "counts": counts,
        "is_supervisor": is_supervisor,
        "by_agent": by_agent,
        "stale_after_days": settings.DESK_STALE_AFTER_DAYS,
        "unknown_parcels": visible_parcels(request.user).filter(order__isnull=True).count(),
        "beat": Heartbeat.objects.filter(name="beat").first(),
        "auto_confirm_warnings": auto_confirm_warnings(request.user, now),
        "registers": dashboard_registers(request.user, now),
    }
    if request.user.has_perm("tickets.decide_escalation"):
        context.update(inbox_context(request.user, now))
    return render(request, "tickets/dashboard.html", context)


def _finance_dashboard(request, now):
    """Finance's start page (issue 13): what the finance app puts there (today's sheets and
    their status, failed builds with the reason, the latest downloads), not an agent's queue."""
    panels = [panel for source in DASHBOARD_PANELS if (panel := source(request.user, now))]
    return render(request, "tickets/dashboard_finance.html", {"now": now, "panels": panels})
