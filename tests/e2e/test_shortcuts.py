"""Keyboard shortcuts in a real browser (issue 11, section 6): "/" focuses the search, "?" opens
the help in the page's language, j / k / Enter walk and open the ticket list, and nothing fires
while the agent types (in a field, or choosing characters in a Chinese input method). Also the
handover form's default date, which the browser must show (an ISO value), in both languages."""

import re

import pytest
from django.conf import settings

from tests.e2e.conftest import login, screenshot
from tests.factories import make_order, make_ticket, make_user
from tickets.roles import Role

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SEARCH = "form.find input[name=q]"


def _use_language(page, language):
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": page.base_url}]
    )


def _focused(page, script):
    return page.evaluate(f"() => {{ const el = document.activeElement; return {script}; }}")


@pytest.fixture
def agent_with_tickets(shop_a):
    agent = make_user("kb-agent", Role.AGENT, shops=[shop_a])
    tickets = [make_ticket(make_order(shop_a), agent) for _ in range(3)]
    return agent, tickets


def test_slash_j_k_enter_and_typing_in_search(page, agent_with_tickets):
    login(page, "kb-agent")
    page.goto(page.base_url + "/tickets/")
    links = page.eval_on_selector_all(
        "main table tbody tr a[href*='/tickets/']", "els => els.map(a => a.pathname)"
    )
    assert len(links) == 3

    # "/" puts the cursor in the top bar's search
    page.keyboard.press("/")
    assert _focused(page, "el.matches('form.find input[name=q]')")
    assert page.input_value(SEARCH) == ""

    # typing "j" there types a j: no row is chosen, the page stays
    page.keyboard.type("jk")
    assert page.input_value(SEARCH) == "jk"
    assert page.locator("tr.kb-current").count() == 0
    assert page.url.endswith("/tickets/")

    # Esc leaves the box; j, j, k choose rows 1, 2, 1
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    assert _focused(page, "el.pathname") == links[0]
    page.keyboard.press("j")
    assert _focused(page, "el.pathname") == links[1]
    assert page.locator("tr.kb-current").count() == 1
    assert page.locator("tr.kb-current a").first.get_attribute("href") == links[1]
    screenshot(page, "shortcuts-row-chosen")
    page.keyboard.press("k")
    assert _focused(page, "el.pathname") == links[0]

    # a "j" still being composed in a Chinese input method moves nothing
    page.evaluate(
        "() => document.activeElement.dispatchEvent(new KeyboardEvent('keydown',"
        " {key: 'j', isComposing: true, bubbles: true, cancelable: true}))"
    )
    # nor does Ctrl+J
    page.evaluate(
        "() => document.activeElement.dispatchEvent(new KeyboardEvent('keydown',"
        " {key: 'j', ctrlKey: true, bubbles: true, cancelable: true}))"
    )
    assert _focused(page, "el.pathname") == links[0]

    # Enter opens the chosen ticket
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(links[0]) + "$"))

    # "g d" goes to the dashboard
    page.keyboard.press("g")
    page.keyboard.press("d")
    page.wait_for_url(page.base_url + "/")


def test_n_on_the_order_page_opens_a_new_ticket(page, agent_with_tickets):
    _agent, tickets = agent_with_tickets
    login(page, "kb-agent")
    order = tickets[0].order
    page.goto(page.base_url + f"/orders/{order.pk}/")
    page.keyboard.press("n")
    page.wait_for_url(f"**/orders/{order.pk}/tickets/new/")
    # where there is no "new" link, n goes to the search box (find the order first)
    page.goto(page.base_url + "/tickets/")
    page.keyboard.press("n")
    assert _focused(page, "el.matches('form.find input[name=q]')")


@pytest.mark.parametrize(
    "language, title, line",
    [("zh-hans", "键盘快捷键", "跳到搜索框"), ("en", "Keyboard shortcuts", "Go to the search box")],
)
def test_question_mark_opens_the_help_in_the_page_language(
    page, agent_with_tickets, language, title, line
):
    login(page, "kb-agent")
    _use_language(page, language)
    page.goto(page.base_url + "/tickets/")
    help_dialog = page.locator("dialog#shortcut-help")
    assert not help_dialog.is_visible()

    page.keyboard.press("?")
    assert help_dialog.is_visible()
    assert page.evaluate("() => document.getElementById('shortcut-help').open")
    text = help_dialog.inner_text()
    assert title in text and line in text
    assert "g" in text and "Enter" in text
    screenshot(page, f"shortcuts-help-{language}")

    # Esc closes it, and j works again afterwards
    page.keyboard.press("Escape")
    assert not help_dialog.is_visible()
    page.keyboard.press("j")
    assert page.locator("tr.kb-current").count() == 1


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_handover_form_shows_its_default_date(page, shop_a, language):
    make_user("kb-agent2", Role.AGENT, shops=[shop_a])
    login(page, "kb-agent2")
    _use_language(page, language)
    page.goto(page.base_url + "/registers/handover/new/")
    value = page.input_value("#id_shift_date")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)
    screenshot(page, f"handover-form-{language}")
    page.select_option("#id_shop", str(shop_a.pk))
    page.fill("#id_note", "买家等回电")
    page.click("main button[type=submit]")
    page.wait_for_url("**/registers/handover/")
    assert page.locator("main").inner_text().count("买家等回电") == 1
