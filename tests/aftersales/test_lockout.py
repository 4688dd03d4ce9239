"""Login lockout (issue 12 section 6): through the real login views, the desk's and the
admin's; unlocked by a supervisor on the desk's page or an administrator in the admin."""

import pytest
from axes.models import AccessAttempt
from django.contrib.admin.models import DELETION, LogEntry
from django.test import Client
from django.urls import reverse

from aftersales.lockout import client_ip
from tests.factories import make_user
from tickets.roles import Role

PASSWORD = "pw-for-tests-1"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick_passwords(settings):
    """Many logins here: a quick hasher (autouse, so before the users are made)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _login(client, username, password, url=None, **extra):
    url = url or reverse("login")
    return client.post(url, {"username": username, "password": password}, **extra)


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def _fail(client, username, times, **extra):
    return [_login(client, username, "wrong-password", **extra).status_code for _ in range(times)]


def test_five_wrong_passwords_lock_the_account_and_a_supervisor_unlocks_it(
    client, agent, supervisor
):
    # given: four wrong passwords are answered as wrong
    assert _fail(client, "agent-a", 4) == [200] * 4
    # when: the fifth
    locked = _login(client, "agent-a", "wrong-password")
    # then: the desk's lockout page, in its layout and language
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "登录已暂时锁定" in page
    assert "30 分钟后可以再试" in page
    assert 'lang="zh-hans"' in page
    # the sixth attempt, wrong or right, is refused
    assert _login(client, "agent-a", "wrong-password").status_code == 429
    assert _login(client, "agent-a", PASSWORD).status_code == 429
    assert not _logged_in(client)

    # when: a supervisor unlocks it on the desk's page
    boss = Client()
    boss.force_login(supervisor)
    listing = boss.get(reverse("login_lockouts")).content.decode()
    assert "agent-a" in listing
    assert "127.0.0.1" in listing
    response = boss.post(
        reverse("login_lockout_release"), {"username": "agent-a", "ip_address": "127.0.0.1"}
    )
    assert response.status_code == 302
    # then: the unlock is recorded with who did it, and the right password logs in
    [entry, *_] = LogEntry.objects.filter(action_flag=DELETION)
    assert entry.user == supervisor
    assert "agent-a @ 127.0.0.1" in entry.change_message
    assert "agent-a @ 127.0.0.1" in boss.get(reverse("login_lockouts")).content.decode()
    response = _login(client, "agent-a", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:dashboard")
    assert _logged_in(client)


def test_a_locked_account_locks_neither_other_users_nor_the_same_user_elsewhere(client, agent):
    # given: agent-a locked on 127.0.0.1
    _fail(client, "agent-a", 5)
    assert _login(client, "agent-a", PASSWORD).status_code == 429
    # then: a colleague at the same address logs in
    colleague = make_user("agent-b", Role.AGENT, password=PASSWORD)
    other = Client()
    assert _login(other, "agent-b", PASSWORD).status_code == 302
    assert other.session["_auth_user_id"] == str(colleague.pk)
    # and agent-a from another address too
    elsewhere = Client(REMOTE_ADDR="10.1.2.3")
    assert _login(elsewhere, "agent-a", PASSWORD).status_code == 302


def test_a_locked_agent_who_keeps_trying_does_not_lock_out_the_office(client, agent):
    # given: agent-a locked at the office's address, and still trying, more times than the
    # address's own limit
    _fail(client, "agent-a", 5)
    assert _fail(client, "agent-a", 25) == [429] * 25
    # then: those refused attempts were not counted as failures
    assert AccessAttempt.objects.get(username="agent-a").failures_since_start == 5
    # and a colleague at the same address still logs in
    make_user("agent-b", Role.AGENT, password=PASSWORD)
    assert _login(Client(), "agent-b", PASSWORD).status_code == 302


def test_many_accounts_tried_from_one_address_lock_that_address(client, agent, settings):
    settings.DESK_LOGIN_ADDRESS_FAILURE_LIMIT = 8
    # given: one wrong password for each of eight names from one address
    codes = [_login(client, f"guess-{n}", "wrong-password").status_code for n in range(8)]
    assert codes[:7] == [200] * 7
    assert codes[7] == 429
    # then: even a right password from there is refused; from elsewhere it works
    assert _login(Client(), "agent-a", PASSWORD).status_code == 429
    assert _login(Client(REMOTE_ADDR="10.1.2.3"), "agent-a", PASSWORD).status_code == 302


def test_a_successful_login_forgets_only_that_accounts_own_failures(client, agent):
    _fail(client, "agent-a", 4)
    _fail(client, "someone-else", 2)
    assert _login(client, "agent-a", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username="agent-a").exists()
    assert AccessAttempt.objects.get(username="someone-else").failures_since_start == 2


def test_the_admins_login_locks_too_and_an_administrator_unlocks_in_the_admin(client, db):
    # given: an administrator who mistyped five times at the admin's login
    admin_login = reverse("admin:login")
    make_user("root", None, is_superuser=True, is_staff=True, password=PASSWORD)
    boss = make_user("root2", None, is_superuser=True, is_staff=True, password=PASSWORD)
    codes = [_login(client, "root", "wrong-password", url=admin_login).status_code for _ in "12345"]
    assert codes == [200, 200, 200, 200, 429]
    assert _login(client, "root", PASSWORD, url=admin_login).status_code == 429
    # when: another administrator deletes the failure record in the admin
    other = Client()
    other.force_login(boss)
    attempt = AccessAttempt.objects.get(username="root")
    assert other.get(reverse("admin:axes_accessattempt_changelist")).status_code == 200
    delete = reverse("admin:axes_accessattempt_delete", args=[attempt.pk])
    assert other.post(delete, {"post": "yes"}).status_code == 302
    # then: recorded, and the right password logs in
    assert LogEntry.objects.get(action_flag=DELETION).user == boss
    assert _login(client, "root", PASSWORD, url=admin_login).status_code == 302
    assert _logged_in(client)


@pytest.mark.parametrize("role", [Role.AGENT, Role.FINANCE])
def test_agents_and_finance_cannot_unlock(client, agent, role, db):
    _fail(Client(), "agent-a", 5)
    user = agent if role == Role.AGENT else make_user("money", Role.FINANCE, all_shops=True)
    client.force_login(user)
    assert client.get(reverse("login_lockouts")).status_code == 403
    response = client.post(
        reverse("login_lockout_release"), {"username": "agent-a", "ip_address": "127.0.0.1"}
    )
    assert response.status_code == 403
    assert AccessAttempt.objects.get(username="agent-a").failures_since_start == 5
    assert not LogEntry.objects.exists()


@pytest.mark.parametrize(
    "data",
    [{}, {"ip_address": "not-an-address"}, {"ip_address": "127.0.0.1", "username": "x" * 151}],
)
def test_a_bad_unlock_request_says_so_and_unlocks_nothing(client, agent, supervisor, data):
    _fail(Client(), "agent-a", 5)
    client.force_login(supervisor)
    response = client.post(reverse("login_lockout_release"), data, follow=True)
    assert response.status_code == 200
    assert "没有解锁任何登录" in response.content.decode()
    assert AccessAttempt.objects.get(username="agent-a").failures_since_start == 5


def test_unlocking_what_is_no_longer_locked_says_so(client, supervisor):
    client.force_login(supervisor)
    response = client.post(
        reverse("login_lockout_release"),
        {"username": "nobody", "ip_address": "127.0.0.1"},
        follow=True,
    )
    assert "没有需要解锁的记录" in response.content.decode()
    assert not LogEntry.objects.exists()


def test_the_lockout_page_speaks_the_users_language(client, agent):
    client.post(reverse("set_language"), {"language": "en", "next": "/login/"})
    _fail(client, "agent-a", 4)
    response = _login(client, "agent-a", "wrong-password")
    assert response.status_code == 429
    assert 'lang="en"' in response.content.decode()


def test_the_client_address_behind_trusted_proxies(rf, settings):
    # given: one proxy in front; the client put a forged address in the header itself
    settings.DESK_TRUSTED_PROXIES = 1
    forged = rf.post(
        "/login/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.9"
    )
    assert client_ip(forged) == "203.0.113.9"  # what the proxy saw, not what was written
    garbage = rf.post("/login/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="unknown")
    assert client_ip(garbage) == "10.0.0.2"
    # with no proxy configured the header is never believed
    settings.DESK_TRUSTED_PROXIES = 0
    assert client_ip(forged) == "10.0.0.2"


@pytest.mark.parametrize(
    ("written", "address"),
    [
        ("203.0.113.9:5678", "203.0.113.9"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("203.0.113.9", "203.0.113.9"),
        # not an address with a port: ignored, the proxy's own address counts
        ("203.0.113.9:http", "10.0.0.2"),
        ("[2001:db8::1]x:443", "10.0.0.2"),
        ("host.example:80", "10.0.0.2"),
    ],
)
def test_a_proxy_writing_the_port_after_the_address(rf, settings, written, address):
    settings.DESK_TRUSTED_PROXIES = 1
    request = rf.post(
        "/login/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"198.51.100.7, {written}"
    )
    assert client_ip(request) == address


def test_wrong_passwords_through_a_proxy_writing_ports_lock_that_client(client, agent, settings):
    """Trying to get around it: the same client on a new source port each time is one address
    (the proxy writes ip:port); another client behind the same proxy is not locked."""
    settings.DESK_TRUSTED_PROXIES = 1
    for port in range(5000, 5005):
        _login(
            client,
            "agent-a",
            "wrong",
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"[2001:db8::7]:{port}",
        )
    locked = _login(
        client,
        "agent-a",
        PASSWORD,
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="[2001:db8::7]:6000",
    )
    assert locked.status_code == 429
    assert AccessAttempt.objects.get().ip_address == "2001:db8::7"
    other = _login(
        Client(),
        "agent-a",
        PASSWORD,
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.20:6000",
    )
    assert other.status_code == 302


def test_the_test_clients_login_still_works(client, agent):
    # a password check without a request is no HTTP login: axes neither refuses nor counts it
    assert client.login(username="agent-a", password="wrong-password") is False
    assert client.login(username="agent-a", password=PASSWORD) is True
    assert not AccessAttempt.objects.exists()
