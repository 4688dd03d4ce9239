"""The ticket list and the top bar after the review of issue 11, in a real browser at
1366x768, in Chinese and in English (screenshots to look at): every link of a supervisor's top
bar is on screen in both languages, and a bulk cancel asks first, naming how many."""

import pytest

from tests.e2e.conftest import login, screenshot
from tests.factories import make_order, make_ticket, make_user
from tickets.models import Ticket
from tickets.roles import Role

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _nav_fits(page) -> list[str]:
    """The top-bar links cut off or hidden behind the search box (empty when all fit)."""
    return page.evaluate(
        """() => {
          const find = document.querySelector('.topbar .find');
          const nav = document.querySelector('.mainnav').getBoundingClientRect();
          const limit = Math.min(nav.right, find ? find.getBoundingClientRect().left : 1e9);
          return [...document.querySelectorAll('.mainnav a')]
            .filter(a => a.getBoundingClientRect().right > limit + 0.5
                      || a.scrollWidth > a.clientWidth + 0.5)
            .map(a => a.textContent.trim());
        }"""
    )


def test_the_supervisors_top_bar_and_the_list_in_both_languages(page, shop_a):
    make_user(
        "boss-e2e",
        Role.SUPERVISOR,
        all_shops=True,
        is_staff=True,
        last_name="王",
        first_name="主管",
    )
    agent = make_user("li-e2e", Role.AGENT, shops=[shop_a])
    for nick in ("小鱼爱吃猫", "tb052015", "安安小屋"):
        make_ticket(make_order(shop_a, buyer_nick=nick), agent)
    login(page, "boss-e2e")
    page.goto(page.base_url + "/tickets/")
    assert _nav_fits(page) == []
    screenshot(page, "review11-ticket-list-zh")
    page.click("form.lang button[value=en]")
    page.wait_for_load_state()
    page.goto(page.base_url + "/tickets/")
    assert page.is_visible(".mainnav >> text=Finance sheets")
    assert _nav_fits(page) == []
    assert "Unfinished (all)" in page.inner_text("select[name=status]")
    screenshot(page, "review11-ticket-list-en")
    page.locator(".topbar").screenshot(
        path=str(screenshot(page, "review11-topbar-en").with_name("review11-topbar-only-en.png"))
    )


def test_a_bulk_cancel_asks_naming_the_count(page, shop_a):
    agent = make_user("li-e2e2", Role.AGENT, shops=[shop_a])
    tickets = [make_ticket(make_order(shop_a), agent) for _ in range(2)]
    login(page, "li-e2e2")
    page.goto(page.base_url + "/tickets/")
    for ticket in tickets:
        page.check(f"input[name=ids][value='{ticket.pk}']")
    page.select_option("select[name=to_status]", "cancelled")
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", answer)
    page.click("button[name=action][value=move]")
    page.wait_for_timeout(300)
    assert asked and "2 张" in asked[0]
    assert all(t.status == Ticket.Status.OPEN for t in Ticket.objects.all())
    screenshot(page, "review11-bulk-cancel-zh")
