"""An exchange says what goes out (issue 11 §1): chosen when opened, changeable until the
exchange-goods list is signed, on the ticket page and the list's file; the price difference
charged or refunded. Through the pages an agent uses, and around them."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from finance_exports.builders import get_builder
from finance_exports.services import exchange_line_remove, exchange_list_approve, sheet_build
from tests.factories import make_order, make_sku, make_ticket, make_user
from tests.finance_exports.helpers import table, workbook
from tickets.models import ExchangeCharge, ExchangeReplacement, Order, Ticket, TicketEvent
from tickets.roles import Role
from tickets.services import DeskError
from tickets.services.exchanges import ReplacementRequest, exchange_set_replacements
from tickets.services.tickets import ticket_transition

S = Ticket.Status


@pytest.fixture(autouse=True)
def midnight_cut_off(settings):
    settings.FINANCE_SHEET_TIMES = {**settings.FINANCE_SHEET_TIMES, "exchanges": (0, 0)}


def build_list():
    day = timezone.localdate() + timedelta(days=2)
    now = get_builder("exchanges").cutoff(day) + timedelta(minutes=1)
    return sheet_build(kind="exchanges", business_date=day, now=now)


@pytest.fixture
def hoodie(shop_a):
    """An order for a black XXL hoodie; the same hoodie comes in XL (same price) and a
    premium XL (dearer), and a T-shirt of another product is cheaper."""
    order = make_order(shop_a, items=((Decimal("169.00"), 2),), buyer_nick="换码的买家")
    item = order.items.select_related("sku__product").get()
    product = item.sku.product
    return {
        "order": order,
        "item": item,
        "xl": make_sku(price=Decimal("169.00"), colour="黑色", size="XL", product=product),
        "xl_premium": make_sku(price=Decimal("199.00"), colour="黑色", size="XL+", product=product),
        "tee": make_sku(price=Decimal("59.00"), title="纯棉T恤", colour="白色", size="XL"),
    }


def open_exchange(client, user, hoodie, send_code, quantity=1):
    client.force_login(user)
    item = hoodie["item"]
    response = client.post(
        reverse("tickets:ticket_new", args=[hoodie["order"].pk]),
        {
            "kind": Ticket.Kind.EXCHANGE,
            "reason": Ticket.Reason.NOT_SUITABLE,
            "responsibility": Ticket.Responsibility.BUYER,
            f"qty_{item.pk}": quantity,
            f"send_{item.pk}": send_code,
            "description": "尺码偏大，换小一码",
        },
    )
    return response


def queue(ticket, user):
    ticket = ticket_transition(actor=user, ticket=ticket, to_status=S.AWAITING_RETURN)
    return ticket_transition(actor=user, ticket=ticket, to_status=S.QUEUED_FOR_EXCHANGE)


def goods_post(client, ticket, rows):
    """Posts the ticket page's "what goes out" form: rows of (item, code, qty) per slot."""
    data = {}
    for item, slots in rows:
        for n, (code, qty) in enumerate(slots):
            data[f"send_{item.pk}_{n}"] = code
            data[f"qty_{item.pk}_{n}"] = qty
    return client.post(reverse("tickets:exchange_goods", args=[ticket.pk]), data, follow=True)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- the done-when: black XXL -> black XL reaches the warehouse's file ---------------------
def test_black_xxl_to_black_xl_puts_xls_merchant_code_on_the_lists_file(client, agent, hoodie):
    response = open_exchange(client, agent, hoodie, hoodie["xl"].code.lower())  # any case
    ticket = Ticket.objects.get(order=hoodie["order"])
    assert response.status_code == 302
    [line] = ExchangeReplacement.objects.filter(ticket_item__ticket=ticket)
    assert (line.sku, line.quantity) == (hoodie["xl"], 1)
    event = ticket.events.get(kind=TicketEvent.Kind.EXCHANGE)
    assert hoodie["xl"].code in event.message and "XXL" in event.message

    queue(ticket, agent)
    sheet = build_list()
    [row] = table(workbook(sheet)["换货清单"], 5)
    assert row["发出商家编码"] == hoodie["xl"].code
    assert (row["发出颜色"], row["发出尺码"], row["发出数量"]) == ("黑色", "XL", 1)
    assert (row["退回商家编码"], row["退回尺码"]) == (hoodie["item"].sku_code, "XXL")
    assert row["换码/换款"] == "换码/换色"
    assert row["差价"] == 0


