"""A platform intervention's case number is unique within its shop only (issue 16 review 6):
the platform's numbers are global, so one shop can neither learn that another shop holds a
number (no "registered in another shop" answer) nor block another shop's later case by
registering the number first. Tried through every door: the refund import page, the
register's page and the admin (the API's door is tests/api/test_refunds.py)."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_order, make_user
from tests.tickets.export_files import (
    ITEM_HEADERS,
    ORDER_HEADERS_56,
    REFUND_HEADERS,
    export_csv,
    item_row,
    order_row,
    refund_row,
)
from tests.tickets.test_import_views import csv_upload
from tickets.models import OrderImport, PlatformIntervention
from tickets.roles import Role
from tickets.services.interventions import intervention_register

pytestmark = pytest.mark.django_db

CASE_NO = "88001122334455"
NO_A, NO_B = "3515012345678900001", "3515012345678900002"


def import_through_the_page(client, shop, order_no, *, refund_no=CASE_NO):
    """Uploads an order, its item and a refund under platform intervention (case number
    ``refund_no``) for ``shop`` on the import page and applies the batch; returns the
    batch's page after applying."""
    files = {
        "orders_file": csv_upload(
            "ExportOrderList.csv", export_csv(ORDER_HEADERS_56, [order_row(order_no)])
        ),
        "items_file": csv_upload(
            "ExportOrderDetailList.csv",
            export_csv(ITEM_HEADERS, [item_row(order_no)], encoding="utf-8-sig"),
        ),
        "refunds_file": csv_upload(
            "退款管理.csv",
            export_csv(
                REFUND_HEADERS,
                [
                    refund_row(
                        refund_no,
                        order_no,
                        客服介入状态="客服介入中",
                        举证超时="2026-03-08 12:00:00",
                    )
                ],
            ),
        ),
    }
    response = client.post(reverse("imports:home"), {"shop": shop.pk, **files})
    assert response.status_code == 302, response.content.decode()[:2000]
    batch = OrderImport.objects.filter(shop=shop).latest("pk")
    response = client.post(reverse("imports:apply", args=[batch.pk]), follow=True)
    assert response.status_code == 200
    return response


@pytest.fixture
def agent_b(shop_b):
    return make_user("agent-b", Role.AGENT, shops=[shop_b])


def test_the_import_page_registers_a_case_number_another_shop_already_holds(
    client, shop_a, shop_b, agent, agent_b
):
    # given shop B's case of that number, registered first
    client.force_login(agent_b)
    import_through_the_page(client, shop_b, NO_B)
    theirs = PlatformIntervention.objects.get(shop=shop_b)
    before = (theirs.order_id, theirs.ticket_id, theirs.deadline, theirs.updated_at)
    # when shop A's refund export carries the same number
    client.force_login(agent)
    page = import_through_the_page(client, shop_a, NO_A).content.decode()
    # then A's case is registered in A, B's is untouched, and nothing speaks of another shop
    ours = PlatformIntervention.objects.get(shop=shop_a)
    assert ours.case_no == CASE_NO and ours.order.order_no == NO_A
    theirs.refresh_from_db()
    assert (theirs.order_id, theirs.ticket_id, theirs.deadline, theirs.updated_at) == before
    assert OrderImport.objects.filter(shop=shop_a).latest("pk").applied_at is not None
    assert "另一家店铺" not in page and "another shop" not in page


def test_a_case_number_registered_first_blocks_no_other_shops_import(
    client, shop_a, shop_b, agent, agent_b
):
    # given shop A registered B's number on the register page before B's export came in
    client.force_login(agent)
    order_a = make_order(shop_a)
    response = client.post(
        reverse("registers:intervention_new"),
        {"order_no": order_a.order_no, "case_no": CASE_NO, "reason": "抢先登记"},
    )
    assert response.status_code == 302
    # when B imports its refund export
    client.force_login(agent_b)
    import_through_the_page(client, shop_b, NO_B)
    # then B's case is registered in B
    assert PlatformIntervention.objects.get(shop=shop_b).order.order_no == NO_B
    assert PlatformIntervention.objects.filter(case_no=CASE_NO).count() == 2


def test_the_register_page_takes_a_number_only_another_shop_holds(client, shop_a, shop_b, agent):
    intervention_register(
        actor=make_user("agent-b", Role.AGENT, shops=[shop_b]),
        order=make_order(shop_b),
        case_no=CASE_NO,
        reason="B 的介入",
    )
    client.force_login(agent)
    order_a = make_order(shop_a)
    data = {"order_no": order_a.order_no, "case_no": f" {CASE_NO} ", "reason": "A 的介入"}
    response = client.post(reverse("registers:intervention_new"), data)
    assert response.status_code == 302
    ours = PlatformIntervention.objects.get(shop=shop_a)
    assert (ours.case_no, ours.reason) == (CASE_NO, "A 的介入")
    # but within the shop a number is registered once
    response = client.post(reverse("registers:intervention_new"), data)
    assert response.status_code == 200
    assert "已经登记过了" in response.content.decode()
    assert PlatformIntervention.objects.filter(shop=shop_a).count() == 1


def test_the_database_refuses_a_number_twice_in_one_shop_only(shop_a, shop_b, agent):
    def case(shop):
        return PlatformIntervention(
            shop=shop,
            order=make_order(shop),
            case_no=CASE_NO,
            reason="介入",
            deadline=timezone.now() + timedelta(days=1),
            recorded_by=agent,
        )

    case(shop_a).save()
    case(shop_b).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        case(shop_a).save()


def test_the_admin_lists_each_shop_its_own_case_of_a_shared_number(client, shop_a, shop_b):
    for shop in (shop_a, shop_b):
        intervention_register(
            actor=make_user(None, Role.AGENT, shops=[shop]),
            order=make_order(shop),
            case_no=CASE_NO,
            reason=f"{shop.code} 的介入",
        )
    url = reverse("admin:tickets_platformintervention_changelist")
    boss_a = make_user("boss-a", Role.SUPERVISOR, shops=[shop_a], is_staff=True)
    client.force_login(boss_a)
    response = client.get(url)
    assert response.status_code == 200
    listed = set(response.context["cl"].result_list.values_list("shop__code", flat=True))
    assert listed == {"shop-a"}
    theirs = PlatformIntervention.objects.get(shop=shop_b)
    change = reverse("admin:tickets_platformintervention_change", args=[theirs.pk])
    assert client.get(change).status_code in (302, 404)
    root = make_user("root", None, is_superuser=True, is_staff=True)
    client.force_login(root)
    response = client.get(url)
    listed = sorted(response.context["cl"].result_list.values_list("shop__code", flat=True))
    assert listed == ["shop-a", "shop-b"]
