"""No input to the admin gives a server error (issue 12, section 1), through its real URLs, as
an administrator and as a supervisor, for every model the admin registers (read from the
registry, so a new model is walked too): ids no record can have in every object URL, numbers
beyond 64 bits and the calendar's ends in every list filter and the date hierarchy, the same
in a form's dates and chosen ids and in the rows ticked for an action. Each answer is the
admin's own: a 404 (history pages), "doesn't exist" (the other object pages), "invalid
lookup parameters" (a list, ``?e=1``) or a form error, and nothing changes."""

from datetime import date, datetime, time

import pytest
from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.main import ERROR_FLAG
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from tests.factories import make_order, make_user
from tickets.admin_input import CheckedInput, CheckedModelMultipleChoiceField
from tickets.models import User
from tickets.roles import Role

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"
OUT_OF_RANGE = "日期须在 2000-01-01 到 2099-12-31 之间。"
ADMINS = sorted(admin.site._registry.items(), key=lambda pair: pair[0]._meta.label_lower)
MODELS = [model for model, _admin in ADMINS]
HISTORY_MODELS = [
    model for model, model_admin in ADMINS if hasattr(model_admin, "history_form_view")
]
NOT_AN_ID = ["abc", ":", "1.5", "1e3", "--1", "%20"]
CALENDAR_ENDS = ["0001-01-01", "9999-12-31", "0001-01-01 00:00:00", "9999-12-31 23:59:59"]
WHO = ["superuser", "supervisor"]


def _label(model) -> str:
    return model._meta.label_lower


def _base(model) -> str:
    return f"admin:{model._meta.app_label}_{model._meta.model_name}"


@pytest.fixture
def world(shop_a, shop_b):
    """A row or two for the lists to show, and the two kinds of user who reach the admin."""
    make_order(shop_a)
    make_order(shop_b)
    AccessAttempt.objects.create(
        username="someone", ip_address="10.0.0.1", failures_since_start=3, get_data="", post_data=""
    )
    return {
        "superuser": make_user("root", None, password=None, is_superuser=True, is_staff=True),
        "supervisor": make_user(
            "boss-a", Role.SUPERVISOR, password=None, shops=[shop_a], is_staff=True
        ),
    }


def _refused_as_a_bad_filter(client, url) -> bool:
    """The admin's answer to a bad filter: back to the list with ``?e=1``, which shows."""
    response = client.get(url)
    if response.status_code != 302:
        return False
    location = response["Location"]
    return location.endswith(f"?{ERROR_FLAG}=1") and client.get(location).status_code == 200


def _answers(client, url) -> int:
    response = client.get(url)
    assert response.status_code < 500, url
    return response.status_code


# --- 1. ids no record can have ----------------------------------------------------------
@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("model", HISTORY_MODELS, ids=_label)
def test_a_history_page_for_an_id_no_record_can_have_is_a_404(client, world, who, model):
    client.force_login(world[who])
    real = model._default_manager.order_by("pk").first()
    real_pk = real.pk if real is not None else 1
    for bad in [*NOT_AN_ID, HUGE, f"-{HUGE}"]:
        for url in [
            reverse(f"{_base(model)}_history", args=[bad]),
            reverse(f"{_base(model)}_simple_history", args=[bad, 1]),
            reverse(f"{_base(model)}_simple_history", args=[real_pk, bad]),
        ]:
            assert client.get(url).status_code == 404, url


def test_the_history_item_the_url_walk_found(client, world):
    # "server error as supervisor: GET /admin/tickets/user/0/history/%3A/"
    client.force_login(world["supervisor"])
    assert client.get("/admin/tickets/user/0/history/%3A/").status_code == 404
    assert client.get("/admin/tickets/shop/abc/history/").status_code == 404
    assert client.get("/admin/tickets/shop/1/history/abc/").status_code == 404


@pytest.mark.parametrize("model", MODELS, ids=_label)
def test_every_object_url_answers_an_id_no_record_can_have(client, world, model):
    for who in WHO:
        client.force_login(world[who])
        for name in ("change", "delete", "history"):
            for bad in [*NOT_AN_ID, HUGE, f"-{HUGE}"]:
                url = reverse(f"{_base(model)}_{name}", args=[bad])
                assert _answers(client, url) in (302, 403, 404), url