def test_the_ticket_page_shows_returned_beside_what_goes_out(client, agent, hoodie):
    open_exchange(client, agent, hoodie, hoodie["xl"].code)
    ticket = Ticket.objects.get(order=hoodie["order"])
    page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    section = page[page.index('id="goods"') :]
    assert hoodie["item"].sku_code in section and hoodie["xl"].code in section
    assert section.index(hoodie["item"].sku_code) < section.index(hoodie["xl"].code)


def test_opening_with_an_unknown_merchant_code_is_refused_and_opens_nothing(client, agent, hoodie):
    response = open_exchange(client, agent, hoodie, "NO-SUCH-CODE")
    assert response.status_code == 200
    assert "NO-SUCH-CODE" in response.content.decode()
    assert not Ticket.objects.filter(order=hoodie["order"]).exists()


def test_an_item_outside_the_catalogue_goes_out_as_it_came_unless_a_code_is_named(
    client, agent, shop_a, hoodie
):
    order = make_order(shop_a)
    item = order.items.get()
    type(item).objects.filter(pk=item.pk).update(sku=None, sku_code="HAND-MADE-1", size="M")
    client.force_login(agent)
    data = {
        "kind": Ticket.Kind.EXCHANGE,
        "reason": Ticket.Reason.NOT_SUITABLE,
        "responsibility": Ticket.Responsibility.BUYER,
        f"qty_{item.pk}": 1,
    }
    assert client.post(reverse("tickets:ticket_new", args=[order.pk]), data).status_code == 302
    ticket = order.tickets.get()
    assert not ExchangeReplacement.objects.filter(ticket_item__ticket=ticket).exists()
    page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    goods = page[page.index('id="goods"') :]
    assert goods.count("HAND-MADE-1") == 2  # returned, and the same goes out
    # naming another SKU on the ticket page sends that instead
    [ticket_item] = ticket.items.all()
    goods_post(client, ticket, [(ticket_item, [(hoodie["tee"].code, 1)])])
    assert ExchangeReplacement.objects.get(ticket_item=ticket_item).sku == hoodie["tee"]


def test_full_width_and_other_case_codes_find_the_one_sku_they_name(client, agent, hoodie):
    open_exchange(client, agent, hoodie, hoodie["xl"].code)
    ticket = Ticket.objects.get(order=hoodie["order"])
    [item] = ticket.items.all()
    wide = hoodie["tee"].code.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789-M"})
    goods_post(client, ticket, [(item, [(wide.lower(), 1)])])
    assert ExchangeReplacement.objects.get(ticket_item=item).sku == hoodie["tee"]
    # two SKUs whose codes differ only in case: the one typed exactly, never the other
    twin = make_sku(price=Decimal("9.90"), colour="粉色", size="XS")
    type(twin).objects.filter(pk=twin.pk).update(code=hoodie["tee"].code.lower())
    goods_post(client, ticket, [(item, [(hoodie["tee"].code.lower(), 1)])])
    assert ExchangeReplacement.objects.get(ticket_item=item).sku_id == twin.pk


def test_a_return_ignores_a_posted_replacement(client, agent, hoodie):
    client.force_login(agent)
    item = hoodie["item"]
    client.post(
        reverse("tickets:ticket_new", args=[hoodie["order"].pk]),
        {
            "kind": Ticket.Kind.RETURN,
            "reason": Ticket.Reason.NOT_SUITABLE,
            "responsibility": Ticket.Responsibility.BUYER,
            f"qty_{item.pk}": 1,
            f"send_{item.pk}": hoodie["xl"].code,
        },
    )
    assert Ticket.objects.filter(order=hoodie["order"], kind=Ticket.Kind.RETURN).exists()
    assert not ExchangeReplacement.objects.exists()


