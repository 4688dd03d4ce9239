"""The buyer's page (issue 11, section 2): one buyer's orders, tickets, parcels, reviews,
contacts, photos, promises, VIP status and temperament notes, in the user's shops."""

from django.contrib.auth.decorators import permission_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tickets.selectors_buyers import buyer_page


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
