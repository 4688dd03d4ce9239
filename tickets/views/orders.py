"""Finding an order and reading it; revealing the receiver's data on purpose."""

from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tickets.forms_orders import OrderFlagForm, ReceiptExtensionForm
from tickets.models import OrderChange
from tickets.privacy import mask_address, mask_name, mask_phone
from tickets.selectors import (
    buyer_search,
    can_work_on,
    nick_condition,
    order_search,
    parcel_search,
    search_term,
    ticket_number_pk,
    ticket_search,
    visible_orders,
)
from tickets.selectors_orders import (
    auto_confirm_warning,
    order_history,
    order_parcels,
    receipt_extension_refusal,
)
from tickets.selectors_registers import visible_vips
from tickets.services.orders import FLAG_MEMO_MAX, order_extend_receipt, order_set_flag
from tickets.services.privacy import order_reveal_personal_data
from tickets.templatetags.desk_buyers import buyer_url
from tickets.text import normalise_tracking_no
from tickets.views.actions import form_error, post_action

SEARCH_LIMIT = 50
# Buyers listed for part of a nickname (one more is read to tell there are more).
BUYER_LIMIT = 20


@require_GET
@permission_required("tickets.view_order", raise_exception=True)
def order_search_view(request):
    """The top-bar search: tickets (by ticket number or return tracking no.), orders (order
    no., Alipay no., outbound tracking no., phone tail, whole nickname) and buyers (part of a
    nickname), each within the user's shops. A visible ticket number, or a search that finds
    exactly one thing, goes straight to it."""
    raw = request.GET.get("q", "").strip()
    term = search_term(raw)
    found = {"tickets": [], "orders": [], "buyers": [], "parcels": []}
    if term:
        user = request.user
        number = ticket_number_pk(term)
        tickets = list(
            ticket_search(user, term)
            .select_related("order", "shop", "assignee")
            .order_by("-created_at", "-id")[:SEARCH_LIMIT]
        )
        for ticket in tickets:
            if ticket.pk == number:
                return redirect("tickets:ticket_detail", pk=ticket.pk)
        orders = list(
            order_search(user, term).select_related("shop").order_by("-placed_at")[:SEARCH_LIMIT]
        )
        parcels = list(
            parcel_search(user, term).select_related("shop", "order", "ticket", "courier")[
                :SEARCH_LIMIT
            ]
        )
        buyers = buyer_search(user, term, BUYER_LIMIT)
        vips = _vip_nicks(user, term)
        buyers += [nick for nick in vips if nick not in buyers]
        only = _only_result(tickets, orders, buyers[:BUYER_LIMIT], parcels)
        if only is not None:
            return redirect(only)
        found = {
            "tickets": [(t, _ticket_match(t, term)) for t in tickets],
            "orders": [(o, _order_match(o, term)) for o in orders],
            "parcels": parcels,
            "buyers": buyers[:BUYER_LIMIT],
            "vips": vips,
            "more_buyers": len(buyers) > BUYER_LIMIT,
        }
    return render(
        request,
        "tickets/order_search.html",
        {"q": raw, "limit": SEARCH_LIMIT, **found},
    )


def _vip_nicks(user, term: str) -> set[str]:
    """Nicknames of VIPs (特殊VIP) of the user's shops holding ``term``, as the nickname search
    reads it (``nick_condition``): a VIP with no order in the desk yet is a buyer too."""
    condition = nick_condition(term)
    if condition is None or not user.has_perm("tickets.view_vipcustomer"):
        return set()
    nicks = visible_vips(user).filter(condition).values_list("buyer_nick", flat=True)
    return set(nicks.order_by("buyer_nick")[:BUYER_LIMIT])


def _only_result(tickets, orders, buyers, parcels=()) -> str | None:
    """The URL of the one thing a search found, or None. A buyer whose orders are the ones
    found (a whole nickname) is not a second thing, nor is a parcel whose ticket is the one
    found. A parcel alone opens its ticket, else its order; an unmatched parcel is no page of
    its own, so the results show it."""
    buyers = [nick for nick in buyers if nick not in {o.buyer_nick for o in orders}]
    parcels = [p for p in parcels if p.ticket_id not in {t.pk for t in tickets} or not p.ticket_id]
    if len(tickets) + len(orders) + len(buyers) + len(parcels) != 1:
        return None
    if parcels:
        parcel = parcels[0]
        if parcel.ticket_id:
            return reverse("tickets:ticket_detail", args=[parcel.ticket_id])
        if parcel.order_id:
            return reverse("tickets:order_detail", args=[parcel.order_id])
        return None
    if tickets:
        return reverse("tickets:ticket_detail", args=[tickets[0].pk])
    if orders:
        return reverse("tickets:order_detail", args=[orders[0].pk])
    return buyer_url(buyers[0])


