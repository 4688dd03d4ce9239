"""The admin is the administrators' tool for reference data, not a side door around the
desk's services: agents and finance don't reach it, nobody edits a service-door model there,
supervisors see only their shops, and every reference-data edit is recorded."""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse

from finance_exports.models import Sheet
from tests.factories import make_order, make_user
from tickets.admin import ReferenceAdmin, ServiceDoorAdmin
from tickets.models import Order, ProductionAlert, QualityProblem, QuickReply, Sku, Ticket
from tickets.models.catalogue import Product
from tickets.roles import Role
from tickets.services.quality import quality_problem_register
from tickets.services.tickets import ItemRequest, ticket_open

# Reference data: edited in the admin (by whoever holds the permission), with history.
REFERENCE_MODELS = {
    "tickets.user",
    "tickets.shop",
    "tickets.courier",
    "tickets.product",
    "tickets.sku",
    "tickets.postagerate",
    "tickets.quickreply",
    "auth.group",
}

# Settings only administrators (superusers) keep: a chat robot's address and secret (issue 13).
# No history table: it would keep every secret readable; Django's admin log says who changed
# which robot when.
ADMIN_SETTINGS = {"tickets.chatwebhook", "api.webhookendpoint"}

# Integration tokens (issue 16): an administrator issues them there (shown once, only a hash
# kept) and revokes them with the list's action; an issued token is never edited or deleted.
ISSUED_ONLY = {"api.apitoken"}

# Login records (django-axes): read, and a failure record deleted to unlock its login.
LOGIN_RECORDS = {"axes.accessattempt", "axes.accesslog"}


def admin_urls(model, obj_pk=None):
    opts = model._meta
    base = f"admin:{opts.app_label}_{opts.model_name}"
    urls = [reverse(f"{base}_changelist"), reverse(f"{base}_add")]
    if obj_pk is not None:
        urls += [
            reverse(f"{base}_change", args=[obj_pk]),
            reverse(f"{base}_delete", args=[obj_pk]),
            reverse(f"{base}_history", args=[obj_pk]),
        ]
    return urls


def every_admin_url():
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        urls += admin_urls(model, obj_pk=1)
    return urls


@pytest.fixture
def order(shop_a):
    return make_order(shop_a, status=Order.Status.SHIPPED, items=((Decimal("300.00"), 1),))


@pytest.mark.parametrize("role", [Role.AGENT, Role.FINANCE])
def test_agents_and_finance_never_reach_the_admin(client, shop_a, order, role):
    # even with is_staff set by mistake
    user = make_user(f"staff-{role}", role, shops=[shop_a], is_staff=True)
    client.force_login(user)
    for url in every_admin_url():
        response = client.get(url)
        assert response.status_code in (302, 403), url
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("admin:login")), url
    change = reverse("admin:tickets_order_change", args=[order.pk])
    client.post(change, {"paid_amount": "99999"})
    order.refresh_from_db()
    assert order.paid_amount == Decimal("300.00")


def test_every_registered_model_is_reference_data_or_behind_its_service():
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        if label in REFERENCE_MODELS | LOGIN_RECORDS | ADMIN_SETTINGS | ISSUED_ONLY:
            continue
        if label == "tickets.heartbeat":
            continue
        assert isinstance(model_admin, ServiceDoorAdmin), label


@pytest.mark.parametrize("who", ["supervisor", "superuser"])
def test_nobody_adds_changes_or_deletes_a_service_door_model(rf, supervisor, who):
    user = supervisor if who == "supervisor" else make_user("root", None, is_superuser=True)
    request = rf.get("/admin/")
    request.user = user
    for model, model_admin in admin.site._registry.items():
        if model._meta.label_lower in REFERENCE_MODELS:
            continue
        if model._meta.label_lower in ADMIN_SETTINGS:
            # the administrator's own settings: theirs to keep, no supervisor's
            allowed = who == "superuser"
            assert model_admin.has_add_permission(request) is allowed, model
            assert model_admin.has_change_permission(request) is allowed, model
            continue
        if model._meta.label_lower in ISSUED_ONLY:
            assert model_admin.has_add_permission(request) is (who == "superuser"), model
            assert not model_admin.has_change_permission(request), model
            assert not model_admin.has_delete_permission(request), model
            continue
        assert not model_admin.has_add_permission(request), model
        assert not model_admin.has_change_permission(request), model
        if model._meta.label_lower in LOGIN_RECORDS:
            # deleting a failure record is the unlock; the record of logins stays
            unlock = model._meta.label_lower == "axes.accessattempt"
            assert model_admin.has_delete_permission(request) is unlock, model
            continue
        assert not model_admin.has_delete_permission(request), model
        for inline in model_admin.get_inline_instances(request):
            assert not inline.has_add_permission(request, None), (model, inline)
            assert not inline.has_change_permission(request, None), (model, inline)


