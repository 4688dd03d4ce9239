"""Money and approvals under concurrency: run on PostgreSQL (SQLite ignores FOR UPDATE)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from tests.factories import make_order, make_shop, make_user
from tickets.models import LedgerApproval, LedgerEntry, Order
from tickets.roles import Role
from tickets.services import DeskError
from tickets.services.ledger import compensation_decide, ledger_record

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def _run_together(target, count=2):
    barrier = threading.Barrier(count)
    errors = []

    def worker(index):
        try:
            barrier.wait(timeout=10)
            target(index)
        except DeskError as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def test_two_supervisors_approving_at_once_give_one_approval():
    shop = make_shop("conc-shop")
    agent = make_user(role=Role.AGENT, shops=[shop])
    bosses = [make_user(role=Role.SUPERVISOR, all_shops=True) for _ in range(2)]
    order = make_order(shop, status=Order.Status.SUCCESS, items=((Decimal("300.00"), 1),))
    entry = ledger_record(
        actor=agent,
        order=order,
        kind="compensation",
        amount="80.00",
        payment_method="alipay_transfer",
    )
    errors = _run_together(
        lambda i: compensation_decide(actor=bosses[i], entry=entry, approved=True)
    )
    assert LedgerApproval.objects.filter(entry=entry).count() == 1
    assert len(errors) == 1


def test_the_same_form_posted_twice_at_once_makes_one_entry():
    shop = make_shop("conc-shop2")
    agent = make_user(role=Role.AGENT, shops=[shop])
    order = make_order(shop, status=Order.Status.SUCCESS, items=((Decimal("300.00"), 1),))
    results = []
    _run_together(
        lambda i: results.append(
            ledger_record(
                actor=agent,
                order=order,
                kind="postage",
                amount="12.00",
                payment_method="alipay_transfer",
                idempotency_key="same-click",
            )
        )
    )
    assert LedgerEntry.objects.count() == 1
    assert len({entry.pk for entry in results}) == 1


def test_two_refunds_at_once_never_exceed_the_paid_amount():
    shop = make_shop("conc-shop3")
    agent = make_user(role=Role.AGENT, shops=[shop])
    order = make_order(shop, status=Order.Status.SUCCESS, items=((Decimal("100.00"), 1),))
    errors = _run_together(
        lambda i: ledger_record(
            actor=agent,
            order=order,
            kind="refund",
            amount="70.00",
            payment_method="platform_refund",
        )
    )
    assert LedgerEntry.objects.count() == 1
    assert len(errors) == 1
