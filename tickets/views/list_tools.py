"""The ticket list's tools: bulk actions on the ticked tickets and saved views.

Both are POSTs that call a service and come back to the list with the filter the agent had
(``filter_query``: the filter's own keys only, so nothing else rides along in the redirect).
Bulk results, one line per ticket, wait in the session for the list to show them once.
"""

import functools

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tickets.filters import TicketFilter, filter_query
from tickets.forms import SavedViewForm, TicketBulkForm
from tickets.models import SavedView, Ticket
from tickets.roles import Role, has_role
from tickets.selectors import saved_views_for, visible_shop_ids
from tickets.services import DeskError
from tickets.services.bulk import (
    BULK_LIMIT,
    BulkAction,
    Outcome,
    bulk_not_found,
    tickets_bulk_change,
)
from tickets.services.ledger import submission_key_issue, submission_key_read
from tickets.services.saved_views import (
    names_a_buyer,
    saved_view_create,
    saved_view_delete,
    saved_view_share,
)
from tickets.text import plain_int
from tickets.views.actions import assignee_from_post
from tickets.workflow import manual_next

BULK_RESULT_KEY = "desk_bulk_result"


def _back_to_list(raw_query: str, *, keep_page: bool = False):
    data = QueryDict(raw_query or "")
    query = filter_query(data)
    page = plain_int(data.get("page"), digits=6)
    if keep_page and page and page > 1:
        query = f"{query}&page={page}" if query else f"page={page}"
    url = reverse("tickets:ticket_list")
    return redirect(f"{url}?{query}" if query else url)


# --- bulk actions ---------------------------------------------------------------------
@require_POST
@permission_required("tickets.change_ticket", raise_exception=True)
def ticket_bulk(request):
    """Takes, assigns, notes or moves the ticked tickets (``ids``), each through its own
    service; the list then shows per ticket what was done or why not. Ids that are not
    numbers, or name tickets the user can't see, are refused per ticket with the same words;
    more than BULK_LIMIT ids, or a bad action, is refused as a whole, changing nothing."""
    form = TicketBulkForm(request.POST)
    raw_query = request.POST.get("query", "")
    raw_ids = list(dict.fromkeys(request.POST.getlist("ids")))  # as posted, each once
    if not form.is_valid():
        messages.error(request, _("批量操作的参数有误，没有做任何改动。"))
        return _back_to_list(raw_query, keep_page=True)
    data = form.cleaned_data
    action = BulkAction(data["action"])
    if len(raw_ids) > BULK_LIMIT:  # before reading them: a hand-made request may send many
        messages.error(
            request,
            _("一次最多处理 %(limit)s 张售后单（这次选了 %(n)s 张），请缩小筛选范围后分批处理。")
            % {"limit": BULK_LIMIT, "n": len(raw_ids)},
        )
        return _back_to_list(raw_query, keep_page=True)
    posted = [(raw, plain_int(raw)) for raw in raw_ids]
    ids = list(dict.fromkeys(pk for _raw, pk in posted if pk is not None))
    by_pk = {}
    if ids or not posted:  # only ids that name nothing: nothing to ask the service
        try:
            assignee = assignee_from_post(request) if action == BulkAction.ASSIGN else None
            submission = (
                submission_key_read(request.user, data["submission"])
                if action == BulkAction.NOTE
                else ""
            )
            changed = tickets_bulk_change(
                actor=request.user,
                ticket_ids=ids,
                action=action,
                assignee=assignee,
                text=data["text"],
                to_status=data["to_status"],
                submission=submission,
            )
        except DeskError as exc:
            messages.error(request, exc.message)
            return _back_to_list(raw_query, keep_page=True)
        by_pk = dict(zip(ids, changed, strict=True))  # the service answers each id in turn
    results = []
    for raw, pk in posted:  # in the order posted; '7' and '007' are one ticket, said once
        if pk is None:
            results.append(bulk_not_found(_shown_id(raw)))
        elif pk in by_pk:
            results.append(by_pk.pop(pk))
    _report(request, action, results)
    return _back_to_list(raw_query, keep_page=True)


ID_SHOWN_MAX = 24


def _shown_id(raw: str) -> str:
    """A posted id that names no ticket, as posted: cut to ID_SHOWN_MAX characters with an
    ellipsis when longer, never silently."""
    return raw if len(raw) <= ID_SHOWN_MAX else raw[: ID_SHOWN_MAX - 1] + "…"


def _report(request, action: BulkAction, results) -> None:
    counts = dict.fromkeys(Outcome, 0)
    for result in results:
        counts[result.outcome] += 1
    summary = _(
        "批量%(action)s：%(done)s 张已完成，%(same)s 张无需改动，%(refused)s 张未处理。"
    ) % {
        "action": action.label,
        "done": counts[Outcome.DONE],
        "same": counts[Outcome.UNCHANGED],
        "refused": counts[Outcome.REFUSED],
    }
    if counts[Outcome.REFUSED]:
        messages.warning(request, summary)
    else:
        messages.success(request, summary)
    request.session[BULK_RESULT_KEY] = {
        "action": str(action.label),
        "results": [r.as_dict() for r in results],
    }


# --- saved views ----------------------------------------------------------------------
def _own_views(user):
    """Only the owner's views: someone else's, shared or not, is a 404 here."""
    return SavedView.objects.filter(owner=user)


