"""Service levels: when a ticket must first be answered and when it must be resolved, and the
clock that measures the shop's work, not the buyer's (issue 13 section 3).

The clock starts when the buyer asked (``Ticket.clock_started_at``: the opening, or the
refund export's 退款申请时间), runs only in the shop's business hours
(``Shop.business_hours``, default ``DESK_BUSINESS_HOURS`` 09:00-24:00 Beijing time) and
stands still while the ticket waits for the buyer (``awaiting_buyer``) or for the return
parcel (status awaiting_return). The due times are stored: pausing changes no due time
(``overdue_q`` looks at the pause), resuming moves each one the pause found still ahead
forward by the business time paused (one already missed stays missed), so "overdue" stays an
indexed comparison. Services call ``clock_stop`` / ``clock_restart``
on a locked ticket and save the fields they return.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from .business_hours import (
    BusinessHours,
    add_business_time,
    business_time_between,
    default_business_hours,
)
from .models import Ticket


def sla_due_times(
    started_at: datetime, reason: str, hours: BusinessHours | None = None
) -> tuple[datetime, datetime]:
    """(first response due, resolution due), aware, for a clock started at ``started_at``
    (aware) in ``hours`` (default: the desk's ``DESK_BUSINESS_HOURS``).

    DOMAIN.md "Tickets" (service levels): a reply is due within DESK_FIRST_RESPONSE_MINUTES
    (5) of business time; a logistics problem is resolved within
    DESK_LOGISTICS_RESOLUTION_HOURS (48), anything else within DESK_RESOLUTION_HOURS (72),
    both business hours. A ticket opened after hours is due from the next opening.
    """
    hours = hours or default_business_hours()
    first = add_business_time(
        started_at, timedelta(minutes=settings.DESK_FIRST_RESPONSE_MINUTES), hours
    )
    resolve_hours = (
        settings.DESK_LOGISTICS_RESOLUTION_HOURS
        if reason == Ticket.Reason.LOGISTICS
        else settings.DESK_RESOLUTION_HOURS
    )
    resolution = add_business_time(started_at, timedelta(hours=resolve_hours), hours)
    return first, max(first, resolution)


def clock_stop(ticket: Ticket, now: datetime) -> list[str]:
    """Stops the ticket's clock at ``now`` (aware) unless it already stands; the fields
    changed, for ``save(update_fields=...)``. The due times stay: ``overdue_q`` reads the
    pause."""
    if ticket.paused_at is not None:
        return []
    ticket.paused_at = now
    return ["paused_at"]


def due_after_pause(
    due: datetime, paused_at: datetime, paused: timedelta, hours: BusinessHours
) -> datetime:
    """Where a due time (aware) stands once a pause that began at ``paused_at`` and lasted
    ``paused`` of business time (in ``hours``) is over: moved forward by it when it had not
    passed when the pause began, so the shop keeps the time it had left; left where it was
    when it had (a due already missed stays missed: the pause is the buyer's or the courier's
    time, not a second chance). The same boundary as ``overdue_q``: a due time before the
    pause began is late while the clock stands."""
    return due if due < paused_at else add_business_time(due, paused, hours)


def clock_restart(ticket: Ticket, now: datetime) -> list[str]:
    """Restarts a paused clock at ``now`` (aware): the business time paused (whole seconds,
    in the shop's hours) is added to ``paused_seconds`` and each due time the pause found
    still ahead moves forward by it (``due_after_pause``), so the time the shop had left when
    the pause began is the time it has left now; a due already missed when the pause began
    stays where it was, so the ticket stays overdue in the list, the dashboard and the
    statistics (issue 13 second review). The fields changed; none when the clock was
    running."""
    if ticket.paused_at is None:
        return []
    hours = ticket.shop.business_hours
    paused = business_time_between(ticket.paused_at, now, hours)
    paused = timedelta(seconds=int(paused.total_seconds()))
    ticket.first_response_due = due_after_pause(
        ticket.first_response_due, ticket.paused_at, paused, hours
    )
    ticket.resolution_due = due_after_pause(ticket.resolution_due, ticket.paused_at, paused, hours)
    ticket.paused_seconds += int(paused.total_seconds())
    ticket.paused_at = None
    return ["paused_at", "paused_seconds", "first_response_due", "resolution_due"]


def paused_time(ticket: Ticket, now: datetime) -> timedelta:
    """Business time the ticket's clock has stood still, the current pause up to ``now``
    (aware) included: what the ticket page shows."""
    total = timedelta(seconds=ticket.paused_seconds)
    if ticket.paused_at is not None:
        total += business_time_between(ticket.paused_at, now, ticket.shop.business_hours)
    return total


@dataclass(frozen=True)
class ClockSummary:
    """What the ticket page says about the service-level clock at ``now``."""

    started_at: datetime
    hours: str  # "09:00-24:00"
    waiting_for: str  # "buyer", "return" or "" (the clock runs, or the ticket is finished)
    paused_since: datetime | None
    paused: timedelta  # business time paused in all, the current pause included
    first_response_late: bool  # the reply's due passed while the clock ran, no reply yet
    resolution_late: bool
    # A finished ticket (closed, cancelled): its clock has stopped for good at ``finished_at``
    # and nothing is due any more. ``*_met``: whether the reply / the resolution came by its
    # due time; None when it never came (a ticket cancelled unanswered or unresolved) or the
    # ticket is still open.
    finished_at: datetime | None = None
    first_response_met: bool | None = None
    resolution_met: bool | None = None

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    @property
    def paused_hours(self) -> int:
        return int(self.paused.total_seconds()) // 3600

    @property
    def paused_minutes(self) -> int:
        return int(self.paused.total_seconds()) // 60 % 60


def _met(done: datetime | None, due: datetime) -> bool | None:
    return None if done is None else done <= due


def clock_summary(ticket: Ticket, now: datetime) -> ClockSummary:
    """The clock of ``ticket`` at ``now`` (aware), read by the rule of ``overdue_q``: a due
    time is late only if it passed while the clock ran and the ticket is still open. A
    finished ticket's clock stopped when it was closed or cancelled (``closed_at``; its last
    status change for a ticket finished before that was kept): nothing of it runs or is late,
    and whether the reply and the resolution came in time is told from the stored times (the
    due times already carry every pause)."""
    waiting_for = "buyer" if ticket.awaiting_buyer else "return" if ticket.is_paused else ""
    overdue = ticket.is_overdue(now)

    def late(done, due):
        return overdue and done is None and due < now and (ticket.paused_at or now) > due

    finished = {}
    if not ticket.is_open:
        finished = {
            "finished_at": ticket.closed_at or ticket.status_changed_at,
            "first_response_met": _met(ticket.first_responded_at, ticket.first_response_due),
            "resolution_met": _met(ticket.resolved_at, ticket.resolution_due),
        }
    return ClockSummary(
        started_at=ticket.clock_started_at,
        hours=ticket.shop.business_hours.label(),
        waiting_for=waiting_for,
        paused_since=ticket.paused_at,
        paused=paused_time(ticket, now),
        first_response_late=late(ticket.first_responded_at, ticket.first_response_due),
        resolution_late=late(ticket.resolved_at, ticket.resolution_due),
        **finished,
    )
