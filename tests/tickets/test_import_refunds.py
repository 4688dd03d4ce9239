"""The refund export: each refund request opens or updates its ticket through the services,
and a platform intervention lands in the register with its deadline."""

import io
from datetime import datetime
from decimal import Decimal

import pytest

from tests.factories import make_user
from tests.tickets.export_files import (
    ITEM_HEADERS,
    ORDER_HEADERS_56,
    REFUND_HEADERS,
    export_csv,
    item_row,
    order_row,
    refund_row,
)
from tickets.imports.cleaning import SELLER_CENTRE_TZ
from tickets.imports.refunds import ticket_reason, ticket_responsibility
from tickets.imports.run import Upload, import_files
from tickets.models import (
    LedgerEntry,
    Order,
    PlatformIntervention,
    RefundRequest,
    Ticket,
    TicketEvent,
)
from tickets.roles import Role
from tickets.services.ledger import ledger_record
from tickets.services.tickets import ItemRequest, ticket_open

pytestmark = pytest.mark.django_db

ORDER_NO, REFUND_NO = "3515012345678901234", "88001122334455"
T = Ticket.Status


@pytest.fixture
def order(shop_a):
    """A shipped order with two items, imported the way the desk gets its orders."""
    orders = export_csv(ORDER_HEADERS_56, [order_row(ORDER_NO)])
    items = export_csv(
        ITEM_HEADERS,
        [
            item_row(ORDER_NO),
            item_row(
                ORDER_NO, 标题="直筒牛仔裤", 价格="50.00", 购买数量="1", 外部系统编号="JN2001"
            ),
        ],
    )
    report = import_files(
        shop=shop_a,
        uploads=[
            Upload("orders", "o.csv", io.BytesIO(orders)),
            Upload("items", "i.csv", io.BytesIO(items)),
        ],
    )
    assert report.ok, report.lines()
    return Order.objects.get(order_no=ORDER_NO)


def refunds(shop, actor, *rows, dry_run=False, encoding="gbk"):
    data = export_csv(REFUND_HEADERS, list(rows), encoding=encoding)
    upload = Upload("refunds", "退款管理.csv", io.BytesIO(data))
    return import_files(shop=shop, uploads=[upload], actor=actor, dry_run=dry_run)


def test_a_refund_request_opens_its_ticket(shop_a, agent, order):
    # when
    report = refunds(shop_a, agent, refund_row(REFUND_NO, ORDER_NO))
    # then
    assert report.ok, report.lines()
    assert report.counted("refunds") == {"opened": 1}
    request = RefundRequest.objects.get()
    ticket = request.ticket
    assert (request.refund_no, request.amount, request.needs_return) == (
        REFUND_NO,
        Decimal("99.00"),
        True,
    )
    assert ticket.order == order
    assert ticket.kind == Ticket.Kind.RETURN
    assert ticket.reason == Ticket.Reason.NOT_SUITABLE
    assert ticket.responsibility == Ticket.Responsibility.BUYER
    assert ticket.status == T.OPEN
    assert ticket.opened_by == agent
    assert REFUND_NO in ticket.description and "99.00" in ticket.description
    # words, in the desk's default language (a review found the timeline line's key and
    # parameters written into it)
    assert ticket.description.startswith(f"卖家中心退款 {REFUND_NO}："), ticket.description
    assert "seller_refund" not in ticket.description and "{" not in ticket.description
    # the refund names the item by its code: only that item is on the ticket
    assert [i.order_item.sku_code for i in ticket.items.all()] == ["TS1001-BK-XL"]


def test_refund_only_when_no_goods_come_back(shop_a, agent, order):
    refunds(
        shop_a,
        agent,
        refund_row(
            REFUND_NO,
            ORDER_NO,
            是否需要退货="否",
            买家退款原因="少件/漏发",
            商家编码="",
            宝贝标题="",
        ),
    )
    ticket = RefundRequest.objects.get().ticket
    assert ticket.kind == Ticket.Kind.REFUND_ONLY
    assert ticket.reason == Ticket.Reason.MISSING_ITEM
    assert ticket.responsibility == Ticket.Responsibility.SELLER
    assert ticket.items.count() == 2  # no item named: the whole order


def test_the_ticket_follows_the_refund_through_the_workflow(shop_a, agent, order):
    refunds(shop_a, agent, refund_row(REFUND_NO, ORDER_NO))
    ticket = RefundRequest.objects.get().ticket
    # the seller agreed: the goods are awaited
    report = refunds(
        shop_a, agent, refund_row(REFUND_NO, ORDER_NO, 退款状态="卖家已经同意退款，等待买家退货")
    )
    assert report.counted("refunds") == {"updated": 1}
    ticket.refresh_from_db()
    assert ticket.status == T.AWAITING_RETURN
    # the buyer sent them back: the return tracking number is on the ticket
    refunds(
        shop_a,
        agent,
        refund_row(
            REFUND_NO,
            ORDER_NO,
            退款状态="买家已经退货，等待卖家确认收货",
            退货物流单号="'yt9988776655",
            退货物流公司="圆通速递",
        ),
    )
    ticket.refresh_from_db()
    assert ticket.return_tracking_no == "YT9988776655"
    assert RefundRequest.objects.get().return_courier_name == "圆通速递"
    statuses = list(
        ticket.events.filter(kind=TicketEvent.Kind.STATUS).values_list("to_status", flat=True)
    )
    assert statuses == [T.AWAITING_RETURN]


