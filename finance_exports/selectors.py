"""Reads: which sheets a user may see, and which sheets are due but missing."""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Max, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from finance_exports.models import Sheet, SheetDownload
from tickets.inbox import InboxItem
from tickets.roles import user_roles


def visible_sheets(user) -> QuerySet[Sheet]:
    """Sheets cover every shop, so only staff who see every shop may see them, and only with
    the role's permission to view sheets (finance and supervisors)."""
    if not user_roles(user) or not user.has_perm("finance_exports.view_sheet"):
        return Sheet.objects.none()
    if not (user.is_superuser or user.all_shops):
        return Sheet.objects.none()
    return Sheet.objects.all()


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
    waiting since they were ready; none for a user who may not sign."""
    if not user.has_perm("finance_exports.approve_sheet"):
        return []
    sheets = visible_sheets(user).filter(
        kind=Sheet.Kind.EXCHANGES, status=Sheet.Status.AWAITING_APPROVAL
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
    when). None for a user who may not see sheets."""
    if not user.has_perm("finance_exports.view_sheet"):
        return None
    sheets = visible_sheets(user)
    today = timezone.localdate(now)
    return {
        "template": "finance_exports/_dashboard.html",
        "context": {
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
