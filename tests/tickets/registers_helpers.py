"""Shared test data for the registers (issue 5)."""

import threading
from itertools import count

from django.contrib.messages import get_messages
from django.db import connection

from tickets.models import Product, Sku, Ticket
from tickets.services import DeskError
from tickets.services.tickets import ItemRequest, ticket_open

_serial = count(1)


def make_sku(code=None, *, batch="B1") -> Sku:
    n = next(_serial)
    product, _created = Product.objects.get_or_create(
        model_no=f"M{n:04d}", defaults={"title": f"测试款 {n}"}
    )
    return Sku.objects.create(product=product, code=code or f"SKU-{n}", batch=batch)


def open_ticket(actor, order, *, kind=Ticket.Kind.EXCHANGE) -> Ticket:
    """A ticket on the order's first item, opened through the real service."""
    return ticket_open(
        actor=actor,
        order=order,
        kind=kind,
        reason=Ticket.Reason.WRONG_ITEM,
        responsibility=Ticket.Responsibility.SELLER,
        items=[ItemRequest(order_item=order.items.first(), quantity=1)],
    )


def page_messages(response) -> list[str]:
    """The messages a followed response showed the user."""
    return [str(m) for m in get_messages(response.wsgi_request)]


def run_together(target, count=2) -> list[DeskError]:
    """Runs ``target(i)`` in ``count`` threads released at the same moment (each with its own
    database connection); returns the DeskErrors they raised."""
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