def test_refund_success_moves_a_ticket_only_when_the_refund_is_recorded(shop_a, agent, order):
    refunds(shop_a, agent, refund_row(REFUND_NO, ORDER_NO, 是否需要退货="否"))
    ticket = RefundRequest.objects.get().ticket
    # the platform refunded, but nobody recorded it at the desk: a note asks for it
    refunds(shop_a, agent, refund_row(REFUND_NO, ORDER_NO, 是否需要退货="否", 退款状态="退款成功"))
    ticket.refresh_from_db()
    assert ticket.status == T.OPEN
    assert ticket.events.filter(message__contains="请在工作台登记这笔退款").exists()
    assert not LedgerEntry.objects.exists()
    # once recorded, the ledger moves the ticket itself; the export agrees
    ledger_record(
        actor=agent,
        order=order,
        ticket=ticket,
        kind=LedgerEntry.Kind.REFUND,
        amount="99.00",
        payment_method=LedgerEntry.PaymentMethod.PLATFORM_REFUND,
    )
    ticket.refresh_from_db()
    assert ticket.status == T.REFUNDED


def test_a_withdrawn_refund_cancels_its_open_ticket(shop_a, agent, order):
    refunds(shop_a, agent, refund_row(REFUND_NO, ORDER_NO))
    refunds(shop_a, agent, refund_row(REFUND_NO, ORDER_NO, 退款状态="退款关闭"))
    assert RefundRequest.objects.get().ticket.status == T.CANCELLED


def test_a_refund_closed_before_the_desk_saw_it_opens_nothing(shop_a, agent, order):
    report = refunds(shop_a, agent, refund_row(REFUND_NO, ORDER_NO, 退款状态="退款关闭"))
    assert report.counted("refunds") == {"ignored": 1}
    assert not Ticket.objects.exists()


def test_an_agents_open_ticket_of_the_same_kind_is_linked_not_doubled(shop_a, agent, order):
    mine = ticket_open(
        actor=agent,
        order=order,
        kind=Ticket.Kind.RETURN,
        reason=Ticket.Reason.QUALITY,
        responsibility=Ticket.Responsibility.SELLER,
        items=[ItemRequest(order.items.first(), 1)],
    )
    report = refunds(shop_a, agent, refund_row(REFUND_NO, ORDER_NO))
    assert report.counted("refunds") == {"linked": 1}
    assert RefundRequest.objects.get().ticket == mine
    assert Ticket.objects.count() == 1


def test_importing_the_same_refund_file_again_changes_nothing(shop_a, agent, order):
    row = refund_row(REFUND_NO, ORDER_NO, 客服介入状态="客服介入中", 举证超时="2026-03-08 12:00:00")
    refunds(shop_a, agent, row)
    events = TicketEvent.objects.count()
    report = refunds(shop_a, agent, row)
    assert report.counted("refunds") == {"unchanged": 1}
    assert TicketEvent.objects.count() == events
    assert Ticket.objects.count() == 1
    assert PlatformIntervention.objects.count() == 1


def test_a_platform_intervention_lands_in_the_register_with_its_deadline(shop_a, agent, order):
    report = refunds(
        shop_a,
        agent,
        refund_row(
            REFUND_NO,
            ORDER_NO,
            客服介入状态="客服介入中",
            举证超时="2026-03-08 12:00:00",
            买家退款原因="质量问题",
        ),
    )
    assert report.counted("refunds") == {"opened": 1, "interventions_created": 1}
    case = PlatformIntervention.objects.get()
    assert case.case_no == REFUND_NO
    assert case.order == order and case.shop == shop_a
    assert case.ticket == RefundRequest.objects.get().ticket
    assert case.deadline == datetime(2026, 3, 8, 12, 0, tzinfo=SELLER_CENTRE_TZ)
    assert case.reason == "质量问题"
    assert case.recorded_by == agent
    # a later export moves the deadline
    report = refunds(
        shop_a,
        agent,
        refund_row(
            REFUND_NO,
            ORDER_NO,
            客服介入状态="客服介入中",
            举证超时="2026-03-09 12:00:00",
            买家退款原因="质量问题",
        ),
    )
    assert report.counted("refunds") == {"updated": 1, "interventions_updated": 1}
    case.refresh_from_db()
    assert case.deadline == datetime(2026, 3, 9, 12, 0, tzinfo=SELLER_CENTRE_TZ)


