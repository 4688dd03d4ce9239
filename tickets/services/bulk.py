"""Working many tickets at once from the ticket list (批量操作, issue 11 "The ticket list").

Nothing here is a rule of its own. Each ticket is changed by the service that changes it on its
own page (``ticket_assign``, ``ticket_note``, ``ticket_transition``), in its own transaction
under the ticket's row lock, so a refusal on one ticket leaves the others done; a refusal is
that service's reason (or the selector's), reported for that ticket. Tickets the user may not
see are refused with the same words as tickets that don't exist, so nothing leaks.

The same request twice does no harm: a ticket already taken, assigned or at the status asked
is reported unchanged, and a note already written from the same form (the note carries a
digest of the form's signed one-time key) is not written again. The same words written by
hand on the ticket page, or from another form, are a note of their own.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tickets.models import Ticket, TicketEvent, User
from tickets.roles import Role, has_role
from tickets.selectors import can_work_on, visible_tickets
from tickets.text import meaningful_text

from . import DeskError, require_perm
from .tickets import ticket_assign, ticket_note, ticket_transition

# The most tickets one request may change: a page holds 25; more is a hand-made request.
BULK_LIMIT = 200
# Moves that end a ticket for good: done in bulk only with a reason, after a confirmation.
FINAL_NEEDS_REASON = (Ticket.Status.CANCELLED,)


class BulkAction(models.TextChoices):
    TAKE = "take", gettext_lazy("认领")
    ASSIGN = "assign", gettext_lazy("分配")
    NOTE = "note", gettext_lazy("添加备注")
    MOVE = "move", gettext_lazy("改状态")


class Outcome(StrEnum):
    DONE = "done"
    UNCHANGED = "unchanged"  # already so: nothing to do (a repeated request)
    REFUSED = "refused"


@dataclass(frozen=True)
class BulkResult:
    """What happened to one ticket of the request: ``label`` is its number, or the id as
    posted when no such ticket is visible; ``ticket_id`` None when there is nothing to link."""

    label: str
    ticket_id: int | None
    outcome: Outcome
    message: str

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            "ticket_id": self.ticket_id,
            "outcome": str(self.outcome),
            "message": str(self.message),
        }


# --- the action -----------------------------------------------------------------------
def tickets_bulk_change(
    *,
    actor: User,
    ticket_ids: list[int],
    action: BulkAction,
    assignee: User | None = None,
    text: str = "",
    to_status: str = "",
    submission: str = "",
) -> list[BulkResult]:
    """Applies ``action`` to each ticket of ``ticket_ids`` (in that order, once each) and
    says per ticket what was done or why not.

    ``take``: the actor takes it (``ticket_assign``). ``assign``: to ``assignee``, supervisors
    only (the assignee must serve each ticket's shop). ``note``: ``text`` on the timeline
    (``ticket_note``), carrying ``submission`` (the form's one-time key, read by
    ``submission_key_read``): a ticket that already has a note from that form gets no second
    one. ``move``: to ``to_status``
    where the ticket's workflow allows it (``ticket_transition``, with ``text`` as its note);
    moves the exchange list makes, or that need more input (a tracking number to ship, a
    reason to end with a promise unkept), are refused for that ticket with the service's reason.

    Raises ``DeskError`` (nothing changed) when the request as a whole can't be done: more
    than ``BULK_LIMIT`` tickets, an agent assigning, an empty note, no status or assignee, a
    cancel (``FINAL_NEEDS_REASON``) without a reason in ``text``.
    ``PermissionDenied`` without ``tickets.change_ticket``."""
    require_perm(actor, "tickets.change_ticket")
    ticket_ids = list(dict.fromkeys(ticket_ids))
    if not ticket_ids:
        raise DeskError(_("请先勾选要处理的售后单。"))
    if len(ticket_ids) > BULK_LIMIT:
        raise DeskError(
            _("一次最多处理 %(limit)s 张售后单（这次选了 %(n)s 张），请缩小筛选范围后分批处理。")
            % {"limit": BULK_LIMIT, "n": len(ticket_ids)}
        )
    text = meaningful_text(text)
    if action == BulkAction.ASSIGN:
        if not has_role(actor, Role.SUPERVISOR):
            raise DeskError(_("只有主管可以把售后单分配给别人；你可以认领给自己。"))
        if assignee is None:
            raise DeskError(_("请选择处理人。"))
    if action == BulkAction.NOTE:
        if not text:
            raise DeskError(_("备注不能为空。"))
        if not submission:
            raise DeskError(_("表单已过期或无效，请刷新页面后重新提交。"))
    if action == BulkAction.MOVE and to_status not in Ticket.Status.values:
        raise DeskError(_("请选择要改成的状态。"))
    if action == BulkAction.MOVE and to_status in FINAL_NEEDS_REASON and not text:
        # Ending many tickets at once can't be undone: the reason goes on each timeline.
        raise DeskError(
            _(
                "批量改为“%(status)s”必须在“备注”框写明原因（会记在每张售后单上），这次没有做任何改动。"
            )
            % {"status": Ticket.Status(to_status).label}
        )

    found = {t.pk: t for t in visible_tickets(actor).filter(pk__in=ticket_ids)}
    results = []
    for pk in ticket_ids:
        ticket = found.get(pk)
        if ticket is None:
            results.append(BulkResult(f"#{pk}", None, Outcome.REFUSED, _not_found()))
            continue
        if not can_work_on(actor, ticket.shop_id):
            refusal = _("你不负责这家店铺的售后单。")
            results.append(BulkResult(ticket.number, pk, Outcome.REFUSED, refusal))
            continue
        try:
            # The ticket's own transaction: a refusal here undoes this ticket only.
            with transaction.atomic():
                locked = Ticket.objects.select_for_update().get(pk=pk)
                outcome, message = _ACTIONS[action](
                    actor,
                    locked,
                    assignee=assignee,
                    text=text,
                    to_status=to_status,
                    submission=submission,
                )
        except DeskError as exc:
            outcome, message = Outcome.REFUSED, exc.message
        results.append(BulkResult(ticket.number, pk, outcome, message))
    return results


def bulk_not_found(label: str) -> BulkResult:
    """The result for an id that names no ticket (not a number, or out of range): worded as
    for a ticket the user may not see."""
    return BulkResult(label, None, Outcome.REFUSED, _not_found())


def _not_found() -> str:
    return _("没有这张售后单，或你无权处理。")


def _take(actor, ticket, **_unused):
    if ticket.assignee_id == actor.pk:
        return Outcome.UNCHANGED, _("已经是你的售后单。")
    ticket_assign(actor=actor, ticket=ticket, assignee=actor)
    return Outcome.DONE, _("已认领。")


def _assign(actor, ticket, *, assignee, **_unused):
    if ticket.assignee_id == assignee.pk and ticket.is_open:
        return Outcome.UNCHANGED, _("处理人已是 %(name)s。") % {"name": assignee}
    ticket_assign(actor=actor, ticket=ticket, assignee=assignee)
    return Outcome.DONE, _("已分配给 %(name)s。") % {"name": assignee}


def _note(actor, ticket, *, text, submission, **_unused):
    # Under the ticket's row lock: the same form sent twice at once writes one note.
    sent = (
        ticket.events.filter(kind=TicketEvent.Kind.NOTE, actor=actor, submission=submission)
        .values_list("message", flat=True)
        .first()
    )
    if sent is not None and sent == meaningful_text(text):
        return Outcome.UNCHANGED, _("这条备注已经添加过（重复提交），没有再加。")
    if sent is not None:
        # The same form sent again with other words (the browser's Back, then an edit): not
        # a repeat, and not written under a key that already names another note.
        return Outcome.REFUSED, _(
            "这个表单已经提交过一次（加的是另一条备注），这条没有加。请刷新页面后再添加。"
        )
    ticket_note(actor=actor, ticket=ticket, text=text, submission=submission)
    return Outcome.DONE, _("备注已添加。")


def _move(actor, ticket, *, to_status, text, **_unused):
    label = Ticket.Status(to_status).label
    if ticket.status == to_status:
        return Outcome.UNCHANGED, _("已是“%(status)s”。") % {"status": label}
    from_label = ticket.get_status_display()
    ticket_transition(actor=actor, ticket=ticket, to_status=to_status, note=text)
    return Outcome.DONE, _("“%(from)s” → “%(to)s”。") % {"from": from_label, "to": label}


_ACTIONS = {
    BulkAction.TAKE: _take,
    BulkAction.ASSIGN: _assign,
    BulkAction.NOTE: _note,
    BulkAction.MOVE: _move,
}
