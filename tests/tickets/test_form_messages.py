"""Issue 11 review: a form error names the field and says it once. Django's own length message
("确保该变量包含不超过 40 字符 (目前字符数 10000)") named no field; a quantity below one drew
two messages for one mistake."""

import re
from decimal import Decimal

import pytest
from django import forms
from django.urls import reverse

from tests.factories import make_order, make_sku
from tickets import forms as ticket_forms
from tickets import forms_orders, forms_registers
from tickets.models import ExchangeCharge, Ticket

pytestmark = pytest.mark.django_db
LONG = "长" * 10000
DJANGO_WORDS = ("确保该变量", "目前字符数", "确保该值")


def messages_of(response) -> str:
    return "\n".join(str(m) for m in response.context["messages"])


def assert_named(text: str, label: str, limit: int) -> None:
    assert f"“{label}”最多 {limit} 个字符（现在 10000 个）" in text
    assert not any(words in text for words in DJANGO_WORDS)


@pytest.fixture
def exchange(client, agent, shop_a):
    """An exchange of a 169-yuan hoodie for a dearer 199-yuan one: the shop charges 30."""
    order = make_order(shop_a, items=((Decimal("169.00"), 2),))
    item = order.items.select_related("sku__product").get()
    premium = make_sku(price=Decimal("199.00"), size="XL+", product=item.sku.product)
    client.force_login(agent)
    client.post(
        reverse("tickets:ticket_new", args=[order.pk]),
        {
            "kind": Ticket.Kind.EXCHANGE,
            "reason": Ticket.Reason.NOT_SUITABLE,
            "responsibility": Ticket.Responsibility.BUYER,
            f"qty_{item.pk}": 1,
            f"send_{item.pk}": premium.code,
        },
    )
    return Ticket.objects.get(order=order)


def test_the_exchange_charge_form_names_the_long_field(client, exchange):
    url = reverse("tickets:exchange_charge", args=[exchange.pk])
    page = client.get(reverse("tickets:ticket_detail", args=[exchange.pk])).content.decode()
    key = re.search(
        rf'action="{re.escape(url)}".*?name="submission" value="([^"]+)"', page, re.S
    ).group(1)
    response = client.post(url, {"amount": "30", "submission": key, "note": LONG}, follow=True)
    assert_named(messages_of(response), "备注", 255)
    assert not ExchangeCharge.objects.exists()


def test_a_quantity_below_one_says_so_once(client, exchange):
    item = exchange.items.get()
    response = client.post(
        reverse("tickets:exchange_goods", args=[exchange.pk]),
        {f"send_{item.pk}_0": item.order_item.sku_code, f"qty_{item.pk}_0": "0"},
        follow=True,
    )
    text = messages_of(response)
    assert "数量至少 1 件。" in text
    assert "请填写数量" not in text and "确保该值" not in text and "；" not in text


def test_the_flag_memo_and_the_extension_note_name_the_long_field(client, agent, order_a):
    client.force_login(agent)
    flag = client.post(
        reverse("tickets:order_flag", args=[order_a.pk]),
        {"flag": "red", "memo": LONG, "expected_flag": "", "expected_memo": ""},
        follow=True,
    )
    assert_named(messages_of(flag), "商家备忘", 2000)
    extension = client.post(
        reverse("tickets:order_extend_receipt", args=[order_a.pk]),
        {"days": "3", "note": LONG, "expected_days": "0"},
        follow=True,
    )
    assert_named(messages_of(extension), "备注", 255)
    order_a.refresh_from_db()
    assert (order_a.flag_memo, order_a.receipt_extended_days) == ("", 0)


def test_the_unpacking_form_names_the_long_field(client, agent):
    client.force_login(agent)
    response = client.post(
        reverse("tickets:parcel_unpack"),
        {"tracking_no": "YT800", "condition": "intact", "contents": LONG},
    )
    assert_named(response.content.decode(), "包裹内容", 500)


def test_the_message_speaks_english_in_english(client, agent, settings):
    client.force_login(agent)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(
        reverse("tickets:parcel_unpack"),
        {"tracking_no": "YT801", "condition": "intact", "buyer_note": LONG},
    )
    html = response.content.decode()
    assert "“Buyer&#x27;s note” is at most 500 characters long (10000 now)" in html
    assert "最多" not in html


@pytest.mark.parametrize("module", [ticket_forms, forms_orders, forms_registers])
def test_every_text_field_of_the_desks_forms_names_itself(module):
    forms_in_module = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, forms.BaseForm)
        and value.__module__ == module.__name__
    ]
    assert forms_in_module
    for form_class in forms_in_module:
        for name, field in form_class.base_fields.items():
            if isinstance(field, forms.CharField):
                message = str(field.error_messages["max_length"])
                assert message.startswith("“") and "%(limit_value)d" in message, (
                    f"{form_class.__name__}.{name}"
                )
