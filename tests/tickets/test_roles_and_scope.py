"""Roles come from the data migration; one function decides what each user may see."""

import pytest
from django.contrib.auth.models import Group

from tests.factories import make_entry, make_shop, make_ticket, make_user
from tickets.roles import ROLE_PERMISSIONS, Role, has_role, permission_codenames
from tickets.selectors import visible_ledger, visible_orders, visible_shops, visible_tickets


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_each_role_group_holds_exactly_its_permissions(role):
    group = Group.objects.get(name=role.value)
    held = {
        (p.content_type.app_label, p.codename)
        for p in group.permissions.select_related("content_type")
    }
    assert held == permission_codenames(role)
    assert held  # a role without permissions would be a broken migration


@pytest.mark.django_db
def test_role_permissions_match_the_business():
    agent = make_user(role=Role.AGENT)
    supervisor = make_user(role=Role.SUPERVISOR)
    finance = make_user(role=Role.FINANCE)
    assert agent.has_perm("tickets.add_ticket")
    assert agent.has_perm("tickets.add_ledgerentry")
    assert not agent.has_perm("finance_exports.download_sheet")
    assert not agent.has_perm("tickets.change_ledgerentry")
    assert not agent.has_perm("tickets.approve_compensation")
    assert supervisor.has_perm("finance_exports.approve_sheet")
    assert supervisor.has_perm("tickets.approve_compensation")
    assert finance.has_perm("finance_exports.download_sheet")
    assert not finance.has_perm("finance_exports.approve_sheet")
    assert not finance.has_perm("tickets.add_ticket")
    # Nobody may edit or delete ledger rows, not even supervisors.
    assert all(
        "change" not in a and "delete" not in a
        for perms in ROLE_PERMISSIONS.values()
        for a in perms.get("tickets.ledgerentry", ())
    )


def test_agent_sees_only_the_shops_they_serve(shop_a, shop_b, agent, order_a, order_b, supervisor):
    ticket_a, ticket_b = make_ticket(order_a, agent), make_ticket(order_b, supervisor)
    entry_a, entry_b = make_entry(order_a, agent), make_entry(order_b, supervisor)
    assert list(visible_shops(agent)) == [shop_a]
    assert list(visible_orders(agent)) == [order_a]
    assert list(visible_tickets(agent)) == [ticket_a]
    assert list(visible_ledger(agent)) == [entry_a]
    assert set(visible_tickets(supervisor)) == {ticket_a, ticket_b}
    assert set(visible_ledger(supervisor)) == {entry_a, entry_b}


def test_all_shops_staff_see_shops_added_later(finance):
    new_shop = make_shop("opened-later")
    assert new_shop in visible_shops(finance)


def test_is_staff_does_not_widen_what_a_user_sees(shop_a, order_a, order_b):
    staff_without_role = make_user(role=None, is_staff=True, shops=[shop_a])
    assert not has_role(staff_without_role, *Role)
    assert not visible_orders(staff_without_role).exists()
    staff_agent = make_user(role=Role.AGENT, is_staff=True, shops=[shop_a])
    assert list(visible_orders(staff_agent)) == [order_a]


def test_inactive_user_sees_nothing(shop_a, order_a):
    user = make_user(role=Role.AGENT, shops=[shop_a], is_active=False)
    assert not visible_orders(user).exists()