def test_a_supervisor_cannot_rewrite_money_or_a_ticket_in_the_admin(client, agent, order):
    boss = make_user("boss-staff", Role.SUPERVISOR, all_shops=True, is_staff=True)
    ticket = ticket_open(
        actor=agent,
        order=order,
        kind=Ticket.Kind.RETURN,
        reason=Ticket.Reason.QUALITY,
        responsibility=Ticket.Responsibility.SELLER,
        items=[ItemRequest(order.items.get(), 1)],
    )
    client.force_login(boss)
    assert client.get(reverse("admin:tickets_order_change", args=[order.pk])).status_code == 200
    for url, data in [
        (reverse("admin:tickets_order_change", args=[order.pk]), {"paid_amount": "99999"}),
        (reverse("admin:tickets_ticket_change", args=[ticket.pk]), {"kind": "exchange"}),
        (reverse("admin:tickets_order_add"), {"order_no": "1", "paid_amount": "1"}),
        (reverse("admin:tickets_order_delete", args=[order.pk]), {"post": "yes"}),
    ]:
        assert client.post(url, data).status_code == 403, url
    assert client.get(reverse("admin:tickets_ledgerentry_add")).status_code == 403
    order.refresh_from_db()
    ticket.refresh_from_db()
    assert order.paid_amount == Decimal("300.00")
    assert ticket.kind == Ticket.Kind.RETURN


def test_the_order_page_in_the_admin_shows_no_personal_data(client, order):
    Order.objects.filter(pk=order.pk).update(buyer_alipay_account="buyer@alipay.example")
    boss = make_user("boss-staff", Role.SUPERVISOR, all_shops=True, is_staff=True)
    client.force_login(boss)
    page = client.get(reverse("admin:tickets_order_change", args=[order.pk])).content.decode()
    assert "buyer@alipay.example" not in page
    assert "13812345678" not in page
    assert "解放大道" not in page


def test_a_supervisor_of_some_shops_sees_only_those_in_the_admin(client, shop_a, shop_b):
    mine = make_order(shop_a, order_no="111111111111111111")
    theirs = make_order(shop_b, order_no="999999999999999999")
    boss = make_user("boss-a", Role.SUPERVISOR, shops=[shop_a], is_staff=True)
    client.force_login(boss)
    listing = client.get(reverse("admin:tickets_order_changelist")).content.decode()
    assert mine.order_no in listing and theirs.order_no not in listing
    other = client.get(reverse("admin:tickets_order_change", args=[theirs.pk]))
    assert other.status_code == 302  # "doesn't exist", back to the index
    assert theirs.order_no not in client.get(other["Location"], follow=True).content.decode()


def test_sheets_in_the_admin_follow_the_finance_page(client, shop_a):
    Sheet.objects.create(kind=Sheet.Kind.FINANCE, business_date="2026-11-01")
    some = make_user("boss-a", Role.SUPERVISOR, shops=[shop_a], is_staff=True)
    client.force_login(some)
    assert (
        "2026" not in client.get(reverse("admin:finance_exports_sheet_changelist")).content.decode()
    )
    every = make_user("boss-all", Role.SUPERVISOR, all_shops=True, is_staff=True)
    client.force_login(every)
    assert "2026" in client.get(reverse("admin:finance_exports_sheet_changelist")).content.decode()


