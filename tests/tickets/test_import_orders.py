"""Importing the order and item exports: upserts, all or nothing, status forward only."""

import io
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from tests.factories import make_order
from tests.tickets.export_files import (
    ITEM_HEADERS,
    ITEM_HEADERS_SPLIT,
    ORDER_HEADERS_41,
    ORDER_HEADERS_56,
    ORDER_HEADERS_72,
    export_csv,
    item_row,
    order_row,
)
from tickets.imports.cleaning import SELLER_CENTRE_TZ
from tickets.imports.items import allocate
from tickets.imports.orders import CHUNK_ROWS, status_moves_forward
from tickets.imports.run import Upload, import_files
from tickets.models import Courier, Order, OrderItem, Sku

pytestmark = pytest.mark.django_db

NO_1, NO_2, NO_3 = "3515012345678901234", "3515012345678901235", "1899001122334455667"


def run(shop, orders=None, items=None, *, dry_run=False, actor=None):
    uploads = []
    if orders is not None:
        uploads.append(Upload("orders", "ExportOrderList202603.csv", io.BytesIO(orders)))
    if items is not None:
        uploads.append(Upload("items", "ExportOrderDetailList202603.csv", io.BytesIO(items)))
    return import_files(shop=shop, uploads=uploads, actor=actor, dry_run=dry_run)


def snapshot():
    """Everything the import can touch, to compare before and after."""
    orders = list(Order.objects.order_by("pk").values())
    items = list(OrderItem.objects.order_by("pk").values())
    for row in orders:
        row.pop("updated_at")
    return orders, items


def orders_file(rows, headers=ORDER_HEADERS_56, encoding="gbk"):
    return export_csv(headers, rows, encoding=encoding)


def items_file(rows, headers=ITEM_HEADERS, encoding="gbk"):
    return export_csv(headers, rows, encoding=encoding)


# --- a good import -------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["gbk", "utf-8", "utf-8-sig"])
def test_orders_and_items_are_imported_in_either_encoding(shop_a, encoding):
    # given an order file with every spreadsheet mark an order number arrives with
    orders = orders_file(
        [
            order_row(NO_1, style="formula"),
            order_row(NO_2, style="quote", 订单状态="交易成功", 物流公司="圆通速递"),
            order_row(NO_3, style="tab", 订单状态="等待买家付款", 订单付款时间="", 发货时间=""),
        ],
        encoding=encoding,
    )
    items = items_file(
        [
            item_row(NO_1),
            item_row(NO_1, 标题="直筒牛仔裤", 价格="50.00", 购买数量="1", 外部系统编号="JN2001"),
            item_row(NO_2, style="quote"),
            item_row(NO_3, style="tab", 价格="99", 购买数量="1"),
        ],
        encoding=encoding,
    )
    # when
    report = run(shop_a, orders, items)
    # then
    assert report.ok and report.applied, report.lines()
    assert report.counts["orders"]["created"] == 3
    assert report.counts["items"]["created"] == 4
    order = Order.objects.get(shop=shop_a, order_no=NO_1)
    assert order.status == Order.Status.SHIPPED
    assert order.buyer_nick == "小鱼爱吃猫"
    assert order.receiver_name == "张三"
    assert (order.receiver_province, order.receiver_city, order.receiver_district) == (
        "湖北省",
        "武汉市",
        "江汉区",
    )
    assert order.receiver_address == "解放大道1号3栋201室"
    assert order.receiver_postcode == "430000"
    assert order.receiver_phone == "13912345678"
    assert order.receiver_phone_tail == "5678"
    assert order.paid_amount == Decimal("188.00")
    assert order.goods_amount == Decimal("198.00")
    assert order.courier == Courier.objects.get(code="zto")
    assert order.tracking_no == "ZT7700123456"
    assert order.alipay_no == "2026030122001100000001"
    assert order.placed_at == datetime(2026, 3, 1, 10, 15, 30, tzinfo=SELLER_CENTRE_TZ)
    assert order.shipped_at == datetime(2026, 3, 2, 9, 0, tzinfo=SELLER_CENTRE_TZ)
    assert order.ship_by == order.paid_at + timedelta(hours=72)
    assert order.created_at == order.placed_at
    assert Order.objects.get(order_no=NO_2).courier.code == "yto"
    unpaid = Order.objects.get(order_no=NO_3)
    assert unpaid.status == Order.Status.WAITING_PAYMENT
    assert unpaid.paid_at is None and unpaid.ship_by is None
    tee, jeans = order.items.order_by("pk")
    assert (tee.title, tee.colour, tee.size, tee.quantity) == ("纯棉宽松T恤", "黑色", "XL", 2)
    assert tee.sku_code == "TS1001-BK-XL"
    # what the buyer paid for the goods (188) shared by list price 198 : 50
    assert tee.paid_amount + jeans.paid_amount == Decimal("188.00")
    assert (tee.paid_amount, jeans.paid_amount) == (Decimal("150.10"), Decimal("37.90"))


