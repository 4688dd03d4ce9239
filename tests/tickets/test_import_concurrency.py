"""Two confirmations of one preview at once import it once (PostgreSQL: SQLite ignores
FOR UPDATE)."""

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from tests.factories import make_shop, make_user
from tests.tickets.export_files import (
    ITEM_HEADERS,
    ORDER_HEADERS_56,
    export_csv,
    item_row,
    order_row,
)
from tickets.imports.batches import order_import_apply, order_import_upload
from tickets.models import Order, OrderImport, OrderItem
from tickets.roles import Role
from tickets.services import DeskError

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def test_two_confirmations_at_once_import_once():
    # given a previewed batch
    shop = make_shop("conc-import")
    agent = make_user(role=Role.AGENT, shops=[shop])
    numbers = [f"35150000000{n:08d}" for n in range(300)]
    batch = order_import_upload(
        actor=agent,
        shop=shop,
        files={
            "orders": SimpleUploadedFile(
                "o.csv", export_csv(ORDER_HEADERS_56, [order_row(n) for n in numbers])
            ),
            "items": SimpleUploadedFile(
                "i.csv", export_csv(ITEM_HEADERS, [item_row(n) for n in numbers])
            ),
        },
    )
    assert batch.status == OrderImport.Status.PREVIEWED
    barrier = threading.Barrier(2)
    refused, done = [], []

    def confirm():
        try:
            barrier.wait(timeout=10)
            done.append(order_import_apply(actor=agent, batch=batch))
        except DeskError as exc:
            refused.append(exc)
        finally:
            connection.close()

    # when two requests confirm it at the same moment
    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then one imports, the other is told it already was
    assert len(done) == 1 and len(refused) == 1
    assert "已经导入过" in refused[0].message
    assert Order.objects.filter(shop=shop).count() == 300
    assert OrderItem.objects.filter(order__shop=shop).count() == 300
