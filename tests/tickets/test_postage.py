"""The postage calculator against the shops' rate card (DOMAIN.md "Postage rates"), rule by
rule, and the edge cases decided in ``tickets.postage``."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from tests.factories import make_order
from tickets.models import Courier, Order, PostageRate, Shop
from tickets.postage import (
    Basis,
    billable_weight,
    city_key,
    pick_rate,
    postage_calculate,
    postage_quote,
    province_key,
)

pytestmark = pytest.mark.django_db

WUHAN, SHANGHAI, OTHER = Shop.Location.WUHAN, Shop.Location.SHANGHAI, Shop.Location.OTHER
ALL_ORIGINS = [WUHAN, SHANGHAI, OTHER]
# DOMAIN.md: "Jilin, Liaoning, Heilongjiang; Shaanxi, Gansu, Ningxia, Qinghai, Xinjiang;
# Sichuan, Guizhou, Chongqing, Yunnan; Inner Mongolia, Shanxi | 15 yuan/kg".
FAR_PROVINCES = [
    "吉林省", "辽宁省", "黑龙江省", "陕西省", "甘肃省", "宁夏回族自治区", "青海省",
    "新疆维吾尔自治区", "四川省", "贵州省", "重庆", "云南省", "内蒙古自治区", "山西省",
]  # fmt: skip
# Provinces not named on the card: 12 yuan/kg from any shop.
EVERY_OTHER = [
    "北京", "天津", "河北省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖南省",
    "广东省", "广西壮族自治区", "海南省",
]  # fmt: skip


def quote(origin, province, city="", weight=None, courier=None):
    return postage_calculate(
        origin=origin,
        province=province,
        city=city,
        weight_kg=Decimal(weight) if weight is not None else None,
        courier=courier,
    )


# --- every row of the rate card ------------------------------------------------------------
def test_wuhan_shop_to_wuhan_city_is_6_yuan_up_to_1_kg():
    result = quote(WUHAN, "湖北省", "武汉市", "0.8")
    assert result.amount == Decimal("6.00")
    assert result.basis == Basis.RATE
    assert "武汉同城" in result.rule


def test_wuhan_shop_to_the_rest_of_hubei_is_8_yuan_up_to_1_kg():
    for city in ("宜昌市", "襄阳市", ""):
        result = quote(WUHAN, "湖北省", city, "1")
        assert result.amount == Decimal("8.00"), city
        assert "湖北省内" in result.rule


@pytest.mark.parametrize("province", ["江苏省", "浙江省", "上海", "上海市"])
def test_shanghai_shop_local_is_6_yuan_per_kg(province):
    assert quote(SHANGHAI, province, weight="1").amount == Decimal("6.00")
    assert quote(SHANGHAI, province, weight="2.3").amount == Decimal("18.00")  # 3 kg
    assert "江浙沪本地" in quote(SHANGHAI, province).rule


@pytest.mark.parametrize("origin", ALL_ORIGINS)
@pytest.mark.parametrize("province", FAR_PROVINCES)
def test_far_provinces_are_15_yuan_per_kg_from_any_shop(origin, province):
    assert quote(origin, province, weight="1").amount == Decimal("15.00")
    assert quote(origin, province, weight="3").amount == Decimal("45.00")


@pytest.mark.parametrize("origin", ALL_ORIGINS)
def test_tibet_has_no_price_the_real_cost_is_confirmed_first(origin):
    result = quote(origin, "西藏自治区", "拉萨市", "1")
    assert result.amount is None
    assert result.confirm_by_hand
    assert result.basis == Basis.REGION
    assert "确认实际运费" in result.rule


@pytest.mark.parametrize("origin", ALL_ORIGINS)
@pytest.mark.parametrize("province", EVERY_OTHER)
def test_every_other_province_is_12_yuan_per_kg(origin, province):
    assert quote(origin, province, weight="1").amount == Decimal("12.00")
    assert quote(origin, province, weight="1.5").amount == Decimal("24.00")


@pytest.mark.parametrize("code", ["sf", "ems"])
@pytest.mark.parametrize("origin", ALL_ORIGINS)
def test_sf_and_ems_are_priced_by_hand_wherever_the_parcel_goes(code, origin):
    courier = Courier.objects.get(code=code)
    for province, city in (("湖北省", "武汉市"), ("江苏省", ""), ("广东省", ""), ("西藏", "")):
        result = quote(origin, province, city, "1", courier=courier)
        assert result.amount is None
        assert result.basis == Basis.COURIER
        assert courier.name in result.rule


def test_an_everyday_courier_does_not_change_the_price():
    assert quote(WUHAN, "广东省", weight="1", courier=Courier.objects.get(code="zto")).amount == (
        Decimal("12.00")
    )


def test_the_migration_loaded_the_domain_rate_card():
    card = {
        (r.origin, r.province, r.city): (r.first_weight_kg, r.first_price, r.extra_kg_price)
        for r in PostageRate.objects.filter(confirm_by_hand=False)
    }
    one = Decimal("1.00")
    assert card[("wuhan", "湖北", "武汉")] == (one, Decimal("6.00"), None)
    assert card[("wuhan", "湖北", "")] == (one, Decimal("8.00"), None)
    for province in ("江苏", "浙江", "上海"):
        assert card[("shanghai", province, "")] == (one, Decimal("6.00"), Decimal("6.00"))
    for text in FAR_PROVINCES:
        assert card[("", province_key(text), "")] == (one, Decimal("15.00"), Decimal("15.00"))
    assert card[("", "", "")] == (one, Decimal("12.00"), Decimal("12.00"))
    by_hand = set(
        PostageRate.objects.filter(confirm_by_hand=True).values_list("province", flat=True)
    )
    assert by_hand == {"西藏", "香港", "澳门", "台湾"}
    assert set(Courier.objects.filter(priced_by_hand=True).values_list("code", flat=True)) == {
        "sf",
        "ems",
    }


# --- "local" is relative to the shop ------------------------------------------------------
def test_local_is_relative_to_each_shops_location():
    # Jiangsu is local for a Shanghai shop only; Wuhan city and Hubei for a Wuhan shop only.
    assert quote(SHANGHAI, "江苏省").amount == Decimal("6.00")
    assert quote(WUHAN, "江苏省").amount == Decimal("12.00")
    assert quote(OTHER, "江苏省").amount == Decimal("12.00")
    assert quote(WUHAN, "湖北省", "武汉市").amount == Decimal("6.00")
    assert quote(SHANGHAI, "湖北省", "武汉市").amount == Decimal("12.00")
    assert quote(OTHER, "湖北省", "武汉市").amount == Decimal("12.00")


def test_the_most_specific_line_wins():
    # given a card with lines at every level for the same destination
    rates = [
        PostageRate(origin="", province="", city="", name="默认", first_price=Decimal("12")),
        PostageRate(origin="", province="广东", city="", name="广东", first_price=Decimal("11")),
        PostageRate(
            origin="wuhan", province="广东", city="", name="武汉发广东", first_price=Decimal("10")
        ),
        PostageRate(origin="", province="广东", city="深圳", name="深圳", first_price=Decimal("9")),
    ]
    # then a city beats its province, the shop's own location beats "any shop"
    assert pick_rate(rates, origin="wuhan", province="广东", city="深圳市").name == "深圳"
    assert pick_rate(rates, origin="wuhan", province="广东", city="广州市").name == "武汉发广东"
    assert pick_rate(rates, origin="shanghai", province="广东", city="广州").name == "广东"
    assert pick_rate(rates, origin="shanghai", province="湖南", city="").name == "默认"


def test_the_rate_card_is_data_a_supervisor_edits():
    PostageRate.objects.filter(province="", origin="").update(
        first_price=Decimal("13.00"), extra_kg_price=Decimal("10.00")
    )
    PostageRate.objects.create(
        origin="wuhan", province="湖南", name="湖南邻省", first_price=Decimal("9.00")
    )
    assert quote(SHANGHAI, "广东省", weight="2").amount == Decimal("23.00")
    assert quote(WUHAN, "湖南省", weight="1").amount == Decimal("9.00")
    assert quote(SHANGHAI, "湖南省", weight="1").amount == Decimal("13.00")


# --- weight rounding -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("weight", "billable"),
    [
        ("0.1", "1"),
        ("1", "1"),
        ("1.0", "1"),
        ("1.01", "2"),
        ("2", "2"),
        ("2.5", "3"),
        ("9.99", "10"),
    ],
)
def test_each_started_extra_kilogram_counts_whole(weight, billable):
    assert billable_weight(Decimal(weight), Decimal("1")) == Decimal(billable)


def test_rounding_starts_from_the_first_weight():
    # A half-kilogram first weight: 1.2 kg is 0.5 + one started kilogram.
    assert billable_weight(Decimal("1.2"), Decimal("0.5")) == Decimal("1.5")
    assert billable_weight(Decimal("0.4"), Decimal("0.5")) == Decimal("0.5")


def test_no_weight_means_a_parcel_of_the_first_weight():
    result = quote(SHANGHAI, "广东省")
    assert result.amount == Decimal("12.00")
    assert result.weight_kg == Decimal("1")
    assert result.weight_assumed


@pytest.mark.parametrize("weight", ["0", "-1"])
def test_a_weight_must_be_positive(weight):
    with pytest.raises(ValueError):
        quote(SHANGHAI, "广东省", weight=weight)


def test_over_the_first_weight_where_only_the_first_is_priced_is_confirmed_by_hand():
    # The card prices Wuhan same-city and Hubei parcels only up to 1 kg.
    for city in ("武汉市", "宜昌市"):
        result = quote(WUHAN, "湖北省", city, "1.2")
        assert result.amount is None
        assert result.basis == Basis.OVER_FIRST_WEIGHT
        assert "1 kg" in result.rule


def test_the_rule_text_shows_the_figures():
    result = quote(SHANGHAI, "广东省", weight="2.2")
    assert result.amount == Decimal("36.00")
    assert "12.00" in result.rule
    assert "3 kg" in result.rule
    assert "36.00" in result.rule


# --- destinations -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("湖北省", "湖北"),
        ("湖北", "湖北"),
        (" 湖北省 ", "湖北"),
        ("上海市", "上海"),
        ("新疆维吾尔自治区", "新疆"),
        ("宁夏回族自治区", "宁夏"),
        ("广西壮族自治区", "广西"),
        ("内蒙古自治区", "内蒙古"),
        ("内蒙", "内蒙古"),
        ("黑龙江省", "黑龙江"),
        ("香港特别行政区", "香港"),
        ("\u3000湖北省\u3000", "湖北"),  # full-width spaces, as pasted from a spreadsheet
    ],
)
def test_province_names_are_recognised(text, key):
    assert province_key(text) == key


@pytest.mark.parametrize("text", ["", None, "火星", "湖", "湖北省武汉市", "United States"])
def test_an_unknown_province_is_not_guessed(text):
    assert province_key(text) is None
    result = quote(WUHAN, text, weight="1")
    assert result.amount is None
    assert result.basis == Basis.UNKNOWN_PROVINCE


def test_city_names_lose_their_suffix():
    assert city_key("武汉市") == "武汉"
    assert city_key(" 武汉 ") == "武汉"
    assert city_key("") == ""


def test_no_line_for_a_destination_is_confirmed_by_hand():
    PostageRate.objects.filter(province="", origin="").delete()
    result = quote(WUHAN, "广东省")
    assert result.amount is None
    assert result.basis == Basis.NO_RATE


@pytest.mark.parametrize("province", ["香港特别行政区", "澳门", "台湾省"])
def test_outside_the_mainland_is_confirmed_by_hand(province):
    assert quote(SHANGHAI, province, weight="1").amount is None


# --- the quote for an order ----------------------------------------------------------------
def test_order_quote_uses_the_shops_location_and_the_receivers_address(shop_a, shop_b):
    # shop_a is in Wuhan, shop_b in Shanghai; the factory ships to Wuhan city.
    assert postage_quote(make_order(shop_a)).amount == Decimal("6.00")
    assert postage_quote(make_order(shop_b)).amount == Decimal("12.00")
    jiangsu = make_order(shop_b)
    jiangsu.receiver_province, jiangsu.receiver_city = "江苏省", "苏州市"
    assert postage_quote(jiangsu, weight_kg=Decimal("2")).amount == Decimal("12.00")


def test_order_sent_by_sf_is_priced_by_hand_unless_another_courier_is_chosen(shop_a):
    order = make_order(shop_a, courier=Courier.objects.get(code="sf"))
    assert postage_quote(order).confirm_by_hand
    assert postage_quote(order, courier=Courier.objects.get(code="yto")).amount == Decimal("6.00")
    assert postage_quote(order, courier=None).amount == Decimal("6.00")


# --- the rate card's own rules in the database ----------------------------------------------
def test_database_refuses_a_price_on_a_confirm_by_hand_line():
    with pytest.raises(IntegrityError), transaction.atomic():
        PostageRate.objects.create(
            province="青海", city="西宁", name="x", confirm_by_hand=True, first_price=Decimal("1")
        )


def test_database_refuses_a_priced_line_without_a_price():
    with pytest.raises(IntegrityError), transaction.atomic():
        PostageRate.objects.create(province="青海", city="西宁", name="x")


def test_database_refuses_a_city_without_its_province():
    with pytest.raises(IntegrityError), transaction.atomic():
        PostageRate.objects.create(city="西宁", name="x", first_price=Decimal("1"))


def test_database_refuses_two_lines_for_one_destination():
    with pytest.raises(IntegrityError), transaction.atomic():
        PostageRate.objects.create(origin="", province="西藏", name="x", confirm_by_hand=True)


def test_clean_explains_what_is_wrong_and_normalises_the_city():
    from django.core.exceptions import ValidationError

    rate = PostageRate(province="湖北", city="宜昌市", name="宜昌", first_price=Decimal("7"))
    rate.full_clean()
    assert rate.city == "宜昌"
    with pytest.raises(ValidationError, match="首重价格"):
        PostageRate(province="湖北", city="荆州", name="荆州").full_clean()
    with pytest.raises(ValidationError, match="省份"):
        PostageRate(city="荆州", name="荆州", first_price=Decimal("7")).full_clean()


def test_order_factory_default_is_wuhan_city(shop_a):
    # Guards the assumptions above about the factory's address.
    order = make_order(shop_a)
    assert (order.receiver_province, order.receiver_city) == ("湖北省", "武汉市")
    assert order.status == Order.Status.SUCCESS
