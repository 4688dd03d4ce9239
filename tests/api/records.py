"""Order, item and refund records as an ERP sends them, and the same records as the seller
centre's export files (so a test can send one set through both doors)."""

from tests.tickets.export_files import ITEM_HEADERS_SPLIT, ORDER_HEADERS_56, export_csv

# The API's field -> the export's header, for the fields these records use.
ORDER_HEADER = {
    "order_no": "订单编号",
    "buyer_nick": "买家会员名",
    "status": "订单状态",
    "placed_at": "订单创建时间",
    "paid_at": "订单付款时间",
    "shipped_at": "发货时间",
    "goods_amount": "买家应付货款",
    "postage": "买家应付邮费",
    "total_amount": "总金额",
    "paid_amount": "买家实际支付金额",
    "receiver_name": "收货人姓名",
    "address": "收货地址",
    "mobile": "联系手机",
    "courier": "物流公司",
    "tracking_no": "物流单号",
    "alipay_no": "支付宝交易号",
    "remark": "订单备注",
}
ITEM_HEADER = {
    "order_no": "主订单编号",
    "sub_order_no": "子订单编号",
    "title": "标题",
    "unit_price": "价格",
    "quantity": "购买数量",
    "sku_outer_id": "外部系统编号",
    "attributes": "商品属性",
    "item_code": "商家编码",
}


def order(order_no: str, **values) -> dict:
    """A paid and shipped order with two items, as an ERP would send it."""
    record = {
        "order_no": order_no,
        "buyer_nick": "小鱼爱吃猫",
        "status": "卖家已发货，等待买家确认",
        "placed_at": "2026-03-01 10:15:30",
        "paid_at": "2026-03-01 10:16:02",
        "shipped_at": "2026-03-02 09:00:00",
        "goods_amount": "198.00",
        "postage": "0.00",
        "total_amount": "198.00",
        "paid_amount": "188.00",
        "receiver_name": "张三",
        "address": "湖北省 武汉市 江汉区 解放大道1号3栋201室(430000)",
        "mobile": "13912345678",
        "courier": "中通快递",
        "tracking_no": "ZT7700123456",
        "alipay_no": "2026030122001100000001",
        "remark": "",
        "items": [
            {
                "sub_order_no": order_no[:-2] + "01",
                "title": "纯棉宽松T恤",
                "unit_price": "99.00",
                "quantity": "1",
                "sku_outer_id": "TS1001-BK-XL",
                "attributes": "颜色分类:黑色;尺码:XL",
                "item_code": "TS1001",
            },
            {
                "sub_order_no": order_no[:-2] + "02",
                "title": "直筒牛仔裤",
                "unit_price": "99.00",
                "quantity": "1",
                "sku_outer_id": "JN2001",
                "attributes": "颜色分类:蓝色;尺码:L",
                "item_code": "JN2001",
            },
        ],
    }
    record.update(values)
    return record


def as_files(orders: list[dict]) -> tuple[bytes, bytes]:
    """The order export and the item export (GBK) holding the same records."""
    order_rows, item_rows = [], []
    for record in orders:
        order_rows.append({ORDER_HEADER[k]: str(v) for k, v in record.items() if k in ORDER_HEADER})
        for item in record.get("items", []):
            row = {ITEM_HEADER[k]: str(v) for k, v in item.items() if k in ITEM_HEADER}
            row["主订单编号"] = record["order_no"]
            item_rows.append(row)
    return (
        export_csv(ORDER_HEADERS_56, order_rows, encoding="utf-8"),
        export_csv(ITEM_HEADERS_SPLIT, item_rows, encoding="utf-8"),
    )


REFUND_HEADER = {
    "refund_no": "退款编号",
    "order_no": "订单编号",
    "refund_status": "退款状态",
    "amount": "买家退款金额",
    "sub_order_no": "子订单编号",
    "title": "宝贝标题",
    "item_code": "商家编码",
    "goods_status": "货物状态",
    "needs_return": "是否需要退货",
    "reason": "买家退款原因",
    "description": "买家退款说明",
    "return_tracking_no": "退货物流单号",
    "return_courier": "退货物流公司",
    "intervention": "客服介入状态",
    "timeout_at": "超时时间",
    "applied_at": "退款的申请时间",
    "evidence_deadline": "举证超时",
    "responsibility": "责任方",
}


def refund(refund_no: str, order_no: str, **values) -> dict:
    """A return-and-refund request for the order's first item, as an ERP would send it."""
    record = {
        "refund_no": refund_no,
        "order_no": order_no,
        "refund_status": "买家已经申请退款，等待卖家同意",
        "amount": "99.00",
        "sub_order_no": order_no[:-2] + "01",
        "title": "纯棉宽松T恤",
        "item_code": "TS1001",
        "goods_status": "买家已收到货",
        "needs_return": "是",
        "reason": "尺码拍错/不喜欢/效果不好",
        "description": "偏小一码",
        "intervention": "未介入",
        "timeout_at": "2026-03-10 20:00:00",
        "applied_at": "2026-03-05 20:00:00",
    }
    record.update(values)
    return record


def refunds_file(refunds: list[dict]) -> bytes:
    from tests.tickets.export_files import REFUND_HEADERS

    rows = [{REFUND_HEADER[k]: str(v) for k, v in r.items() if k in REFUND_HEADER} for r in refunds]
    return export_csv(REFUND_HEADERS, rows, encoding="utf-8")
