"""Postage and the Tmall late-shipment penalty, worked out from the shops' own rules.

Every decision the calculator makes lives here, in one place:

- which rate-card line applies: the most specific one. A line for the destination city beats
  one for its province, which beats the "every other province" line; among equals, a line for
  the shop's own location beats a line for any location ("local" is relative to the shop);
- weight: the first weight is charged as a whole, every started extra kilogram as a whole
  kilogram (续重不足 1 kg 按 1 kg 计); no weight given means a parcel of the first weight;
- what gets no figure but "confirm the real price": couriers priced by their official
  tariff (SF Express, EMS), regions marked "confirm by hand" (Tibet), a weight above the
  first weight where only the first weight is priced, a destination whose province is not
  recognised, and a rate card with no line for the destination.

The same rate applies both ways, so the quote for an order is the postage for sending its
goods again (reship, exchange) and for the buyer sending them back.
"""

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Courier, Order, PostageRate, Province, Shop
from .money import CENT

EXTRA_WEIGHT_STEP_KG = Decimal("1")

# Suffixes that name the kind of province-level division, longest first.
_PROVINCE_SUFFIXES = (
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "特别行政区",
    "自治区",
    "省",
    "市",
)
# Short forms people write that are not a prefix of the official short name.
_PROVINCE_ALIASES = {"内蒙": Province.INNER_MONGOLIA}
_PROVINCES_LONGEST_FIRST = sorted(Province.values, key=len, reverse=True)


def _plain(text: str | None) -> str:
    """Full-width characters folded (NFKC) and all whitespace removed."""
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def province_key(text: str | None) -> str | None:
    """The rate card's province for an address's province text, or None when unknown.

    '湖北省' -> '湖北', '新疆维吾尔自治区' -> '新疆', '内蒙' -> '内蒙古', '上海市' -> '上海'.
    """
    plain = _plain(text)
    if not plain:
        return None
    for name in _PROVINCES_LONGEST_FIRST:
        if plain.startswith(name):
            rest = plain[len(name) :]
            if not rest or rest in _PROVINCE_SUFFIXES:
                return name
    for alias, name in _PROVINCE_ALIASES.items():
        if plain == alias:
            return name
    return None


def city_key(text: str | None) -> str:
    """A city as the rate card writes it: '武汉市' -> '武汉'."""
    plain = _plain(text)
    return plain[:-1] if len(plain) > 1 and plain.endswith("市") else plain


def _kg(value: Decimal) -> str:
    """1.00 -> '1', 1.50 -> '1.5'."""
    text = f"{value.normalize():f}"
    return text


def billable_weight(weight_kg: Decimal | None, first_weight_kg: Decimal) -> Decimal:
    """The weight charged for a parcel: the first weight at least, and every started extra
    kilogram as a whole one. No weight given: a parcel of the first weight."""
    if weight_kg is None:
        return first_weight_kg
    if weight_kg <= 0:
        raise ValueError("weight must be positive")
    if weight_kg <= first_weight_kg:
        return first_weight_kg
    steps = ((weight_kg - first_weight_kg) / EXTRA_WEIGHT_STEP_KG).to_integral_value(ROUND_CEILING)
    return first_weight_kg + steps * EXTRA_WEIGHT_STEP_KG


def pick_rate(
    rates: Iterable[PostageRate], *, origin: str, province: str, city: str = ""
) -> PostageRate | None:
    """The most specific line for a parcel from a shop at ``origin`` to ``province``/``city``:
    city before province before "every other province"; the shop's own location before any."""
    city = city_key(city)
    best, best_rank = None, None
    for rate in rates:
        if rate.origin not in ("", origin):
            continue
        if rate.province not in ("", province):
            continue
        if rate.city and rate.city != city:
            continue
        rank = (bool(rate.city), bool(rate.province), bool(rate.origin))
        if best_rank is None or rank > best_rank:
            best, best_rank = rate, rank
    return best


class Basis:
    """Why a quote is what it is (for templates and tests; the text is in ``Quote.rule``)."""

    RATE = "rate"
    COURIER = "courier"
    REGION = "region"
    OVER_FIRST_WEIGHT = "over_first_weight"
    UNKNOWN_PROVINCE = "unknown_province"
    NO_RATE = "no_rate"


@dataclass(frozen=True)
class Quote:
    """A postage suggestion: ``amount`` in CNY, or None when the real price must be confirmed
    by hand; ``rule`` says, in words, which rule produced it."""

    amount: Decimal | None
    rule: str
    basis: str
    weight_kg: Decimal | None = None
    weight_assumed: bool = False
    rate: PostageRate | None = None

    @property
    def confirm_by_hand(self) -> bool:
        return self.amount is None


def _destination(province: str, city: str) -> str:
    label = str(Province(province).label)
    return f"{label} {city}" if city else label


def _origin_label(origin: str) -> str:
    return str(Shop.Location(origin).label) if origin else _("所有店铺")