@pytest.mark.parametrize("headers", [ORDER_HEADERS_41, ORDER_HEADERS_56, ORDER_HEADERS_72])
def test_every_layout_imports_the_same_order(shop_a, headers):
    report = run(shop_a, orders_file([order_row(NO_1)], headers=headers))
    assert report.ok, report.lines()
    order = Order.objects.get(order_no=NO_1)
    assert order.paid_amount == Decimal("188.00")
    assert order.receiver_city == "武汉市"
    assert report.files["orders"]["columns"] == len(headers)


def test_an_older_layout_leaves_the_columns_it_lacks_alone(shop_a):
    run(shop_a, orders_file([order_row(NO_1, 商家备忘="缺货待补")]))
    # the 41-column layout has no 商家备忘 or 发货时间: they stay as they were
    report = run(shop_a, orders_file([order_row(NO_1, 订单状态="交易成功")], ORDER_HEADERS_41))
    assert report.counts["orders"]["updated"] == 1
    order = Order.objects.get(order_no=NO_1)
    assert order.status == Order.Status.SUCCESS
    assert order.flag_memo == "缺货待补"
    assert order.shipped_at is not None


def test_a_promised_shipping_time_in_the_file_is_used(shop_a):
    headers = [*ORDER_HEADERS_56, "承诺发货时间"]
    run(shop_a, orders_file([order_row(NO_1, 承诺发货时间="2026-03-02 23:59:59")], headers))
    order = Order.objects.get(order_no=NO_1)
    assert order.ship_by == datetime(2026, 3, 2, 23, 59, 59, tzinfo=SELLER_CENTRE_TZ)


def test_items_match_skus_by_the_outer_code(shop_a):
    from tickets.models import Product

    product = Product.objects.create(model_no="TS1001", title="纯棉宽松T恤")
    sku = Sku.objects.create(product=product, code="TS1001-BK-XL", colour="黑色", size="XL")
    run(shop_a, orders_file([order_row(NO_1)]), items_file([item_row(NO_1)]))
    assert OrderItem.objects.get().sku == sku


def test_the_split_item_layout_keeps_sub_order_numbers(shop_a):
    rows = [
        {**item_row(NO_1), "子订单编号": "'3515012345678901299", "主订单编号": f"'{NO_1}"},
    ]
    report = run(shop_a, orders_file([order_row(NO_1)]), items_file(rows, ITEM_HEADERS_SPLIT))
    assert report.ok, report.lines()
    assert OrderItem.objects.get().sub_order_no == "3515012345678901299"


def test_amounts_with_yuan_and_an_unknown_courier(shop_a):
    rows = [order_row(NO_1, 买家实际支付金额="188.00元", 物流公司="极兔速递")]
    report = run(shop_a, orders_file(rows))
    assert report.ok
    order = Order.objects.get(order_no=NO_1)
    assert order.paid_amount == Decimal("188.00")
    assert order.courier is None
    assert report.warning_count == 1
    assert "极兔速递" in report.warnings[0].message