# --- changing it: until the list is signed -----------------------------------------------
def test_two_returned_go_out_as_two_sizes_and_the_quantities_must_add_up(client, agent, hoodie):
    open_exchange(client, agent, hoodie, hoodie["xl"].code, quantity=2)
    ticket = Ticket.objects.get(order=hoodie["order"])
    item = ticket.items.get()
    wrong = goods_post(client, ticket, [(item, [(hoodie["xl"].code, 1), ("", "")])])
    assert any("必须也是 2 件" in m for m in messages_of(wrong))
    assert ExchangeReplacement.objects.get(ticket_item=item).quantity == 2  # unchanged

    response = goods_post(
        client, ticket, [(item, [(hoodie["xl"].code, 1), (hoodie["xl_premium"].code, 1)])]
    )
    assert any("发出商品已更新" in m for m in messages_of(response))
    lines = ExchangeReplacement.objects.filter(ticket_item=item).order_by("sku__code")
    assert {(line.sku_id, line.quantity) for line in lines} == {
        (hoodie["xl"].pk, 1),
        (hoodie["xl_premium"].pk, 1),
    }


@pytest.mark.parametrize(
    ("slots", "words"),
    [
        ([("NOPE", "1")], "没有商家编码"),
        ([("", "1")], "请填写换出商品的商家编码"),
        ([("{xl}", "")], "请填写数量"),
        ([("{xl}", "0")], ""),
        ([("{xl}", "99999999999999999999")], ""),
        ([("{xl}", "1"), ("{xl}", "1")], "重复"),
        ([("{xl}", "١")], ""),
        ([("x" * 500, "1")], ""),
    ],
)
def test_bad_goods_rows_are_refused_with_a_message_and_change_nothing(
    client, agent, hoodie, slots, words
):
    open_exchange(client, agent, hoodie, hoodie["xl"].code, quantity=2)
    ticket = Ticket.objects.get(order=hoodie["order"])
    item = ticket.items.get()
    before = list(ExchangeReplacement.objects.values_list("sku_id", "quantity"))
    filled = [(code.format(xl=hoodie["xl"].code), qty) for code, qty in slots]
    response = goods_post(client, ticket, [(item, filled)])
    assert response.status_code == 200
    errors = [m for m in messages_of(response) if "已更新" not in m]
    assert errors
    assert words in " ".join(errors)
    assert list(ExchangeReplacement.objects.values_list("sku_id", "quantity")) == before


def test_changing_after_the_list_is_signed_is_refused_with_the_reason(
    client, agent, supervisor, hoodie
):
    open_exchange(client, agent, hoodie, hoodie["xl"].code)
    ticket = queue(Ticket.objects.get(order=hoodie["order"]), agent)
    item = ticket.items.get()
    sheet = build_list()

    # On the list but not signed: still changeable.
    response = goods_post(client, ticket, [(item, [(hoodie["xl_premium"].code, 1)])])
    assert any("发出商品已更新" in m for m in messages_of(response))

    exchange_list_approve(actor=supervisor, sheet=sheet)
    response = goods_post(client, ticket, [(item, [(hoodie["xl"].code, 1)])])
    [message] = messages_of(response)
    assert "签字" in message and str(supervisor) in message
    assert ExchangeReplacement.objects.get(ticket_item=item).sku == hoodie["xl_premium"]
    # The page no longer offers the form, and says why.
    page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    assert reverse("tickets:exchange_goods", args=[ticket.pk]) not in page
    assert "签字" in page
    # The service refuses it too, whoever calls it.
    with pytest.raises(DeskError):
        exchange_set_replacements(
            actor=supervisor,
            ticket=ticket,
            requests=[ReplacementRequest(item.pk, hoodie["xl"], 1)],
        )

    # Taken off the signed list (the signature voided): it can change again.
    line = sheet.exchange_lines.get()
    exchange_line_remove(actor=supervisor, line=line, reason="买家改要 XL 码")
    response = goods_post(client, ticket, [(item, [(hoodie["xl"].code, 1)])])
    assert any("发出商品已更新" in m for m in messages_of(response))


