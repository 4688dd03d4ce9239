"""The shape every "do something to this row" view shares on the desk's pages."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tickets.services import DeskError
from tickets.text import plain_int


def post_action(perm: str, loader, url_name: str, *, anchor: str = "", with_pk: bool = True):
    """A POST-only view on a row the user may see (``loader(user)`` is the permitted
    queryset, so another shop's row is a 404): runs the action, shows its message or the
    DeskError's, and goes back to ``url_name`` (with the row's pk and ``anchor``)."""

    def decorate(action):
        @require_POST
        @permission_required(perm, raise_exception=True)
        @wraps(action)
        def view(request, pk, *args, **kwargs):
            obj = get_object_or_404(loader(request.user), pk=pk)
            try:
                result = action(request, obj, *args, **kwargs)
            except DeskError as exc:
                messages.error(request, exc.message)
            else:
                if hasattr(result, "status_code"):
                    return result
                if result:
                    messages.success(request, result)
            back = back_to(request)
            if back:
                return redirect(back)
            url = reverse(url_name, args=[obj.pk]) if with_pk else reverse(url_name)
            return redirect(url + anchor)

        return view

    return decorate


# Pages an action may send the user back to instead of its own (``next`` in the POST), by
# name: one-click buttons in the supervisor's inbox come back to the inbox, those of the
# inbox's rows on the dashboard to the dashboard.
BACK_TO = {"inbox": "tickets:inbox", "dashboard": "tickets:dashboard"}


def back_to(request) -> str | None:
    """The URL of the page named by the POST's ``next`` (one of ``BACK_TO``), else None; never
    a URL the client wrote."""
    name = BACK_TO.get(request.POST.get("next", ""))
    return reverse(name) if name else None


def back_name(value: str) -> str:
    """``value`` (a page's ``?next=``, to be posted again by its forms) when it names one of
    ``BACK_TO``, else ""."""
    return value if value in BACK_TO else ""


def form_error(form) -> DeskError:
    """A form's errors as one DeskError message, for actions that answer with a message."""
    errors = "；".join(str(e) for errors in form.errors.values() for e in errors)
    return DeskError(errors or _("提交的内容有误。"))


def assignee_from_post(request):
    """The staff member an "assign" form chose: ``me``, nobody (back to the queue: ""), or an
    active user's id. Whether that person may take the work is the service's rule; this only
    reads the choice. Raises ``DeskError`` for an id that is no active user."""
    from tickets.models import User

    choice = request.POST.get("assignee", "")
    if choice == "me":
        return request.user
    if choice == "":
        return None
    assignee = User.objects.filter(pk=plain_int(choice) or 0, is_active=True).first()
    if assignee is None:
        raise DeskError(_("没有这个员工。"))
    return assignee


def reverse_entry_from_post(request, entries, entry_pk):
    """Reverses the ledger entry ``entry_pk`` found among ``entries`` (the permitted rows of
    the page's object, so another's entry is a 404) with the posted reason and one-time key;
    returns the message for the page."""
    from django.shortcuts import get_object_or_404

    from tickets.forms import ReverseForm
    from tickets.services.ledger import ledger_reverse, submission_key_read

    entry = get_object_or_404(entries, pk=entry_pk)
    form = ReverseForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    reversal = ledger_reverse(
        actor=request.user,
        entry=entry,
        reason=form.cleaned_data["reason"],
        idempotency_key=submission_key_read(request.user, form.cleaned_data["submission"]),
    )
    return _("已冲销 ¥%(amount)s。") % {"amount": reversal.amount}


def ledger_record_from_form(request, form, *, order, ticket=None) -> str:
    """Records the money a bound ``LedgerForm`` holds on ``order`` (and ``ticket``) through
    ``ledger_record``, with the form's one-time key (the same submission twice makes one
    entry); returns the message for the page. Raises ``DeskError`` for an invalid form or a
    refused entry. The ticket page's money form and the unpacking screen's postage use it."""
    from tickets.services.ledger import ledger_record, submission_key_read

    if not form.is_valid():
        raise form_error(form)
    data = form.cleaned_data
    entry = ledger_record(
        actor=request.user,
        order=order,
        ticket=ticket,
        kind=data["kind"],
        amount=data["amount"],
        payment_method=data["payment_method"],
        note=data["note"],
        idempotency_key=submission_key_read(request.user, data["submission"]),
    )
    if entry.requires_approval and not hasattr(entry, "approval"):
        return _("已登记 ¥%(amount)s，超过审批额度，主管批准后生效。") % {"amount": entry.amount}
    return _("已登记%(kind)s ¥%(amount)s。") % {
        "kind": entry.get_kind_display(),
        "amount": entry.amount,
    }
