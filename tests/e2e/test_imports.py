"""The order import and the postage calculator in a real browser, with screenshots."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.conftest import login, screenshot
from tests.factories import make_order, make_user
from tests.tickets.export_files import ORDER_HEADERS_56, export_csv, order_row
from tickets.models import Order, OrderImport
from tickets.roles import Role

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"


def test_supervisor_previews_then_imports_the_exports(page, shop_a):
    make_user("e2e-boss", Role.SUPERVISOR, all_shops=True, last_name="赵", first_name="强")
    login(page, "e2e-boss")
    page.click("text=订单导入")
    page.select_option("#id_shop", str(shop_a.pk))
    page.set_input_files("#id_orders_file", str(SAMPLES / "ExportOrderList-sample.csv"))
    page.set_input_files("#id_items_file", str(SAMPLES / "ExportOrderDetailList-sample.csv"))
    screenshot(page, "imports-upload")
    page.click("button:has-text('上传并预览')")
    page.wait_for_selector("text=导入预览")
    assert "GBK/GB18030" in page.content()
    assert not Order.objects.exists()
    screenshot(page, "imports-preview")
    page.click("button:has-text('确认导入')")
    page.wait_for_selector("text=导入完成")
    assert Order.objects.filter(shop=shop_a).count() == 5
    screenshot(page, "imports-applied")


def test_agent_sees_every_bad_row_and_nothing_is_imported(page, shop_a, tmp_path):
    make_user("e2e-agent-imp", Role.AGENT, shops=[shop_a])
    bad = tmp_path / "ExportOrderList-bad.csv"
    bad.write_bytes(
        export_csv(
            ORDER_HEADERS_56,
            [
                order_row("3515026031512345601"),
                order_row("3.51502603151235E+18"),
                order_row("3515026031512345603", 订单状态="买家已评价"),
                order_row("3515026031512345604", 买家实际支付金额="一百"),
                order_row("", 买家会员名="没有订单号"),
            ],
        )
    )
    login(page, "e2e-agent-imp")
    page.goto(page.base_url + "/imports/")
    page.set_input_files("#id_orders_file", str(bad))
    page.click("button:has-text('上传并预览')")
    page.wait_for_selector("text=没有导入任何数据")
    assert page.locator("table.problems tbody tr").count() == 4
    assert page.locator("button:has-text('确认导入')").count() == 0
    assert OrderImport.objects.get().status == OrderImport.Status.REFUSED
    assert not Order.objects.exists()
    screenshot(page, "imports-refused")


def test_postage_calculator_for_a_late_tmall_order(page, shop_b):
    make_user("e2e-agent-post", Role.AGENT, shops=[shop_b])
    order = make_order(shop_b, status=Order.Status.SHIPPED, items=((Decimal("268.00"), 1),))
    order.ship_by = order.paid_at + timedelta(hours=72)
    order.shipped_at = order.ship_by + timedelta(hours=6)
    order.save()
    login(page, "e2e-agent-post")
    page.goto(f"{page.base_url}/imports/postage/?order={order.pk}")
    assert "¥12.00" in page.content()
    page.fill("#id_weight_kg", "2.5")
    page.click("button:has-text('计算')")
    page.wait_for_selector("text=¥36.00")
    assert "¥80.40" in page.content()  # 30% of 268.00
    screenshot(page, "postage-order")
    page.goto(page.base_url + "/imports/postage/")
    page.select_option("#id_shop", str(shop_b.pk))
    page.select_option("#id_province", "西藏")
    page.click("button:has-text('计算')")
    page.wait_for_selector("text=请人工确认实际运费")
    screenshot(page, "postage-tibet")