def _ticket_match(ticket, term) -> str:
    if ticket.pk == ticket_number_pk(term):
        return _("售后单号")
    return _("退回运单号")


def _order_match(order, term) -> str:
    """Which of the order's fields the search term is."""
    if order.order_no == term:
        return _("订单编号")
    if order.alipay_no == term:
        return _("支付宝交易号")
    if order.tracking_no and order.tracking_no == normalise_tracking_no(term):
        return _("运单号")
    if order.buyer_nick.upper() == term.upper():
        return _("旺旺名")
    return _("手机尾号")


def _receiver(order, revealed=None):
    if revealed:
        return {**revealed, "revealed": True}
    return {
        "name": mask_name(order.receiver_name),
        "phone": mask_phone(order.receiver_phone),
        "address": " ".join(
            part
            for part in (
                order.receiver_province,
                order.receiver_city,
                order.receiver_district,
                mask_address(order.receiver_address),
            )
            if part
        ),
        "revealed": False,
    }


def order_page_context(request, order, revealed=None):
    now = timezone.now()
    # The page shows each ticket's own fields and its assignee, never its items: prefetching
    # them (and their order items, read a second time below) cost two queries a page.
    tickets = list(order.tickets.select_related("assignee").order_by("-created_at"))
    history = list(order_history(order))
    last_flag = next((c for c in history if c.kind == OrderChange.Kind.FLAG), None)
    can_change = request.user.has_perm("tickets.change_order") and can_work_on(
        request.user, order.shop_id
    )
    return {
        "order": order,
        "items": list(order.items.all()),
        "tickets": tickets,
        "invoices": list(order.invoice_requests.order_by("-created_at")),
        "receiver": _receiver(order, revealed),
        "auto_confirm_at": order.auto_confirm_at,
        "auto_confirm_warning": auto_confirm_warning(order, tickets, now),
        "history": history,
        # The memo on the order is not the last one an agent saved: an import brought it.
        "memo_from_import": bool(
            order.flag_memo and (last_flag is None or last_flag.flag_memo != order.flag_memo)
        ),
        "parcels": list(order_parcels(request.user, order)),
        "can_change": can_change,
        "flag_form": OrderFlagForm.for_order(order) if can_change else None,
        "memo_max": FLAG_MEMO_MAX,
        "extension_form": ReceiptExtensionForm.for_order(order)
        if can_change and receipt_extension_refusal(order, None, now) is None
        else None,
        "now": now,
    }


@require_GET
@permission_required("tickets.view_order", raise_exception=True)
def order_detail(request, pk):
    order = get_object_or_404(visible_orders(request.user).select_related("shop", "courier"), pk=pk)
    return render(request, "tickets/order_detail.html", order_page_context(request, order))


@require_POST
@permission_required("tickets.reveal_personal_data", raise_exception=True)
def order_reveal(request, pk):
    """Shows the full receiver data once, on this response only, and records who looked."""
    order = get_object_or_404(visible_orders(request.user).select_related("shop", "courier"), pk=pk)
    revealed = order_reveal_personal_data(actor=request.user, order=order)
    if request.headers.get("X-Requested-With") == "fetch":
        return render(
            request,
            "tickets/_receiver.html",
            {"receiver": _receiver(order, revealed), "order": order},
        )
    return render(
        request, "tickets/order_detail.html", order_page_context(request, order, revealed)
    )


def _orders(user):
    return visible_orders(user).select_related("shop")


@post_action("tickets.change_order", _orders, "tickets:order_detail", anchor="#flag")
def order_flag_view(request, order):
    """Saves the seller flag and memo typed on the order page (one ``OrderChange``)."""
    form = OrderFlagForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    data = form.cleaned_data
    change = order_set_flag(
        actor=request.user,
        order=order,
        flag=data["flag"],
        memo=data["memo"],
        expected=(data["expected_flag"], data["expected_memo"]),
    )
    if change is None:
        return _("旗帜和备忘没有变化。")
    return _("旗帜已改为“%(flag)s”，已记入订单变更记录。") % {"flag": change.get_flag_display()}


@post_action("tickets.change_order", _orders, "tickets:order_detail", anchor="#deadline")
def order_extend_receipt_view(request, order):
    """Records a receipt extension made in the seller centre (one ``OrderChange``)."""
    form = ReceiptExtensionForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    data = form.cleaned_data
    change = order_extend_receipt(
        actor=request.user,
        order=order,
        days=data["days"],
        note=data["note"],
        expected_days=data["expected_days"],
    )
    return _("已登记延长收货 %(days)s 天，新的自动确认收货时间：%(at)s。") % {
        "days": change.extended_days,
        "at": timezone.localtime(change.auto_confirm_at).strftime("%Y-%m-%d %H:%M"),
    }
