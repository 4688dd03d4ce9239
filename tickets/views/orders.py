"""Finding an order and reading it; revealing the receiver's data on purpose."""

from datetime import timedelta

from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from tickets.models import Ticket
from tickets.privacy import mask_address, mask_name, mask_phone
from tickets.selectors import order_search, visible_orders
from tickets.services.privacy import order_reveal_personal_data

# Warn when a shipped order confirms itself within this long while a logistics ticket is open.
AUTO_CONFIRM_WARNING = timedelta(days=3)
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
    deadline = order.auto_confirm_at
    logistics_open = any(t.is_open and t.reason == Ticket.Reason.LOGISTICS for t in tickets)
    return {
        "order": order,
        "items": list(order.items.all()),
        "tickets": tickets,
        "invoices": list(order.invoice_requests.order_by("-created_at")),
        "receiver": _receiver(order, revealed),
        "auto_confirm_at": deadline,
        "auto_confirm_warning": bool(
            deadline and logistics_open and deadline - now <= AUTO_CONFIRM_WARNING
        ),
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
