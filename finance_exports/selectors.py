"""Reads: which sheets a user may see, and which sheets are due but missing."""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Max, QuerySet

from finance_exports.models import Sheet
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