# --- 2. list filters and the date hierarchy -----------------------------------------------
def _filter_paths(model_admin) -> list[str]:
    paths = []
    for entry in model_admin.list_filter:
        if isinstance(entry, str):
            paths.append(entry)
        elif isinstance(entry, (list, tuple)):
            paths.append(entry[0] if isinstance(entry[0], str) else entry[0].name)
    return paths


def _final_field(model, path):
    from django.contrib.admin.utils import get_fields_from_path

    return get_fields_from_path(model, path)[-1]


def _hostile_filters(model, model_admin) -> list[str]:
    """Query strings a hostile hand writes for each of the list's filters."""
    queries = []
    for path in _filter_paths(model_admin):
        field = _final_field(model, path)
        if field.is_relation or isinstance(field, (models.IntegerField, models.AutoField)):
            queries += [f"{path}{suffix}={HUGE}" for suffix in ("", "__exact", "__gte")]
            queries += [f"{path}__lt=-{HUGE}", f"{path}__in=1,{HUGE}"]
            if field.is_relation:
                queries.append(f"{path}__id__exact={HUGE}")
        elif isinstance(field, models.DateField):
            for suffix in ("__gte", "__lt"):
                queries += [f"{path}{suffix}={day}" for day in CALENDAR_ENDS]
            queries += [f"{path}={CALENDAR_ENDS[0]}", f"{path}__exact={CALENDAR_ENDS[-1]}"]
        else:
            queries += [f"{path}__exact={HUGE}", f"{path}={CALENDAR_ENDS[0]}"]
    if model_admin.date_hierarchy:
        dh = model_admin.date_hierarchy
        queries += [
            f"{dh}__year=9999&{dh}__month=12&{dh}__day=31",
            f"{dh}__year=9999&{dh}__month=12",
            f"{dh}__year=9999",
            f"{dh}__year=1&{dh}__month=1&{dh}__day=1",
            f"{dh}__year={HUGE}",
        ]
    return queries


FILTERED = [(model, model_admin) for model, model_admin in ADMINS if model_admin.list_filter]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(("model", "model_admin"), FILTERED, ids=[_label(m) for m, _a in FILTERED])
def test_no_list_filter_value_gives_a_server_error(client, world, who, model, model_admin):
    client.force_login(world[who])
    changelist = reverse(f"{_base(model)}_changelist")
    if client.get(changelist).status_code != 200:
        pytest.skip(f"{who} does not see this list")
    for query in _hostile_filters(model, model_admin):
        response = client.get(f"{changelist}?{query}")
        # a list (maybe empty), a lookup the list does not offer (400), or the admin's
        # "invalid lookup parameters"
        assert response.status_code in (200, 302, 400), query
        if response.status_code == 302:
            assert response["Location"] == f"{changelist}?{ERROR_FLAG}=1", query


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(
    "query",
    [
        f"shop={HUGE}",
        f"shop__exact={HUGE}",
        f"shop__in={HUGE}",
        f"shop__in=1,{HUGE}",
        f"shop__gte={HUGE}",
        f"shop__lt=-{HUGE}",
        "placed_at__year=9999&placed_at__month=12&placed_at__day=31",
        "placed_at__year=9999",
        "placed_at__year=1&placed_at__month=1&placed_at__day=1",
    ],
)
def test_a_filter_value_no_database_holds_is_an_invalid_lookup(client, world, who, query):
    """The same answer on SQLite (which could not run the query) and on PostgreSQL."""
    client.force_login(world[who])
    assert _refused_as_a_bad_filter(client, f"{reverse('admin:tickets_order_changelist')}?{query}")


