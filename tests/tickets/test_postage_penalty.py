"""The Tmall late-shipment penalty: 30% of the paid amount, at most 500 yuan; never for a
C-store (DOMAIN.md "Platform rules")."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import make_order
from tickets.models import Order
from tickets.postage import late_shipment_penalty

pytestmark = pytest.mark.django_db


def tmall_order(shop, paid, *, late_by=timedelta(hours=5), status=Order.Status.SHIPPED, **extra):
    placed = timezone.now() - timedelta(days=4)
    order = make_order(shop, status=status, items=((Decimal(paid), 1),), placed_at=placed, **extra)
    order.ship_by = order.paid_at + timedelta(hours=72)
    order.shipped_at = order.ship_by + late_by if late_by is not None else None
    order.save()
    return order


@pytest.mark.parametrize(
    ("paid", "penalty"),
    [
        ("100.00", "30.00"),
        ("33.33", "10.00"),  # 9.999 rounds half up to the cent
        ("0.01", "0.00"),
        ("1666.66", "500.00"),  # 499.998 -> 500.00
        ("1666.70", "500.00"),  # 500.01 capped
        ("5000.00", "500.00"),
    ],
)
def test_tmall_late_shipment_is_30_percent_at_most_500(shop_b, paid, penalty):
    result = late_shipment_penalty(tmall_order(shop_b, paid))
    assert result is not None
    assert result.amount == Decimal(penalty)
    assert result.paid_amount == Decimal(paid)
    assert "30%" in result.rule


def test_the_cap_is_flagged_and_named_in_the_rule(shop_b):
    result = late_shipment_penalty(tmall_order(shop_b, "2000.00"))
    assert result.capped
    assert "500" in result.rule
    assert not late_shipment_penalty(tmall_order(shop_b, "100.00")).capped


def test_never_for_a_c_store(shop_a):
    assert not shop_a.is_tmall
    assert late_shipment_penalty(tmall_order(shop_a, "100.00", late_by=timedelta(days=3))) is None


def test_on_time_or_exactly_on_the_promise_is_no_penalty(shop_b):
    assert late_shipment_penalty(tmall_order(shop_b, "100.00", late_by=-timedelta(hours=1))) is None
    assert late_shipment_penalty(tmall_order(shop_b, "100.00", late_by=timedelta(0))) is None


def test_not_shipped_yet_but_past_the_promise_is_already_late(shop_b):
    order = tmall_order(shop_b, "100.00", late_by=None, status=Order.Status.PAID)
    assert late_shipment_penalty(order, now=order.ship_by + timedelta(minutes=1)).amount == (
        Decimal("30.00")
    )
    assert late_shipment_penalty(order, now=order.ship_by - timedelta(minutes=1)) is None


def test_no_promise_no_payment_or_closed_unshipped_is_no_penalty(shop_b):
    no_promise = tmall_order(shop_b, "100.00")
    no_promise.ship_by = None
    assert late_shipment_penalty(no_promise) is None
    unpaid = tmall_order(shop_b, "100.00", late_by=None, status=Order.Status.WAITING_PAYMENT)
    assert late_shipment_penalty(unpaid, now=unpaid.ship_by + timedelta(days=1)) is None
    closed = tmall_order(shop_b, "100.00", late_by=None, status=Order.Status.CLOSED)
    assert late_shipment_penalty(closed, now=closed.ship_by + timedelta(days=1)) is None


def test_a_closed_order_that_shipped_late_still_counts(shop_b):
    order = tmall_order(shop_b, "80.00", status=Order.Status.CLOSED)
    assert late_shipment_penalty(order).amount == Decimal("24.00")


def test_rate_and_cap_come_from_the_settings(shop_b, settings):
    settings.DESK_LATE_SHIPMENT_RATE = Decimal("0.10")
    settings.DESK_LATE_SHIPMENT_CAP = Decimal("20")
    assert late_shipment_penalty(tmall_order(shop_b, "100.00")).amount == Decimal("10.00")
    assert late_shipment_penalty(tmall_order(shop_b, "300.00")).amount == Decimal("20.00")
