"""The supervisor's inbox (主管待办, issue 13 section 1): what waits for a supervisor, oldest
first, with its age and a one-click way to act; and the decision on an escalation."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tickets.forms import EscalationDecisionForm
from tickets.selectors_inbox import (
    inbox_kinds,
    inbox_read,
    overdue_and_stale_by_assignee,
    visible_escalations,
)
from tickets.services import DeskError
from tickets.services.escalations import escalation_decide
from tickets.views.actions import back_to, form_error


def inbox_context(user, now=None, *, kind: str | None = None, page: int = 1) -> dict:
    """The inbox's items (``inbox``), how many wait of each kind (``inbox_page``:
    ``selectors_inbox.InboxPage``) and the escalation decisions' choices, for the inbox page
    and the supervisor's dashboard (each adds the per-agent table itself:
    ``overdue_and_stale_by_assignee``). ``kind`` and ``page``: one kind's page of items."""
    now = now or timezone.now()
    read = inbox_read(user, now, kind=kind, page=page)
    return {
        "now": now,
        "inbox": read.items,
        "inbox_page": read,
        "decisions": EscalationDecisionForm.base_fields["decision"].choices,
    }


@require_GET
@permission_required("tickets.decide_escalation", raise_exception=True)
def inbox(request):
    """The inbox; ``?kind=escalation`` (any kind of ``inbox_kinds``) lists every item of that
    kind, ``PER_KIND`` a page (``&page=2``): where "showing 50 of N" leads. An unknown kind
    or page number shows the whole inbox or the nearest page."""
    now = timezone.now()
    kind = request.GET.get("kind")
    kind = kind if kind in inbox_kinds() else None
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 1
    context = inbox_context(request.user, now, kind=kind, page=page)
    context["by_agent"] = overdue_and_stale_by_assignee(request.user, now)
    return render(request, "tickets/inbox.html", context)


@require_POST
@permission_required("tickets.decide_escalation", raise_exception=True)
def escalation_decide_view(request, pk):
    """Decides one escalation of a ticket the supervisor may see (another shop's: 404), then
    goes back to the page named by ``next`` (``back_to``: the dashboard), else the inbox."""
    escalation = get_object_or_404(visible_escalations(request.user), pk=pk)
    form = EscalationDecisionForm(request.POST)
    try:
        if not form.is_valid():
            raise form_error(form)
        decided = escalation_decide(
            actor=request.user,
            escalation=escalation,
            decision=form.cleaned_data["decision"],
            note=form.cleaned_data["note"],
        )
    except DeskError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(no)s：%(what)s，已通知客服。")
            % {"no": decided.ticket.number, "what": decided.get_decision_display()},
        )
    return redirect(back_to(request) or "tickets:inbox")