@require_POST
@permission_required("tickets.add_savedview", raise_exception=True)
def saved_view_create_view(request):
    """Saves the list's current filter (``query``) under a name; back to that filter."""
    form = SavedViewForm(request.POST)
    raw_query = request.POST.get("query", "")
    if not form.is_valid():
        errors = "；".join(str(e) for errors in form.errors.values() for e in errors)
        messages.error(request, errors)
        return _back_to_list(raw_query)
    data = form.cleaned_data
    query = filter_query(QueryDict(data["query"]))
    refusal = _query_refusal(request, query)
    if refusal:
        messages.error(request, refusal)
        return _back_to_list(raw_query)
    try:
        view = saved_view_create(
            actor=request.user,
            name=data["name"],
            query=query,
            shared=data["shared"],
        )
    except DeskError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已保存视图“%(name)s”。") % {"name": view.name})
    return _back_to_list(raw_query)


def _query_refusal(request, query: str) -> str | None:
    """Why the list's filter ``query`` can't be saved (a bad date, a shop the user doesn't
    serve: the list itself would refuse it), naming the field; None when it can."""
    filterset = TicketFilter(QueryDict(query), queryset=Ticket.objects.none(), request=request)
    if filterset.is_valid():
        return None
    fields = filterset.form.fields
    problems = "；".join(
        _("“%(field)s”：%(error)s")
        % {"field": fields[name].label if name in fields else name, "error": " ".join(errors)}
        for name, errors in filterset.form.errors.items()
    )
    return _("视图没有保存，筛选条件有误：%(problems)s") % {"problems": problems}


def _foreign_shop(query: str, shop_ids) -> bool:
    """Whether the saved ``query`` filters by a shop not among ``shop_ids``."""
    return any(
        plain_int(value) not in shop_ids for value in QueryDict(query).getlist("shop") if value
    )


def _foreign_assignee(query: str, assignees) -> bool:
    """Whether the saved ``query`` filters by a handler not among ``assignees`` (the keys the
    user's own handler filter offers: "me", "none", the ids of the staff of their shops)."""
    return any(value not in assignees for value in QueryDict(query).getlist("assignee") if value)


def _offered_views(request, current_query: str, assignees):
    """The saved views the list offers, and the pk of the one applied (or None).

    A view shared by someone else that names a shop the user doesn't serve, or a handler the
    user's handler filter doesn't offer, is not offered (it would only show an error); the
    user's own such view is shown with a note. The applied view is the one whose query
    (normalised by ``filter_query``) is the list's current filter: the one the link named
    (``view``) when several have that query."""
    user = request.user
    shops = set(visible_shop_ids(user))
    views, matching = [], []
    for view in saved_views_for(user):
        view.foreign_shop = _foreign_shop(view.query, shops)
        view.foreign_assignee = _foreign_assignee(view.query, assignees)
        theirs = view.owner_id != user.pk
        if theirs and (view.foreign_shop or view.foreign_assignee or names_a_buyer(view.query)):
            continue
        views.append(view)
        if filter_query(QueryDict(view.query)) == current_query:
            matching.append(view.pk)
    named = plain_int(request.GET.get("view"))
    if named in matching:
        return views, named
    return views, matching[0] if len(matching) == 1 else None


@require_POST
@permission_required("tickets.change_savedview", raise_exception=True)
def saved_view_share_view(request, pk):
    view = get_object_or_404(_own_views(request.user), pk=pk)
    shared = request.POST.get("shared") == "1"
    try:
        saved_view_share(actor=request.user, view=view, shared=shared)
    except DeskError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            (_("视图“%(name)s”已共享给团队。") if shared else _("视图“%(name)s”已取消共享。"))
            % {"name": view.name},
        )
    return _back_to_list(request.POST.get("query", ""))


@require_POST
@permission_required("tickets.delete_savedview", raise_exception=True)
def saved_view_delete_view(request, pk):
    view = get_object_or_404(_own_views(request.user), pk=pk)
    name = view.name
    try:
        saved_view_delete(actor=request.user, view=view)
    except DeskError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除视图“%(name)s”。") % {"name": name})
    return _back_to_list(request.POST.get("query", ""))


# --- what the list page shows of these tools ------------------------------------------
@functools.cache
def _move_targets() -> tuple[tuple[str, str], ...]:
    """Every status some ticket can be moved to by hand (``manual_next``), in status order:
    the bulk bar's choices. Whether a ticket may go there is decided per ticket. The same
    for every request of a process (the labels are lazy, translated when shown)."""
    reachable = {
        target
        for kind in Ticket.Kind.values
        for status in Ticket.Status.values
        for target in manual_next(kind, status)
    }
    return tuple((s.value, s.label) for s in Ticket.Status if s.value in reachable)


def list_tools_context(request, filterset) -> dict:
    """The saved views, the bulk bar's choices and the last bulk result, for the list page."""
    user = request.user
    can_bulk = user.has_perm("tickets.change_ticket")
    staff = []
    if can_bulk and has_role(user, Role.SUPERVISOR):
        staff = [c for c in filterset.filters["assignee"].extra["choices"] if c[0] != "none"]
    current_query = filter_query(request.GET)
    assignees = {key for key, _label in filterset.filters["assignee"].extra["choices"]}
    views, active_view = _offered_views(request, current_query, assignees)
    return {
        "saved_views": views,
        "active_view": active_view,
        "current_query": current_query,
        "can_bulk": can_bulk,
        "bulk_key": submission_key_issue(user) if can_bulk else "",
        "bulk_staff": staff,
        "move_targets": _move_targets() if can_bulk else [],
        "bulk_limit": BULK_LIMIT,
        "bulk_result": request.session.pop(BULK_RESULT_KEY, None),
        "can_share_views": has_role(user, Role.SUPERVISOR),
        "stale_after_days": settings.DESK_STALE_AFTER_DAYS,
    }
