"""Reference data every installation starts with (loaded by a data migration)."""

COURIERS = [
    ("sf", "顺丰速运", True),
    ("ems", "EMS", True),
    ("zto", "中通快递", False),
    ("yto", "圆通速递", False),
    ("sto", "申通快递", False),
    ("yunda", "韵达快递", False),
    ("best", "百世快递", False),
    ("jd", "京东物流", False),
    ("deppon", "德邦快递", False),
    ("postb", "邮政快递包裹", False),
]


def create_couriers(apps, schema_editor=None) -> None:
    courier = apps.get_model("tickets", "Courier")
    for code, name, by_hand in COURIERS:
        courier.objects.get_or_create(code=code, defaults={"name": name, "priced_by_hand": by_hand})


# The shops' postage rate card (DOMAIN.md "Postage rates"; the source article's wording:
# 武汉 1KG以内同城6元, 湖北本省8元; 上海 江浙沪本地6元/KG; 东北三省、西北五省、西南、内蒙、山西
# 15元/KG; 西藏先确认实际运费; 其他地区12元/KG). Columns: origin ("" = any shop), province
# ("" = every other province), city, rule name, first kg price, price per extra kg
# (None: only the first kilogram is priced), confirm by hand.
_ZONE_15 = {
    "东北三省": ("吉林", "辽宁", "黑龙江"),
    "西北五省": ("陕西", "甘肃", "宁夏", "青海", "新疆"),
    "西南": ("四川", "贵州", "重庆", "云南"),
    "内蒙古、山西": ("内蒙古", "山西"),
}
POSTAGE_RATES = [
    ("wuhan", "湖北", "武汉", "武汉同城", "6.00", None, False),
    ("wuhan", "湖北", "", "湖北省内", "8.00", None, False),
    *[("shanghai", p, "", "江浙沪本地", "6.00", "6.00", False) for p in ("江苏", "浙江", "上海")],
    *[("", p, "", zone, "15.00", "15.00", False) for zone, ps in _ZONE_15.items() for p in ps],
    ("", "西藏", "", "西藏", None, None, True),
    # Not on the shops' card: parcels leaving the mainland are priced by hand too.
    *[("", p, "", "港澳台", None, None, True) for p in ("香港", "澳门", "台湾")],
    ("", "", "", "其他省份", "12.00", "12.00", False),
]


def create_postage_rates(apps, schema_editor=None) -> None:
    from decimal import Decimal

    rate_model = apps.get_model("tickets", "PostageRate")
    for origin, province, city, name, first, extra, by_hand in POSTAGE_RATES:
        rate_model.objects.get_or_create(
            origin=origin,
            province=province,
            city=city,
            defaults={
                "name": name,
                "first_weight_kg": Decimal("1"),
                "first_price": Decimal(first) if first else None,
                "extra_kg_price": Decimal(extra) if extra else None,
                "confirm_by_hand": by_hand,
            },
        )
