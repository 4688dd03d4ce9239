"""``{% postage_panel order %}``: the postage suggestion (and any Tmall late-shipment
penalty) for an order, for the order and ticket pages.

    {% load desk_postage %}
    {% postage_panel order %}

Renders nothing for a user who may not read the rate card. The order should come with
``select_related("shop", "courier")``; the panel then costs one query (the rate card), none
when the page has priced the order already and passes its quote
(``{% postage_panel order quote=postage_quote %}``: the ticket page, whose money form
suggests the same amount).
"""

from django import template

from tickets.postage import late_shipment_penalty, postage_quote

register = template.Library()


@register.inclusion_tag("tickets/imports/_postage_quote.html", takes_context=True)
def postage_panel(context, order, weight_kg=None, quote=None):
    request = context.get("request")
    user = getattr(request, "user", None)
    if order is None or user is None or not user.has_perm("tickets.view_postagerate"):
        return {"quote": None}
    return {
        "quote": quote if quote is not None else postage_quote(order, weight_kg=weight_kg),
        "penalty": late_shipment_penalty(order),
        "order": order,
    }