@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("admin:tickets_ticket_changelist", f"shop={HUGE}"),
        ("admin:tickets_ledgerentry_changelist", f"shop__exact={HUGE}"),
        ("admin:tickets_returnparcel_changelist", f"shop__in=1,{HUGE}"),
        ("admin:tickets_courierlossreport_changelist", f"courier={HUGE}"),
        ("admin:tickets_qualityproblem_changelist", f"shop__gte={HUGE}"),
        ("admin:tickets_user_changelist", f"groups={HUGE}"),
        ("admin:tickets_user_changelist", f"groups__in={HUGE}"),
        ("admin:axes_accessattempt_changelist", "attempt_time__gte=0001-01-01"),
        ("admin:axes_accessattempt_changelist", "attempt_time__lt=0001-01-01 00:00:00"),
        ("admin:axes_accesslog_changelist", "attempt_time__gte=0001-01-01"),
        ("admin:axes_accesslog_changelist", "logout_time__gte=0001-01-01"),
    ],
)
def test_the_filters_the_review_named_are_invalid_lookups(client, world, url, query):
    client.force_login(world["superuser"])
    assert _refused_as_a_bad_filter(client, f"{reverse(url)}?{query}")


def test_good_filters_still_filter(client, world, shop_a, shop_b):
    client.force_login(world["superuser"])
    changelist = reverse("admin:tickets_order_changelist")
    response = client.get(changelist, {"shop": shop_a.pk})
    assert response.status_code == 200
    assert {o.shop_id for o in response.context["cl"].result_list} == {shop_a.pk}
    today = timezone.localdate().isoformat()
    attempts = client.get(
        reverse("admin:axes_accessattempt_changelist"), {"attempt_time__gte": "2000-01-01"}
    )
    assert attempts.status_code == 200
    assert len(attempts.context["cl"].result_list) == 1
    late = client.get(reverse("admin:axes_accessattempt_changelist"), {"attempt_time__gte": today})
    assert late.status_code == 200


# --- 3. the rows ticked for an action ---------------------------------------------------
@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("selected", [HUGE, "abc", f"-{HUGE}"])
def test_an_action_on_a_row_no_record_can_be_changes_nothing(client, world, who, selected):
    # the unlock (deleting a failure record) is an action supervisors hold
    client.force_login(world[who])
    changelist = reverse("admin:axes_accessattempt_changelist")
    response = client.post(
        changelist,
        {"action": "delete_selected", "index": "0", "_selected_action": [selected]},
        follow=True,
    )
    assert response.status_code == 200
    assert "所选的记录中有不存在的编号，没有做任何修改。" in response.content.decode()
    assert AccessAttempt.objects.count() == 1


@pytest.mark.parametrize("model", MODELS, ids=_label)
def test_no_action_gives_a_server_error_for_a_row_no_record_can_be(client, world, model):
    client.force_login(world["superuser"])
    request = RequestFactory().get("/")
    request.user = world["superuser"]
    actions = admin.site._registry[model].get_actions(request)
    changelist = reverse(f"{_base(model)}_changelist")
    for action in actions:
        for selected in (HUGE, "abc"):
            data = {"action": action, "index": "0", "_selected_action": [selected]}
            response = client.post(changelist, data)
            assert response.status_code < 500, (action, selected)


# --- 4. what admin forms take -------------------------------------------------------------
def _forms_of(model_admin, request):
    """The admin's form for a row of its list (or its add form) and each inline's form."""
    obj = model_admin.get_queryset(request).first()
    form = model_admin.get_form(request, obj, change=obj is not None)
    yield form
    for formset, _inline in model_admin.get_formsets_with_inlines(request, obj):
        yield formset.form


def _calendar_start(field):
    if isinstance(field, forms.SplitDateTimeField):
        return [date(1, 1, 1), time(0, 0)]
    if isinstance(field, forms.DateTimeField):
        return datetime(1, 1, 1)  # noqa: DTZ001 - what a form reads from the page
    return date(1, 1, 1)


@pytest.mark.parametrize(("model", "model_admin"), ADMINS, ids=[_label(m) for m, _a in ADMINS])
def test_every_admin_forms_dates_and_chosen_ids_are_checked(world, model, model_admin):
    request = RequestFactory().get("/")
    request.user = world["superuser"]
    for form_class in _forms_of(model_admin, request):
        for name, field in form_class.base_fields.items():
            if isinstance(field, (forms.DateField, forms.DateTimeField, forms.SplitDateTimeField)):
                with pytest.raises(ValidationError) as refused:
                    field.clean(_calendar_start(field))
                codes = [error.code for error in refused.value.error_list]
                assert "out_of_range" in codes, (form_class, name)
            if isinstance(field, forms.ModelMultipleChoiceField):
                assert isinstance(field, CheckedModelMultipleChoiceField), (form_class, name)
                with pytest.raises(ValidationError):
                    field.clean([HUGE])
    assert isinstance(model_admin, CheckedInput), model


