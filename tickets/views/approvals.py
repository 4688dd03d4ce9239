"""Supervisors decide compensation above the threshold."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tickets.forms import DecisionForm
from tickets.selectors import visible_ledger
from tickets.selectors_inbox import compensation_waiting
from tickets.services import DeskError
from tickets.services.ledger import compensation_decide
from tickets.views.actions import back_to, form_error


@require_GET
@permission_required("tickets.approve_compensation", raise_exception=True)
def approval_list(request):
    entries = (
        compensation_waiting(request.user)
        .select_related("order", "ticket", "shop", "recorded_by")
        .order_by("recorded_at")
    )
    return render(request, "tickets/approval_list.html", {"entries": entries[:200]})


@require_POST
@permission_required("tickets.approve_compensation", raise_exception=True)
def approval_decide(request, entry_pk):
    entry = get_object_or_404(visible_ledger(request.user), pk=entry_pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form).message)
        return redirect(back_to(request) or "tickets:approval_list")
    try:
        compensation_decide(
            actor=request.user,
            entry=entry,
            approved=form.cleaned_data["approved"],
            reason=form.cleaned_data["reason"],
        )
    except DeskError as exc:
        messages.error(request, exc.message)
    else:
        verdict = _("已批准") if form.cleaned_data["approved"] else _("已拒绝")
        messages.success(
            request,
            _("%(verdict)s赔偿 ¥%(amount)s。") % {"verdict": verdict, "amount": entry.amount},
        )
    return redirect(back_to(request) or "tickets:approval_list")