def test_no_intervention_when_the_platform_has_not_stepped_in(shop_a, agent, order):
    refunds(shop_a, agent, refund_row(REFUND_NO, ORDER_NO, 客服介入状态="未介入"))
    assert not PlatformIntervention.objects.exists()


def test_bad_refund_rows_are_named_and_nothing_is_kept(shop_a, agent, order):
    report = refunds(
        shop_a,
        agent,
        refund_row(REFUND_NO, ORDER_NO),
        refund_row("88001122334456", "3515099999999999999"),
        refund_row("88001122334457", ORDER_NO, 退款状态="退款中（未知）"),
        refund_row("88001122334458", ORDER_NO, 买家退款金额="九十九"),
    )
    found = {(p.line, p.column): p.message for p in report.errors}
    assert "请先导入订单文件" in found[(3, "订单编号")]  # named on the order, its subject
    assert "退款中" in found[(4, "退款状态")]
    assert "九十九" in found[(5, "买家退款金额")]
    assert not Ticket.objects.exists()
    assert not RefundRequest.objects.exists()


def test_an_order_without_items_cannot_get_a_ticket(shop_a, agent):
    import_files(
        shop=shop_a,
        uploads=[
            Upload(
                "orders", "o.csv", io.BytesIO(export_csv(ORDER_HEADERS_56, [order_row(ORDER_NO)]))
            )
        ],
    )
    report = refunds(shop_a, agent, refund_row(REFUND_NO, ORDER_NO))
    assert "宝贝明细" in report.errors[0].message


def test_a_return_on_an_unshipped_order_is_refused_by_the_ticket_rules(shop_a, agent, order):
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID)
    report = refunds(shop_a, agent, refund_row(REFUND_NO, ORDER_NO))
    assert "尚未发货" in report.errors[0].message


def test_a_refund_import_needs_a_person_with_the_right(shop_a, order, finance):
    report = refunds(shop_a, None, refund_row(REFUND_NO, ORDER_NO))
    assert "操作人" in report.errors[0].message
    report = refunds(shop_a, finance, refund_row(REFUND_NO, ORDER_NO))
    assert "权限" in report.errors[0].message
    assert not Ticket.objects.exists()


def test_a_preview_of_refunds_keeps_nothing(shop_a, agent, order):
    report = refunds(shop_a, agent, refund_row(REFUND_NO, ORDER_NO), dry_run=True)
    assert report.counted("refunds") == {"opened": 1}
    assert not Ticket.objects.exists()
    assert not TicketEvent.objects.exists()


def test_utf8_refund_exports_read_the_same(shop_a, order):
    supervisor = make_user("boss-2", Role.SUPERVISOR, all_shops=True)
    report = refunds(shop_a, supervisor, refund_row(REFUND_NO, ORDER_NO), encoding="utf-8-sig")
    assert report.ok and RefundRequest.objects.get().reason == "尺码拍错/不喜欢/效果不好"


@pytest.mark.parametrize(
    ("text", "reason", "responsibility"),
    [
        ("七天无理由退换货", "no_reason", "buyer"),
        ("卖家发错货", "wrong_item", "seller"),
        ("少件/漏发", "missing_item", "seller"),
        ("商品破损/包装破损", "damaged", "seller"),
        ("质量问题", "quality", "seller"),
        ("快递一直未送到", "logistics", "courier"),
        ("颜色/图案/款式与商品描述不符", "not_suitable", "buyer"),
        ("发票问题", "invoice", "seller"),
        ("其他", "other", "seller"),
    ],
)
def test_refund_reasons_map_to_ticket_reasons(text, reason, responsibility):
    assert ticket_reason(text) == reason
    assert ticket_responsibility("", reason) == responsibility


def test_the_exports_responsibility_column_wins():
    assert ticket_responsibility("卖家", Ticket.Reason.NO_REASON) == "seller"
    assert ticket_responsibility("物流公司", Ticket.Reason.QUALITY) == "courier"


def test_a_changed_request_is_noted_on_the_timeline(shop_a, agent, order):
    refunds(shop_a, agent, refund_row(REFUND_NO, ORDER_NO))
    ticket = RefundRequest.objects.get().ticket
    notes_before = ticket.events.filter(kind=TicketEvent.Kind.NOTE).count()
    report = refunds(shop_a, agent, refund_row(REFUND_NO, ORDER_NO, 买家退款金额="49.50"))
    assert report.counted("refunds") == {"updated": 1}
    assert RefundRequest.objects.get().amount == Decimal("49.50")
    notes = ticket.events.filter(kind=TicketEvent.Kind.NOTE)
    assert notes.count() == notes_before + 1
    assert "49.50" in notes.last().message
