"""On the ticket page of an exchange: what goes out (退回 → 发出) and the price difference
(差价) the buyer pays or is refunded. Each change is a POST through one service."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from tickets.forms import ExchangeChargeForm, ExchangeChargeReverseForm, ExchangeGoodsForm
from tickets.models import Ticket
from tickets.selectors import can_work_on, visible_tickets
from tickets.selectors_exchanges import (
    exchange_items,
    exchange_price_position,
    exchange_replacement_refusal,
    goods_lines,
)
from tickets.services.exchanges import (
    ReplacementRequest,
    exchange_charge_record,
    exchange_charge_reverse,
    exchange_set_replacements,
)
from tickets.services.ledger import submission_key_issue, submission_key_read
from tickets.views.actions import form_error, post_action


def exchange_context(request, ticket: Ticket, goods_form=None, *, ledger=None) -> dict:
    """What the ticket page shows about an exchange; empty for other kinds. ``ledger``: the
    ticket's ledger rows when the page has read them (``order_ledger``): the price position is
    then added up from them and the rows read here, with no query of its own."""
    if ticket.kind != Ticket.Kind.EXCHANGE:
        return {}
    items = exchange_items(ticket)
    charges = list(ticket.exchange_charges.select_related("recorded_by", "reversal"))
    refusal = exchange_replacement_refusal(ticket)
    editable = refusal is None and can_work_on(request.user, ticket.shop_id)
    if editable and goods_form is None:
        goods_form = ExchangeGoodsForm(items=items)
    return {
        # The same rows the exchange-goods list and its file show.
        "goods": goods_lines(items),
        "goods_refusal": refusal,
        "goods_form": goods_form if editable else None,
        "price": exchange_price_position(ticket, items=items, charges=charges, ledger=ledger),
        "charges": charges,
        "charge_form": ExchangeChargeForm(
            initial={"submission": submission_key_issue(request.user)}
        ),
    }


def _exchange_tickets(user):
    return visible_tickets(user).filter(kind=Ticket.Kind.EXCHANGE)


def exchange_action(perm: str, anchor: str = "#goods"):
    return post_action(perm, _exchange_tickets, "tickets:ticket_detail", anchor=anchor)


@exchange_action("tickets.change_exchangereplacement")
def exchange_goods_view(request, ticket):
    form = ExchangeGoodsForm(request.POST, items=exchange_items(ticket))
    if not form.is_valid():
        raise form_error(form)
    lines, changed = exchange_set_replacements(
        actor=request.user,
        ticket=ticket,
        requests=[ReplacementRequest(*request_) for request_ in form.cleaned_data["requests"]],
    )
    if not changed:
        return _("发出的商品没有变化。")
    if not lines:
        return _("发出商品已更新：与退回的商品相同。")
    return _("发出商品已更新：%(n)s 行。") % {"n": len(lines)}


@exchange_action("tickets.add_exchangecharge")
def exchange_charge_view(request, ticket):
    form = ExchangeChargeForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    data = form.cleaned_data
    charge = exchange_charge_record(
        actor=request.user,
        ticket=ticket,
        amount=data["amount"],
        reference=data["reference"],
        note=data["note"],
        idempotency_key=submission_key_read(request.user, data["submission"]),
    )
    return _("已登记买家补差价 ¥%(amount)s。") % {"amount": charge.amount}


@exchange_action("tickets.add_exchangecharge")
def exchange_charge_reverse_view(request, ticket, charge_pk):
    charge = get_object_or_404(ticket.exchange_charges.all(), pk=charge_pk)
    form = ExchangeChargeReverseForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    exchange_charge_reverse(actor=request.user, charge=charge, reason=form.cleaned_data["reason"])
    return _("已冲销补差价 ¥%(amount)s。") % {"amount": charge.amount}