def _user_form_data(user) -> dict:
    joined = timezone.localtime(user.date_joined)
    return {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "date_joined_0": joined.date().isoformat(),
        "date_joined_1": joined.time().strftime("%H:%M:%S"),
        "last_login_0": "",
        "last_login_1": "",
        "groups": [g.pk for g in user.groups.all()],
        "shops": [],
    }


@pytest.mark.parametrize(
    "change",
    [
        {"date_joined_0": "0001-01-01", "date_joined_1": "00:00:00"},
        {"date_joined_0": "9999-12-31", "date_joined_1": "23:59:59"},
        {"last_login_0": "0001-01-01", "last_login_1": "00:00:00"},
        {"last_login_0": "9999-12-31", "last_login_1": "23:59:59"},
    ],
)
def test_a_users_dates_at_the_calendars_ends_are_a_form_error(client, world, shop_a, change):
    agent = make_user("agent-x", Role.AGENT, password=None, shops=[shop_a])
    before = User.objects.filter(pk=agent.pk).values().get()
    client.force_login(world["superuser"])
    url = reverse("admin:tickets_user_change", args=[agent.pk])
    response = client.post(url, {**_user_form_data(agent), **change})
    assert response.status_code == 200
    assert OUT_OF_RANGE in response.content.decode()
    assert User.objects.filter(pk=agent.pk).values().get() == before


def test_the_same_message_in_english(client, world, shop_a):
    agent = make_user("agent-x", Role.AGENT, password=None, shops=[shop_a])
    client.force_login(world["superuser"])
    url = reverse("admin:tickets_user_change", args=[agent.pk])
    data = {**_user_form_data(agent), "date_joined_0": "0001-01-01", "date_joined_1": "00:00"}
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.post(url, data).content.decode()
    assert "2000-01-01" in page and "2099-12-31" in page
    assert OUT_OF_RANGE not in page
    refusal = "所选的记录中有不存在的编号，没有做任何修改。"
    with translation.override("en"):
        assert translation.gettext(refusal) != refusal


@pytest.mark.parametrize("field", ["groups", "shops"])
def test_a_chosen_id_no_record_can_have_is_a_form_error(client, world, shop_a, field):
    agent = make_user("agent-x", Role.AGENT, password=None, shops=[shop_a])
    client.force_login(world["superuser"])
    url = reverse("admin:tickets_user_change", args=[agent.pk])
    response = client.post(url, {**_user_form_data(agent), field: [HUGE]})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field]
    assert set(agent.groups.values_list("name", flat=True)) == {Role.AGENT.value}
    assert list(agent.shops.all()) == [shop_a]


def test_a_groups_permissions_are_checked_the_same_way(client, world):
    group = Group.objects.get(name=Role.AGENT.value)
    permissions = set(group.permissions.values_list("pk", flat=True))
    client.force_login(world["superuser"])
    url = reverse("admin:auth_group_change", args=[group.pk])
    response = client.post(url, {"name": group.name, "permissions": [HUGE]})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["permissions"]
    assert set(group.permissions.values_list("pk", flat=True)) == permissions


def test_a_good_user_change_is_still_saved(client, world, shop_a):
    agent = make_user("agent-x", Role.AGENT, password=None, shops=[shop_a])
    client.force_login(world["superuser"])
    url = reverse("admin:tickets_user_change", args=[agent.pk])
    data = {**_user_form_data(agent), "date_joined_0": "2026-01-02", "date_joined_1": "09:30:00"}
    assert client.post(url, {**data, "shops": [shop_a.pk]}).status_code == 302
    agent.refresh_from_db()
    assert timezone.localtime(agent.date_joined).date() == date(2026, 1, 2)
