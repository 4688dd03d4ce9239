"""The ticket list, opening a ticket, the ticket page and the actions on it.

Every ticket is loaded through ``visible_tickets(request.user)`` and every child (promise,
ledger entry, photo) through its ticket, so another shop's row is a 404. Every change is a
POST that calls one service and comes back to the ticket page with a message.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db import connection
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from aftersales.storage import StoreError, store_open, store_unavailable
from tickets.exports import ticket_list_workbook
from tickets.filters import TicketFilter, search_notice
from tickets.forms import (
    EscalateForm,
    LedgerForm,
    NoteForm,
    PhotoForm,
    PromiseForm,
    TicketOpenForm,
    TransitionForm,
)
from tickets.models import LedgerEntry, QuickReply, Ticket
from tickets.models.tickets import RESPONSIBILITY_BY_REASON
from tickets.money import is_counted, signed_total
from tickets.postage import postage_quote
from tickets.quick_replies import quick_reply_fill
from tickets.roles import Role, has_role
from tickets.selectors import (
    can_work_on,
    order_ledger,
    order_ticket_items,
    page_of,
    search_term,
    staff_for_shops,
    transition_refusal,
    visible_orders,
    visible_tickets,
)
from tickets.selectors_orders import auto_confirm_warning
from tickets.services import DeskError
from tickets.services.ledger import refund_cap, submission_key_issue, submission_key_read
from tickets.services.photos import photo_add_many, photo_clean, photo_count_check
from tickets.services.tickets import (
    ItemRequest,
    PromiseRequest,
    promise_add,
    promise_fulfil,
    ticket_assign,
    ticket_await_buyer,
    ticket_buyer_answered,
    ticket_escalate,
    ticket_note,
    ticket_open,
    ticket_transition,
)
from tickets.sla import clock_summary
from tickets.text import plain_int
from tickets.views.actions import (
    assignee_from_post,
    form_error,
    ledger_record_from_form,
    post_action,
    reverse_entry_from_post,
)
from tickets.views.exchanges import exchange_context
from tickets.views.list_tools import list_tools_context
from tickets.views.parcels import link_parcel_to_new_ticket, parcel_for_new_ticket
from tickets.workflow import manual_next

PAGE_SIZE = 25
EXPORT_LIMIT = 50_000


# --- the list -------------------------------------------------------------------------
# What a list row shows (``desk_rows.ticket_rows``): the ticket, and of its order, shop and
# handler only what the row names. The order's other 32 columns (address, amounts, flags)
# were read and turned into Python for each of the 25 rows (bench/README, issue 11).
LIST_ROW_FIELDS = (
    *(field.name for field in Ticket._meta.concrete_fields),
    "order__order_no",
    "order__buyer_nick",
    "shop__name",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
)


def _filtered(request):
    # A searched list on PostgreSQL checks the shop on the rows the search found
    # (``TicketFilter.fenced``), as it checks its other filters.
    searched = connection.vendor == "postgresql" and bool(search_term(request.GET.get("q")))
    base = visible_tickets(request.user, shop_as_filter=searched)
    base = base.select_related("order", "shop", "assignee")
    return TicketFilter(request.GET, queryset=base, request=request)


@require_GET
@permission_required("tickets.view_ticket", raise_exception=True)
def ticket_list(request):
    """Paged without COUNT(*): one row more than the page tells whether a next page exists."""
    filterset = _filtered(request)
    # A hand-made page=10**30 would overflow the database's OFFSET: six digits at most.
    page = max(1, plain_int(request.GET.get("page"), digits=6) or 1)
    rows = []
    if filterset.is_valid():
        start = (page - 1) * PAGE_SIZE
        rows = page_of(filterset.qs.only(*LIST_ROW_FIELDS), start, start + PAGE_SIZE + 1)
    has_next = len(rows) > PAGE_SIZE
    query = request.GET.copy()
    query.pop("page", None)
    without_buyer = query.copy()
    without_buyer.pop("buyer", None)
    return render(
        request,
        "tickets/ticket_list.html",
        {
            "filter": filterset,
            "tickets": rows[:PAGE_SIZE],
            "page": page,
            "has_next": has_next,
            "has_previous": page > 1,
            "query": query.urlencode(),
            "query_without_buyer": without_buyer.urlencode(),
            "search_notice": search_notice(filterset) if filterset.is_valid() else "",
            "now": timezone.now(),
            **list_tools_context(request, filterset),
        },
    )


@require_GET
@permission_required("tickets.view_ticket", raise_exception=True)
def ticket_export(request):
    """The list as .xlsx with the same filter the user sees (first EXPORT_LIMIT rows)."""
    filterset = _filtered(request)
    if not filterset.is_valid():
        messages.error(request, _("筛选条件有误，无法导出。"))
        return redirect(reverse("tickets:ticket_list") + "?" + request.GET.urlencode())
    tickets = filterset.qs  # runs the search, which tells whether it was cut short
    handle, rows = ticket_list_workbook(
        tickets, limit=EXPORT_LIMIT, notice=search_notice(filterset)
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"tickets-{stamp}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["X-Row-Count"] = str(rows)
    return response


# --- opening --------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@permission_required("tickets.add_ticket", raise_exception=True)
def ticket_new(request, order_pk):
    order = get_object_or_404(visible_orders(request.user).select_related("shop"), pk=order_pk)
    parcel = parcel_for_new_ticket(request, order)
    initial = {"submission": submission_key_issue(request.user)}
    if parcel:
        initial["return_tracking_no"] = parcel.tracking_no
    form = TicketOpenForm(request.POST or None, order=order, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        promises = []
        if data.get("promise_kind"):
            promises.append(
                PromiseRequest(
                    data["promise_kind"], data["promise_text"], data.get("promise_due_on")
                )
            )
        try:
            ticket = ticket_open(
                actor=request.user,
                order=order,
                kind=data["kind"],
                reason=data["reason"],
                responsibility=data["responsibility"],
                items=[
                    ItemRequest(item, quantity, data["sends"].get(item.pk))
                    for item, quantity in data["items"]
                ],
                description=data["description"],
                promises=promises,
                assignee=request.user if can_work_on(request.user, order.shop_id) else None,
                return_tracking_no=data["return_tracking_no"],
                idempotency_key=(
                    submission_key_read(request.user, data["submission"])
                    if data["submission"]
                    else None
                ),
            )
        except DeskError as exc:
            form.add_error(None, exc.message)
        else:
            if parcel is not None:
                link_parcel_to_new_ticket(request, parcel, ticket)
            messages.success(request, _("已创建售后单 %(no)s。") % {"no": ticket.number})
            return redirect("tickets:ticket_detail", pk=ticket.pk)
    context = {
        "order": order,
        "form": form,
        "responsibility_map": RESPONSIBILITY_BY_REASON,
        "parcel": parcel,
    }
    return render(request, "tickets/ticket_new.html", context)


# --- the ticket page ------------------------------------------------------------------
def _workable_tickets(user):
    return visible_tickets(user).select_related(
        "order__shop", "order__courier", "shop", "assignee", "opened_by", "return_courier"
    )


def _ticket(request, pk) -> Ticket:
    """The ticket to show: with what its page shows (order, shop, courier for the postage,
    assignee), not the opener and return courier the actions read."""
    tickets = visible_tickets(request.user).select_related(
        "order__shop", "order__courier", "shop", "assignee"
    )
    return get_object_or_404(tickets, pk=pk)


def ticket_page_context(request, ticket: Ticket, **forms):
    """The ticket page's context. The order's money is read once (``order_ledger``: every row
    of the order, with what each sum needs) and the totals, the refund cap, the money moves
    offered and an exchange's price position are added up from those rows in Python; the
    order's ticket items once too (the page's items and the refund cap's shares). Five to ten
    queries fewer than asking for each sum, 31 -> 19 on an exchange (bench/ticket_page.py)."""
    order = ticket.order
    ledger = order_ledger(order)
    entries = [e for e in ledger if e.ticket_id == ticket.pk]
    order_items = order_ticket_items(order)
    # Refund/compensated buttons appear once the money that justifies them is recorded.
    next_statuses = [
        (status, Ticket.Status(status).label)
        for status in manual_next(ticket.kind, ticket.status)
        if transition_refusal(ticket, status, ledger=entries) is None
    ]
    replies = [
        (reply, quick_reply_fill(reply, ticket))
        for reply in QuickReply.objects.filter(is_active=True)
    ]
    promises = list(ticket.promises.select_related("made_by", "fulfilled_by"))
    # Supervisors assign to anyone serving the shop; agents only take tickets themselves.
    staff = (
        list(staff_for_shops([ticket.shop_id])) if has_role(request.user, Role.SUPERVISOR) else []
    )
    now = timezone.now()
    # Priced once for the money form's default and the postage panel, and only when one of
    # them shows it (the panel asks for it only for a user who may record money).
    postage = SimpleLazyObject(lambda: postage_quote(order))
    exchange = exchange_context(request, ticket, ledger=entries)
    return {
        "ticket": ticket,
        "order": order,
        # The order confirms itself soon while a logistics problem is open (the order page's
        # warning): the order's other tickets count too.
        "auto_confirm_warning": auto_confirm_warning(order, order.tickets.all(), now),
        "items": [item for item in order_items if item.ticket_id == ticket.pk],
        "events": list(ticket.events.select_related("actor")),
        "promises": promises,
        "open_promises": [p for p in promises if p.is_open],
        "photos": list(ticket.photos.all()),
        "entries": entries,
        "money_total": signed_total(e for e in entries if is_counted(e)),
        "refund_room": refund_cap(
            order, ticket, position=exchange.get("price"), entries=ledger, items=order_items
        ),
        "next_statuses": next_statuses,
        "replies": replies,
        "staff": staff,
        "now": timezone.now(),
        "clock": clock_summary(ticket, now),
        "buyer_wait_statuses": Ticket.BUYER_WAIT_STATUSES,
        "ledger_form": forms.get("ledger_form")
        or LedgerForm(
            initial={
                "submission": submission_key_issue(request.user),
                **_money_defaults(ticket, postage),
            }
        ),
        "postage_quote": postage,
        "reverse_key": submission_key_issue(request.user),
        "note_form": forms.get("note_form") or NoteForm(),
        "promise_form": forms.get("promise_form") or PromiseForm(),
        "photo_form": PhotoForm(),
        "can_work": can_work_on(request.user, ticket.shop_id),
        **exchange,
    }


def _money_defaults(ticket: Ticket, postage=None) -> dict:
    """What the agent most likely records next on this ticket: a refund on a return, the
    compensation on a compensation ticket, otherwise postage at the rate card's price
    (``postage``: the order's quote when the caller has it)."""
    if ticket.kind in (Ticket.Kind.RETURN, Ticket.Kind.REFUND_ONLY):
        return {
            "kind": LedgerEntry.Kind.REFUND,
            "payment_method": LedgerEntry.PaymentMethod.PLATFORM_REFUND,
        }
    if ticket.kind == Ticket.Kind.COMPENSATION:
        return {
            "kind": LedgerEntry.Kind.COMPENSATION,
            "payment_method": LedgerEntry.PaymentMethod.ALIPAY_TRANSFER,
        }
    quote = postage if postage is not None else postage_quote(ticket.order)
    suggested = {} if quote.confirm_by_hand else {"amount": quote.amount}
    return {
        "kind": LedgerEntry.Kind.POSTAGE,
        "payment_method": LedgerEntry.PaymentMethod.ALIPAY_TRANSFER,
        **suggested,
    }


@require_GET
@permission_required("tickets.view_ticket", raise_exception=True)
def ticket_detail(request, pk):
    ticket = _ticket(request, pk)
    return render(request, "tickets/ticket_detail.html", ticket_page_context(request, ticket))


# --- actions --------------------------------------------------------------------------
def ticket_action(perm: str, anchor: str = ""):
    """POST-only view on a visible ticket: runs the action, shows its message, goes back."""
    return post_action(perm, _workable_tickets, "tickets:ticket_detail", anchor=anchor)


@ticket_action("tickets.change_ticket")
def ticket_transition_view(request, ticket):
    form = TransitionForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    moved = ticket_transition(
        actor=request.user,
        ticket=ticket,
        to_status=form.cleaned_data["to_status"],
        note=form.cleaned_data["note"],
        tracking_no=form.cleaned_data["tracking_no"],
        waive_reason=form.cleaned_data["waive_reason"],
    )
    return _("状态已改为“%(status)s”。") % {"status": moved.get_status_display()}


@ticket_action("tickets.change_ticket")
def ticket_assign_view(request, ticket):
    assignee = assignee_from_post(request)
    ticket_assign(actor=request.user, ticket=ticket, assignee=assignee)
    return _("已认领。") if assignee == request.user else _("处理人已更新。")


@ticket_action("tickets.change_ticket", "#timeline")
def ticket_note_view(request, ticket):
    form = NoteForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    ticket_note(actor=request.user, ticket=ticket, text=form.cleaned_data["text"])
    return _("备注已保存。")


@ticket_action("tickets.escalate_ticket")
def ticket_escalate_view(request, ticket):
    form = EscalateForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    ticket_escalate(actor=request.user, ticket=ticket, reason=form.cleaned_data["reason"])
    return _("已升级给主管。")


@ticket_action("tickets.change_ticket")
def ticket_await_buyer_view(request, ticket):
    form = NoteForm(request.POST)
    note = form.cleaned_data["text"] if form.is_valid() else ""
    ticket_await_buyer(actor=request.user, ticket=ticket, note=note)
    return _("已设为等待买家回复：售后时效暂停计时。")


@ticket_action("tickets.change_ticket")
def ticket_buyer_answered_view(request, ticket):
    ticket_buyer_answered(actor=request.user, ticket=ticket)
    return _("买家已回复：售后时效恢复计时，时限已顺延。")


@ticket_action("tickets.add_promise", "#promises")
def promise_add_view(request, ticket):
    form = PromiseForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    promise_add(actor=request.user, ticket=ticket, **form.cleaned_data)
    return _("承诺已记录，兑现前会一直显示在售后单上。")


@ticket_action("tickets.change_promise", "#promises")
def promise_fulfil_view(request, ticket, promise_pk):
    promise = get_object_or_404(ticket.promises, pk=promise_pk)
    promise_fulfil(actor=request.user, promise=promise)
    return _("承诺已兑现。")


@ticket_action("tickets.add_ledgerentry", "#money")
def ledger_record_view(request, ticket):
    form = LedgerForm(request.POST)
    return ledger_record_from_form(request, form, order=ticket.order, ticket=ticket)


@ticket_action("tickets.add_ledgerentry", "#money")
def ledger_reverse_view(request, ticket, entry_pk):
    return reverse_entry_from_post(request, ticket.ledger_entries.all(), entry_pk)


@ticket_action("tickets.add_ticketphoto", "#photos")
def photo_upload_view(request, ticket):
    files = request.FILES.getlist("photo")
    if not files:
        raise DeskError(_("请选择要上传的照片。"))
    photo_count_check(ticket, len(files))
    cleaned = []
    # Every file is checked before any is stored: one bad file among several stores none.
    for upload in files:
        if upload.size > settings.DESK_PHOTO_MAX_BYTES:  # refused before reading it into memory
            raise DeskError(
                _("“%(name)s”超过 %(mb)s MB。")
                % {"name": upload.name, "mb": settings.DESK_PHOTO_MAX_BYTES // (1024 * 1024)}
            )
        try:
            cleaned.append((upload.name, photo_clean(upload.read())))
        except DeskError as exc:
            raise DeskError(
                _("“%(name)s”：%(reason)s") % {"name": upload.name, "reason": exc.message}
            ) from exc
    photo_add_many(actor=request.user, ticket=ticket, photos=cleaned)
    return _("已上传 %(n)s 张照片。") % {"n": len(files)}


@require_GET
@permission_required("tickets.view_ticketphoto", raise_exception=True)
def photo_file(request, pk, photo_pk):
    """Photos are served only to staff who may see the ticket, never from a public URL."""
    ticket = _ticket(request, pk)
    photo = get_object_or_404(ticket.photos, pk=photo_pk)
    try:
        handle = store_open(photo.file)  # streamed from the store, never a public URL
    except FileNotFoundError as exc:
        raise Http404 from exc
    except StoreError as exc:
        return store_unavailable(request, exc.message)
    # An <img> still shows it; opening the URL downloads it instead of rendering it.
    response = FileResponse(
        handle,
        content_type=f"image/{photo.image_format}",
        as_attachment=True,
        filename=f"{ticket.number}-{photo.pk}.{photo.image_format}",
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response
