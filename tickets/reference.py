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
