"""Issue 11 review: one returned item going out as two SKUs is one returned row, not two
"应退回 2" rows (the unpacker would look for four pieces), and goods of another product show
their own title and a 换款 tag, on the unpacking screen and on the exchange list's page."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from finance_exports.builders import get_builder
from finance_exports.services import sheet_build
from tests.factories import make_order, make_sku
from tickets.models import Ticket
from tickets.services.tickets import ticket_transition

pytestmark = pytest.mark.django_db
S = Ticket.Status


@pytest.fixture
def split_exchange(client, agent, shop_a, settings):
    """Two black XXL hoodies came back: one goes out as a black XL hoodie, the other as a white
    T-shirt (another product)."""
    settings.FINANCE_SHEET_TIMES = {**settings.FINANCE_SHEET_TIMES, "exchanges": (0, 0)}
    order = make_order(shop_a, items=((Decimal("169.00"), 2),))
    item = order.items.select_related("sku__product").get()
    xl = make_sku(price=Decimal("169.00"), colour="黑色", size="XL", product=item.sku.product)
    tee = make_sku(price=Decimal("169.00"), title="纯棉T恤", colour="白色", size="L")
    client.force_login(agent)
    client.post(
        reverse("tickets:ticket_new", args=[order.pk]),
        {
            "kind": Ticket.Kind.EXCHANGE,
            "reason": Ticket.Reason.NOT_SUITABLE,
            "responsibility": Ticket.Responsibility.BUYER,
            f"qty_{item.pk}": 2,
            f"send_{item.pk}": xl.code,
            "return_tracking_no": "YT700",
        },
    )
    ticket = Ticket.objects.get(order=order)
    ticket_item = ticket.items.get()
    client.post(
        reverse("tickets:exchange_goods", args=[ticket.pk]),
        {
            f"send_{ticket_item.pk}_0": xl.code,
            f"qty_{ticket_item.pk}_0": 1,
            f"send_{ticket_item.pk}_1": tee.code,
            f"qty_{ticket_item.pk}_1": 1,
        },
    )
    assert ticket_item.replacements.count() == 2
    return {"ticket": ticket, "item": item, "xl": xl, "tee": tee}


def cells(html: str, start: str, end: str) -> str:
    return html[html.index(start) : html.index(end, html.index(start))]


def test_the_unpacking_screen_shows_the_returned_item_once(client, split_exchange):
    html = client.get(reverse("tickets:parcel_unpack") + "?tracking_no=YT700").content.decode()
    table = cells(html, 'class="grid compact goods"', "</table>")
    returned = split_exchange["item"]
    assert table.count(returned.sku_code) == 1  # the returned hoodie, once
    assert len(re.findall(r'<td class="num">2</td>', table)) == 1  # "应退回 2", once
    assert split_exchange["xl"].code in table and split_exchange["tee"].code in table
    # the T-shirt is another product: its title and 换款; the XL hoodie is the same product
    assert table.count("换款") == 1 and "纯棉T恤" in table
    tee_row = next(row for row in table.split("<tr") if split_exchange["tee"].code in row)
    assert "换款" in tee_row and "纯棉T恤" in tee_row


def test_the_exchange_lists_page_shows_the_other_products_title(
    client, agent, supervisor, split_exchange
):
    ticket = ticket_transition(
        actor=agent, ticket=split_exchange["ticket"], to_status=S.AWAITING_RETURN
    )
    ticket_transition(actor=agent, ticket=ticket, to_status=S.QUEUED_FOR_EXCHANGE)
    day = timezone.localdate() + timedelta(days=2)
    sheet = sheet_build(
        kind="exchanges",
        business_date=day,
        now=get_builder("exchanges").cutoff(day) + timedelta(minutes=1),
    )
    client.force_login(supervisor)
    html = client.get(reverse("finance_exports:sheet_detail", args=[sheet.pk])).content.decode()
    goods = cells(html, 'class="fx-wrap fx-goods"', "</td>")
    assert goods.count(split_exchange["item"].title) == 1  # the returned hoodie, once
    tee_row = next(row for row in goods.split("<div") if split_exchange["tee"].code in row)
    assert "换款" in tee_row and "纯棉T恤" in tee_row
    xl_row = next(row for row in goods.split("<div") if split_exchange["xl"].code in row)
    assert "换款" not in xl_row
