"""What a user may do is read in one query per request (tickets.roles.user_access_load), and
answers every question exactly as Django's ModelBackend reading its own three queries would."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import make_user
from tickets.models import User
from tickets.roles import Role, user_roles

pytestmark = pytest.mark.django_db


def _users() -> list[User]:
    agent = make_user(role=Role.AGENT)
    supervisor = make_user(role=Role.SUPERVISOR)
    finance = make_user(role=Role.FINANCE)
    both = make_user(role=Role.AGENT)
    both.groups.add(Group.objects.get(name=Role.FINANCE.value))
    # a permission of the user's own, and a group that is no role and holds nothing
    own = make_user(role=None)
    own.user_permissions.add(Permission.objects.get(codename="view_courier"))
    bare_group = make_user(role=Role.AGENT)
    bare_group.groups.add(Group.objects.create(name="night-shift"))
    nothing = make_user(role=None)
    inactive = make_user(role=Role.SUPERVISOR, is_active=False)
    admin = make_user(role=None, is_superuser=True)
    return [agent, supervisor, finance, both, own, bare_group, nothing, inactive, admin]


def _reference(user: User) -> tuple[set[str], set[Role]]:
    """Django's answer alone, on an object the desk's loader never saw."""
    fresh = User.objects.get(pk=user.pk)
    names = set(fresh.groups.values_list("name", flat=True))
    roles = (
        set()
        if not fresh.is_active
        else set(Role)
        if fresh.is_superuser
        else {role for role in Role if role.value in names}
    )
    return ModelBackend().get_all_permissions(fresh), roles


def test_every_answer_is_djangos():
    every_permission = [
        f"{app}.{codename}"
        for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
    ]
    for user in _users():
        expected_perms, expected_roles = _reference(user)
        fresh = User.objects.get(pk=user.pk)
        assert user_roles(fresh) == expected_roles, user.username
        assert fresh.get_all_permissions() == expected_perms, user.username
        held = {perm for perm in every_permission if fresh.has_perm(perm)}
        if user.is_superuser and user.is_active:
            assert held == set(every_permission)
        else:
            assert held == expected_perms, user.username
        for app in ("tickets", "finance_exports", "auth", "axes"):
            assert fresh.has_module_perms(app) == (
                (user.is_active and user.is_superuser)
                or any(perm.startswith(f"{app}.") for perm in expected_perms)
            )


def test_roles_and_permissions_are_one_query():
    user = make_user(role=Role.SUPERVISOR)
    user.user_permissions.add(Permission.objects.get(codename="view_courier"))
    fresh = User.objects.get(pk=user.pk)
    with CaptureQueriesContext(connection) as captured:
        assert user_roles(fresh) == {Role.SUPERVISOR}
        assert fresh.has_perm("tickets.approve_compensation")
        assert fresh.has_perm("tickets.view_courier")
        assert not fresh.has_perm("tickets.delete_ledgerentry")
        assert fresh.has_module_perms("finance_exports")
        assert "tickets.view_courier" in fresh.get_all_permissions()
    assert len(captured.captured_queries) == 1


def test_a_page_reads_roles_and_permissions_once(client):
    client.force_login(make_user(role=Role.AGENT))
    client.get(reverse("tickets:notification_list"))
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("tickets:notification_list"))
    assert response.status_code == 200
    access = [
        q["sql"]
        for q in captured.captured_queries
        if "auth_permission" in q["sql"] or "auth_group" in q["sql"]
    ]
    assert len(access) == 1


def test_a_role_given_or_taken_counts_from_the_next_request(client):
    # given an agent on a page
    agent = make_user(role=Role.AGENT)
    client.force_login(agent)
    assert client.get(reverse("tickets:notification_list")).status_code == 200
    assert client.get(reverse("finance_exports:sheet_list")).status_code == 403
    # when finance is added, then removed
    finance = Group.objects.get(name=Role.FINANCE.value)
    agent.groups.add(finance)
    assert client.get(reverse("finance_exports:sheet_list")).status_code == 200
    agent.groups.remove(finance)
    assert client.get(reverse("finance_exports:sheet_list")).status_code == 403
