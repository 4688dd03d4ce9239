"""Shared test data for the registers (issue 5)."""

from itertools import count

from tickets.models import Product, Sku

_serial = count(1)


def make_sku(code=None, *, batch="B1") -> Sku:
    n = next(_serial)
    product, _created = Product.objects.get_or_create(
        model_no=f"M{n:04d}", defaults={"title": f"测试款 {n}"}
    )
    return Sku.objects.create(product=product, code=code or f"SKU-{n}", batch=batch)
