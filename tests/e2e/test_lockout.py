"""A person locked out after mistyping, and the supervisor who unlocks them, in the browser."""

import pytest

from tests.e2e.conftest import PASSWORD, login, screenshot
from tests.factories import make_user
from tickets.roles import Role

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _type_password(page, username, password):
    page.goto(page.base_url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def test_a_locked_out_agent_sees_why_and_a_supervisor_unlocks_them(page, browser, shop_a):
    make_user("e2e-agent", Role.AGENT, shops=[shop_a])
    make_user("e2e-boss", Role.SUPERVISOR, all_shops=True)
    # five wrong passwords: the fifth answer is the lockout page
    for _ in range(5):
        _type_password(page, "e2e-agent", "wrong-password")
    assert page.locator("h1").inner_text() == "登录已暂时锁定"
    screenshot(page, "login-locked-out")
    _type_password(page, "e2e-agent", PASSWORD)
    assert page.locator("h1").inner_text() == "登录已暂时锁定"

    # the supervisor finds the lockout from the dashboard and unlocks it
    boss_context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    boss = boss_context.new_page()
    boss.base_url = page.base_url
    login(boss, "e2e-boss")
    boss.click("text=登录锁定")
    assert "e2e-agent" in boss.locator("table.grid").first.inner_text()
    screenshot(boss, "login-lockouts")
    boss.click("button:has-text('解锁')")
    assert "已解锁账号 e2e-agent" in boss.locator(".messages").inner_text()
    boss_context.close()

    # the agent logs in
    login(page, "e2e-agent")
    assert page.locator("h1").inner_text() == "我的工作"