def test_after_the_goods_went_out_it_cannot_change(agent, hoodie):
    ticket = make_ticket(hoodie["order"], agent, status=S.SHIPPED)
    item = ticket.items.get()
    with pytest.raises(DeskError, match="已发出"):
        exchange_set_replacements(
            actor=agent, ticket=ticket, requests=[ReplacementRequest(item.pk, hoodie["xl"], 1)]
        )


def test_only_people_working_the_shop_may_change_it(client, agent, finance, hoodie, shop_b):
    open_exchange(client, agent, hoodie, hoodie["xl"].code)
    ticket = Ticket.objects.get(order=hoodie["order"])
    item = ticket.items.get()
    url = reverse("tickets:exchange_goods", args=[ticket.pk])
    data = {f"send_{item.pk}_0": hoodie["tee"].code, f"qty_{item.pk}_0": "1"}
    client.force_login(finance)
    assert client.post(url, data).status_code == 403
    client.force_login(make_user(role=Role.AGENT, shops=[shop_b]))
    assert client.post(url, data).status_code == 404
    client.logout()
    assert client.post(url, data).status_code == 302  # to the login page
    assert ExchangeReplacement.objects.get(ticket_item=item).sku == hoodie["xl"]


def test_a_return_ticket_has_no_goods_door(client, agent, order_a):
    ticket = make_ticket(order_a, agent, kind=Ticket.Kind.RETURN)
    client.force_login(agent)
    assert client.post(reverse("tickets:exchange_goods", args=[ticket.pk]), {}).status_code == 404


def test_another_tickets_item_cannot_be_named(client, agent, hoodie, shop_a):
    open_exchange(client, agent, hoodie, hoodie["xl"].code)
    ticket = Ticket.objects.get(order=hoodie["order"])
    other = make_ticket(make_order(shop_a), agent)
    foreign = other.items.get()
    with pytest.raises(DeskError, match="不属于"):
        exchange_set_replacements(
            actor=agent,
            ticket=ticket,
            requests=[ReplacementRequest(foreign.pk, hoodie["xl"], 1)],
        )


# --- the price difference -------------------------------------------------------------------
def charge(client, ticket, amount, submission=None):
    page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    key = submission or re.search(
        r'action="{}".*?name="submission" value="([^"]+)"'.format(
            re.escape(reverse("tickets:exchange_charge", args=[ticket.pk]))
        ),
        page,
        re.S,
    ).group(1)
    response = client.post(
        reverse("tickets:exchange_charge", args=[ticket.pk]),
        {"amount": amount, "reference": "3500000000000001", "submission": key},
        follow=True,
    )
    return response, key


def test_a_dearer_replacement_is_charged_once_and_never_beyond_whats_owed(client, agent, hoodie):
    open_exchange(client, agent, hoodie, hoodie["xl_premium"].code)
    ticket = Ticket.objects.get(order=hoodie["order"])
    page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    assert "买家补差价 ¥30.00" in page

    response, key = charge(client, ticket, "20")
    assert any("已登记买家补差价 ¥20.00" in m for m in messages_of(response))
    charge(client, ticket, "20", submission=key)  # the same form posted again
    assert ExchangeCharge.objects.filter(ticket=ticket).count() == 1

    response, _key = charge(client, ticket, "10.01")
    assert any("最多登记 ¥10.00" in m for m in messages_of(response))
    response, _key = charge(client, ticket, "10")
    assert ExchangeCharge.objects.filter(ticket=ticket).count() == 2
    page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    assert "还差 ¥0.00" in page
    charge_url = reverse("tickets:exchange_charge", args=[ticket.pk])
    assert f'action="{charge_url}"' not in page  # nothing owed: no form


