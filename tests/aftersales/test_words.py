"""The desk's English says one thing one way, and its Chinese admin has no English left in it:
register pages and the admin's index name their lists in the plural, an exchange list is
signed (not approved), the statistics' columns are capitalised and say what they count, and
django-axes' section and models have Chinese names."""

import re

import pytest
from django.apps import apps
from django.utils import translation

from finance_exports.models import Sheet
from tests.factories import make_user
from tickets.roles import Role

pytestmark = pytest.mark.django_db

# Names that are the same in the singular and the plural in English.
UNCOUNTABLE = {"Customer feedback", "Rate card"}


def english(client, url: str) -> str:
    client.cookies["django_language"] = "en"
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def heading(html: str) -> str:
    return re.search(r"<h1>(.*?)(?:</h1>|<)", html, re.S).group(1).strip()


def test_every_model_of_the_desk_is_named_in_the_plural_in_english():
    with translation.override("en"):
        singular_plurals = [
            f"{model._meta.label}: {model._meta.verbose_name_plural}"
            for app in ("tickets", "finance_exports")
            for model in apps.get_app_config(app).get_models()
            if not model._meta.label.split(".")[1].startswith("Historical")
            and str(model._meta.verbose_name_plural) == str(model._meta.verbose_name)
            and str(model._meta.verbose_name_plural) not in UNCOUNTABLE
        ]
    assert singular_plurals == []


def test_a_model_keeps_its_singular_name_and_its_plural_is_the_chinese_word_in_chinese():
    from tickets.models import InvoiceRequest, Order

    with translation.override("en"):
        assert str(InvoiceRequest._meta.verbose_name) == "Invoice request"
        assert str(InvoiceRequest._meta.verbose_name_plural) == "Invoice requests"
        assert str(Order._meta.verbose_name_plural) == "Orders"
    assert str(InvoiceRequest._meta.verbose_name_plural) == "发票申请"
    assert str(Order._meta.verbose_name_plural) == "订单"


@pytest.mark.parametrize(
    ("url", "title"),
    [
        ("/registers/invoices/", "Invoice requests"),
        ("/registers/quality/", "Quality problems"),
        ("/registers/alerts/", "Production alerts"),
        ("/registers/interventions/", "Platform interventions"),
        ("/registers/reviews/", "Neutral / negative reviews"),
        ("/registers/losses/", "Courier losses"),
    ],
)
def test_a_registers_page_and_its_link_name_it_in_the_plural(client, supervisor, url, title):
    client.force_login(supervisor)
    assert heading(english(client, url)) == title
    assert f">{title}<" in english(client, "/registers/")


def test_the_reviews_filter_offers_any_follow_up_agent(client, supervisor):
    client.force_login(supervisor)
    html = english(client, "/registers/reviews/")
    assert "Any follow-up agent" in html
    assert "All followers" not in html


def test_the_statistics_columns_say_what_they_count_capitalised(client, supervisor):
    client.force_login(supervisor)
    html = english(client, "/registers/statistics/")
    assert ">Tickets opened</th>" in html
    assert ">Tickets resolved</th>" in html
    assert ">New ticket<" not in html
    # the per-agent table's header (drawn when there is data), capitalised like its neighbours
    with translation.override("en"):
        assert translation.gettext("超时") == "Overdue"


def test_an_exchange_list_is_signed_in_every_english_word(client):
    with translation.override("en"):
        labels = dict(Sheet.Status.choices)
        assert str(labels["awaiting_approval"]) == "Awaiting signature"
        assert str(labels["approved"]) == "Signed"
        from django.utils.translation import gettext

        for msgid in ("签字", "未签字", "核对签字", "请核对后签字", "换货清单签字"):
            assert "pprov" not in gettext(msgid), msgid


def test_the_chinese_admin_names_the_login_lockout_in_chinese(client):
    root = make_user("root-words", None, is_superuser=True, is_staff=True)
    client.force_login(root)
    html = client.get("/admin/").content.decode()
    assert "登录锁定" in html
    assert "登录失败记录" in html
    assert "登录记录" in html
    for word in ("Axes", "AXES", "Access attempts", "Access logs"):
        assert word not in html
    # and in English the section keeps the desk's name for it
    client.cookies["django_language"] = "en"
    html = client.get("/admin/").content.decode()
    assert "Login lockouts" in html and "Access attempts" in html


def test_an_agent_sees_the_register_titles_in_chinese_unchanged(client, shop_a):
    agent = make_user("words-agent", Role.AGENT, shops=[shop_a])
    client.force_login(agent)
    assert heading(client.get("/registers/invoices/").content.decode()) == "发票申请"
