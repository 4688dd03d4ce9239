"""A supervisor's decision on an escalated ticket (issue 13 section 1). The request itself is
raised by ``tickets.services.tickets.ticket_escalate``."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.models import Escalation, Notification, Ticket, TicketEvent, User
from tickets.text import meaningful_text

from . import DeskError, require_perm
from .notifications import notifications_handled, notify, ticket_card, ticket_url
from .tickets import ticket_assign
from .timeline import timeline_write

Decision = Escalation.Decision

# Decisions that tell the agent something must say what (a take-over speaks for itself).
_NEEDS_NOTE = {Decision.INSTRUCT, Decision.EXCEPTION, Decision.RETURN}


@transaction.atomic
def escalation_decide(
    *, actor: User, escalation: Escalation, decision: str, note: str = ""
) -> Escalation:
    """Decides an open escalation once: ``decision`` one of ``Escalation.Decision``
    (instruct the agent, approve an exception, take the ticket over, return it), ``note``
    what to do, what is approved or why it goes back (required except for a take-over, at
    most 1,000 characters kept). Closes the escalation, clears ``Ticket.escalated``, writes the
    decision on the ticket's timeline (``timeline_write``), assigns the ticket to ``actor`` for
    a take-over (``ticket_assign``, so the supervisor must serve the shop), marks every
    supervisor's "escalation raised" notification of the ticket read, and notifies the agent
    who raised it and the ticket's assignee (not ``actor``). Two supervisors at once decide
    once: the row is locked and re-read. Nobody decides an escalation they raised, whatever
    their role: another supervisor does (issue 13 second review, the second-person rule of
    ``compensation_decide``; every door - the inbox, the dashboard, a POST made by hand -
    comes here). Raises ``DeskError`` (decided already or closed with its finished ticket,
    raised by ``actor``, unknown decision, missing note, a finished ticket taken over) or
    ``PermissionDenied`` without
    ``tickets.decide_escalation`` (issue 13: "the supervisor decides ... the decision is on the
    timeline, the escalation closes, and the agent is told")."""
    require_perm(actor, "tickets.decide_escalation")
    if decision not in dict(Escalation.SUPERVISOR_DECISIONS):
        raise DeskError(_("请选择一种决定。"))
    note = meaningful_text(note)[:1000]
    if decision in _NEEDS_NOTE and not note:
        raise DeskError(_("请写明给客服的说明（指示、批准的例外或退回的原因）。"))
    Ticket.objects.select_for_update().filter(pk=escalation.ticket_id).exists()
    escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
    if escalation.decision == Decision.TICKET_FINISHED:
        raise DeskError(_("售后单已完结，这次升级已自动关闭，无需再决定。"))
    if not escalation.is_open:
        raise DeskError(
            _("这次升级已由 %(name)s 于 %(at)s 决定（%(what)s）。")
            % {
                "name": escalation.decided_by,
                "at": f"{timezone.localtime(escalation.decided_at):%Y-%m-%d %H:%M}",
                "what": escalation.get_decision_display(),
            }
        )
    if escalation.raised_by_id == actor.pk:
        raise DeskError(_("这次升级是你提出的，不能自己决定，需由另一位主管决定。"))
    ticket = Ticket.objects.select_related("shop", "assignee").get(pk=escalation.ticket_id)
    if decision == Decision.TAKE_OVER:
        ticket = ticket_assign(actor=actor, ticket=ticket, assignee=actor)
    escalation.decision = decision
    escalation.decision_note = note
    escalation.decided_by = actor
    escalation.decided_at = timezone.now()
    escalation.save()
    ticket.escalated = False
    ticket.save(update_fields=["escalated", "updated_at"])
    timeline_write(
        ticket=ticket,
        actor=actor,
        kind=TicketEvent.Kind.ESCALATED,
        line=("escalation_decided", {"decision": str(decision), "note": note or ""}),
    )
    # The note stays on the timeline: it is what a person typed (it may quote the buyer).
    # The supervisors' "decide this" rows are done for every supervisor, not only this one.
    notifications_handled(kind=Notification.Kind.ESCALATION_RAISED, ticket=ticket)
    notify(
        recipients=[escalation.raised_by, ticket.assignee],
        actor=actor,
        kind=Notification.Kind.ESCALATION_DECIDED,
        params={"no": ticket.number, "decision": decision},
        url=ticket_url(ticket) + "#escalations",
        shop=ticket.shop,
        ticket=ticket,
        card=ticket_card(Notification.Kind.ESCALATION_DECIDED, ticket, Decision(decision).label),
    )
    return escalation