def test_a_charge_is_reversed_once_with_a_reason(client, agent, hoodie):
    open_exchange(client, agent, hoodie, hoodie["xl_premium"].code)
    ticket = Ticket.objects.get(order=hoodie["order"])
    charge(client, ticket, "30")
    paid = ExchangeCharge.objects.get(ticket=ticket)
    url = reverse("tickets:exchange_charge_reverse", args=[ticket.pk, paid.pk])
    response = client.post(url, {"reason": "\u200b"}, follow=True)
    assert any("冲销原因" in m for m in messages_of(response))
    client.post(url, {"reason": "登记错了单"})
    client.post(url, {"reason": "再来一次"})
    assert ExchangeCharge.objects.filter(reverses=paid).count() == 1
    with pytest.raises(Exception):  # noqa: B017 - append-only, whatever the door
        paid.delete()


def test_a_charge_on_another_shops_ticket_is_a_404(client, agent, hoodie, shop_b):
    open_exchange(client, agent, hoodie, hoodie["xl_premium"].code)
    ticket = Ticket.objects.get(order=hoodie["order"])
    client.force_login(make_user(role=Role.AGENT, shops=[shop_b]))
    url = reverse("tickets:exchange_charge", args=[ticket.pk])
    assert client.post(url, {"amount": "30", "submission": "x"}).status_code == 404
    assert not ExchangeCharge.objects.exists()


def test_a_cheaper_replacement_shows_what_to_refund(client, agent, hoodie):
    open_exchange(client, agent, hoodie, hoodie["tee"].code)
    ticket = Ticket.objects.get(order=hoodie["order"])
    page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    assert "退买家差价 ¥110.00" in page
    assert "换货差价" in page
    assert f'action="{reverse("tickets:exchange_charge", args=[ticket.pk])}"' not in page


def test_the_prices_are_kept_when_the_catalogue_changes(client, agent, hoodie):
    open_exchange(client, agent, hoodie, hoodie["xl_premium"].code)
    ticket = Ticket.objects.get(order=hoodie["order"])
    type(hoodie["xl_premium"]).objects.filter(pk=hoodie["xl_premium"].pk).update(
        price=Decimal("999.00")
    )
    line = ExchangeReplacement.objects.get(ticket_item__ticket=ticket)
    assert line.price_difference == Decimal("30.00")


def signed_xl(client, agent, supervisor, hoodie):
    """Black XXL -> black XL opened by ``agent``, queued and on a list ``supervisor`` signed:
    (the ticket, the signed list)."""
    open_exchange(client, agent, hoodie, hoodie["xl"].code)
    ticket = queue(Ticket.objects.get(order=hoodie["order"]), agent)
    sheet = build_list()
    exchange_list_approve(actor=supervisor, sheet=sheet)
    return ticket, sheet


def test_a_signed_list_keeps_the_goods_it_signed_when_the_catalogue_sku_is_edited(
    client, agent, supervisor, hoodie
):
    # given black XXL -> black XL on a signed list
    ticket, sheet = signed_xl(client, agent, supervisor, hoodie)
    signed_code = hoodie["xl"].code
    # when the catalogue's XL SKU is edited (its merchant code and size, as in the admin)
    type(hoodie["xl"]).objects.filter(pk=hoodie["xl"].pk).update(code="RENAMED-90", size="90")
    # then the list page, the ticket page and the file still say what was signed
    client.force_login(supervisor)
    page = client.get(reverse("finance_exports:sheet_detail", args=[sheet.pk])).content.decode()
    lines = page[page.index('id="lines"') :]
    assert signed_code in lines and "RENAMED-90" not in lines
    ticket_page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    assert signed_code in ticket_page and "RENAMED-90" not in ticket_page
    [row] = table(workbook(sheet)["换货清单"], 5)
    assert (row["发出商家编码"], row["发出尺码"]) == (signed_code, "XL")


