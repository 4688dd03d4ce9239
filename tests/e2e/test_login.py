import pytest

from tests.e2e.conftest import login, screenshot
from tests.factories import make_order, make_ticket, make_user
from tickets.roles import Role

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_agent_logs_in_and_sees_their_work(page, shop_a):
    agent = make_user("e2e-agent", Role.AGENT, shops=[shop_a], last_name="王", first_name="芳")
    ticket = make_ticket(make_order(shop_a), agent, assignee=agent)
    login(page, "e2e-agent")
    assert page.locator("h1").inner_text() == "我的工作"
    assert ticket.number in page.content()
    screenshot(page, "dashboard-agent")
