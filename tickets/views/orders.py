"""Finding an order and reading it; revealing the receiver's data on purpose."""

from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tickets.forms_orders import OrderFlagForm, ReceiptExtensionForm
from tickets.models import OrderChange
from tickets.privacy import mask_address, mask_name, mask_phone
from tickets.selectors import can_work_on, order_search, visible_orders
from tickets.selectors_orders import (
    auto_confirm_warning,
    order_history,
    order_parcels,
    receipt_extension_refusal,
)
from tickets.services.orders import FLAG_MEMO_MAX, order_extend_receipt, order_set_flag
from tickets.services.privacy import order_reveal_personal_data
from tickets.views.actions import form_error, post_action

SEARCH_LIMIT = 50


@require_GET
@permission_required("tickets.view_order", raise_exception=True)
def order_search_view(request):
    term = request.GET.get("q", "").strip()
    orders = []
    if term:
        orders = list(
            order_search(request.user, term)
            .select_related("shop")
            .order_by("-placed_at")[:SEARCH_LIMIT]
        )
        if len(orders) == 1:
            return redirect("tickets:order_detail", pk=orders[0].pk)
    return render(
        request, "tickets/order_search.html", {"q": term, "orders": orders, "limit": SEARCH_LIMIT}
    )


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
    tickets = list(
        order.tickets.select_related("assignee")
        .prefetch_related("items__order_item")
        .order_by("-created_at")
    )
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
