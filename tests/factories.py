"""Test data in one place. Staff get their roles through the real groups the migration made."""

from datetime import timedelta
from decimal import Decimal
from itertools import count

from django.contrib.auth.models import Group
from django.utils import timezone

from tickets.models import LedgerEntry, Order, OrderItem, Product, Shop, Sku, Ticket, User
from tickets.roles import Role
from tickets.services.ledger import ledger_record
from tickets.services.tickets import ItemRequest, ticket_open, ticket_transition
from tickets.sla import sla_due_times
from tickets.workflow import LIST_ONLY, happy_path

_serial = count(1)


def make_shop(
    code=None, *, kind=Shop.Kind.C_STORE, location=Shop.Location.WUHAN, name=None
) -> Shop:
    n = next(_serial)
    code = code or f"shop{n}"
    return Shop.objects.create(
        code=code, name=name or f"测试店铺{code}", kind=kind, location=location
    )


def make_user(
    username=None,
    role: Role | None = Role.AGENT,
    *,
    shops=(),
    all_shops=False,
    password="pw-for-tests-1",
    **extra,
) -> User:
    username = username or f"user{next(_serial)}"
    user = User.objects.create_user(username, password=password, all_shops=all_shops, **extra)
    if role is not None:
        user.groups.add(Group.objects.get(name=role.value))
    if shops:
        user.shops.set(shops)
    return user


def make_order(
    shop: Shop,
    *,
    order_no=None,
    status=Order.Status.SUCCESS,
    items=((Decimal("99.00"), 1),),
    phone="13812345678",
    **extra,
) -> Order:
    placed = extra.pop("placed_at", timezone.now() - timedelta(days=5))
    goods = sum((price * qty for price, qty in items), Decimal("0"))
    order = Order.objects.create(
        shop=shop,
        order_no=order_no or f"35{next(_serial):017d}",
        buyer_nick=extra.pop("buyer_nick", "小鱼爱吃猫"),
        receiver_name="张三",
        receiver_phone=phone,
        receiver_province=extra.pop("receiver_province", "湖北省"),
        receiver_city=extra.pop("receiver_city", "武汉市"),
        receiver_address="解放大道 1 号",
        goods_amount=goods,
        total_amount=goods,
        paid_amount=goods,
        status=status,
        placed_at=placed,
        paid_at=placed + timedelta(minutes=5),
        shipped_at=placed + timedelta(days=1)
        if status in (Order.Status.SHIPPED, Order.Status.SUCCESS)
        else None,
        **extra,
    )
    for index, (price, qty) in enumerate(items):
        sku = make_sku(price=price, title=f"商品{index + 1}")
        OrderItem.objects.create(
            order=order,
            sku=sku,
            sku_code=sku.code,
            colour=sku.colour,
            size=sku.size,
            title=f"商品{index + 1}",
            unit_price=price,
            quantity=qty,
            paid_amount=price * qty,
        )
    return order


def make_sku(
    *, price=Decimal("99.00"), title="商品", colour="黑色", size="XXL", product=None
) -> Sku:
    """A SKU (of a new product unless ``product`` is given), priced at ``price`` yuan."""
    n = next(_serial)
    product = product or Product.objects.create(model_no=f"M{n:06d}", title=title)
    return Sku.objects.create(
        product=product, code=f"{product.model_no}-{n}", colour=colour, size=size, price=price
    )


def make_ticket(
    order: Order,
    user: User,
    *,
    kind=Ticket.Kind.EXCHANGE,
    reason=Ticket.Reason.NOT_SUITABLE,
    status=Ticket.Status.OPEN,
    **extra,
) -> Ticket:
    """A ticket on the order's first item, opened by ``user`` through ``ticket_open`` and moved
    to ``status`` along its kind's usual road by the real services (money recorded where a
    status needs it; the exchange list's own moves made as the list makes them), so a test can
    only hold a ticket the desk could hold. ``created_at`` moves the opening (and its clock and
    service levels, counted in the shop's business hours) into the past; other keywords
    (``assignee``, ``first_responded_at`` ...) set those fields afterwards."""
    ticket = ticket_open(
        actor=user,
        order=order,
        kind=kind,
        reason=reason,
        responsibility=extra.pop("responsibility", Ticket.Responsibility.BUYER),
        items=[ItemRequest(order.items.first(), 1)],
    )
    _walk(ticket, user, status)
    opened = extra.pop("created_at", None)
    if opened is not None:
        first_due, resolution_due = sla_due_times(opened, reason, order.shop.business_hours)
        extra.update(
            created_at=opened,
            clock_started_at=opened,
            first_response_due=first_due,
            resolution_due=resolution_due,
        )
    if extra:
        Ticket.objects.filter(pk=ticket.pk).update(**extra)
    ticket.refresh_from_db()
    return ticket


def _walk(ticket: Ticket, user: User, status: str) -> None:
    S = Ticket.Status
    if status == S.OPEN:
        return
    if status == S.CANCELLED:
        ticket_transition(actor=user, ticket=ticket, to_status=S.CANCELLED)
        return
    road = happy_path(ticket.kind)
    if status not in road:
        raise ValueError(f"a {ticket.kind} ticket never reaches {status}")
    money = {S.REFUNDED: LedgerEntry.Kind.REFUND, S.COMPENSATED: LedgerEntry.Kind.COMPENSATION}
    for target in road[1 : road.index(status) + 1]:
        ticket.refresh_from_db()
        if target in money:
            ledger_record(
                actor=user,
                order=ticket.order,
                ticket=ticket,
                kind=money[target],
                amount="1.00",
                payment_method=LedgerEntry.PaymentMethod.PLATFORM_REFUND,
            )
            continue  # recording the money moves the ticket on
        ticket_transition(
            actor=user,
            ticket=ticket,
            to_status=target,
            tracking_no="SF1000000001",
            by_list=(ticket.kind, ticket.status, target) in LIST_ONLY,
        )


def make_entry(
    order: Order, user: User, amount="10.00", *, kind=LedgerEntry.Kind.POSTAGE, **extra
) -> LedgerEntry:
    return LedgerEntry.objects.create(
        shop=order.shop,
        order=order,
        kind=kind,
        amount=Decimal(amount),
        payment_method=extra.pop("payment_method", LedgerEntry.PaymentMethod.ALIPAY_TRANSFER),
        recorded_by=user,
        **extra,
    )