def test_long_descriptions_are_shortened_with_a_warning(shop_a):
    report = run(shop_a, orders_file([order_row(NO_1, 订单关闭原因="很长" * 80)]))
    assert report.ok
    assert len(Order.objects.get().closed_reason) == 100
    assert report.warnings[0].line == 2


# --- bad rows: nothing changes --------------------------------------------------------------
def test_bad_rows_are_listed_with_line_and_column_and_nothing_is_imported(shop_a):
    # given an order already in the desk and a file with good and bad rows
    make_order(shop_a, order_no="3515000000000000001")
    before = snapshot()
    rows = [
        order_row(NO_1),
        order_row("3.515E+18"),
        order_row(NO_2, 订单状态="买家已评价"),
        order_row(NO_3, 买家实际支付金额="12.5.0"),
        order_row(""),
        order_row("3515000000000000002", 订单创建时间="昨天"),
        order_row("3515000000000000003", 买家会员名=""),
    ]
    # when
    report = run(shop_a, orders_file(rows))
    # then
    assert not report.applied
    found = {(p.line, p.column): p.message for p in report.errors}
    assert "科学计数法" in found[(3, "订单编号")]
    assert "买家已评价" in found[(4, "订单状态")]
    assert "12.5.0" in found[(5, "买家实际支付金额")]
    assert "缺少订单编号" in found[(6, "订单编号")]
    assert "时间" in found[(7, "订单创建时间")]
    assert "买家会员名" in found[(8, "买家会员名")]
    assert report.error_count == 6
    assert snapshot() == before


def test_a_failure_late_in_a_long_file_undoes_the_chunks_already_written(shop_a):
    # given more good rows than one chunk, so some are written before the bad one is read
    rows = [order_row(f"35150000000{n:08d}") for n in range(CHUNK_ROWS + 50)]
    rows.append(order_row("3.51500000001E+18"))
    items = [item_row(f"35150000000{n:08d}") for n in range(CHUNK_ROWS + 50)]
    # when
    report = run(shop_a, orders_file(rows), items_file(items))
    # then nothing is half-imported
    assert report.error_count == 1
    assert report.errors[0].line == CHUNK_ROWS + 52
    assert not Order.objects.exists()
    assert not OrderItem.objects.exists()


def test_a_preview_counts_but_keeps_nothing(shop_a):
    make_order(shop_a, order_no=NO_2, status=Order.Status.PAID)
    before = snapshot()
    report = run(
        shop_a,
        orders_file([order_row(NO_1), order_row(NO_2)]),
        items_file([item_row(NO_1)]),
        dry_run=True,
    )
    assert report.ok and not report.applied
    assert report.counted("orders") == {"created": 1, "updated": 1}
    assert report.counts["items"]["created"] == 1
    assert snapshot() == before


def test_an_items_file_without_its_orders_is_refused(shop_a):
    report = run(shop_a, items=items_file([item_row(NO_1), item_row(NO_2), item_row(NO_2)]))
    assert not report.applied
    assert [p.line for p in report.errors] == [2, 3, 4]
    assert NO_2 in report.errors[1].message
    assert not OrderItem.objects.exists()


def test_an_items_file_alone_for_orders_already_in_the_desk(shop_a):
    run(shop_a, orders_file([order_row(NO_1)]))
    report = run(shop_a, items=items_file([item_row(NO_1)]))
    assert report.ok and report.counts["items"]["created"] == 1


def test_item_rows_of_a_refused_order_are_not_reported_twice(shop_a):
    report = run(
        shop_a,
        orders_file([order_row(NO_1, 订单状态="未知状态")]),
        items_file([item_row(NO_1), item_row(NO_1)]),
    )
    assert report.error_count == 1
    assert report.errors[0].column == "订单状态"