def test_a_signed_list_keeps_size_for_size_when_the_sku_is_moved_to_another_product(
    client, agent, supervisor, hoodie
):
    ticket, sheet = signed_xl(client, agent, supervisor, hoodie)
    # when the catalogue's XL is moved to the T-shirt's product
    type(hoodie["xl"]).objects.filter(pk=hoodie["xl"].pk).update(
        product_id=hoodie["tee"].product_id
    )
    # then nothing says 换款 (another product): the signed list sends the hoodie's XL
    client.force_login(supervisor)
    page = client.get(reverse("finance_exports:sheet_detail", args=[sheet.pk])).content.decode()
    ticket_page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    for html in (page[page.index('id="lines"') :], ticket_page):
        assert "换款" not in html
    [row] = table(workbook(sheet)["换货清单"], 5)
    assert row["换码/换款"] == "换码/换色"


def test_saving_again_before_signing_records_the_catalogues_edited_sku(
    client, agent, supervisor, hoodie
):
    open_exchange(client, agent, hoodie, hoodie["xl"].code)
    ticket = queue(Ticket.objects.get(order=hoodie["order"]), agent)
    item = ticket.items.get()
    # given the catalogue's XL is renamed before the list is signed
    type(hoodie["xl"]).objects.filter(pk=hoodie["xl"].pk).update(code="HD-XL-NEW", size="XL码")
    # when the agent saves the same goods again (the form offers the SKU's code as it is now)
    response = goods_post(client, ticket, [(item, [("HD-XL-NEW", 1)])])
    # then what goes out is recorded as the catalogue has it now
    assert any("发出商品已更新" in m for m in messages_of(response))
    line = ExchangeReplacement.objects.get(ticket_item=item)
    assert (line.code, line.size) == ("HD-XL-NEW", "XL码")


def test_clearing_the_goods_says_the_same_goods_go_out(client, agent, hoodie):
    open_exchange(client, agent, hoodie, hoodie["xl"].code)
    ticket = Ticket.objects.get(order=hoodie["order"])
    item = ticket.items.get()
    response = goods_post(client, ticket, [(item, [("", "")])])
    assert "发出商品已更新：与退回的商品相同。" in messages_of(response)
    assert not ExchangeReplacement.objects.filter(ticket_item=item).exists()


def test_an_order_of_another_status_still_uses_the_order_price_without_a_catalogue_price(
    agent, shop_a, hoodie
):
    order = make_order(shop_a, status=Order.Status.SHIPPED, items=((Decimal("80.00"), 1),))
    item = order.items.select_related("sku").get()
    type(item.sku).objects.filter(pk=item.sku_id).update(price=None)
    ticket = make_ticket(order, agent)
    exchange_set_replacements(
        actor=agent,
        ticket=ticket,
        requests=[ReplacementRequest(ticket.items.get().pk, hoodie["tee"], 1)],
    )
    line = ExchangeReplacement.objects.get(ticket_item__ticket=ticket)
    assert (line.unit_price, line.returned_unit_price) == (Decimal("59.00"), Decimal("80.00"))


def test_the_list_page_shows_what_goes_out_and_the_unpaid_difference(
    client, agent, supervisor, hoodie
):
    open_exchange(client, agent, hoodie, hoodie["xl_premium"].code)
    queue(Ticket.objects.get(order=hoodie["order"]), agent)
    sheet = build_list()
    client.force_login(supervisor)
    page = client.get(reverse("finance_exports:sheet_detail", args=[sheet.pk])).content.decode()
    lines = page[page.index('id="lines"') :]
    assert hoodie["xl_premium"].code in lines and "XL+" in lines
    assert "补 ¥30.00" in lines and "未收 ¥30.00" in lines
    # signing asks first (a signed list cannot change), and says a difference is unpaid
    assert 'data-confirm="签字后清单不能再改' in page
    assert "其中 1 单差价还没结清" in page
    [row] = table(workbook(sheet)["换货清单"], 5)
    assert row["差价结清"] == "未收 ¥30.00"


