"""Logging in, the dashboard, the language switch and the admin as the roles see it."""

import pytest
from django.urls import reverse

from tests.factories import make_entry, make_order, make_ticket
from tickets.models import Ticket


def test_login_page_speaks_chinese_by_default(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "售后工作台" in response.content.decode()
    assert 'lang="zh-hans"' in response.content.decode()


def test_login_page_in_english_on_request(client, db):
    client.post(reverse("set_language"), {"language": "en", "next": "/login/"})
    response = client.get(reverse("login"))
    html = response.content.decode()
    assert 'lang="en"' in html
    assert "After-sales desk" in html


def test_agent_logs_in_and_sees_the_dashboard(client, agent, order_a):
    ticket = make_ticket(order_a, agent, assignee=agent)
    response = client.post(reverse("login"), {"username": "agent-a", "password": "pw-for-tests-1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:dashboard")
    page = client.get(reverse("tickets:dashboard"))
    html = page.content.decode()
    assert page.status_code == 200
    assert ticket.number in html
    assert "售后客服" in html


def test_session_is_rotated_at_login(client, agent):
    client.get(reverse("login"))
    before = client.cookies.get("sessionid")
    client.post(reverse("login"), {"username": "agent-a", "password": "pw-for-tests-1"})
    after = client.cookies.get("sessionid")
    assert after is not None
    assert before is None or before.value != after.value


def test_wrong_password_changes_nothing_and_says_why(client, agent):
    response = client.post(reverse("login"), {"username": "agent-a", "password": "nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert 'role="alert"' in response.content.decode()


def test_dashboard_counts_only_the_users_shops(client, agent, order_a, order_b, supervisor):
    make_ticket(order_a, agent)
    make_ticket(order_b, supervisor)
    client.force_login(agent)
    response = client.get(reverse("tickets:dashboard"))
    assert response.context["counts"]["unassigned"] == 1


def test_logout_is_a_post(client, agent):
    client.force_login(agent)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302


def test_admin_ledger_is_read_only(client, supervisor, order_a):
    supervisor.is_staff = True
    supervisor.save()
    entry = make_entry(order_a, supervisor, "20.00")
    client.force_login(supervisor)
    page = client.get(reverse("admin:tickets_ledgerentry_change", args=[entry.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.get(reverse("admin:tickets_ledgerentry_add")).status_code == 403
    response = client.post(
        reverse("admin:tickets_ledgerentry_change", args=[entry.pk]), {"amount": "1.00"}
    )
    assert response.status_code == 403
    entry.refresh_from_db()
    assert str(entry.amount) == "20.00"


def test_admin_does_not_show_buyers_phone(client, supervisor, order_a):
    supervisor.is_staff = True
    supervisor.save()
    client.force_login(supervisor)
    page = client.get(reverse("admin:tickets_order_change", args=[order_a.pk]))
    assert page.status_code == 200
    assert order_a.receiver_phone not in page.content.decode()


@pytest.mark.parametrize("status", [Ticket.Status.OPEN])
def test_dashboard_query_count_does_not_grow_with_tickets(
    client, agent, order_a, status, django_assert_max_num_queries
):
    client.force_login(agent)
    for _ in range(3):
        make_ticket(make_order(order_a.shop), agent, assignee=agent)
    with django_assert_max_num_queries(30) as few:
        client.get(reverse("tickets:dashboard"))
    for _ in range(20):
        make_ticket(make_order(order_a.shop), agent, assignee=agent)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("tickets:dashboard"))


def test_an_english_browser_still_gets_chinese_until_english_is_chosen(client, db):
    response = client.get(reverse("login"), headers={"accept-language": "en-US,en;q=0.9"})
    assert 'lang="zh-hans"' in response.content.decode()


def test_admin_shop_filter_offers_only_the_users_shops(client, shop_a, shop_b, order_a):
    from tests.factories import make_user
    from tickets.roles import Role

    boss = make_user("boss-a", Role.SUPERVISOR, shops=[shop_a], is_staff=True)
    client.force_login(boss)
    html = client.get(reverse("admin:tickets_order_changelist")).content.decode()
    assert shop_a.name in html
    assert shop_b.name not in html


@pytest.mark.django_db
def test_every_admin_page_opens_for_a_superuser(client):
    from django.contrib import admin

    from tests.factories import make_user
    from tickets.demo import build_demo

    build_demo(seed=1, orders=60, tickets=20)
    root = make_user("root", role=None, is_superuser=True, is_staff=True)
    client.force_login(root)
    for model, model_admin in admin.site._registry.items():
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        listing = client.get(reverse(f"admin:{info}_changelist"), {"q": "3500"})
        assert listing.status_code == 200, info
        first = model_admin.get_queryset(listing.wsgi_request).first()
        if first is not None:
            assert (
                client.get(reverse(f"admin:{info}_change", args=[first.pk])).status_code == 200
            ), info


@pytest.mark.parametrize(
    "url",
    [
        "/orders/?q=abc%00def",
        "/parcels/unpack/?tracking_no=YT12%0034",
        "/admin/tickets/order/?status=%00",
        "/tickets/?q=%00",
    ],
)
def test_a_nul_character_is_refused_with_a_message_not_a_server_error(client, supervisor, url):
    supervisor.is_staff = True
    supervisor.save()
    client.force_login(supervisor)
    response = client.get(url)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


@pytest.mark.parametrize("odd", ["²", "١٢", "99999999999999999999999"])
def test_odd_digits_in_ids_are_no_server_error(client, agent, order_a, odd):
    from tests.factories import make_ticket

    ticket = make_ticket(order_a, agent)
    client.force_login(agent)
    response = client.post(f"/tickets/{ticket.pk}/assign/", {"assignee": odd}, follow=True)
    assert response.status_code == 200
    assert client.get(f"/imports/postage/?order={odd}").status_code < 500
    assert client.get(f"/orders/?q={odd}").status_code == 200
