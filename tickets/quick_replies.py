"""Quick replies (快捷短语) with the order's facts filled in."""

from .models import QuickReply, Ticket

PLACEHOLDERS = ("{买家}", "{订单号}", "{运单号}", "{退回运单号}")


def quick_reply_render(reply: QuickReply, ticket: Ticket) -> str:
    """Fills the placeholders; an unknown value leaves the placeholder visible, never blank."""
    order = ticket.order
    values = {
        "{买家}": order.buyer_nick,
        "{订单号}": order.order_no,
        "{运单号}": order.tracking_no,
        "{退回运单号}": ticket.return_tracking_no,
    }
    text = reply.body
    for placeholder, value in values.items():
        if value:
            text = text.replace(placeholder, value)
    return text
