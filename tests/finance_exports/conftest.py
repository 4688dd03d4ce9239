"""Fixtures for the sheet tests (helpers are in ``tests.finance_exports.helpers``)."""

from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import make_order
from tickets.models import Order

from .helpers import Clock


@pytest.fixture
def clock(monkeypatch):
    """Services call ``timezone.now()`` when they record money and build sheets; the test
    decides what time that is."""
    fake = Clock(timezone.now())
    monkeypatch.setattr(timezone, "now", fake)
    return fake


@pytest.fixture(autouse=True)
def sheet_tmp_dir(settings, tmp_path):
    settings.FINANCE_SHEET_TMP_DIR = tmp_path / "sheet-tmp"
    return settings.FINANCE_SHEET_TMP_DIR


@pytest.fixture
def rich_order(shop_a):
    """An order big enough that refund and compensation caps never get in the way."""
    return make_order(
        shop_a,
        status=Order.Status.SUCCESS,
        items=((Decimal("5000.00"), 2),),
        buyer_nick="小鱼爱吃猫",
    )