def test_bad_item_rows_are_named(shop_a):
    report = run(
        shop_a,
        orders_file([order_row(NO_1)]),
        items_file(
            [item_row(NO_1, 购买数量="0"), item_row(NO_1, 价格="免费"), item_row("1.2E+18")]
        ),
    )
    found = {(p.line, p.column) for p in report.errors}
    assert found == {(2, "购买数量"), (3, "价格"), (4, "订单编号")}
    assert not Order.objects.exists()


def test_another_shops_export_is_refused(shop_a):
    report = run(shop_a, orders_file([order_row(NO_1, 店铺名称="别人家的店")]))
    assert report.errors[0].column == "店铺名称"
    assert not Order.objects.exists()
    assert run(shop_a, orders_file([order_row(NO_1, 店铺名称=shop_a.name)])).ok


def test_a_file_missing_a_required_column_is_refused_as_a_whole(shop_a):
    headers = [h for h in ORDER_HEADERS_56 if h != "订单状态"]
    report = run(shop_a, orders_file([order_row(NO_1)], headers))
    assert report.error_count == 1
    assert "订单状态" in report.errors[0].message
    assert not Order.objects.exists()


def test_files_in_the_wrong_slot_are_refused(shop_a):
    report = run(shop_a, orders=items_file([item_row(NO_1)]))
    assert "宝贝明细文件" in report.errors[0].message


# --- importing again -----------------------------------------------------------------------
def test_importing_the_same_files_again_changes_nothing(shop_a):
    orders = orders_file([order_row(NO_1), order_row(NO_2, 订单状态="交易成功")])
    items = items_file(
        [item_row(NO_1), item_row(NO_1, 标题="袜子", 外部系统编号="SK1"), item_row(NO_2)]
    )
    run(shop_a, orders, items)
    before = snapshot()
    report = run(shop_a, orders, items)
    assert report.ok
    assert report.counted("orders") == {"unchanged": 2}
    assert report.counts["items"]["unchanged"] == 3
    assert report.counts["items"]["created"] == 0
    assert snapshot() == before


def test_a_newer_export_updates_what_changed(shop_a):
    run(shop_a, orders_file([order_row(NO_1, 订单状态="买家已付款，等待卖家发货", 发货时间="")]))
    report = run(shop_a, orders_file([order_row(NO_1, 订单状态="交易成功", 订单备注="已核对地址")]))
    assert report.counted("orders") == {"updated": 1}
    order = Order.objects.get(order_no=NO_1)
    assert order.status == Order.Status.SUCCESS
    assert order.remark == "已核对地址"


def test_an_older_export_never_moves_a_status_back(shop_a):
    run(shop_a, orders_file([order_row(NO_1, 订单状态="交易成功", 订单备注="新")]))
    report = run(
        shop_a, orders_file([order_row(NO_1, 订单状态="买家已付款，等待卖家发货", 订单备注="旧")])
    )
    assert report.counted("orders") == {"stale": 1}
    order = Order.objects.get(order_no=NO_1)
    assert (order.status, order.remark) == (Order.Status.SUCCESS, "新")


def test_closed_applies_from_any_status_and_is_final(shop_a):
    run(shop_a, orders_file([order_row(NO_1, 订单状态="交易成功")]))
    run(shop_a, orders_file([order_row(NO_1, 订单状态="交易关闭", 订单关闭原因="退款成功")]))
    order = Order.objects.get(order_no=NO_1)
    assert (order.status, order.closed_reason) == (Order.Status.CLOSED, "退款成功")
    report = run(shop_a, orders_file([order_row(NO_1, 订单状态="交易成功")]))
    assert report.counted("orders") == {"stale": 1}
    assert Order.objects.get(order_no=NO_1).status == Order.Status.CLOSED


