"""The ticket timeline's one writer. Every service that changes a ticket records it here."""

from tickets.models import Ticket, TicketEvent, User
from tickets.timeline_lines import line_stored


def timeline_write(
    *,
    ticket: Ticket,
    actor: User | None,
    kind: str,
    message: str = "",
    from_status: str = "",
    to_status: str = "",
    submission: str | None = None,
    ticket_saved: bool = False,
    line: tuple[str, dict] | None = None,
) -> TicketEvent:
    """Appends one line to ``ticket``'s timeline: who (``actor``; None for the desk itself, a
    scheduled task or an import), what (``kind``, one of ``TicketEvent.Kind``), and the words
    shown; ``submission``, the bulk form it came from; ``line``, a line the desk words
    itself as (key, parameters) of ``tickets.timeline_lines``, said in each reader's language
    (``message`` then holds it in the default language; ``KeyError``/``ValueError`` when it
    cannot be said). Timeline rows are append-only (DOMAIN.md "Every ticket keeps a
    timeline").

    The ticket's ``updated_at`` becomes the line's time (one UPDATE, in the caller's
    transaction; ``ticket`` in memory too): a new line is a change of the ticket, so a note,
    a refund's news or a promise reaches a sync job reading ``/api/v1/tickets/changes/``, and
    the list's "recently updated" sort and date filter count it (issue 16 third review 3).
    Nothing reads ``updated_at`` as "a field changed": staleness is ``status_changed_at``.

    ``ticket_saved``: the caller has just saved ``ticket`` whole (``save()`` with no
    ``update_fields``, which stamps ``updated_at``) in this transaction: the line takes that
    ``updated_at`` and the ticket is not written a second time (a status change, issue 14:
    each UPDATE of a ticket row enters every one of its indexes)."""
    params = None
    if line is not None:
        message, params = line_stored(*line)
    event = TicketEvent.objects.create(
        ticket=ticket,
        actor=actor,
        kind=kind,
        message=message,
        params=params,
        from_status=from_status,
        to_status=to_status,
        submission=submission,
        **({"created_at": ticket.updated_at} if ticket_saved else {}),
    )
    if ticket_saved:
        return event
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=event.created_at)
    ticket.updated_at = event.created_at
    return event