def postage_calculate(
    *,
    origin: str,
    province: str | None,
    city: str = "",
    weight_kg: Decimal | None = None,
    courier: Courier | None = None,
    rates: Iterable[PostageRate] | None = None,
) -> Quote:
    """The postage for one parcel between a shop at ``origin`` (a shop location) and the
    destination, by the rate card (``rates``, default: the whole card from the database)."""
    if courier is not None and courier.priced_by_hand:
        return Quote(
            None,
            _("%(courier)s按快递公司官方价格收费：请先确认实际运费，再告诉买家。")
            % {"courier": courier.name},
            Basis.COURIER,
        )
    key = province_key(province)
    if key is None:
        rule = (
            _("无法识别收货省份“%(province)s”：请人工确认运费。") % {"province": province}
            if (province or "").strip()
            else _("订单没有收货省份：请人工确认运费。")
        )
        return Quote(None, rule, Basis.UNKNOWN_PROVINCE)
    city = city_key(city)
    rate = pick_rate(
        PostageRate.objects.all() if rates is None else rates,
        origin=origin,
        province=key,
        city=city,
    )
    where = {
        "origin": _origin_label(origin),
        "destination": _destination(key, city if rate is not None and rate.city else ""),
    }
    if rate is None:
        return Quote(
            None,
            _("运费表里没有从%(origin)s发往%(destination)s的规则：请人工确认运费。") % where,
            Basis.NO_RATE,
        )
    where["name"] = rate.name
    if rate.confirm_by_hand:
        return Quote(
            None,
            _("%(name)s（%(origin)s → %(destination)s）：收费前必须先确认实际运费，再告诉买家。")
            % where,
            Basis.REGION,
            rate=rate,
        )
    weight = billable_weight(weight_kg, rate.first_weight_kg)
    extra_kg = weight - rate.first_weight_kg
    figures = {
        **where,
        "first_kg": _kg(rate.first_weight_kg),
        "first": rate.first_price,
        "weight": _kg(weight),
    }
    if extra_kg > 0 and rate.extra_kg_price is None:
        return Quote(
            None,
            _(
                "%(name)s（%(origin)s → %(destination)s）只定了 %(first_kg)s kg 以内的价格"
                "（%(first)s 元）；%(weight)s kg 的包裹请人工确认运费。"
            )
            % figures,
            Basis.OVER_FIRST_WEIGHT,
            weight_kg=weight,
            weight_assumed=weight_kg is None,
            rate=rate,
        )
    extra_price = rate.extra_kg_price or Decimal("0")
    amount = (rate.first_price + extra_kg / EXTRA_WEIGHT_STEP_KG * extra_price).quantize(CENT)
    figures["amount"] = amount
    if rate.extra_kg_price is None:
        rule = _("%(name)s（%(origin)s → %(destination)s）：%(first_kg)s kg 以内 %(first)s 元。")
    else:
        figures["extra"] = rate.extra_kg_price
        rule = _(
            "%(name)s（%(origin)s → %(destination)s）：首重 %(first_kg)s kg %(first)s 元，"
            "续重 %(extra)s 元/kg；按 %(weight)s kg 计 %(amount)s 元。"
        )
    return Quote(
        amount,
        rule % figures,
        Basis.RATE,
        weight_kg=weight,
        weight_assumed=weight_kg is None,
        rate=rate,
    )


_ORDER_COURIER = object()


def postage_quote(
    order: Order,
    *,
    weight_kg: Decimal | None = None,
    courier=_ORDER_COURIER,
    rates: Iterable[PostageRate] | None = None,
) -> Quote:
    """The suggested postage for sending this order's goods again or back, with its rule.

    ``courier`` defaults to the courier the order went out with (SF and EMS are priced by
    hand); pass None to ignore it. Use ``select_related("shop", "courier")`` on the order."""
    if courier is _ORDER_COURIER:
        courier = order.courier if order.courier_id else None
    return postage_calculate(
        origin=order.shop.location,
        province=order.receiver_province,
        city=order.receiver_city,
        weight_kg=weight_kg,
        courier=courier,
        rates=rates,
    )


@dataclass(frozen=True)
class LateShipmentPenalty:
    """What a Tmall shop owes the buyer for shipping later than promised."""

    amount: Decimal
    paid_amount: Decimal
    ship_by: datetime
    shipped_at: datetime | None
    capped: bool
    rule: str


def late_shipment_penalty(
    order: Order, *, now: datetime | None = None
) -> LateShipmentPenalty | None:
    """The compensation to suggest when a Tmall order shipped (or still has not shipped)
    after its promised time: DESK_LATE_SHIPMENT_RATE of the paid amount, at most
    DESK_LATE_SHIPMENT_CAP. None for a C-store, an order without a promise, an order not
    late, or one the buyer paid nothing for. A closed order counts only if it did ship."""
    if not order.shop.is_tmall or order.ship_by is None or order.paid_amount <= 0:
        return None
    if order.status == Order.Status.WAITING_PAYMENT:
        return None
    if order.shipped_at is None and order.status == Order.Status.CLOSED:
        return None
    moment = order.shipped_at or now or timezone.now()
    if moment <= order.ship_by:
        return None
    rate, cap = settings.DESK_LATE_SHIPMENT_RATE, settings.DESK_LATE_SHIPMENT_CAP
    raw = (order.paid_amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)
    amount = min(raw, cap)
    figures = {
        "percent": _kg(rate * 100),
        "cap": _kg(cap),
        "paid": order.paid_amount,
        "amount": amount,
    }
    rule = _(
        "天猫延迟发货：赔付实付金额的 %(percent)s%%，最高 %(cap)s 元；"
        "本单实付 %(paid)s 元，应赔 %(amount)s 元。"
    )
    return LateShipmentPenalty(
        amount=amount,
        paid_amount=order.paid_amount,
        ship_by=order.ship_by,
        shipped_at=order.shipped_at,
        capped=raw > cap,
        rule=rule % figures,
    )