@pytest.mark.parametrize(
    ("current", "incoming", "moves"),
    [
        ("waiting_payment", "paid", True),
        ("paid", "shipped", True),
        ("shipped", "success", True),
        ("shipped", "shipped", True),
        ("success", "shipped", False),
        ("shipped", "waiting_payment", False),
        ("success", "closed", True),
        ("waiting_payment", "closed", True),
        ("closed", "success", False),
        ("closed", "closed", True),
    ],
)
def test_status_order(current, incoming, moves):
    assert status_moves_forward(current, incoming) is moves


def test_a_row_repeated_in_one_file_counts_once_and_the_last_wins(shop_a):
    report = run(
        shop_a,
        orders_file([order_row(NO_1, 订单备注="先"), order_row(NO_1, 订单备注="后")]),
    )
    assert report.counts["orders"]["created"] == 1
    assert report.counts["orders"]["repeated"] == 1
    assert Order.objects.get().remark == "后"


def test_orders_of_another_shop_with_the_same_number_are_not_touched(shop_a, shop_b):
    other = make_order(shop_b, order_no=NO_1, status=Order.Status.PAID)
    run(shop_a, orders_file([order_row(NO_1)]))
    other.refresh_from_db()
    assert other.status == Order.Status.PAID
    assert Order.objects.filter(order_no=NO_1).count() == 2


def test_new_item_rows_are_added_and_paid_amounts_shared_again(shop_a):
    run(shop_a, orders_file([order_row(NO_1)]), items_file([item_row(NO_1)]))
    assert OrderItem.objects.get().paid_amount == Decimal("188.00")
    report = run(
        shop_a,
        items=items_file(
            [item_row(NO_1, 标题="袜子", 价格="10.00", 购买数量="1", 外部系统编号="SK1")]
        ),
    )
    assert report.counted("items") == {"created": 1, "updated": 1}
    shirt, socks = OrderItem.objects.order_by("pk")
    assert shirt.paid_amount + socks.paid_amount == Decimal("188.00")


def test_ticket_items_keep_their_order_item_when_reimported(shop_a, agent):
    from tests.factories import make_ticket

    run(shop_a, orders_file([order_row(NO_1)]), items_file([item_row(NO_1)]))
    ticket = make_ticket(Order.objects.get(order_no=NO_1), agent)
    item = ticket.items.get().order_item
    run(shop_a, orders_file([order_row(NO_1)]), items_file([item_row(NO_1, 购买数量="3")]))
    item.refresh_from_db()
    assert item.quantity == 3
    assert OrderItem.objects.count() == 1


@pytest.mark.parametrize(
    ("totals", "paid", "shares"),
    [
        (["198.00", "50.00"], "188.00", ["150.10", "37.90"]),
        (["10.00", "10.00", "10.00"], "10.00", ["3.34", "3.33", "3.33"]),
        (["99.00"], "120.00", ["99.00"]),  # never more than the list price
        (["0.00", "0.00"], "5.00", ["0.00", "0.00"]),
        (["30.00", "70.00"], "0.00", ["0.00", "0.00"]),
    ],
)
def test_paid_amount_is_shared_exactly(totals, paid, shares):
    result = allocate([Decimal(t) for t in totals], Decimal(paid))
    assert result == [Decimal(s) for s in shares]


def test_a_file_written_by_hand_with_bare_formula_marks(shop_a):
    # Some exports write ="…" without CSV quoting around it, and end lines with \n only.
    header = "订单编号,买家会员名,订单状态,订单创建时间,买家实际支付金额,联系手机\n"
    line = f'="{NO_1}",小鱼爱吃猫,交易成功,2026-03-01 10:15:30,88.00元,\'13912345678\n'
    report = run(shop_a, (header + line).encode("gbk"))
    assert report.ok, report.lines()
    order = Order.objects.get(order_no=NO_1)
    assert (order.paid_amount, order.receiver_phone_tail) == (Decimal("88.00"), "5678")