def test_the_unpacking_screen_shows_what_came_back_and_what_goes_out(client, agent, hoodie):
    open_exchange(client, agent, hoodie, hoodie["xl"].code)
    ticket = Ticket.objects.get(order=hoodie["order"])
    ticket_transition(
        actor=agent, ticket=ticket, to_status=S.AWAITING_RETURN, tracking_no="YT1234567890"
    )
    page = client.get(reverse("tickets:parcel_unpack"), {"tracking_no": "yt1234567890"})
    html = page.content.decode()
    assert ticket.number in html
    table_html = html[html.index("换货：退回 → 发出") :]
    assert "XXL" in table_html and hoodie["xl"].code in table_html


def test_an_exchange_refunds_only_the_difference_and_flags_an_overpayment(client, agent, hoodie):
    open_exchange(client, agent, hoodie, hoodie["xl_premium"].code)  # the buyer owes 30
    ticket = Ticket.objects.get(order=hoodie["order"])
    charge(client, ticket, "30")
    [item] = ticket.items.all()
    # the buyer changes their mind after paying: the same price goes out, 30 is owed back
    goods_post(client, ticket, [(item, [(hoodie["xl"].code, 1)])])
    page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    assert "多收 ¥30.00" in page
    refund = {
        "kind": "refund",
        "payment_method": "platform_refund",
        "note": "换货差价",
    }

    def record(amount):
        html = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
        key = re.search(r'name="submission" value="([^"]+)"', html).group(1)
        return client.post(
            reverse("tickets:ledger_record", args=[ticket.pk]),
            {**refund, "amount": amount, "submission": key},
            follow=True,
        )

    response = record("30.01")
    assert any("换货单只退差价" in m and "最多再退 ¥30.00" in m for m in messages_of(response))
    record("30")
    assert ticket.ledger_entries.filter(kind="refund").count() == 1
    response = record("1")
    assert any("最多再退 ¥0.00" in m for m in messages_of(response))


def test_the_unsigned_lists_file_follows_a_change_of_goods(
    client, agent, hoodie, django_capture_on_commit_callbacks
):
    open_exchange(client, agent, hoodie, hoodie["xl"].code)
    ticket = queue(Ticket.objects.get(order=hoodie["order"]), agent)
    sheet = build_list()
    [item] = ticket.items.all()
    with django_capture_on_commit_callbacks(execute=True):
        goods_post(client, ticket, [(item, [(hoodie["xl_premium"].code, 1)])])
    sheet.refresh_from_db()
    [row] = table(workbook(sheet)["换货清单"], 5)
    assert row["发出商家编码"] == hoodie["xl_premium"].code
    assert row["差价"] == 30


# --- the same goods never move twice ---------------------------------------------------------
def test_the_same_piece_is_not_on_two_open_goods_tickets(client, agent, hoodie):
    # two pieces ordered: one exchange for both, then a return for one more is refused
    assert open_exchange(client, agent, hoodie, hoodie["xl"].code, quantity=2).status_code == 302
    response = open_exchange(client, agent, hoodie, hoodie["xl"].code, quantity=1)
    assert response.status_code == 200
    first = Ticket.objects.get(order=hoodie["order"])
    assert f"未完结的售后单 {first.number} 已经在处理 2 件" in response.content.decode()
    assert Ticket.objects.filter(order=hoodie["order"]).count() == 1
    # once the first is cancelled, the pieces are free again
    ticket_transition(actor=agent, ticket=first, to_status=S.CANCELLED)
    assert open_exchange(client, agent, hoodie, hoodie["xl"].code).status_code == 302


