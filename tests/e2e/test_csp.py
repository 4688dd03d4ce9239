"""In the browser: the desk's main pages keep to their Content-Security-Policy (issue 12 §6).

Chromium reports every blocked inline script, handler, style attribute or foreign source as a
console message and a ``securitypolicyviolation`` event; the test visits the pages a supervisor
uses (and works their scripts a little) and fails on any."""

from decimal import Decimal

import pytest
from django.conf import settings

from tests.e2e.conftest import login
from tests.factories import make_order, make_ticket, make_user
from tickets.models import Courier, Order
from tickets.roles import Role

POLICY = "; ".join(
    f"{name} {' '.join(values)}"
    for name, values in settings.CONTENT_SECURITY_POLICY["DIRECTIVES"].items()
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# Runs in every page before the desk's own scripts (Playwright injects it past the policy).
COLLECT = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " "
                    + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture
def watched(page):
    """The page, with every CSP violation it reports collected in ``page.violations``."""
    page.violations = []
    page.add_init_script(COLLECT)

    def console(message):
        if "Content Security Policy" in message.text:
            page.violations.append(f"{page.url}: {message.text}")

    page.on("console", console)
    return page


def visit(page, path: str) -> None:
    response = page.goto(path if "://" in path else page.base_url + path)
    assert response.status < 500, f"{path}: {response.status}"
    page.wait_for_load_state("load")
    assert response.headers.get("content-security-policy"), f"{path}: no policy"
    page.violations.extend(f"{path}: {v}" for v in page.evaluate("window.__csp || []"))


def test_main_pages_keep_to_the_content_security_policy(watched, shop_a):
    # given a supervisor who may also use the admin, an order with a ticket
    boss = make_user("csp-boss", Role.SUPERVISOR, all_shops=True, is_staff=True)
    order = make_order(
        shop_a, status=Order.Status.SUCCESS, items=((Decimal("159.00"), 1),), buyer_nick="小鱼"
    )
    ticket = make_ticket(order, boss)
    courier = Courier.objects.order_by("pk").first()
    courier.save()  # a change in its history, so the history page lists one
    page = watched
    login(page, "csp-boss")

    # when they go through the desk's pages
    visit(page, "/")
    page.keyboard.press("?")  # the shortcuts' help (shortcuts.js)
    page.wait_for_selector("#shortcut-help[open]")
    page.keyboard.press("Escape")
    visit(page, "/tickets/")
    page.check("[data-bulk-all]")  # the bulk bar (ticket_list.js)
    page.wait_for_selector("[data-bulk-count].some")
    visit(page, f"/tickets/{ticket.pk}/")
    visit(page, f"/orders/{order.pk}/")
    page.click("form[data-reveal] button")  # the receiver revealed in place (desk.js)
    page.wait_for_selector("text=13812345678")
    visit(page, f"/orders/{order.pk}/tickets/new/")
    page.select_option("#id_kind", "exchange")
    page.select_option("#id_reason", "not_suitable")
    visit(page, f"/orders/?q={order.order_no}")
    visit(page, "/parcels/unpack/")
    visit(page, "/registers/")
    visit(page, "/registers/statistics/")
    visit(page, "/finance/")
    visit(page, "/imports/postage/")
    visit(page, "/approvals/")
    visit(page, "/admin/")
    visit(page, "/admin/tickets/courier/")
    visit(page, f"/admin/tickets/courier/{courier.pk}/change/")
    visit(page, f"/admin/tickets/courier/{courier.pk}/history/")
    visit(page, "/admin/tickets/ticket/")
    visit(page, "/no-such-page/")  # the 404 page

    # then the browser blocked nothing
    assert page.violations == []


def test_login_and_error_pages_keep_to_the_policy_for_a_visitor(watched, db):
    page = watched
    visit(page, "/login/")
    visit(page, "/no-such-page/")
    assert page.violations == []


def test_the_watch_sees_a_violation(watched):
    """The collector itself: a page that breaks the desk's policy is caught, so an empty list
    above means the pages kept to it."""
    page = watched
    html = '<!doctype html><p style="color:red">x</p><script>document.title = "ran"</script>'
    page.route(
        "http://probe.invalid/",
        lambda route: route.fulfill(
            status=200,
            headers={"Content-Type": "text/html", "Content-Security-Policy": POLICY},
            body=html,
        ),
    )
    visit(page, "http://probe.invalid/")
    assert page.title() == ""
    assert any("style-src" in v for v in page.violations)
    assert any("script-src" in v for v in page.violations)
