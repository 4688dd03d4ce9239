"""Quick replies (快捷短语) with the ticket's and the shop's facts filled in.

A phrase names facts by placeholder (``{买家}``, ``{退回运单号}`` ...). Facts about the order and
ticket come from them; facts about the shop (where to send a return) come from the shop, never
from the phrase, so one phrase serves the Wuhan and the Shanghai shops. A placeholder the ticket
cannot fill (a return tracking number not known yet, a shop without a known return address, a
placeholder the desk does not know) is a gap: the page shows it as an input and copies the
phrase only once every gap is filled, so the buyer never receives ``{退回运单号}``.
"""

import re
from dataclasses import dataclass

from django.conf import settings

from .models import QuickReply, Shop, Ticket

PLACEHOLDERS = ("{买家}", "{订单号}", "{运单号}", "{退回运单号}", "{店铺}", "{退货地址}")
# Anything written like a placeholder: a short name in braces of any kind a keyboard or an
# input method types (half-width {}, full-width ｛｝, small ﹛﹜, ornate ❴❵ ⦃⦄), doubled or
# not, with or without spaces, even inside the name (``{ 退回 运单号 }`` names 退回运单号).
_OPEN, _CLOSE = "{｛﹛❴⦃", "}｝﹜❵⦄"
_PLACEHOLDER = re.compile(rf"[{_OPEN}]+([^{_OPEN}{_CLOSE}]{{1,24}}?)[{_CLOSE}]+")


def _name(written: str) -> str | None:
    """The placeholder name inside the braces (whitespace removed), or None when the braces
    hold no name at all (``{ }``)."""
    return "".join(written.split()) or None


_KNOWN = frozenset(name.strip("{}") for name in PLACEHOLDERS)


def unknown_placeholders(body: str) -> list[str]:
    """The placeholder names in ``body`` the desk cannot fill (typos such as ``{运单}``), each
    once, in order; the admin refuses a phrase with any (a phrase is checked when written,
    not when an agent is about to send it)."""
    names = (_name(match.group(1)) for match in _PLACEHOLDER.finditer(body or ""))
    return list(dict.fromkeys(name for name in names if name and name not in _KNOWN))


def shop_return_address(shop: Shop) -> str:
    """Where returns to ``shop`` go (收件人、地址、电话 as the buyer writes them on the parcel):
    the shop's own return address (kept in the admin, with history), else the default for the
    shop's location from ``settings.DESK_RETURN_ADDRESSES`` (the Wuhan and Shanghai
    warehouses); "" when neither is known (the phrase then shows the gap)."""
    own = (shop.return_address or "").strip()
    return own or (settings.DESK_RETURN_ADDRESSES.get(shop.location) or "").strip()


@dataclass(frozen=True)
class FilledReply:
    """A phrase with what the desk knows filled in. ``parts`` is the phrase in order: text
    (``gap`` None) or a gap to fill (``gap`` = the placeholder's name, ``text`` its raw form).
    """

    parts: tuple[tuple[str, str | None], ...]

    @property
    def gaps(self) -> list[str]:
        """Names of the placeholders still to fill, each once, in order of appearance."""
        return list(dict.fromkeys(gap for _text, gap in self.parts if gap))

    @property
    def text(self) -> str:
        """The phrase as text; a gap keeps its placeholder visible (``{退回运单号}``)."""
        return "".join(text for text, _gap in self.parts)


def _facts(ticket: Ticket) -> dict[str, str]:
    order = ticket.order
    return {
        "买家": order.buyer_nick,
        "订单号": order.order_no,
        "运单号": order.tracking_no,
        "退回运单号": ticket.return_tracking_no,
        "店铺": order.shop.name,
        "退货地址": shop_return_address(order.shop),
    }


def quick_reply_fill(reply: QuickReply, ticket: Ticket) -> FilledReply:
    """``reply``'s phrase with the facts of ``ticket`` (its order, the order's shop) filled
    in; what they cannot fill stays a gap (see the module's docstring)."""
    facts = _facts(ticket)
    parts: list[tuple[str, str | None]] = []
    position = 0
    for match in _PLACEHOLDER.finditer(reply.body):
        name = _name(match.group(1))
        if name is None:
            continue  # braces around nothing stay as written
        if match.start() > position:
            parts.append((reply.body[position : match.start()], None))
        value = facts.get(name, "")
        parts.append((value, None) if value else (match.group(0), name))
        position = match.end()
    if position < len(reply.body):
        parts.append((reply.body[position:], None))
    return FilledReply(tuple(parts))


def quick_reply_render(reply: QuickReply, ticket: Ticket) -> str:
    """The phrase as text with the placeholders the ticket can fill filled in; an unknown
    value leaves the placeholder visible, never blank."""
    return quick_reply_fill(reply, ticket).text
