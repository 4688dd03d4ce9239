"""Which shop an upload is for (issue 11, section 6): the import page preselects no shop unless
the user serves only one; with none chosen, the order file's 店铺名称 decides when it names one
of the user's shops; a file naming another shop than the chosen one is refused, naming both."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import make_user
from tests.tickets.export_files import ORDER_HEADERS_41, ORDER_HEADERS_56, export_csv, order_row
from tickets.models import OrderImport
from tickets.roles import Role

pytestmark = pytest.mark.django_db

NO_1 = "3515012345678901234"


def _orders(headers=ORDER_HEADERS_56, **values):
    return SimpleUploadedFile(
        "ExportOrderList.csv", export_csv(headers, [order_row(NO_1, **values)]), "text/csv"
    )


def _shop_select(html: str) -> str:
    return re.search(r'<select name="shop".*?</select>', html, re.S).group(0)


def _selected(html: str) -> list[str]:
    return re.findall(r'<option value="(\d*)"[^>]*\bselected\b', _shop_select(html))


@pytest.fixture
def two_shop_agent(shop_a, shop_b):
    return make_user("agent-ab", Role.AGENT, shops=[shop_a, shop_b])


def test_page_preselects_no_shop_for_a_user_of_several_shops(client, two_shop_agent):
    client.force_login(two_shop_agent)
    html = client.get(reverse("imports:home")).content.decode()
    assert _selected(html) == [""]
    assert "按订单文件里的店铺名称" in _shop_select(html)


def test_page_preselects_the_only_shop_of_a_one_shop_user(client, agent, shop_a, shop_b):
    client.force_login(agent)
    html = client.get(reverse("imports:home")).content.decode()
    assert _selected(html) == [str(shop_a.pk)]


def test_no_shop_chosen_takes_the_shop_the_file_names(client, two_shop_agent, shop_b):
    client.force_login(two_shop_agent)
    response = client.post(
        reverse("imports:home"), {"shop": "", "orders_file": _orders(店铺名称=shop_b.name)}
    )
    batch = OrderImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:detail", args=[batch.pk])
    assert (batch.shop, batch.status) == (shop_b, OrderImport.Status.PREVIEWED)


def test_a_chosen_shop_the_file_does_not_name_is_refused_naming_both(
    client, two_shop_agent, shop_a, shop_b
):
    client.force_login(two_shop_agent)
    response = client.post(
        reverse("imports:home"),
        {"shop": shop_a.pk, "orders_file": _orders(店铺名称=shop_b.name)},
    )
    assert response.status_code == 200
    errors = " ".join(response.context["form"].non_field_errors())
    assert shop_a.name in errors and shop_b.name in errors
    assert not OrderImport.objects.exists()


def test_the_chosen_shop_named_by_the_file_is_accepted(client, two_shop_agent, shop_a):
    client.force_login(two_shop_agent)
    response = client.post(
        reverse("imports:home"),
        {"shop": shop_a.pk, "orders_file": _orders(店铺名称=f" {shop_a.name} ")},
    )
    assert response.status_code == 302
    assert OrderImport.objects.get().shop == shop_a


def test_a_file_naming_a_shop_of_someone_else_needs_a_choice(client, agent, shop_b):
    # given: an agent of shop A only, and a file of shop B
    client.force_login(agent)
    # when: no shop is chosen
    response = client.post(
        reverse("imports:home"), {"shop": "", "orders_file": _orders(店铺名称=shop_b.name)}
    )
    # then: nothing is stored, and the page asks for a shop
    assert response.status_code == 200
    assert "不是你负责的店铺" in " ".join(response.context["form"].non_field_errors())
    assert not OrderImport.objects.exists()


@pytest.mark.parametrize("headers", [ORDER_HEADERS_41, ORDER_HEADERS_56])
def test_a_file_without_a_shop_name_needs_a_choice(client, two_shop_agent, headers):
    client.force_login(two_shop_agent)
    response = client.post(reverse("imports:home"), {"shop": "", "orders_file": _orders(headers)})
    assert response.status_code == 200
    assert "请选择店铺" in " ".join(response.context["form"].non_field_errors())
    assert not OrderImport.objects.exists()


def test_an_inactive_shop_named_by_the_file_is_not_taken(client, two_shop_agent, shop_b):
    shop_b.is_active = False
    shop_b.save()
    client.force_login(two_shop_agent)
    response = client.post(
        reverse("imports:home"), {"shop": "", "orders_file": _orders(店铺名称=shop_b.name)}
    )
    assert response.status_code == 200
    assert not OrderImport.objects.exists()


def test_english_page_says_it_in_english(client, two_shop_agent, shop_a, shop_b, settings):
    client.force_login(two_shop_agent)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(
        reverse("imports:home"),
        {"shop": shop_a.pk, "orders_file": _orders(店铺名称=shop_b.name)},
    )
    errors = " ".join(response.context["form"].non_field_errors())
    assert shop_a.name in errors and shop_b.name in errors
    assert errors.startswith("You chose the shop")