def test_the_new_ticket_form_posted_twice_opens_one_ticket(client, agent, hoodie):
    client.force_login(agent)
    url = reverse("tickets:ticket_new", args=[hoodie["order"].pk])
    page = client.get(url).content.decode()
    key = re.search(r'name="submission" value="([^"]+)"', page).group(1)
    item = hoodie["item"]
    data = {
        "kind": Ticket.Kind.RETURN,
        "reason": Ticket.Reason.NOT_SUITABLE,
        "responsibility": Ticket.Responsibility.BUYER,
        f"qty_{item.pk}": 1,
        "submission": key,
    }
    first = client.post(url, data)
    second = client.post(url, data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Ticket.objects.filter(order=hoodie["order"]).count() == 1
    forged = client.post(url, {**data, "submission": key + "x"})
    assert "表单已过期或无效" in forged.content.decode()


def _refund(client, ticket, amount, key=None):
    html = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    key = key or re.search(r'name="submission" value="([^"]+)"', html).group(1)
    return client.post(
        reverse("tickets:ledger_record", args=[ticket.pk]),
        {
            "kind": "refund",
            "payment_method": "platform_refund",
            "note": "换货差价",
            "amount": amount,
            "submission": key,
        },
        follow=True,
    ), key


def test_a_refund_made_before_the_goods_changed_back_is_owed_by_the_buyer(client, agent, hoodie):
    open_exchange(client, agent, hoodie, hoodie["tee"].code)  # 110 cheaper: refund 110
    ticket = Ticket.objects.get(order=hoodie["order"])
    _refund(client, ticket, "110")
    [item] = ticket.items.all()
    goods_post(client, ticket, [(item, [(hoodie["xl"].code, 1)])])  # back to the same price
    page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    assert "多退 ¥110.00" in page
    # the buyer pays it back through the price-difference form
    response, _key = charge(client, ticket, "110")
    assert any("已登记买家补差价 ¥110.00" in m for m in messages_of(response))
    page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    assert "多退" not in page


def test_a_difference_paid_on_top_can_be_refunded_beyond_the_items_price(client, agent, shop_a):
    order = make_order(shop_a, items=((Decimal("100.00"), 1),))
    item = order.items.select_related("sku__product").get()
    dear = make_sku(price=Decimal("180.00"), product=item.sku.product, size="XL")
    cheap = make_sku(price=Decimal("20.00"), title="袜子")
    client.force_login(agent)
    data = {
        "kind": Ticket.Kind.EXCHANGE,
        "reason": Ticket.Reason.NOT_SUITABLE,
        "responsibility": Ticket.Responsibility.BUYER,
        f"qty_{item.pk}": 1,
        f"send_{item.pk}": dear.code,
    }
    client.post(reverse("tickets:ticket_new", args=[order.pk]), data)
    ticket = order.tickets.get()
    charge(client, ticket, "80")  # the buyer pays 80 on top
    [ticket_item] = ticket.items.all()
    goods_post(client, ticket, [(ticket_item, [(cheap.code, 1)])])  # now 80 cheaper than paid
    # owed back: the 80 paid on top plus 80 for the cheaper goods = 160, above the 100 paid
    response, _key = _refund(client, ticket, "160")
    assert any("已登记退款 ¥160.00" in m for m in messages_of(response)), messages_of(response)


def test_a_form_key_from_another_ticket_is_refused_not_answered(client, agent, hoodie, shop_a):
    open_exchange(client, agent, hoodie, hoodie["xl_premium"].code)
    ticket = Ticket.objects.get(order=hoodie["order"])
    _response, key = charge(client, ticket, "10")
    other_order = make_order(shop_a, items=((Decimal("169.00"), 1),))
    other_item = other_order.items.select_related("sku__product").get()
    dearer = make_sku(price=Decimal("199.00"), product=other_item.sku.product)
    other = make_ticket(other_order, agent)
    exchange_set_replacements(
        actor=agent,
        ticket=other,
        requests=[ReplacementRequest(other.items.get().pk, dearer, 1)],
    )
    response, _key = charge(client, other, "10", submission=key)
    assert any("表单已过期或无效" in m for m in messages_of(response))
    assert not ExchangeCharge.objects.filter(ticket=other).exists()
    # the same for the money form: a key used on one ticket is not answered on another
    refund_ticket = make_ticket(make_order(shop_a), agent, kind=Ticket.Kind.RETURN)
    _r, money_key = _refund(client, refund_ticket, "1")
    response, _k = _refund(client, ticket, "1", key=money_key)
    assert any("表单已过期或无效" in m for m in messages_of(response))
