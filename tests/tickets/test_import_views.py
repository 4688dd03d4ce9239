"""The import and postage pages: upload, preview, confirm; who may see and do what."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_order, make_user
from tests.tickets.export_files import (
    ITEM_HEADERS,
    ORDER_HEADERS_56,
    export_csv,
    item_row,
    order_row,
)
from tickets.imports.batches import order_import_upload
from tickets.models import Order, OrderImport, OrderImportFile, OrderItem
from tickets.roles import Role

pytestmark = pytest.mark.django_db

NO_1, NO_2 = "3515012345678901234", "3515012345678901235"
PHONE = re.compile(r"(?<!\d)1\d{10}(?!\d)")


def csv_upload(name, data):
    return SimpleUploadedFile(name, data, content_type="text/csv")


def good_files():
    return {
        "orders_file": csv_upload(
            "ExportOrderList.csv", export_csv(ORDER_HEADERS_56, [order_row(NO_1), order_row(NO_2)])
        ),
        "items_file": csv_upload(
            "ExportOrderDetailList.csv",
            export_csv(ITEM_HEADERS, [item_row(NO_1), item_row(NO_2)], encoding="utf-8-sig"),
        ),
    }


def upload(client, shop, files=None):
    return client.post(reverse("imports:home"), {"shop": shop.pk, **(files or good_files())})


@pytest.fixture
def previewed(client, agent, shop_a):
    client.force_login(agent)
    response = upload(client, shop_a)
    assert response.status_code == 302
    return OrderImport.objects.get()


def test_upload_shows_a_preview_and_writes_no_order(client, previewed, private_files):
    # then the preview page counts what would happen
    page = client.get(reverse("imports:detail", args=[previewed.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert previewed.status == OrderImport.Status.PREVIEWED
    assert page.context["sections"][0]["figures"][0][1] == 2  # orders to create
    assert "确认导入" in html
    assert "GBK/GB18030" in html and "UTF-8 (BOM)" in html
    assert not Order.objects.exists()
    assert not PHONE.search(html)
    # and the files wait in private storage under generated names
    stored = [f.file.name for f in previewed.files.all()]
    assert all(name.startswith("imports/") and name.endswith(".csv") for name in stored)
    assert all((private_files / name).exists() for name in stored)
    assert {f.original_name for f in previewed.files.all()} == {
        "ExportOrderList.csv",
        "ExportOrderDetailList.csv",
    }


def test_confirming_imports_once_and_deletes_the_files(
    client, previewed, private_files, django_capture_on_commit_callbacks
):
    stored = [f.file.name for f in previewed.files.all()]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:apply", args=[previewed.pk]))
    assert response.status_code == 302
    previewed.refresh_from_db()
    assert previewed.status == OrderImport.Status.APPLIED
    assert Order.objects.count() == 2
    assert OrderItem.objects.count() == 2
    assert not any((private_files / name).exists() for name in stored)
    assert all(not f.file for f in previewed.files.all())
    # the same confirmation again imports nothing more
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:apply", args=[previewed.pk]))
    assert Order.objects.count() == 2
    page = client.get(reverse("imports:detail", args=[previewed.pk]), follow=True)
    assert "导入结果" in page.content.decode()


def test_the_same_file_again_is_recognised(client, previewed):
    client.post(reverse("imports:apply", args=[previewed.pk]))
    response = upload(client, previewed.shop)
    second = OrderImport.objects.exclude(pk=previewed.pk).get()
    html = client.get(response["Location"]).content.decode()
    assert "导入过" in html
    assert second.report["counts"]["orders"] == {"unchanged": 2}


def test_bad_rows_are_listed_and_the_batch_is_refused(client, agent, shop_a, private_files):
    client.force_login(agent)
    files = {
        "orders_file": csv_upload(
            "bad.csv",
            export_csv(
                ORDER_HEADERS_56, [order_row(NO_1), order_row("3.515E+18", 联系手机="13900001111")]
            ),
        )
    }
    response = upload(client, shop_a, files)
    batch = OrderImport.objects.get()
    html = client.get(response["Location"]).content.decode()
    assert batch.status == OrderImport.Status.REFUSED
    assert "科学计数法" in html
    assert "确认导入" not in html
    assert not Order.objects.exists()
    assert not any(f.file for f in batch.files.all())
    assert not PHONE.search(html)


def test_discarding_deletes_the_files(client, previewed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:discard", args=[previewed.pk]))
    assert response.status_code == 302
    previewed.refresh_from_db()
    assert previewed.status == OrderImport.Status.DISCARDED
    assert not any(f.file for f in previewed.files.all())
    assert client.post(reverse("imports:apply", args=[previewed.pk])).status_code == 302
    assert not Order.objects.exists()


def test_a_stale_preview_cannot_be_confirmed(client, previewed):
    OrderImport.objects.filter(pk=previewed.pk).update(
        created_at=timezone.now() - timedelta(days=2)
    )
    response = client.post(reverse("imports:apply", args=[previewed.pk]), follow=True)
    assert "预览已过期" in response.content.decode()
    assert not Order.objects.exists()


def test_old_previews_are_given_up_when_someone_uploads(client, previewed, shop_a):
    OrderImport.objects.filter(pk=previewed.pk).update(
        created_at=timezone.now() - timedelta(days=2)
    )
    upload(client, shop_a)
    previewed.refresh_from_db()
    assert previewed.status == OrderImport.Status.DISCARDED


def test_only_the_uploader_confirms(client, previewed, shop_a):
    colleague = make_user("agent-a2", Role.AGENT, shops=[shop_a])
    client.force_login(colleague)
    assert client.get(reverse("imports:detail", args=[previewed.pk])).status_code == 200
    response = client.post(reverse("imports:apply", args=[previewed.pk]), follow=True)
    assert "只有上传文件的人" in response.content.decode()
    assert not Order.objects.exists()


def test_a_file_over_the_limit_is_refused_before_it_is_stored(client, agent, shop_a, settings):
    settings.DESK_IMPORT_MAX_BYTES = 100
    client.force_login(agent)
    response = upload(client, shop_a)
    assert response.status_code == 200
    assert "超过" in response.content.decode()
    assert not OrderImport.objects.exists()


def test_at_least_one_file(client, agent, shop_a):
    client.force_login(agent)
    response = client.post(reverse("imports:home"), {"shop": shop_a.pk})
    assert "请至少选择一个文件" in response.content.decode()


def test_an_excel_workbook_is_refused_with_a_reason(client, agent, shop_a):
    client.force_login(agent)
    files = {"orders_file": csv_upload("ExportOrderList.xlsx", b"PK\x03\x04" + b"\x00" * 64)}
    response = upload(client, shop_a, files)
    html = client.get(response["Location"]).content.decode()
    assert "Excel" in html


# --- who may see and do what ---------------------------------------------------------------
def test_another_shops_batch_is_not_found(client, agent, shop_b, supervisor):
    theirs = order_import_upload(
        actor=supervisor,
        shop=shop_b,
        files={
            "orders": csv_upload("o.csv", export_csv(ORDER_HEADERS_56, [order_row(NO_1)])),
        },
    )
    client.force_login(agent)
    assert client.get(reverse("imports:detail", args=[theirs.pk])).status_code == 404
    for name in ("apply", "discard"):
        assert client.post(reverse(f"imports:{name}", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == OrderImport.Status.PREVIEWED
    assert not Order.objects.exists()
    assert f'href="{reverse("imports:detail", args=[theirs.pk])}"' not in (
        client.get(reverse("imports:home")).content.decode()
    )


def test_uploading_for_a_shop_one_does_not_serve_is_refused(client, agent, shop_b):
    client.force_login(agent)
    response = upload(client, shop_b)
    assert response.status_code == 200
    assert response.context["form"].errors["shop"]
    assert not OrderImport.objects.exists()


@pytest.mark.parametrize("name", ["apply", "discard"])
def test_mutating_urls_refuse_get(client, previewed, name):
    assert client.get(reverse(f"imports:{name}", args=[previewed.pk])).status_code == 405


def test_finance_has_no_import_or_rate_card_pages(client, finance, previewed):
    client.force_login(finance)
    assert client.get(reverse("imports:home")).status_code == 403
    assert client.get(reverse("imports:detail", args=[previewed.pk])).status_code == 403
    assert client.post(reverse("imports:apply", args=[previewed.pk])).status_code == 403
    assert client.get(reverse("imports:postage")).status_code == 403
    nav = client.get(reverse("tickets:dashboard")).content.decode()
    assert reverse("imports:home") not in nav and reverse("imports:postage") not in nav


def test_agents_and_supervisors_find_the_pages(client, agent, supervisor):
    for user in (agent, supervisor):
        client.force_login(user)
        nav = client.get(reverse("tickets:dashboard")).content.decode()
        assert reverse("imports:home") in nav
        # the calculator is one click from the import page (and the import from it)
        assert reverse("imports:postage") in client.get(reverse("imports:home")).content.decode()
        assert reverse("imports:home") in client.get(reverse("imports:postage")).content.decode()


def test_is_staff_does_not_open_the_import(client, shop_a):
    nobody = make_user("staff-no-role", role=None, is_staff=True)
    client.force_login(nobody)
    assert client.get(reverse("imports:home")).status_code == 403


def test_import_list_query_count_does_not_grow(
    client, agent, shop_a, django_assert_max_num_queries
):
    client.force_login(agent)
    upload(client, shop_a)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("imports:home"))
    baseline = len(few.captured_queries)  # read now: every request clears the query log
    for _ in range(5):
        upload(client, shop_a)
    with django_assert_max_num_queries(baseline):
        client.get(reverse("imports:home"))


# --- the postage pages ---------------------------------------------------------------------
def test_calculator_for_a_shop_and_destination(client, agent, shop_a):
    client.force_login(agent)
    response = client.get(
        reverse("imports:postage"), {"shop": shop_a.pk, "province": "广东", "weight_kg": "2.4"}
    )
    assert response.context["quote"].amount == Decimal("36.00")
    html = response.content.decode()
    assert "¥36.00" in html
    assert "其他省份" in html  # the rule's name, and the card below


def test_calculator_says_confirm_for_tibet_and_sf(client, agent, shop_a):
    client.force_login(agent)
    tibet = client.get(reverse("imports:postage"), {"shop": shop_a.pk, "province": "西藏"})
    assert "请人工确认实际运费" in tibet.content.decode()
    from tickets.models import Courier

    sf = Courier.objects.get(code="sf")
    response = client.get(
        reverse("imports:postage"), {"shop": shop_a.pk, "province": "广东", "courier": sf.pk}
    )
    assert response.context["quote"].confirm_by_hand


def test_calculator_for_an_order_with_its_tmall_penalty(client, supervisor, shop_b):
    order = make_order(shop_b, status=Order.Status.SHIPPED, items=((Decimal("200.00"), 1),))
    order.ship_by = order.paid_at + timedelta(hours=72)
    order.shipped_at = order.ship_by + timedelta(hours=3)
    order.save()
    client.force_login(supervisor)
    response = client.get(reverse("imports:postage"), {"order": order.pk})
    assert response.context["quote"].amount == Decimal("12.00")  # Shanghai shop -> Wuhan
    assert response.context["penalty"].amount == Decimal("60.00")
    html = response.content.decode()
    assert "天猫延迟发货" in html and "¥60.00" in html
    heavier = client.get(reverse("imports:postage"), {"order": order.pk, "weight_kg": "3"})
    assert heavier.context["quote"].amount == Decimal("36.00")


@pytest.mark.parametrize("value", ["other-shop", "abc", "999999"])
def test_calculator_for_an_order_one_may_not_see_is_not_found(client, agent, order_b, value):
    client.force_login(agent)
    pk = order_b.pk if value == "other-shop" else value
    assert client.get(reverse("imports:postage"), {"order": pk}).status_code == 404


def test_calculator_form_errors(client, agent):
    client.force_login(agent)
    response = client.get(reverse("imports:postage"), {"province": "广东", "weight_kg": "-1"})
    assert response.context["quote"] is None
    assert set(response.context["form"].errors) == {"shop", "weight_kg"}


def render_panel(user, order):
    request = RequestFactory().get("/")
    request.user = user
    template = Template("{% load desk_postage %}{% postage_panel order %}")
    return template.render(Context({"request": request, "order": order}))


def test_the_panel_for_order_and_ticket_pages(agent, finance, order_a, django_assert_num_queries):
    order = Order.objects.select_related("shop", "courier").get(pk=order_a.pk)
    agent.has_perm("tickets.view_postagerate")  # the permission cache is the page's anyway
    with django_assert_num_queries(1):  # the rate card
        html = render_panel(agent, order)
    assert "¥6.00" in html and "武汉同城" in html
    assert f"?order={order.pk}" in html
    assert render_panel(finance, order).strip() == ""


def test_stored_files_are_not_served_at_any_url(client, previewed):
    name = OrderImportFile.objects.filter(batch=previewed).first().file.name
    for url in (f"/{name}", f"/media/{name}", f"/static/{name}"):
        assert client.get(url).status_code == 404


def test_the_rate_card_reads_like_the_shops_table(client, agent):
    client.force_login(agent)
    card = client.get(reverse("imports:postage")).context["card"]
    assert [(line["rate"].name, line["destinations"]) for line in card] == [
        ("江浙沪本地", ["上海", "江苏", "浙江"]),
        ("武汉同城", ["湖北 武汉"]),
        ("湖北省内", ["湖北"]),
        ("内蒙古、山西", ["山西", "内蒙古"]),
        ("东北三省", ["辽宁", "吉林", "黑龙江"]),
        ("西南", ["重庆", "四川", "贵州", "云南"]),
        ("西北五省", ["陕西", "甘肃", "青海", "宁夏", "新疆"]),
        ("西藏", ["西藏"]),
        ("港澳台", ["香港", "澳门", "台湾"]),
        ("其他省份", []),
    ]
