"""Nothing wraps where it should not at 1366x768, in English and in Chinese (a newcomer's
screenshots, issue 17): the finance page's card shows its date whole ("11-29", not "11-" over
"29"), the supervisor's search box is wide enough for its placeholder ("Ticket/order no., nick,
tracking", it showed "Ticket/order no.,"), and the inbox's "Decide" stays beside its select.
Screenshots in test-artifacts/screenshots/."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from finance_exports.builders import get_builder
from finance_exports.services import sheet_build
from tests.e2e.conftest import login, screenshot
from tests.factories import make_order, make_shop, make_ticket, make_user
from tests.finance_exports.helpers import queued_exchange
from tickets.models import Ticket
from tickets.roles import Role
from tickets.services.tickets import ticket_escalate

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# The search box's room for text against its placeholder's width, in pixels.
SEARCH_ROOM = """
() => {
  const input = document.querySelector('header.topbar .find input');
  const style = getComputedStyle(input);
  const probe = document.createElement('span');
  for (const p of ['fontFamily', 'fontSize', 'fontWeight', 'fontStyle', 'letterSpacing'])
    probe.style[p] = style[p];
  probe.style.whiteSpace = 'pre';
  probe.style.position = 'absolute';
  probe.textContent = input.placeholder;
  document.body.appendChild(probe);
  const needed = probe.getBoundingClientRect().width;
  probe.remove();
  const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return [room, needed];
}
"""

# How many lines each element's text takes.
LINES = """
(selector) => [...document.querySelectorAll(selector)].map(el => {
  const height = el.getBoundingClientRect().height;
  return Math.round(height / parseFloat(getComputedStyle(el).lineHeight));
})
"""

# Whether each form's button sits on the same row as its select.
BESIDE = """
(selector) => [...document.querySelectorAll(selector)].map(form => {
  const select = form.querySelector('select').getBoundingClientRect();
  const button = form.querySelector('button').getBoundingClientRect();
  return button.top < select.bottom && button.left >= select.right;
})
"""

# Whether each element ends inside the card (the nearest .card or section) that holds it.
INSIDE = """
(selector) => [...document.querySelectorAll(selector)].map(el => {
  const box = el.closest('.card, section') || document.body;
  return el.getBoundingClientRect().right <= box.getBoundingClientRect().right + 0.5;
})
"""


@pytest.fixture
def desk():
    """A supervisor with an escalation to decide and an exchange list to sign; a finance
    clerk; both with long names."""
    shop = make_shop("hankou", name="汉口旗舰店")
    names = {"last_name": "欧阳", "first_name": "晓雯"}
    agent = make_user("e2e-agent", Role.AGENT, shops=[shop], **names)
    make_user("e2e-supervisor", Role.SUPERVISOR, all_shops=True, is_staff=True, **names)
    make_user("e2e-finance", Role.FINANCE, all_shops=True, **names)
    order = make_order(shop, items=((Decimal("399.00"), 1),))
    ticket = make_ticket(order, agent, kind=Ticket.Kind.COMPENSATION, assignee=agent)
    ticket_escalate(actor=agent, ticket=ticket, reason="买家不接受补偿，要求退货退款，请主管定")
    queued_exchange(agent, make_order(shop))
    exchanges = get_builder("exchanges")
    day = timezone.localdate()
    if timezone.now() >= exchanges.cutoff(day):
        day += timedelta(days=1)
    sheet_build(
        kind="exchanges", business_date=day, now=exchanges.cutoff(day) + timedelta(minutes=1)
    )


def open_as(browser, live_server, username, language):
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.base_url = live_server.url
    login(page, username)
    if language == "en":
        page.click("form.lang button[value=en]")
        page.wait_for_load_state()
    return context, page


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_supervisors_search_box_holds_its_placeholder(browser, live_server, desk, language):
    context, page = open_as(browser, live_server, "e2e-supervisor", language)
    try:
        for url in ("/", "/inbox/"):
            page.goto(live_server.url + url)
            screenshot(page, f"layout-1366-supervisor{url.strip('/').replace('/', '-')}-{language}")
            room, needed = page.evaluate(SEARCH_ROOM)
            # (a few pixels to spare: the browser cuts a placeholder before its last pixel)
            assert room >= needed + 4, (url, language, room, needed)
            # the bar keeps one row
            assert page.locator("header.topbar").bounding_box()["height"] < 60
    finally:
        context.close()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_inbox_decide_button_stays_beside_its_select(browser, live_server, desk, language):
    context, page = open_as(browser, live_server, "e2e-supervisor", language)
    try:
        for url in ("/", "/inbox/"):
            page.goto(live_server.url + url)
            beside = page.evaluate(BESIDE, "table.inbox .decide-form")
            assert beside and all(beside), (url, language, beside)
            # and the table stays inside its card (the note's box pushed "Decide" past it)
            inside = page.evaluate(INSIDE, "table.inbox")
            assert inside and all(inside), (url, language, inside)
    finally:
        context.close()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_finance_cards_show_their_dates_whole(browser, live_server, desk, language):
    context, page = open_as(browser, live_server, "e2e-finance", language)
    try:
        page.goto(live_server.url + "/finance/")
        screenshot(page, f"layout-1366-finance-{language}")
        lines = page.evaluate(LINES, ".sheets .fx-latest .num")
        assert lines and set(lines) == {1}, (language, lines)
    finally:
        context.close()


# A nickname as long as the platform allows, in Chinese: 64 characters.
LONG_NICK = ("超长昵称的买家" * 10)[:60] + "ABCD"


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_long_nickname_keeps_the_list_within_the_screen(browser, live_server, desk, language):
    # given a ticket whose buyer has a 64-character nickname
    shop = make_shop("wuchang", name="武昌店")
    agent = make_user("e2e-agent-2", Role.AGENT, shops=[shop])
    make_ticket(make_order(shop, buyer_nick=LONG_NICK), agent, assignee=agent)
    context, page = open_as(browser, live_server, "e2e-supervisor", language)
    try:
        # when the supervisor lists every ticket at 1366x768
        page.goto(live_server.url + "/tickets/?status=")
        screenshot(page, f"layout-1366-long-nickname-{language}")
        # then nothing is pushed past the right edge: the nickname is cut with "…", and the
        # whole of it is its title and still leads to the buyer's page
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366
        link = page.locator("table.ticket-grid a.buyer-link", has_text=LONG_NICK[:6])
        assert link.get_attribute("title") == LONG_NICK
        box = link.bounding_box()
        assert box["width"] < 300, box
        # a keyboard user sees the whole of it while the link has the focus
        link.focus()
        assert link.bounding_box()["width"] > box["width"]
        link.click()
        page.wait_for_load_state()
        assert LONG_NICK in page.locator("h1").inner_text()
        # and its order's page keeps within the screen, even for 64 letters with no break
        order = make_order(shop, buyer_nick="w" * 64)
        page.goto(f"{live_server.url}/orders/{order.pk}/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    finally:
        context.close()
