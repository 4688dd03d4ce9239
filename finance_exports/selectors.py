"""Reads: which sheets a user may see, and which sheets are due but missing."""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Max, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from finance_exports.models import Sheet, SheetDownload
from tickets.inbox import InboxItem
from tickets.roles import Role, user_roles
from tickets.selectors import staff_with_roles


def may_see_sheets(user) -> bool:
    """Whether ``user`` may see sheets at all: sheets cover every shop, so only active staff
    who see every shop (``all_shops`` or superuser), and only with the role's permission to
    view sheets (finance and supervisors). The one rule behind ``visible_sheets``, the pages'
    explanation when it says no, and who hears that a sheet failed (issue 13 review)."""
    if not user_roles(user) or not user.has_perm("finance_exports.view_sheet"):
        return False
    return bool(user.is_superuser or user.all_shops)


def visible_sheets(user) -> QuerySet[Sheet]:
    """The sheets ``user`` may see: all of them or none (``may_see_sheets``)."""
    return Sheet.objects.all() if may_see_sheets(user) else Sheet.objects.none()


def sheet_viewers() -> list:
    """The finance and supervisor accounts that may open a sheet (``may_see_sheets``), as a
    list of active users ordered by username: whom a sheet's notification may reach without
    linking to a page they cannot open."""
    return [
        user for user in staff_with_roles(Role.FINANCE, Role.SUPERVISOR) if may_see_sheets(user)
    ]


def sheets_due(builder, *, now: datetime, stalled_only: bool = True) -> list[date]:
    """Business dates whose sheet of ``builder``'s kind is due at ``now`` and not done: every
    period after the newest sheet up to the latest due one (at most FINANCE_CATCH_UP_DAYS of
    them), plus sheets still "building". Oldest first.

    With ``stalled_only`` a building sheet counts only once nothing has touched it for
    FINANCE_SHEET_STALE_MINUTES (its worker went away): that is the minutely check's question,
    which must not queue work every minute while a retry waits out its backoff. The catch-up itself
    takes every unfinished sheet (one being written right now is skipped by its row lock)."""
    latest = builder.latest_due(now)
    sheets = Sheet.objects.filter(kind=builder.kind)
    newest = sheets.aggregate(n=Max("business_date"))["n"]
    missing: list[date] = []
    if newest is None:
        missing.append(latest)
    else:
        day = builder.following(newest)
        while day <= latest:
            missing.append(day)
            day = builder.following(day)
        missing = missing[-settings.FINANCE_CATCH_UP_DAYS :]
    unfinished = sheets.filter(status=Sheet.Status.BUILDING)
    if stalled_only:
        stale_before = now - timedelta(minutes=settings.FINANCE_SHEET_STALE_MINUTES)
        unfinished = unfinished.filter(updated_at__lt=stale_before)
    missing.extend(unfinished.values_list("business_date", flat=True))
    return sorted(set(missing))


def sheets_pending(builders, *, now: datetime) -> bool:
    """Whether any scheduled sheet needs the catch-up (cheap: two queries per kind)."""
    return any(sheets_due(builder, now=now) for builder in builders)


# --- what the finance app puts in the supervisor's inbox and on finance's dashboard -----
def inbox_signatures(user, now: datetime) -> list:
    """Exchange-goods lists waiting for ``user``'s signature, as inbox items (issue 13),
    waiting since they were ready; none for a user who may not sign. A list with no
    exchange on it asks for no signature (issue 13 review: it is built "ready", and a row
    count of 0 is left out too)."""
    if not user.has_perm("finance_exports.approve_sheet"):
        return []
    sheets = visible_sheets(user).filter(
        kind=Sheet.Kind.EXCHANGES, status=Sheet.Status.AWAITING_APPROVAL, row_count__gt=0
    )
    return [
        InboxItem(
            kind="signature",
            since=sheet.ready_at or sheet.created_at,
            title=_("换货清单 %(date)s 待签字") % {"date": f"{sheet.business_date:%Y-%m-%d}"},
            detail=_("%(n)s 行") % {"n": sheet.row_count},
            # Signed from its page, which then comes back to the inbox.
            url=reverse("finance_exports:sheet_detail", args=[sheet.pk]) + "?next=inbox",
        )
        for sheet in sheets.order_by("business_date", "id")[:50]
    ]


def finance_dashboard(user, now: datetime) -> dict | None:
    """Finance's dashboard panel (issue 13): today's sheets with their status, the failed
    builds of the last 7 days with the reason, and the latest 20 downloads (who, which,
    when), and ``may_see`` (False: the user holds the permission but not every shop, and the
    panel explains that instead of showing empty lists). None for a user without the
    permission to view sheets."""
    if not user.has_perm("finance_exports.view_sheet"):
        return None
    sheets = visible_sheets(user)
    today = timezone.localdate(now)
    return {
        "template": "finance_exports/_dashboard.html",
        "context": {
            # Empty lists would read "nothing failed": the panel says why there is nothing.
            "may_see": may_see_sheets(user),
            "today": today,
            "today_sheets": list(
                sheets.filter(business_date=today).select_related("approved_by").order_by("kind")
            ),
            "failed": list(
                sheets.filter(
                    status=Sheet.Status.FAILED, business_date__gte=today - timedelta(days=7)
                ).order_by("-business_date", "kind")
            ),
            "downloads": list(
                SheetDownload.objects.filter(sheet__in=sheets)
                .select_related("sheet", "user")
                .order_by("-downloaded_at", "-id")[:20]
            ),
        },
    }