def test_the_sample_files_in_the_docs_import(shop_a, agent):
    from pathlib import Path

    samples = Path(__file__).resolve().parents[2] / "docs" / "samples"
    report = run(
        shop_a,
        (samples / "ExportOrderList-sample.csv").read_bytes(),
        (samples / "ExportOrderDetailList-sample.csv").read_bytes(),
    )
    assert report.ok, report.lines()
    assert report.counted("orders") == {"created": 5}
    refunds = import_files(
        shop=shop_a,
        uploads=[
            Upload("refunds", "refunds-sample.csv", (samples / "refunds-sample.csv").open("rb"))
        ],
        actor=agent,
    )
    assert refunds.ok, refunds.lines()
    assert refunds.counted("refunds") == {"opened": 2, "interventions_created": 1}


def test_a_row_the_database_refuses_is_reported_and_undoes_everything(shop_a, monkeypatch):
    # given a cleaning rule that (wrongly) lets a negative amount through
    from tickets.imports import orders as importer

    real = importer.clean_amount

    def lenient(raw):
        return Decimal("-1.00") if raw == "-1" else real(raw)

    monkeypatch.setattr(importer, "clean_amount", lenient)
    rows = [order_row(f"35150000000{n:08d}") for n in range(CHUNK_ROWS)]
    rows.append(order_row(NO_1, 买家实际支付金额="-1"))
    # when the database's constraint refuses it
    report = run(shop_a, orders_file(rows))
    # then the chunk is named, and nothing is kept
    assert report.error_count == 1
    assert "写入数据库失败" in report.errors[0].message
    assert "constraint" not in report.errors[0].message  # never the database's own text
    assert not Order.objects.exists()


# --- a re-import never undercuts the money and the tickets already on an order ----------------
def _refunded_ticket(agent, order, quantity, amount):
    from tickets.models import LedgerEntry, Ticket
    from tickets.services.ledger import ledger_record
    from tickets.services.tickets import ItemRequest, ticket_open

    ticket = ticket_open(
        actor=agent,
        order=order,
        kind=Ticket.Kind.REFUND_ONLY,
        reason=Ticket.Reason.QUALITY,
        responsibility=Ticket.Responsibility.SELLER,
        items=[ItemRequest(order.items.get(), quantity)],
    )
    ledger_record(
        actor=agent,
        order=order,
        ticket=ticket,
        kind=LedgerEntry.Kind.REFUND,
        amount=amount,
        payment_method=LedgerEntry.PaymentMethod.PLATFORM_REFUND,
    )
    return ticket


def test_a_reimport_does_not_lower_the_paid_amount_below_the_refunds(shop_a, agent):
    # given an imported order (paid 188.00, one item x 2) refunded 188.00 on a ticket
    assert run(shop_a, orders_file([order_row(NO_1)]), items_file([item_row(NO_1)])).applied
    order = Order.objects.get(order_no=NO_1)
    _refunded_ticket(agent, order, 2, "188")
    before = snapshot()
    # when an export says the buyer paid 10.00
    report = run(shop_a, orders_file([order_row(NO_1, 买家实际支付金额="10.00")]))
    # then nothing changes and the report says why
    assert not report.applied
    assert "已经退款和赔偿的 ¥188.00" in " ".join(report.lines())
    assert snapshot() == before


def test_a_reimport_does_not_order_fewer_items_than_a_ticket_holds(shop_a, agent):
    assert run(shop_a, orders_file([order_row(NO_1)]), items_file([item_row(NO_1)])).applied
    order = Order.objects.get(order_no=NO_1)
    _refunded_ticket(agent, order, 2, "10")
    before = snapshot()
    report = run(shop_a, items=items_file([item_row(NO_1, 购买数量="1")]))
    assert not report.applied
    assert "少于售后单上的 2 件" in " ".join(report.lines())
    assert snapshot() == before
    # more than the ticket holds is fine
    assert run(shop_a, items=items_file([item_row(NO_1, 购买数量="3")])).applied
