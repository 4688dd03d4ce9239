"""The ticket timeline's one writer. Every service that changes a ticket records it here."""

from tickets.models import Ticket, TicketEvent, User


def timeline_write(
    *,
    ticket: Ticket,
    actor: User | None,
    kind: str,
    message: str = "",
    from_status: str = "",
    to_status: str = "",
    submission: str | None = None,
) -> TicketEvent:
    """Appends one line to ``ticket``'s timeline: who (``actor``; None for the desk itself, a
    scheduled task or an import), what (``kind``, one of ``TicketEvent.Kind``), and the words
    shown; ``submission``, the bulk form it came from. Timeline rows are append-only
    (DOMAIN.md "Every ticket keeps a timeline")."""
    return TicketEvent.objects.create(
        ticket=ticket,
        actor=actor,
        kind=kind,
        message=message,
        from_status=from_status,
        to_status=to_status,
        submission=submission,
    )