def test_a_production_alert_with_several_complaints_opens_once(client, agent, shop_a):
    product = Product.objects.create(model_no="M1", title="羽绒服")
    sku = Sku.objects.create(product=product, code="M1-BK-XL", colour="黑", size="XL", batch="B1")
    for _ in range(5):
        quality_problem_register(actor=agent, shop=shop_a, sku=sku, problem_type="stitching")
    alert = ProductionAlert.objects.get()
    assert QualityProblem.objects.count() == 5
    boss = make_user("boss-a", Role.SUPERVISOR, shops=[shop_a], is_staff=True)
    client.force_login(boss)
    assert (
        client.get(reverse("admin:tickets_productionalert_change", args=[alert.pk])).status_code
        == 200
    )
    listing = client.get(reverse("admin:tickets_productionalert_changelist")).content.decode()
    assert listing.count(reverse("admin:tickets_productionalert_change", args=[alert.pk])) == 1


def test_a_reference_data_edit_is_recorded_with_who_before_and_after(client, db):
    reply = QuickReply.objects.create(title="催退货", body="亲，请尽快寄回")
    boss = make_user("boss-staff", Role.SUPERVISOR, all_shops=True, is_staff=True)
    client.force_login(boss)
    response = client.post(
        reverse("admin:tickets_quickreply_change", args=[reply.pk]),
        {"title": "催退货", "body": "亲，请在 3 天内寄回", "is_active": "on"},
    )
    assert response.status_code == 302
    newest, older = reply.history.order_by("-history_id")[:2]
    assert newest.history_user == boss
    assert newest.history_type == "~"
    changes = {c.field: (c.old, c.new) for c in newest.diff_against(older).changes}
    assert changes == {"body": ("亲，请尽快寄回", "亲，请在 3 天内寄回")}
    # and a supervisor reads it
    history = client.get(reverse("admin:tickets_quickreply_history", args=[reply.pk]))
    assert history.status_code == 200
    assert "boss-staff" in history.content.decode() or str(boss) in history.content.decode()


def test_a_change_to_a_users_shops_is_recorded(client, shop_a, shop_b):
    root = make_user("root", None, is_superuser=True, is_staff=True)
    agent = make_user("agent-x", Role.AGENT, shops=[shop_a])
    agent.shops.add(shop_b)
    record = agent.history.order_by("-history_id").first()
    assert {s.shop_id for s in record.shops.all()} == {shop_a.pk, shop_b.pk}
    assert "password" not in [f.name for f in record._meta.fields]
    client.force_login(root)
    assert client.get(reverse("admin:tickets_user_history", args=[agent.pk])).status_code == 200


def test_reference_admins_keep_history():
    for model, model_admin in admin.site._registry.items():
        if model._meta.label_lower in REFERENCE_MODELS - {"auth.group", "tickets.user"}:
            assert isinstance(model_admin, ReferenceAdmin), model


def test_the_shop_admin_cannot_be_used_to_see_another_shop(client, shop_a, shop_b):
    boss = make_user("boss-a", Role.SUPERVISOR, shops=[shop_a], is_staff=True)
    client.force_login(boss)
    listing = client.get(reverse("admin:tickets_shop_changelist")).content.decode()
    assert shop_a.name in listing and shop_b.name not in listing


def test_the_admin_link_shows_only_for_those_the_admin_lets_in(client, agent, db):
    client.force_login(agent)
    assert reverse("admin:index") not in client.get(reverse("tickets:dashboard")).content.decode()
    boss = make_user("boss-staff", Role.SUPERVISOR, all_shops=True, is_staff=True)
    client.force_login(boss)
    assert reverse("admin:index") in client.get(reverse("tickets:dashboard")).content.decode()


# --- what a hostile supervisor tried -----------------------------------------------------
def test_a_history_page_never_saves(client, shop_a):
    boss = make_user("boss-a", Role.SUPERVISOR, shops=[shop_a], is_staff=True)
    record = boss.history.order_by("-history_id").first()
    client.force_login(boss)
    url = reverse("admin:tickets_user_simple_history", args=[boss.pk, record.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"username": boss.username, "is_superuser": "on", "all_shops": "on", "is_staff": "on"}
    )
    assert response.status_code == 403
    boss.refresh_from_db()
    assert not boss.is_superuser and not boss.all_shops


