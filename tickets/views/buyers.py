"""The buyer's page (issue 11, section 2): one buyer's orders, tickets, parcels, reviews,
contacts, photos, promises, VIP status and temperament notes, in the user's shops."""

from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tickets.selectors_buyers import buyer_orders, buyer_page
from tickets.text import plain_int

ORDERS_PER_PAGE = 50


@require_GET
@permission_required("tickets.view_order", raise_exception=True)
def buyer_detail(request):
    """``/buyers/?nick=<nickname>``: the nickname is matched exactly, as stored. A buyer
    with nothing in the user's shops is a 404, whether or not other shops know them; a NUL
    in the query string is refused (400) by the middleware before this view."""
    page = buyer_page(request.user, request.GET.get("nick", ""))
    if page is None:
        raise Http404
    return render(request, "tickets/buyer_detail.html", {"buyer": page})


@require_GET
@permission_required("tickets.view_order", raise_exception=True)
def buyer_orders_view(request):
    """``/buyers/orders/?nick=<nickname>&page=N``: every order of one buyer (the nickname
    matched exactly) in the user's shops, newest first, ``ORDERS_PER_PAGE`` a page: the
    buyer page's "see all" (the order search stops at its first 50 matches). 404 for a
    buyer with no order in the user's shops, as the buyer page."""
    nick = request.GET.get("nick", "")
    orders = buyer_orders(request.user, nick)
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(
        plain_int(request.GET.get("page", ""), digits=6) or 1
    )
    if not page.object_list:
        raise Http404
    return render(request, "tickets/buyer_orders.html", {"nick": nick, "page": page})
