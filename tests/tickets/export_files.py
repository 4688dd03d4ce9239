"""Real-looking seller-centre exports, made by the tests themselves.

The header lists follow the seller centre's layouts over the years (41, 56 and 72 columns;
some headers carry a trailing space, as the real files do). Rows are given as dicts keyed by
the header name without spaces; columns a test does not fill stay empty, as they do in real
exports.
"""

import csv
import io

# The old 41-column order layout: no 发货时间, 商家备忘 or 店铺名称.
ORDER_HEADERS_41 = [
    "订单编号", "买家会员名", "买家支付宝账号", "买家应付货款", "买家应付邮费", "买家支付积分",
    "总金额", "返点积分", "买家实际支付金额", "买家实际支付积分", "订单状态", "买家留言",
    "收货人姓名", "收货地址 ", "运送方式", "联系电话 ", "联系手机", "订单创建时间",
    "订单付款时间 ", "宝贝标题 ", "宝贝种类 ", "物流单号 ", "物流公司", "订单备注",
    "宝贝总数量", "店铺Id", "订单关闭原因", "卖家服务费", "买家服务费", "发票抬头",
    "是否手机订单", "分阶段订单信息", "特权订金订单id", "是否上传合同照片", "是否上传小票",
    "是否代付", "定金排名", "修改后的sku", "修改后的收货地址", "异常信息", "天猫卡券抵扣",
]  # fmt: skip

# The 56-column layout most shops export today.
ORDER_HEADERS_56 = [
    *ORDER_HEADERS_41[:26], "店铺名称", *ORDER_HEADERS_41[26:],
    "集分宝抵扣", "是否是O2O交易", "新零售交易类型", "新零售导购门店id", "退款金额",
    "预约门店", "确认收货时间", "打款商家金额", "含应开票给个人的个人红包", "是否信用购",
    "发货时间", "商家备忘", "支付宝交易号", "订单类型",
]  # fmt: skip

# The 72-column layout: more columns, and the same ones in another order.
ORDER_HEADERS_72 = [
    "订单状态", "订单编号", *[h for h in ORDER_HEADERS_56 if h not in ("订单状态", "订单编号")],
    "是否拆单", "是否预售", "是否赠品", "主订单编号", "天猫国际官网直供", "是否代销",
    "分销商店铺", "分销商ID", "分销商昵称", "支付渠道", "花呗分期", "服务商品",
    "预售时间", "定金", "尾款", "物流服务",
]  # fmt: skip

ITEM_HEADERS = [
    "订单编号", "标题", "价格", "购买数量", "外部系统编号", "商品属性", "套餐信息", "备注",
    "订单状态", "商家编码",
]  # fmt: skip

# The newer item layout: 子订单编号 + 主订单编号.
ITEM_HEADERS_SPLIT = [
    "子订单编号", "主订单编号", "标题", "价格", "购买数量", "外部系统编号", "商品属性",
    "套餐信息", "备注", "订单状态", "商家编码", "退款状态", "退款金额",
]  # fmt: skip

REFUND_HEADERS = [
    "订单编号", "退款编号", "支付宝交易号", "订单付款时间", "买家会员名", "买家实际支付金额",
    "宝贝标题", "买家退款金额", "手工退款/系统退款", "是否需要退货", "退款的申请时间",
    "超时时间", "退款状态", "货物状态", "退货物流信息", "发货物流信息", "客服介入状态",
    "卖家真实姓名", "卖家退货地址", "卖家邮编", "卖家电话", "卖家手机", "退货物流单号",
    "退货物流公司", "买家退款原因", "买家退款说明", "买家退货时间", "责任方", "售中或售后",
    "完结时间", "举证超时", "商家编码", "子订单编号",
]  # fmt: skip


def excel_text(number: str, style: str = "formula") -> str:
    """How a number-like text arrives: ``="…"`` (formula), ``'…`` (quote), tab-prefixed."""
    return {"formula": f'="{number}"', "quote": f"'{number}", "tab": f"\t{number}"}.get(
        style, number
    )


def order_row(order_no: str, *, style: str = "formula", **values) -> dict:
    """A paid-and-shipped order row with sensible values; ``values`` override by header."""
    row = {
        "订单编号": excel_text(order_no, style),
        "买家会员名": "小鱼爱吃猫",
        "买家支付宝账号": "fish***@163.com",
        "买家应付货款": "198.00",
        "买家应付邮费": "0.00",
        "总金额": "198.00",
        "买家实际支付金额": "188.00",
        "订单状态": "卖家已发货，等待买家确认",
        "买家留言": "请尽快发货",
        "收货人姓名": "张三",
        "收货地址": "湖北省 武汉市 江汉区 解放大道1号3栋201室(430000)",
        "运送方式": "快递",
        "联系电话": "",
        "联系手机": "'13912345678",
        "订单创建时间": "2026-03-01 10:15:30",
        "订单付款时间": "2026-03-01 10:16:02",
        "宝贝标题": "纯棉宽松T恤",
        "宝贝种类": "1",
        "物流单号": '="ZT7700123456"',
        "物流公司": "中通快递",
        "订单备注": "",
        "宝贝总数量": "2",
        "店铺名称": "",
        "订单关闭原因": "",
        "发票抬头": "",
        "发货时间": "2026-03-02 09:00:00",
        "商家备忘": "",
        "支付宝交易号": "'2026030122001100000001",
    }
    row.update(values)
    return row


def item_row(order_no: str, *, style: str = "formula", **values) -> dict:
    row = {
        "订单编号": excel_text(order_no, style),
        "标题": "纯棉宽松T恤",
        "价格": "99.00",
        "购买数量": "2",
        "外部系统编号": "TS1001-BK-XL",
        "商品属性": "颜色分类:黑色;尺码:XL",
        "套餐信息": "",
        "备注": "",
        "订单状态": "卖家已发货，等待买家确认",
        "商家编码": "TS1001",
    }
    row.update(values)
    return row


def refund_row(refund_no: str, order_no: str, **values) -> dict:
    row = {
        "订单编号": excel_text(order_no),
        "退款编号": excel_text(refund_no),
        "买家会员名": "小鱼爱吃猫",
        "宝贝标题": "纯棉宽松T恤",
        "买家退款金额": "99.00",
        "是否需要退货": "是",
        "退款的申请时间": "2026-03-05 20:00:00",
        "超时时间": "2026-03-10 20:00:00",
        "退款状态": "买家已经申请退款，等待卖家同意",
        "货物状态": "买家已收到货",
        "客服介入状态": "未介入",
        "退货物流单号": "",
        "退货物流公司": "",
        "买家退款原因": "尺码拍错/不喜欢/效果不好",
        "买家退款说明": "偏小一码",
        "责任方": "",
        "举证超时": "",
        "商家编码": "TS1001",
    }
    row.update(values)
    return row


def export_csv(
    headers: list[str], rows: list[dict], *, encoding: str = "gbk", delimiter: str = ","
) -> bytes:
    """The bytes of an export: ``encoding`` 'gbk', 'gb18030', 'utf-8' or 'utf-8-sig'."""
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get("".join(h.split()), "") for h in headers])
    return text.getvalue().encode(encoding)
