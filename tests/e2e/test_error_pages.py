"""In the browser: the error pages as an agent sees them, in Chinese and in English, with the
desk's top bar and a way back (issue 12 §6). Screenshots land in test-artifacts/screenshots/
(error-*.png) for a person to look at."""

import pytest
from django.conf import settings
from django.utils import translation

from tests.e2e.conftest import login, screenshot
from tests.factories import make_order, make_ticket, make_user
from tickets.models import TicketEvent
from tickets.roles import Role

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.urls("tests.aftersales.error_urls"),
]


def said(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def speak(page, language: str) -> None:
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": page.base_url}]
    )


def assert_error_page(page, language: str, heading: str, *, top_bar: bool = True) -> None:
    assert page.get_attribute("html", "lang") == language
    assert page.inner_text(".error-card h1") == said(language, heading)
    assert page.is_visible(".error-ways a.button.primary")
    assert page.is_visible("header.topbar") is top_bar
    if top_bar:
        assert page.is_visible("header.topbar form.find input[name=q]")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_error_pages_in_the_browser(page, shop_a, language):
    # given an agent of shop A with a ticket, in their language
    agent = make_user("err-agent", Role.AGENT, shops=[shop_a], last_name="王", first_name="芳")
    ticket = make_ticket(make_order(shop_a), agent)
    login(page, "err-agent")
    speak(page, language)
    tag = "zh" if language == "zh-hans" else "en"

    # 404: a link from the ticket list to an address that does not exist; the way back goes
    # to the list
    page.goto(page.base_url + "/tickets/99999999/", referer=page.base_url + "/tickets/")
    assert_error_page(page, language, "找不到这个页面")
    assert page.get_attribute(".error-ways a.button.secondary", "href") == "/tickets/"
    screenshot(page, f"error-404-{tag}")
    page.click(".error-ways a.button.secondary")
    page.wait_for_url("**/tickets/")

    # 403: a supervisor's page
    page.goto(page.base_url + "/registers/statistics/")
    assert_error_page(page, language, "没有权限打开这个页面")
    screenshot(page, f"error-403-{tag}")

    # 400: a NUL character from a scanner, and a request Django finds suspicious
    page.goto(page.base_url + "/orders/?q=YT12%0034")
    assert_error_page(page, language, "请求无法处理")
    assert "NUL" in page.inner_text(".error-body")
    screenshot(page, f"error-400-{tag}")
    page.goto(page.base_url + "/test-errors/suspicious/")
    assert_error_page(page, language, "请求无法处理")

    # 500: a bug in a view
    page.goto(page.base_url + "/test-errors/broken/")
    assert_error_page(page, language, "系统出错了")
    screenshot(page, f"error-500-{tag}")

    # CSRF: a note sent from a page whose form token went stale
    page.goto(page.base_url + f"/tickets/{ticket.pk}/")
    events = TicketEvent.objects.count()
    form = page.locator("form[action$='/note/']")
    form.locator("textarea, input[name=text]").first.fill("买家说明天寄回")
    stale = "input => { input.value = 'x'.repeat(64); }"
    form.locator("input[name=csrfmiddlewaretoken]").evaluate(stale)
    form.locator("button[type=submit]").first.click()
    page.wait_for_selector(".error-card")
    assert_error_page(page, language, "页面已过期，请刷新后再提交")
    assert TicketEvent.objects.count() == events
    screenshot(page, f"error-csrf-{tag}")
    page.click(".error-ways a.button.secondary")  # back to the ticket, with a fresh form
    page.wait_for_url(f"**/tickets/{ticket.pk}/")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_error_pages_for_a_visitor_who_is_not_signed_in(page, db, language):
    speak(page, language)
    tag = "zh" if language == "zh-hans" else "en"
    page.goto(page.base_url + "/no-such-page/")
    assert_error_page(page, language, "找不到这个页面", top_bar=False)
    assert page.is_visible(".error-foot form.lang")  # the language switch
    screenshot(page, f"error-404-visitor-{tag}")

    # the login form sent by a browser that keeps no cookies
    page.goto(page.base_url + "/login/")
    page.context.clear_cookies()
    speak(page, language)
    page.fill("#id_username", "someone")
    page.fill("#id_password", "whatever")
    page.click("button[type=submit]")
    page.wait_for_selector(".error-card")
    assert_error_page(page, language, "页面已过期，请刷新后再提交", top_bar=False)
    screenshot(page, f"error-csrf-cookies-{tag}")
