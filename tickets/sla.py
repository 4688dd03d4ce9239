"""Service levels: when a ticket must first be answered and when it must be resolved."""

from datetime import datetime, timedelta

from django.conf import settings

from .models import Ticket


def sla_due_times(opened_at: datetime, reason: str) -> tuple[datetime, datetime]:
    """(first response due, resolution due) for a ticket opened at ``opened_at``.

    A reply is due within DESK_FIRST_RESPONSE_MINUTES; a logistics problem is resolved
    within DESK_LOGISTICS_RESOLUTION_HOURS, anything else within DESK_RESOLUTION_HOURS.
    """
    first = opened_at + timedelta(minutes=settings.DESK_FIRST_RESPONSE_MINUTES)
    hours = (
        settings.DESK_LOGISTICS_RESOLUTION_HOURS
        if reason == Ticket.Reason.LOGISTICS
        else settings.DESK_RESOLUTION_HOURS
    )
    return first, max(first, opened_at + timedelta(hours=hours))