def test_another_shops_history_is_not_shown(client, shop_a, shop_b):
    boss = make_user("boss-a", Role.SUPERVISOR, shops=[shop_a], is_staff=True)
    client.force_login(boss)
    record = shop_b.history.first()
    assert client.get(reverse("admin:tickets_shop_history", args=[shop_b.pk])).status_code == 404
    form = reverse("admin:tickets_shop_simple_history", args=[shop_b.pk, record.pk])
    assert client.get(form).status_code == 404
    assert client.get(reverse("admin:tickets_shop_history", args=[shop_a.pk])).status_code == 200


@pytest.mark.parametrize(
    "lookup",
    [
        "receiver_phone__startswith=1381",
        "receiver_name__contains=张",
        "receiver_address__contains=解放",
        "buyer_alipay_account__startswith=a",
    ],
)
def test_personal_data_cannot_be_guessed_with_list_filters(client, order, lookup):
    boss = make_user("boss-staff", Role.SUPERVISOR, all_shops=True, is_staff=True)
    client.force_login(boss)
    response = client.get(reverse("admin:tickets_order_changelist") + "?" + lookup)
    assert response.status_code in (302, 400)  # Django refuses the lookup
    if response.status_code == 302:
        assert "e=1" in response["Location"]


def test_a_password_hash_cannot_be_guessed_either(client, shop_a):
    boss = make_user("boss-staff", Role.SUPERVISOR, all_shops=True, is_staff=True)
    client.force_login(boss)
    response = client.get(reverse("admin:tickets_user_changelist") + "?password__startswith=p")
    assert response.status_code in (302, 400)


def test_role_changes_are_recorded(shop_a):
    from django.contrib.auth.models import Group

    agent = make_user("agent-x", Role.AGENT, shops=[shop_a])
    agent.groups.add(Group.objects.get(name=Role.SUPERVISOR.value))
    record = agent.history.order_by("-history_id").first()
    assert {g.group.name for g in record.groups.all()} == {"agent", "supervisor"}
    group = Group.objects.get(name=Role.AGENT.value)
    group.name = "agent-renamed"
    group.save()
    assert group.history.order_by("-history_id").first().name == "agent-renamed"


def test_a_deleted_rate_cards_history_stays_readable_and_roles_history_too(client, db):
    from django.contrib.auth.models import Group

    from tickets.models import PostageRate

    boss = make_user("boss-staff", Role.SUPERVISOR, all_shops=True, is_staff=True)
    client.force_login(boss)
    rate = PostageRate.objects.first()
    pk = rate.pk
    rate.delete()
    assert client.get(reverse("admin:tickets_postagerate_history", args=[pk])).status_code == 200
    group = Group.objects.get(name=Role.AGENT.value)
    assert client.get(reverse("admin:auth_group_history", args=[group.pk])).status_code == 200


def test_the_rate_card_reads_prices_with_the_desks_money_parser(client, db):
    from tickets.models import PostageRate

    root = make_user("root", None, is_superuser=True, is_staff=True)
    client.force_login(root)
    rate = PostageRate.objects.filter(confirm_by_hand=False).first()
    data = {
        "name": rate.name,
        "origin": rate.origin,
        "province": rate.province,
        "city": rate.city,
        "first_weight_kg": str(rate.first_weight_kg),
        "first_price": "1e1",
        "extra_kg_price": str(rate.extra_kg_price or "0"),
    }
    response = client.post(reverse("admin:tickets_postagerate_change", args=[rate.pk]), data)
    assert response.status_code == 200
    assert "不是有效的金额" in response.content.decode()
    assert PostageRate.objects.get(pk=rate.pk).first_price == rate.first_price


def test_a_supervisor_of_some_shops_sees_only_their_shops_staff(client, shop_a, shop_b):
    boss = make_user("boss-a", Role.SUPERVISOR, shops=[shop_a], is_staff=True)
    make_user("agent-of-b", Role.AGENT, shops=[shop_b])
    make_user("agent-of-a", Role.AGENT, shops=[shop_a])
    client.force_login(boss)
    listing = client.get(reverse("admin:tickets_user_changelist")).content.decode()
    assert "agent-of-a" in listing and "agent-of-b" not in listing
