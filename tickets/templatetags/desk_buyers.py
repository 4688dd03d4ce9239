"""The buyer's nickname as a link to the buyer's page, and the masks the page uses.

    {% load desk_buyers %}
    {% buyer_link order.buyer_nick %}
    {{ order.receiver_phone|masked_phone }}

The nickname travels in the query string (``/buyers/?nick=…``), URL-encoded, so any
nickname (``/``, ``%``, spaces, emoji) makes a working link; the text is escaped. A user who
may not read orders gets the plain nickname.
"""

from functools import lru_cache
from urllib.parse import urlencode

from django import template
from django.urls import get_script_prefix, reverse
from django.utils.html import format_html

from tickets import privacy

register = template.Library()


def buyer_url(nick: str) -> str:
    """The buyer's page of ``nick``: ``/buyers/?nick=<nick, URL-encoded>``."""
    return _buyer_page(get_script_prefix()) + "?" + urlencode({"nick": nick})


@lru_cache(maxsize=8)
def _buyer_page(prefix: str) -> str:
    # One ``reverse`` per script prefix, not one per nickname: a list page links 25 buyers.
    return reverse("tickets:buyer_detail")


def buyer_html(nick: str, *, linked: bool) -> str:
    """``nick`` as the desk shows a buyer: a link to the buyer's page (``linked``) or plain,
    escaped, with the whole nickname as its title. In a table a long one (64 characters of
    Chinese) is cut with "…" to a column's width (``.nick``, desk.css): at 1366 pixels it
    pushed the list's status and due time off the screen."""
    if not nick:
        return "—"
    if linked:
        return format_html(
            '<a class="buyer-link nick" href="{}" title="{}">{}</a>', buyer_url(nick), nick, nick
        )
    # focusable, so a keyboard user can show the whole of a cut one (desk.css)
    return format_html('<span class="nick" title="{}" tabindex="0">{}</span>', nick, nick)


@register.simple_tag(takes_context=True)
def buyer_link(context, nick):
    request = context.get("request")
    user = getattr(request, "user", None)
    return buyer_html(nick, linked=user is not None and user.has_perm("tickets.view_order"))


@register.simple_tag
def buyer_href(nick):
    """Only the URL, for a link that wraps something else."""
    return buyer_url(nick)


@register.simple_tag
def query_q(value):
    """``q=<value, URL-encoded>``: a search for ``value`` in a link's query string."""
    return urlencode({"q": value})


register.filter("masked_name", privacy.mask_name)
register.filter("masked_phone", privacy.mask_phone)
register.filter("masked_address", privacy.mask_address)
