"""Deterministic demo data: shops, staff, products, orders, tickets, money.

The same ``seed`` and ``today`` give the same rows every time. Rows are built as plain dicts,
one generator per table, and written through the order import's writer
(``tickets.imports.bulk.insert_rows``): COPY on PostgreSQL, ``bulk_create`` on SQLite
(``make run``). Batches of orders come one at a time, so memory stays flat.

Into empty tables on PostgreSQL the whole seed is one transaction in which the tables'
secondary indexes, unique and foreign keys and INSERT guard triggers are applied once after
the rows (``tickets.imports.bulk.deferred_upkeep``): the same checks, in one query each
instead of one per row. Into a desk that has orders (and on SQLite) every row is checked as
it is written, a transaction per batch. Figures in bench/README.md (issue 14).
"""

import random
import time as clock
from bisect import bisect
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import accumulate, pairwise
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, reset_queries, transaction
from django.utils import timezone

from .business_hours import business_time_between, default_business_hours
from .demo_desk import demo_desk_today
from .demo_registers import REGISTER_MODELS, RegisterRows, UniqueNumbers
from .imports.bulk import deferred_upkeep, insert_rows, reserve_ids, row_defaults
from .models import (
    Courier,
    ExchangeReplacement,
    LedgerEntry,
    Order,
    OrderItem,
    Product,
    ProductionAlert,
    QuickReply,
    ReturnParcel,
    Shop,
    Sku,
    Ticket,
    TicketEvent,
    TicketItem,
    User,
)
from .models.tickets import RESPONSIBILITY_BY_REASON
from .money import CENT
from .roles import Role
from .signals import demo_seeded
from .sla import due_after_pause, sla_due_times
from .workflow import happy_path

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The tables the batches fill, in the order they are written.
LOADED_MODELS = (
    Order,
    OrderItem,
    Ticket,
    TicketItem,
    ExchangeReplacement,
    TicketEvent,
    ReturnParcel,
    LedgerEntry,
    *REGISTER_MODELS,
)
# When the demo's day ends, given ``--today``: the data is the same for every run.
DAY_ENDS_AT = time(15, 30)
# The working day (Beijing time): agents move tickets from 09:00 until the night shift's
# handover (22:30), the warehouse ships from 09:30 to 18:00. What falls outside was done the
# next morning.
DESK_HOURS = (time(9), time(22, 30))
WAREHOUSE_HOURS = (time(9, 30), time(18))
# How many exchange-goods lists the demo's finance part builds (finance_exports.demo HISTORY of
# a daily kind, through the services): an exchange queued after the cut-off before the first
# of them waits in the queue for them; one queued earlier went out on an earlier list.
EXCHANGE_LISTS = 3
# At least this many exchanges are queued for each of the demo's lists (a small seed's
# exchanges would otherwise leave a list empty).
LIST_SHOWCASE = 2
# Open tickets whose resolution falls due within DESK_SLA_WARNING_MINUTES of the demo's end,
# so the day's due-time check (tickets.demo_desk) warns their agents.
NEAR_DUE_TICKETS = 3
# What the warehouse finds in a returned parcel no ticket or order matches (拆件登记, unknown).
UNMATCHED_CONTENTS = [
    ("一件卫衣，无任何留条", ""),
    ("牛仔裤 1 条，吊牌已剪", "纸条：尺码不合适，麻烦退款"),
    ("连衣裙 1 件，外包装是其他快递的袋子", ""),
    ("童装套装 1 套，未拆封", "留条写了手机尾号 3821，没有订单号"),
    ("文胸 2 件，各一个颜色", ""),
    ("休闲鞋 1 双，鞋盒压扁", "留条：换 38 码"),
]

# (code, name, kind, location): 11 shops, C-stores and Tmall stores in Wuhan and Shanghai.
SHOPS = [
    ("yunshang-tmall", "云裳女装旗舰店", Shop.Kind.TMALL, Shop.Location.SHANGHAI),
    ("yunshang-c", "云裳小铺", Shop.Kind.C_STORE, Shop.Location.SHANGHAI),
    ("buyifang", "布衣坊原创女装", Shop.Kind.C_STORE, Shop.Location.WUHAN),
    ("hanjie-tmall", "汉街衣橱旗舰店", Shop.Kind.TMALL, Shop.Location.WUHAN),
    ("qingcheng", "青橙童装", Shop.Kind.C_STORE, Shop.Location.WUHAN),
    ("mumian-tmall", "木棉家纺旗舰店", Shop.Kind.TMALL, Shop.Location.SHANGHAI),
    ("xiaoman", "小满内衣", Shop.Kind.C_STORE, Shop.Location.SHANGHAI),
    ("jiangcheng", "江城男装", Shop.Kind.C_STORE, Shop.Location.WUHAN),
    ("lanxi-tmall", "兰溪鞋履旗舰店", Shop.Kind.TMALL, Shop.Location.SHANGHAI),
    ("shiguang", "拾光饰品", Shop.Kind.C_STORE, Shop.Location.WUHAN),
    ("haipai-tmall", "海派针织旗舰店", Shop.Kind.TMALL, Shop.Location.SHANGHAI),
]

# Where buyers send returns: the Wuhan and Shanghai warehouses' after-sales desks.
RETURN_ADDRESSES = {
    Shop.Location.WUHAN: "售后组 027-85550123 湖北省武汉市东西湖区走马岭街道汇通大道 8 号 3 号库",
    Shop.Location.SHANGHAI: "售后组 021-60550188 上海市嘉定区马陆镇宝安公路 2999 号 B 栋",
}

# Demo staff: username, family name, given name, role, shop codes (None = all shops).
STAFF = [
    ("agent", "王", "芳", Role.AGENT, ["yunshang-tmall", "yunshang-c", "buyifang", "hanjie-tmall"]),
    ("agent2", "李", "娜", Role.AGENT, ["qingcheng", "mumian-tmall", "xiaoman", "jiangcheng"]),
    ("agent3", "张", "敏", Role.AGENT, ["lanxi-tmall", "shiguang", "haipai-tmall"]),
    (
        "agent4",
        "刘",
        "洋",
        Role.AGENT,
        ["yunshang-tmall", "hanjie-tmall", "mumian-tmall", "lanxi-tmall", "haipai-tmall"],
    ),
    (
        "agent5",
        "陈",
        "静",
        Role.AGENT,
        ["yunshang-c", "buyifang", "qingcheng", "xiaoman", "jiangcheng", "shiguang"],
    ),
    ("supervisor", "赵", "强", Role.SUPERVISOR, None),
    ("finance", "孙", "丽", Role.FINANCE, None),
]

# (province, [(city, [districts])]) - realistic destinations across the rate card's zones.
GEOGRAPHY = [
    (
        "湖北省",
        [
            ("武汉市", ["江汉区", "武昌区", "洪山区", "江岸区"]),
            ("宜昌市", ["西陵区"]),
            ("襄阳市", ["樊城区"]),
        ],
    ),
    ("上海", [("上海市", ["浦东新区", "徐汇区", "闵行区", "静安区"])]),
    ("江苏省", [("南京市", ["鼓楼区", "玄武区"]), ("苏州市", ["姑苏区", "吴中区"])]),
    ("浙江省", [("杭州市", ["西湖区", "余杭区"]), ("宁波市", ["鄞州区"])]),
    ("广东省", [("广州市", ["天河区", "越秀区"]), ("深圳市", ["南山区", "福田区"])]),
    ("北京", [("北京市", ["朝阳区", "海淀区"])]),
    ("山东省", [("济南市", ["历下区"]), ("青岛市", ["市南区"])]),
    ("河南省", [("郑州市", ["金水区"])]),
    ("湖南省", [("长沙市", ["岳麓区", "芙蓉区"])]),
    ("四川省", [("成都市", ["武侯区", "锦江区"])]),
    ("重庆", [("重庆市", ["渝中区", "江北区"])]),
    ("陕西省", [("西安市", ["雁塔区"])]),
    ("辽宁省", [("沈阳市", ["和平区"])]),
    ("黑龙江省", [("哈尔滨市", ["南岗区"])]),
    ("新疆维吾尔自治区", [("乌鲁木齐市", ["天山区"])]),
    ("西藏自治区", [("拉萨市", ["城关区"])]),
    ("福建省", [("厦门市", ["思明区"])]),
    ("安徽省", [("合肥市", ["蜀山区"])]),
]
STREETS = [
    "中山路",
    "解放大道",
    "人民路",
    "建设路",
    "光谷大道",
    "南京路",
    "长江路",
    "和平街",
    "学府路",
    "友谊大道",
]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程"
)
GIVEN = [
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "婷",
    "雪",
    "慧",
    "欣怡",
    "子涵",
    "浩然",
]
NICK_WORDS = [
    "小鱼",
    "阿狸",
    "糖糖",
    "木子",
    "晴天",
    "橙子",
    "豆豆",
    "喵喵",
    "大熊",
    "果果",
    "悠悠",
    "七七",
    "安安",
    "乐乐",
    "笑笑",
    "momo",
    "lily",
    "coco",
    "sunny",
    "tb",
]
NICK_TAILS = ["爱吃猫", "的衣橱", "不吃辣", "2015", "_88", "酱", "呀", "0520", "在武汉", "妈妈"]

# Product models per category: (model prefix, title, colours, sizes, price range).
CATALOGUE = [
    ("LY", "法式碎花连衣裙", ["米白", "雾蓝", "墨绿"], ["S", "M", "L", "XL"], (129, 259)),
    ("WY", "宽松圆领卫衣", ["黑色", "灰色", "燕麦"], ["M", "L", "XL", "XXL"], (89, 169)),
    ("NZ", "高腰直筒牛仔裤", ["浅蓝", "深蓝"], ["25", "26", "27", "28", "29"], (119, 199)),
    ("ZZ", "羊毛混纺针织开衫", ["驼色", "酒红", "藏青"], ["S", "M", "L"], (199, 399)),
    ("TX", "纯棉短袖T恤", ["白色", "黑色", "粉色"], ["S", "M", "L", "XL"], (39, 79)),
    ("YR", "轻薄羽绒服", ["黑色", "奶白", "焦糖"], ["M", "L", "XL"], (299, 599)),
    ("TZ", "儿童加绒套装", ["红色", "蓝色"], ["100", "110", "120", "130"], (79, 149)),
    ("SJ", "四件套纯棉床品", ["格调灰", "樱花粉"], ["1.5米", "1.8米"], (199, 459)),
    ("NY", "无钢圈文胸", ["肤色", "黑色"], ["75B", "80B", "85C"], (59, 129)),
    ("XZ", "真皮休闲鞋", ["黑色", "白色"], ["36", "37", "38", "39", "40"], (159, 329)),
    ("SP", "925银耳饰", ["银色"], ["均码"], (49, 129)),
    ("CS", "商务长袖衬衫", ["白色", "浅蓝"], ["39", "40", "41", "42"], (99, 189)),
]

# (orders younger than this, their status weights)
STATUS_BY_AGE = [
    (
        timedelta(days=1),
        [
            (Order.Status.WAITING_PAYMENT, 15),
            (Order.Status.PAID, 45),
            (Order.Status.SHIPPED, 30),
            (Order.Status.CLOSED, 10),
        ],
    ),
    (
        timedelta(days=11),
        [
            (Order.Status.PAID, 2),
            (Order.Status.SHIPPED, 78),
            (Order.Status.SUCCESS, 12),
            (Order.Status.CLOSED, 8),
        ],
    ),
    (timedelta.max, [(Order.Status.SUCCESS, 92), (Order.Status.CLOSED, 8)]),
]
TICKET_KINDS = [
    (Ticket.Kind.RETURN, 30),
    (Ticket.Kind.EXCHANGE, 30),
    (Ticket.Kind.REFUND_ONLY, 15),
    (Ticket.Kind.RESHIP, 12),
    (Ticket.Kind.REPAIR, 5),
    (Ticket.Kind.COMPENSATION, 8),
]
REASONS_BY_KIND = {
    Ticket.Kind.RETURN: [
        Ticket.Reason.NO_REASON,
        Ticket.Reason.NOT_SUITABLE,
        Ticket.Reason.QUALITY,
        Ticket.Reason.WRONG_ITEM,
    ],
    Ticket.Kind.EXCHANGE: [
        Ticket.Reason.NOT_SUITABLE,
        Ticket.Reason.WRONG_ITEM,
        Ticket.Reason.QUALITY,
    ],
    Ticket.Kind.REFUND_ONLY: [
        Ticket.Reason.MISSING_ITEM,
        Ticket.Reason.LOGISTICS,
        Ticket.Reason.OTHER,
        Ticket.Reason.INVOICE,
    ],
    Ticket.Kind.RESHIP: [
        Ticket.Reason.MISSING_ITEM,
        Ticket.Reason.LOGISTICS,
        Ticket.Reason.DAMAGED,
    ],
    Ticket.Kind.REPAIR: [Ticket.Reason.QUALITY, Ticket.Reason.DAMAGED],
    Ticket.Kind.COMPENSATION: [
        Ticket.Reason.LOGISTICS,
        Ticket.Reason.QUALITY,
        Ticket.Reason.EXTRA_ITEM,
        Ticket.Reason.DAMAGED,
    ],
}
DESCRIPTIONS = {
    Ticket.Reason.WRONG_ITEM: "买家收到的颜色和下单的不一样",
    Ticket.Reason.MISSING_ITEM: "买家说包裹里少了一件",
    Ticket.Reason.EXTRA_ITEM: "多发了一件，买家愿意寄回",
    Ticket.Reason.DAMAGED: "外包装破损，商品有压痕",
    Ticket.Reason.QUALITY: "穿了一次开线，已发照片",
    Ticket.Reason.LOGISTICS: "物流三天没有更新，买家着急",
    Ticket.Reason.NOT_SUITABLE: "尺码偏小，想换大一码",
    Ticket.Reason.NO_REASON: "七天无理由退货",
    Ticket.Reason.INVOICE: "发票抬头开错了",
    Ticket.Reason.OTHER: "买家不想要了",
}
QUICK_REPLIES = [
    (
        "换货地址",
        "亲，{买家}您好，换货请寄回：{退货地址}，"
        "请在包裹里写上订单号 {订单号}，我们收到后当天安排换货。",
    ),
    (
        "已收到退件",
        "亲，您寄回的包裹（运单号 {退回运单号}）我们已经收到，正在为您处理，请耐心等待。",
    ),
    ("物流催件", "亲，已经帮您联系快递催件了，运单号 {运单号}，有进展第一时间通知您。"),
    (
        "质量问题拍照",
        "亲，非常抱歉给您带来不便，麻烦拍一下问题部位的照片发给我们，我们马上为您处理。",
    ),
]


# The words of the lines the demo writes, in the default language (Chinese): the same as
# ``tickets.timeline_lines`` says them (a test holds each equal), written per row without a
# translation lookup each.
_DEMO_WORDS = {
    "tracking_set": "退回运单号：{no}",
    "parcel_unpacked": "拆件登记：{no}",
    "exchange_list_added": "上 {date} 换货清单",
    "exchange_list_shipped": "按 {date} 换货清单发出",
}


def demo_line(key: str, **params) -> dict:
    """A demo timeline row's ``message`` and ``params`` for the line ``key``, as
    ``timeline_write`` stores it."""
    return {
        "message": _DEMO_WORDS[key].format(**params),
        "params": {"line": key, "args": params},
    }


class Weighted:
    """A weighted choice among ``pairs`` of (value, weight), its cumulative weights worked
    out once. Draws exactly as ``rng.choices(values, cum_weights=...)[0]`` does (one
    ``random()``, bisected), so the same seed gives the same values, without building
    ``choices``' one-element list on every call (a seed makes millions of these draws)."""

    def __init__(self, pairs):
        self.values, weights = zip(*pairs, strict=True)
        self.cum_weights = list(accumulate(weights))
        self.total = self.cum_weights[-1] + 0.0
        self.hi = len(self.cum_weights) - 1

    def __call__(self, rng: random.Random):
        return self.values[bisect(self.cum_weights, rng.random() * self.total, 0, self.hi)]


def weighted(rng: random.Random, pairs):
    """One value of ``pairs`` (value, weight), drawn by weight."""
    return Weighted(pairs)(rng)


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT)


def within_hours(at: datetime, hours: tuple[time, time], rng: random.Random) -> datetime:
    """``at`` when it falls within ``hours`` (from, until; Beijing time), else a moment in
    the first two hours of the next such period: what came in at night was done in the
    morning, at no fixed minute."""
    local = at if at.tzinfo is SHANGHAI else at.astimezone(SHANGHAI)
    start, end = hours
    if start <= local.time() < end:
        return at
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    opening = datetime.combine(day, start, tzinfo=SHANGHAI)
    return opening + timedelta(minutes=rng.randrange(0, 120), seconds=rng.randrange(60))


# Kinds whose goods go out again (exchange, reship, repair): shipped means a tracking number.
_GOODS_OUT = (Ticket.Kind.EXCHANGE, Ticket.Kind.RESHIP, Ticket.Kind.REPAIR)
_STATUS_BY_AGE = [(limit, Weighted(pairs)) for limit, pairs in STATUS_BY_AGE]
_TICKET_KIND = Weighted(TICKET_KINDS)
_LINES = Weighted([(1, 65), (2, 25), (3, 10)])
_QUANTITY = Weighted([(1, 85), (2, 12), (3, 3)])
_HAPPY_PATHS = {kind: happy_path(kind) for kind in Ticket.Kind.values}
# Kinds whose return leg (a parcel back to the warehouse) gets a tracking number.
_COMES_BACK = (Ticket.Kind.RETURN, Ticket.Kind.EXCHANGE, Ticket.Kind.REPAIR)
_MOVING = (Ticket.Status.REFUNDED, Ticket.Status.COMPENSATED, Ticket.Status.SHIPPED)
# The moves that resolve a ticket (``ticket_transition`` sets ``resolved_at`` at the first).
_RESOLVING = (*_MOVING, Ticket.Status.CLOSED)


@dataclass
class DemoResult:
    shops: int = 0
    orders: int = 0
    items: int = 0
    tickets: int = 0
    ledger: int = 0
    users: list[str] = field(default_factory=list)
    # Rows per register ("reviews": 41, ...), and what the other apps added ("sheets": 3).
    registers: dict[str, int] = field(default_factory=dict)
    # Wall seconds of each step ("orders, tickets, registers": 41.2, ...), for bench/README.
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class _SkuInfo:
    """What an order line and an exchange need of a SKU, read once from the catalogue."""

    pk: int
    product_id: int
    title: str
    code: str
    colour: str
    size: str
    price: Decimal
    list_price: Decimal | None
    batch: str


class DemoBuilder:
    """Builds the demo data set. ``orders`` and ``tickets`` set the size.

    Rows are plain dicts, one generator per table (``_order``/``_ticket`` for orders, items,
    tickets and ticket items; ``_event_rows``, ``_ledger_rows``, ``_replacement_rows``), all
    written through ``tickets.imports.bulk.insert_rows``: COPY on PostgreSQL, ``bulk_create``
    on SQLite. A table whose rows others point at takes its ids first (``reserve_ids``), so
    the pointing rows are built before anything is written and no row is read back. The
    orders come ``batch_size`` at a time: memory holds one batch. Each batch is its own
    transaction, except into empty tables on PostgreSQL (``build``), where one transaction
    holds them all and the indexes and checks come after the last.
    """

    batch_size = 5000

    def __init__(
        self,
        *,
        seed: int,
        orders: int,
        tickets: int | None,
        today: date,
        days: int,
        now: datetime | None = None,
    ):
        self.seed = seed
        self.rng = random.Random(seed)
        self.order_count = orders
        self.ticket_count = tickets if tickets is not None else max(1, orders * 4 // 100)
        self.today = today
        self.days = days
        # The demo's last moment: ``now`` (aware), else DAY_ENDS_AT on ``today``.
        self.now = (
            now.astimezone(SHANGHAI)
            if now is not None
            else datetime.combine(today, DAY_ENDS_AT, tzinfo=SHANGHAI)
        )
        # What bulk_create's auto_now put in updated_at: the time the rows are written.
        self.written_at = timezone.now()
        self.result = DemoResult()
        self._order_serial = 0
        self._defaults = {
            model: row_defaults(model)
            for model in (Order, OrderItem, Ticket, TicketItem, TicketEvent, LedgerEntry)
        }
        self._defaults[ExchangeReplacement] = row_defaults(ExchangeReplacement)
        self._defaults[ReturnParcel] = row_defaults(ReturnParcel)
        # The demo's shops keep the desk's business hours (DESK_BUSINESS_HOURS).
        self.business_hours = default_business_hours()
        # Numbers that look like the platform's, unique, from the seed's stream.
        self.order_numbers = UniqueNumbers(self.rng, 19)
        self.return_numbers = UniqueNumbers(self.rng, 12)
        self.outbound_numbers = UniqueNumbers(self.rng, 12)
        # The exchange-goods lists: their cut-off time, and the business date of the first
        # of the demo's (the newest is the last whose cut-off has passed at the demo's end).
        hour, minute = settings.FINANCE_SHEET_TIMES["exchanges"]
        self.list_cutoff = time(hour, minute)
        newest = self.now.date() - timedelta(days=int(self.now.time() < self.list_cutoff))
        self.first_list_day = newest - timedelta(days=EXCHANGE_LISTS - 1)
        self._near_due_left = NEAR_DUE_TICKETS
        # Exchanges still to be queued for each of the demo's lists, whatever the seed's size.
        self._list_showcase = {
            self.first_list_day + timedelta(days=n): LIST_SHOWCASE for n in range(EXCHANGE_LISTS)
        }

    # --- reference data -------------------------------------------------------------
    def ensure_reference_data(self) -> None:
        for code, name, kind, location in SHOPS:
            Shop.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "kind": kind,
                    "location": location,
                    "return_address": RETURN_ADDRESSES[location],
                },
            )
        self.shops = list(Shop.objects.filter(code__in=[s[0] for s in SHOPS]).order_by("code"))
        self.result.shops = len(self.shops)
        self.couriers = list(Courier.objects.order_by("code"))
        self.everyday_couriers = [c for c in self.couriers if not c.priced_by_hand] or self.couriers
        if not Product.objects.exists():
            self._create_catalogue()
        self.skus = list(Sku.objects.select_related("product").order_by("code"))
        self.skus_by_product: dict[int, list[Sku]] = {}
        for sku in self.skus:
            self.skus_by_product.setdefault(sku.product_id, []).append(sku)
        for title, body in QUICK_REPLIES:
            QuickReply.objects.get_or_create(title=title, defaults={"body": body})

    def _create_catalogue(self) -> None:
        rng = self.rng
        products, skus = [], []
        for prefix, title, *_rest in CATALOGUE:
            for n in range(1, 6):
                model_no = f"{prefix}{2600 + n * 7}"
                products.append(Product(model_no=model_no, title=f"{title} {model_no}"))
        Product.objects.bulk_create(products)
        by_model = {p.model_no: p for p in Product.objects.all()}
        for prefix, _title, colours, sizes, _prices in CATALOGUE:
            for n in range(1, 6):
                product = by_model[f"{prefix}{2600 + n * 7}"]
                batch = f"2026{rng.choice(['08', '09', '10', '11'])}{rng.choice('ABC')}"
                for ci, colour in enumerate(colours):
                    for size in sizes:
                        skus.append(
                            Sku(
                                product=product,
                                code=f"{product.model_no}-{ci + 1}{size}",
                                colour=colour,
                                size=size,
                                batch=batch,
                            )
                        )
        for sku in skus:
            sku.price = self._price(sku)
        Sku.objects.bulk_create(skus)

    def ensure_staff(self, password: str) -> None:
        groups = {g.name: g for g in Group.objects.all()}
        # One hash for the one demo password: hashing it is slow on purpose (about 0.25 s).
        hashed = make_password(password)
        self.agents_by_shop: dict[int, list[User]] = {shop.pk: [] for shop in self.shops}
        self.staff: dict[str, User] = {}
        shops_by_code = {s.code: s for s in self.shops}
        for username, family, given, role, shop_codes in STAFF:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "last_name": family,
                    "first_name": given,
                    "is_staff": role == Role.SUPERVISOR,
                    "all_shops": shop_codes is None,
                },
            )
            if created:
                user.password = hashed
                user.save()
                user.groups.add(groups[role.value])
                if shop_codes:
                    user.shops.set([shops_by_code[c] for c in shop_codes])
            if role == Role.AGENT:
                for shop in user.shops.all():
                    self.agents_by_shop.setdefault(shop.pk, []).append(user)
            self.staff[username] = user
            self.result.users.append(username)
        if not User.objects.filter(username="admin").exists():
            admin = User.objects.create_superuser(
                "admin", "admin@example.com", None, last_name="管理员"
            )
            admin.password = hashed
            admin.save(update_fields=["password"])
        self.result.users.append("admin")
        self.system_user = User.objects.get(username="supervisor")

    def _index_catalogue(self) -> None:
        """The catalogue as the generators read it: each SKU's facts, its price, the size an
        unfitting piece is exchanged for, and how many colours its product comes in."""
        self.sku_info = [
            _SkuInfo(
                pk=s.pk,
                product_id=s.product_id,
                title=s.product.title,
                code=s.code,
                colour=s.colour,
                size=s.size,
                price=self._price(s),
                list_price=s.price,
                batch=s.batch,
            )
            for s in self.skus
        ]
        self.sku_by_pk = {s.pk: s for s in self.sku_info}
        self.next_size = {s.pk: self._next_size(s) for s in self.skus}
        self.colours = {
            product_id: len({s.colour for s in skus})
            for product_id, skus in self.skus_by_product.items()
        }
        self.other_colour = {}
        for s in self.skus:
            others = [
                o
                for o in self.skus_by_product.get(s.product_id, [])
                if o.colour != s.colour and o.size == s.size
            ]
            self.other_colour[s.pk] = others[0].pk if others else s.pk

    # --- orders ---------------------------------------------------------------------
    def _price(self, sku: Sku) -> Decimal:
        for prefix, _t, _c, _s, (low, high) in CATALOGUE:
            if sku.product.model_no.startswith(prefix):
                # A stable price per model, ending in .00 or .90 like real listings.
                base = low + (int(sku.product.model_no[len(prefix) :]) * 37) % (high - low + 1)
                return money(base) - (Decimal("0.10") if base % 3 == 0 else 0)
        return money(99)

    def _receiver(self):
        rng = self.rng
        province, cities = rng.choice(GEOGRAPHY)
        city, districts = rng.choice(cities)
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        street, number = rng.choice(STREETS), rng.randrange(1, 999)
        address = f"{street}{number}号{rng.randrange(1, 30)}栋{rng.randrange(101, 2899)}室"
        return {
            "receiver_name": name,
            "receiver_phone": phone,
            "receiver_phone_tail": phone[-4:],
            "receiver_province": province,
            "receiver_city": city,
            "receiver_district": rng.choice(districts),
            "receiver_address": address,
            "receiver_postcode": f"{rng.randrange(100000, 860000):06d}",
        }

    def _nick(self) -> str:
        rng = self.rng
        return f"{rng.choice(NICK_WORDS)}{rng.choice(NICK_TAILS)}{rng.randrange(100)}"

    def _order(self, shop: Shop, order_id: int) -> tuple[dict, list[dict]]:
        """One order's row (id ``order_id``) and its items' rows (without ids yet)."""
        rng = self.rng
        self._order_serial += 1
        # 19-digit order numbers like the seller centre's; the serial keeps them unique.
        order_no = str(self.order_numbers.at(self._order_serial))
        # The status follows the order's age, as in a real shop: only the last days' orders
        # are still unpaid, waiting to ship or on the way; older ones are done.
        age = timedelta(minutes=rng.randrange(5, self.days * 24 * 60))
        status = next(choose for limit, choose in _STATUS_BY_AGE if age < limit)(rng)
        placed = self.now - age
        paid = (
            min(placed + timedelta(minutes=rng.randrange(1, 90)), self.now)
            if status != Order.Status.WAITING_PAYMENT
            else None
        )
        shipped = None
        if status in (Order.Status.SHIPPED, Order.Status.SUCCESS) and paid:
            # The warehouse ships in its working hours.
            shipped = within_hours(
                paid + timedelta(hours=rng.randrange(2, 60), minutes=rng.randrange(60)),
                WAREHOUSE_HOURS,
                rng,
            )
            shipped = min(shipped, self.now)
        lines = []
        for _ in range(_LINES(rng)):
            sku = rng.choice(self.sku_info)
            lines.append((sku, _QUANTITY(rng)))
        goods = sum((sku.price * qty for sku, qty in lines), Decimal("0"))
        discount = money(rng.choice((0, 0, 0, 5, 10, 20))) if goods > 50 else Decimal("0")
        postage = Decimal("0") if goods >= 99 else money(rng.choice((6, 8, 10, 12)))
        total = goods + postage
        paid_amount = total - discount if status != Order.Status.WAITING_PAYMENT else Decimal("0")
        courier = rng.choice(self.everyday_couriers)
        order = {
            **self._defaults[Order],
            "id": order_id,
            "shop_id": shop.pk,
            "order_no": order_no,
            # An Alipay trade number: the payment's date (yyyymmdd), then 20 digits.
            "alipay_no": f"{paid:%Y%m%d}2200{rng.randrange(10**15, 10**16)}" if paid else "",
            "buyer_nick": self._nick(),
            "buyer_alipay_account": f"{rng.randrange(10**5):05d}***@qq.com",
            "goods_amount": goods,
            "postage": postage,
            "total_amount": total,
            "paid_amount": paid_amount,
            "status": status,
            "placed_at": placed,
            "paid_at": paid,
            "ship_by": paid + timedelta(hours=48) if paid else None,
            "shipped_at": shipped,
            "receipt_extended_days": rng.choice((0,) * 9 + (3,))
            if status == Order.Status.SHIPPED
            else 0,
            "closed_reason": "买家取消订单" if status == Order.Status.CLOSED else "",
            "courier_id": courier.pk if shipped else None,
            "tracking_no": f"{courier.code.upper()}{rng.randrange(10**12):012d}" if shipped else "",
            "buyer_message": rng.choice(
                ("", "", "", "请尽快发货", "不要发韵达", "送人的，不要放发票")
            ),
            "flag": rng.choice(("",) * 12 + ("red", "yellow", "blue")),
            "created_at": placed,
            "updated_at": self.written_at,
            **self._receiver(),
        }
        if order["flag"]:
            order["flag_memo"] = rng.choice(
                ("仓库：缺货待补", "售后：已换货", "客服：买家要求改地址")
            )
        share = paid_amount / goods if goods else Decimal("0")
        items = [
            {
                "order_id": order_id,
                "sub_order_no": f"{order_no}{index + 1:02d}",
                "sku_id": sku.pk,
                "title": sku.title,
                "sku_code": sku.code,
                "colour": sku.colour,
                "size": sku.size,
                "unit_price": sku.price,
                "quantity": qty,
                "paid_amount": money(sku.price * qty * share),
            }
            for index, (sku, qty) in enumerate(lines)
        ]
        return order, items

    # --- tickets and money ----------------------------------------------------------
    def _ticket(self, order: dict, item: dict, ticket_id: int, item_id: int) -> tuple[dict, dict]:
        """A ticket's row (id ``ticket_id``) about ``order``'s first ``item``, and its ticket
        item's row (id ``item_id``). The ticket row also carries, under keys no column has,
        what the other tables' generators read: ``_statuses`` (its timeline) and ``_item``."""
        rng = self.rng
        kind = _TICKET_KIND(rng)
        if order["status"] in (Order.Status.PAID, Order.Status.CLOSED):
            kind = Ticket.Kind.REFUND_ONLY
        reason = rng.choice(REASONS_BY_KIND[kind])
        responsibility = RESPONSIBILITY_BY_REASON[reason]
        start = order["shipped_at"] or order["paid_at"] or order["placed_at"]
        opened = start + timedelta(hours=rng.randrange(1, 24 * 8))
        latest = self.now - timedelta(minutes=rng.randrange(1, 600))
        if opened > latest:
            # Asked for before the demo's end: any time since the order got this far (not all
            # at its last hours, which made "opened today" several days' worth).
            opened = start + (latest - start) * rng.random()
        opened = max(opened, order["placed_at"])
        # Agents open tickets in the desk's working day.
        in_hours = within_hours(opened, DESK_HOURS, rng)
        if in_hours <= latest:
            opened = in_hours
        path = _HAPPY_PATHS[kind]
        age_days = (self.now - opened).days
        # Older tickets are further along; a few are cancelled.
        cancelled = rng.random() < 0.03
        if cancelled:
            statuses = [Ticket.Status.OPEN, Ticket.Status.CANCELLED]
        else:
            steps = min(len(path), 1 + rng.randrange(0, len(path)) + max(age_days, 0) // 10)
            if age_days >= 10 and path[steps - 1] in _MOVING:
                # Refunded, compensated or shipped weeks ago: closed since, its clock stopped.
                steps = len(path)
            statuses = path[:steps]
        status = statuses[-1]
        agents = self.agents_by_shop.get(order["shop_id"]) or [self.system_user]
        assignee = (
            None if (status == Ticket.Status.OPEN and rng.random() < 0.4) else rng.choice(agents)
        )
        if self._near_due_left and assignee is not None and not cancelled:
            # Answered days ago and not moved since: its resolution falls due at the demo's
            # end, and the day's due-time check warns its agent.
            near = self._opened_near_due(reason)
            if near is not None and near >= start and kind != Ticket.Kind.EXCHANGE:
                opened, statuses, status = near, [Ticket.Status.OPEN], Ticket.Status.OPEN
                self._near_due_left -= 1
        first_due, resolution_due = sla_due_times(opened, reason, self.business_hours)
        responded = opened + timedelta(minutes=rng.randrange(1, 15)) if assignee else None
        # The moves take up to two days (a late ticket's up to four) once it is finished or
        # its money or goods have moved; an open ticket's are spread up to now.
        late = rng.random() < 0.1
        end = self.now
        if status in Ticket.FINISHED_STATUSES or status in _MOVING:
            end = opened + timedelta(hours=rng.randrange(2, 100 if late else 47))
            if end > self.now:
                end = opened + (self.now - opened) * rng.random()
        list_day = None
        queued_for = self._showcase_list(kind, opened, cancelled)
        if queued_for is not None:
            # Queued on the list's day, before its cut-off, after the return came back.
            statuses = path[: path.index(Ticket.Status.QUEUED_FOR_EXCHANGE) + 1]
            queued = datetime.combine(queued_for, time(9, 30), tzinfo=SHANGHAI) + timedelta(
                minutes=rng.randrange(0, 420)
            )
            moves = self._move_times(opened, queued - timedelta(hours=2), len(statuses) - 2)
            moves.append(max(queued, moves[-1] + timedelta(minutes=rng.randrange(10, 40))))
        elif Ticket.Status.QUEUED_FOR_EXCHANGE in statuses:
            # Only a list moves an exchange on from the queue (the 17:00 list after it was
            # queued): one queued since the cut-off before the demo's first list waits there
            # for the demo's lists (finance_exports.demo builds, signs and ships them); one
            # queued earlier went on that day's list, signed and shipped from the next day.
            statuses = statuses[: statuses.index(Ticket.Status.QUEUED_FOR_EXCHANGE) + 1]
            moves = self._move_times(opened, end, len(statuses) - 1)
            list_day = self._list_day(moves[-1])
            if list_day is not None:
                statuses = list(path)
                moves += self._list_moves(list_day)
        else:
            moves = self._move_times(opened, end, len(statuses) - 1)
        status = statuses[-1]
        resolved = next(
            (at for s, at in zip(statuses[1:], moves, strict=True) if s in _RESOLVING), None
        )
        opened_by = assignee or rng.choice(agents)
        ticket = {
            **self._defaults[Ticket],
            "id": ticket_id,
            "shop_id": order["shop_id"],
            "order_id": order["id"],
            "kind": kind,
            "reason": reason,
            "responsibility": responsibility,
            "status": status,
            "description": self._description(reason, item),
            "opened_by_id": opened_by.pk,
            "assignee_id": assignee.pk if assignee else None,
            "first_response_due": first_due,
            "first_responded_at": responded,
            "resolution_due": resolution_due,
            "resolved_at": resolved,
            "closed_at": moves[-1] if status in Ticket.FINISHED_STATUSES else None,
            "created_at": opened,
            "updated_at": self.written_at,
            "status_changed_at": moves[-1] if moves else opened,
            "_statuses": statuses,
            "_moves": moves,
            "_list_day": list_day,
            "_item": item,
            "_steps": [] if cancelled else statuses,
        }
        self._clock(ticket, statuses, moves)
        if kind in _COMES_BACK and len(statuses) > 2 and not cancelled:
            courier = rng.choice(self.everyday_couriers)
            ticket["return_courier_id"] = courier.pk
            number = self.return_numbers.at(ticket_id)
            ticket["return_tracking_no"] = f"{courier.code.upper()}{number}"
        if Ticket.Status.SHIPPED in statuses and kind in _GOODS_OUT:
            courier = rng.choice(self.everyday_couriers)
            number = self.outbound_numbers.at(ticket_id)
            ticket["outbound_tracking_no"] = f"{courier.code.upper()}{number}"
        ticket_item = {
            "id": item_id,
            "ticket_id": ticket_id,
            "order_item_id": item["id"],
            "quantity": rng.randrange(1, item["quantity"] + 1),
        }
        ticket["_quantity"] = ticket_item["quantity"]
        ticket["_ticket_item_id"] = item_id
        return ticket, ticket_item

    def _description(self, reason: str, item: dict) -> str:
        """The buyer's words for the reason; an unfitting piece of the largest size was too
        big, so the buyer wants one size down."""
        if reason == Ticket.Reason.NOT_SUITABLE and item["sku_id"] is not None:
            _size, larger = self.next_size[item["sku_id"]]
            if larger is None:
                colours = self.colours[self.sku_by_pk[item["sku_id"]].product_id]
                return "颜色和图片有差别，想换个颜色" if colours > 1 else "戴着不合适，想换一件"
            if not larger:
                return "尺码偏大，想换小一码"
        return DESCRIPTIONS[reason]

    def _next_size(self, sku: Sku) -> tuple[int, bool | None]:
        """The SKU (id) an unfitting piece is exchanged for, and whether it is larger: one
        size up, or one down from the largest size (the catalogue made each colour's sizes
        smallest first, so their ids are in order)."""
        sizes = sorted(
            (s for s in self.skus_by_product.get(sku.product_id, []) if s.colour == sku.colour),
            key=lambda s: s.pk,
        )
        at = next((i for i, s in enumerate(sizes) if s.pk == sku.pk), None)
        if at is None or len(sizes) < 2:
            return sku.pk, None  # one size only (均码)
        return (sizes[at + 1].pk, True) if at + 1 < len(sizes) else (sizes[at - 1].pk, False)

    def _replacement_rows(self, tickets: list[dict]):
        """What each demo exchange sends out, as its description says: the next size for an
        unfitting piece (see ``_next_size``), another colour of a one-size product; the same
        SKU again for a faulty or wrong one. One row per exchange ticket with a catalogue item."""
        for ticket in tickets:
            item = ticket["_item"]
            if ticket["kind"] != Ticket.Kind.EXCHANGE or not item["sku_id"]:
                continue
            wanted = item["sku_id"]
            if ticket["reason"] == Ticket.Reason.NOT_SUITABLE:
                wanted, larger = self.next_size[wanted]
                if larger is None:  # one size only: another colour
                    wanted = self.other_colour[item["sku_id"]]
            sku = self.sku_by_pk[item["sku_id"]]
            returned = sku.list_price if sku.list_price is not None else item["unit_price"]
            out = self.sku_by_pk[wanted]
            yield {
                "ticket_item_id": ticket["_ticket_item_id"],
                "sku_id": wanted,
                "quantity": ticket["_quantity"],
                "unit_price": out.list_price if out.list_price is not None else returned,
                "returned_unit_price": returned,
                "code": out.code,
                "title": out.title,
                "colour": out.colour,
                "size": out.size,
                "other_product": out.product_id != sku.product_id,
                "chosen_by_id": ticket["opened_by_id"],
                "chosen_at": ticket["created_at"],
            }

    def _clock(self, ticket: dict, statuses: list[str], moves: list) -> None:
        """The service-level clock as ``ticket_transition`` leaves it (tickets.sla): started at
        the opening, paused while awaiting the return parcel (still, or until the next move,
        the due times it found still ahead then moved forward by the business time paused,
        ``due_after_pause``)."""
        ticket["clock_started_at"] = ticket["created_at"]
        if Ticket.Status.AWAITING_RETURN not in statuses:
            return
        at = statuses.index(Ticket.Status.AWAITING_RETURN)
        paused_at = moves[at - 1]
        if at == len(statuses) - 1:
            ticket["paused_at"] = paused_at
            return
        hours = self.business_hours
        paused = business_time_between(paused_at, moves[at], hours)
        paused = timedelta(seconds=int(paused.total_seconds()))
        ticket["paused_seconds"] = int(paused.total_seconds())
        for due in ("first_response_due", "resolution_due"):
            ticket[due] = due_after_pause(ticket[due], paused_at, paused, hours)

    def _move_times(self, opened: datetime, end: datetime, count: int) -> list[datetime]:
        """When each of ``count`` moves after the opening was made: at irregular moments
        between ``opened`` and ``end`` (sorted draws), each in the desk's working day
        (``DESK_HOURS``: a move due at night was made the next morning), a few minutes after
        the one before at least, never after the demo's end."""
        rng = self.rng
        span = end - opened
        latest = self.now - timedelta(minutes=1)
        times, last = [], opened
        for fraction in sorted(rng.random() for _ in range(count)):
            at = within_hours(opened + span * fraction, DESK_HOURS, rng)
            at = max(at, last + timedelta(minutes=rng.randrange(3, 25), seconds=rng.randrange(60)))
            last = max(last, min(at, latest))
            times.append(last)
        return times

    def _showcase_list(self, kind: str, opened: datetime, cancelled: bool) -> date | None:
        """The demo list (business date) an exchange opened at ``opened`` is queued for to
        fill the list's ``LIST_SHOWCASE``, or None: an exchange opened a day or more before
        the list's morning, while some list still wants one."""
        if kind != Ticket.Kind.EXCHANGE or cancelled:
            return None
        for day, wanted in self._list_showcase.items():
            morning = datetime.combine(day, time(9), tzinfo=SHANGHAI)
            if wanted and opened < morning - timedelta(days=1) and morning < self.now:
                self._list_showcase[day] -= 1
                return day
        return None

    def _list_day(self, queued: datetime) -> date | None:
        """The business date of the exchange-goods list that claimed an exchange queued at
        ``queued``: the day's, before its cut-off, else the next day's. None when that is one
        of the demo's lists or a later one (the ticket waits in the queue)."""
        local = queued.astimezone(SHANGHAI)
        day = local.date() + timedelta(days=int(local.time() >= self.list_cutoff))
        return day if day < self.first_list_day else None

    def _list_moves(self, day: date) -> list[datetime]:
        """The moves the list of ``day`` made: claimed at its cut-off (on the list), shipped
        from the signed list the next working day, which closes the ticket at once
        (``exchange_line_ship``)."""
        rng = self.rng
        claimed = datetime.combine(day, self.list_cutoff, tzinfo=SHANGHAI) + timedelta(
            seconds=rng.randrange(2, 55)
        )
        shipped = datetime.combine(day + timedelta(days=1), time(10), tzinfo=SHANGHAI)
        shipped += timedelta(minutes=rng.randrange(0, 390), seconds=rng.randrange(60))
        return [claimed, shipped, shipped]

    def _opened_near_due(self, reason: str) -> datetime | None:
        """The latest opening whose resolution falls due within the due-time warning's reach
        of the demo's end (DESK_SLA_WARNING_MINUTES, less five minutes), so the day's check
        warns about it; None when no due time falls there (the demo ends outside the desk's
        business hours)."""
        target = self.now + timedelta(minutes=max(settings.DESK_SLA_WARNING_MINUTES - 5, 1))
        low, high = self.now - timedelta(days=14), self.now
        for _ in range(30):
            middle = low + (high - low) / 2
            if sla_due_times(middle, reason, self.business_hours)[1] <= target:
                low = middle
            else:
                high = middle
        low = low.replace(microsecond=0)
        due = sla_due_times(low, reason, self.business_hours)[1]
        return low if self.now < due <= target else None

    def _event_rows(self, tickets: list[dict]):
        """Each ticket's timeline: opened, the return's tracking number, every status move."""
        base = self._defaults[TicketEvent]
        for ticket in tickets:
            opened_by = ticket["opened_by_id"]
            yield {
                **base,
                "ticket_id": ticket["id"],
                "actor_id": opened_by,
                "kind": TicketEvent.Kind.OPENED,
                "to_status": Ticket.Status.OPEN,
                "message": ticket["description"],
                "created_at": ticket["created_at"],
            }
            statuses = ticket["_statuses"]
            if ticket["return_tracking_no"]:
                # Entered with the move to "awaiting return" (ticket_transition's tracking_no).
                yield {
                    **base,
                    "ticket_id": ticket["id"],
                    "actor_id": ticket["assignee_id"] or opened_by,
                    "kind": TicketEvent.Kind.TRACKING,
                    **demo_line(
                        "tracking_set", no=ticket["return_tracking_no"], before="", note=""
                    ),
                    "created_at": ticket["_moves"][0],
                }
            agent = ticket["assignee_id"] or opened_by
            day = ticket["_list_day"]
            for (before, after), at in zip(pairwise(statuses), ticket["_moves"], strict=True):
                actor, line = agent, {}
                if after == Ticket.Status.RECEIVED and ticket["return_tracking_no"]:
                    # The agent who unpacked the parcel (parcel_unpack's note).
                    line = demo_line("parcel_unpacked", no=ticket["return_tracking_no"])
                elif after == Ticket.Status.ON_EXCHANGE_LIST:
                    actor, line = None, demo_line("exchange_list_added", date=day.isoformat())
                elif day is not None and after == Ticket.Status.SHIPPED:
                    # Shipped from the signed list by the supervisor (exchange_line_ship).
                    actor = self.system_user.pk
                    line = demo_line("exchange_list_shipped", date=day.isoformat())
                elif day is not None and after == Ticket.Status.CLOSED:
                    actor = self.system_user.pk
                yield {
                    **base,
                    "ticket_id": ticket["id"],
                    "actor_id": actor,
                    "kind": TicketEvent.Kind.STATUS,
                    "from_status": before,
                    "to_status": after,
                    **line,
                    "created_at": at,
                }

    def _parcel_rows(self, tickets: list[dict]):
        """The returned parcel of each ticket that says it was received, unpacked (and
        matched to the ticket by its tracking number) by the agent whose move it was, when
        the ticket moved to "received"."""
        base = self._defaults[ReturnParcel]
        for ticket in tickets:
            statuses = ticket["_statuses"]
            if not ticket["return_tracking_no"] or Ticket.Status.RECEIVED not in statuses:
                continue
            at = ticket["_moves"][statuses.index(Ticket.Status.RECEIVED) - 1]
            agent = ticket["assignee_id"] or ticket["opened_by_id"]
            item = ticket["_item"]
            goods = f"{item['title']} {item['colour']}/{item['size']}"
            yield {
                **base,
                "tracking_no": ticket["return_tracking_no"],
                "courier_id": ticket["return_courier_id"],
                "shop_id": ticket["shop_id"],
                "order_id": ticket["order_id"],
                "ticket_id": ticket["id"],
                "condition": ReturnParcel.Condition.INTACT,
                "contents": f"{goods} ×{ticket['_quantity']}",
                "received_by_id": agent,
                "matched_by_id": agent,
                "matched_at": at,
                "created_at": at,
                "updated_at": at,
            }

    def _ledger_rows(self, tickets: list[dict]):
        """The money each ticket moved: its refund, the seller's return postage, a
        compensation, as far as the ticket has come."""
        rng = self.rng
        base = self._defaults[LedgerEntry]
        for ticket in tickets:
            item = ticket["_item"]
            at = (ticket["resolved_at"] or ticket["created_at"]) + timedelta(
                minutes=rng.randrange(1, 120)
            )
            common = {
                **base,
                "shop_id": ticket["shop_id"],
                "order_id": ticket["order_id"],
                "ticket_id": ticket["id"],
                "recorded_by_id": ticket["assignee_id"] or ticket["opened_by_id"],
                "recorded_at": min(at, self.now),
            }
            reached = ticket["_steps"]
            if Ticket.Status.REFUNDED in reached:
                amount = money(item["paid_amount"] * ticket["_quantity"] / item["quantity"])
                if amount > 0:
                    yield {
                        **common,
                        "kind": LedgerEntry.Kind.REFUND,
                        "amount": amount,
                        "payment_method": LedgerEntry.PaymentMethod.PLATFORM_REFUND,
                        "note": "退款",
                    }
            if (
                ticket["responsibility"] == Ticket.Responsibility.SELLER
                and ticket["kind"] in _COMES_BACK
                and Ticket.Status.RECEIVED in reached
            ):
                yield {
                    **common,
                    "kind": LedgerEntry.Kind.POSTAGE,
                    "amount": money(rng.choice((8, 10, 12, 15))),
                    "payment_method": LedgerEntry.PaymentMethod.ALIPAY_TRANSFER,
                    "note": "退回邮费",
                }
            if Ticket.Status.COMPENSATED in reached:
                amount = money(rng.choice((5, 10, 20, 30)))
                method = rng.choice(
                    (
                        LedgerEntry.PaymentMethod.ALIPAY_TRANSFER,
                        LedgerEntry.PaymentMethod.RED_PACKET,
                        LedgerEntry.PaymentMethod.COUPON,
                    )
                )
                yield {
                    **common,
                    "kind": LedgerEntry.Kind.COMPENSATION,
                    "amount": amount,
                    "payment_method": method,
                    "note": "补偿",
                }

    # --- the build ------------------------------------------------------------------
    def build(self, password: str) -> DemoResult:
        started = clock.perf_counter()
        with transaction.atomic():
            self.ensure_reference_data()
            self.ensure_staff(password)
        self._index_catalogue()
        self.registers = RegisterRows(self, self.seed)
        # Order numbers continue after any orders already there, so a second run adds.
        self._order_serial = Order.objects.count()
        if self._order_serial == 0 and connection.vendor == "postgresql":
            # Into empty tables: one transaction, indexes and checks once after the rows.
            with transaction.atomic(), deferred_upkeep(LOADED_MODELS):
                self._build_batches(atomic=False)
        else:
            self._build_batches(atomic=True)
        with transaction.atomic():
            self._build_alerts()
            self._build_parcels()
        self.result.registers.update(self.registers.counts)
        seconds = self.result.seconds
        seconds["orders, tickets, registers"] = clock.perf_counter() - started
        # The day's desk, through the services: escalations, approvals, notifications.
        started = clock.perf_counter()
        self.result.registers.update(demo_desk_today(self))
        seconds["the day's desk"] = clock.perf_counter() - started
        # The other apps add theirs (finance_exports: the sheets, signed and downloaded).
        started = clock.perf_counter()
        for _receiver, added in demo_seeded.send(
            sender=DemoBuilder, now=self.now, seed=self.seed, users=self.staff
        ):
            self.result.registers.update(added or {})
        seconds["the other apps' part (sheets)"] = clock.perf_counter() - started
        return self.result

    def _build_batches(self, *, atomic: bool) -> None:
        """Every batch of orders with their tickets; ``atomic``: each in its own transaction."""
        tickets_left = self.ticket_count
        orders_left = self.order_count
        while orders_left > 0:
            size = min(self.batch_size, orders_left)
            # Tickets spread evenly over the batches.
            quota = round(tickets_left * size / orders_left)
            if atomic:
                with transaction.atomic():
                    self._build_batch(size, quota)
            else:
                self._build_batch(size, quota)
            reset_queries()  # with DEBUG on, Django keeps every query's SQL otherwise
            orders_left -= size
            tickets_left -= quota

    def _build_batch(self, size: int, ticket_quota: int) -> None:
        """``size`` orders with their items, and ``ticket_quota`` tickets on them (an order
        may get several when there are more tickets than orders) with their items, timelines,
        exchange lines and money."""
        rng = self.rng
        first_order = reserve_ids(Order, size)
        pairs = [self._order(rng.choice(self.shops), first_order + n) for n in range(size)]
        items = [item for _order, order_items in pairs for item in order_items]
        first_item = reserve_ids(OrderItem, len(items))
        for n, item in enumerate(items):
            item["id"] = first_item + n
        insert_rows(Order, (order for order, _items in pairs), with_pk=True)
        insert_rows(OrderItem, items, with_pk=True)
        self.result.orders += size
        self.result.items += len(items)

        eligible = [pair for pair in pairs if pair[0]["status"] != Order.Status.WAITING_PAYMENT]
        tickets = []
        if eligible and ticket_quota > 0:
            tickets = self._build_tickets(eligible, ticket_quota)
        self.registers.batch(pairs, tickets)

    def _build_tickets(self, eligible: list, ticket_quota: int) -> list[dict]:
        """``ticket_quota`` tickets on the ``eligible`` orders (an order may get several when
        there are more tickets than orders), written with their items, timelines, exchange
        lines and money; returns the tickets' rows."""
        rng = self.rng
        chosen = (
            [rng.choice(eligible) for _ in range(ticket_quota)]
            if ticket_quota > len(eligible)
            else rng.sample(eligible, ticket_quota)
        )
        first_ticket = reserve_ids(Ticket, len(chosen))
        first_ticket_item = reserve_ids(TicketItem, len(chosen))
        built = [
            self._ticket(order, order_items[0], first_ticket + n, first_ticket_item + n)
            for n, (order, order_items) in enumerate(chosen)
        ]
        tickets = [ticket for ticket, _item in built]
        insert_rows(Ticket, tickets, with_pk=True)
        insert_rows(TicketItem, (ticket_item for _ticket, ticket_item in built), with_pk=True)
        insert_rows(ExchangeReplacement, self._replacement_rows(tickets))
        insert_rows(TicketEvent, self._event_rows(tickets))
        self.result.registers["returned parcels"] = self.result.registers.get(
            "returned parcels", 0
        ) + insert_rows(ReturnParcel, self._parcel_rows(tickets))
        self.result.ledger += insert_rows(LedgerEntry, self._ledger_rows(tickets))
        self.result.tickets += len(tickets)
        return tickets

    def _build_alerts(self) -> None:
        """The production alerts the seed's quality complaints raised (their rule needs every
        complaint of a SKU and batch, whatever batch of orders it came with)."""
        already_open = set(
            ProductionAlert.objects.filter(sent_at__isnull=True).values_list("sku_id", "batch")
        )
        alerts = self.registers.production_alerts(self.system_user.pk, already_open)
        self.registers.counts["production alerts"] = insert_rows(ProductionAlert, alerts)

    def _build_parcels(self) -> None:
        """A few parcels unpacked today that match no ticket or order yet (拆件登记,
        unknown): each with what the warehouse found in it, unpacked by an agent in the
        morning's working hours before the demo's end (the matched ones come with their
        tickets, ``_parcel_rows``)."""
        rng = self.rng
        agents = [user for user in self.staff.values() if user.username.startswith("agent")]
        day = self.now.date()
        opening = datetime.combine(day, DESK_HOURS[0], tzinfo=SHANGHAI)
        if self.now - opening < timedelta(hours=1):
            opening -= timedelta(days=1)  # before the morning's work: yesterday's
        parcels = []
        for n, (contents, note) in enumerate(rng.sample(UNMATCHED_CONTENTS, 4)):
            courier = rng.choice(self.everyday_couriers)
            latest = min(self.now, opening + timedelta(hours=8)) - timedelta(minutes=5)
            at = opening + (latest - opening) * rng.random()
            parcels.append(
                ReturnParcel(
                    tracking_no=f"{courier.code.upper()}{rng.randrange(10**12, 10**13)}{n}",
                    courier=courier,
                    condition=rng.choice(
                        (ReturnParcel.Condition.INTACT,) * 3 + (ReturnParcel.Condition.DAMAGED,)
                    ),
                    contents=contents,
                    buyer_note=note,
                    received_by=rng.choice(agents or [self.system_user]),
                    created_at=at,
                )
            )
        ReturnParcel.objects.bulk_create(parcels, ignore_conflicts=True)


def build_demo(
    *,
    seed: int = 2026,
    orders: int = 12000,
    tickets: int | None = None,
    today: date | None = None,
    days: int = 60,
    password: str | None = None,
) -> DemoResult:
    """Seeds the demo: ``orders`` orders over the ``days`` before the demo's end, ``tickets``
    tickets (4 % of the orders by default), the registers at their share of the orders
    (``tickets.demo_registers``), the day's escalations and notifications, and what the other
    apps add (``tickets.signals.demo_seeded``). The demo ends at 15:30 (DAY_ENDS_AT) on
    ``today`` when it is given, so the same ``seed`` and ``today`` give the same data;
    without it, now (to the minute): nothing is dated in the future of the desk it fills.
    Returns the counts of what was written."""
    now = None
    if today is None:
        now = timezone.localtime().replace(second=0, microsecond=0)
        today = now.date()
    builder = DemoBuilder(
        seed=seed, orders=orders, tickets=tickets, today=today, days=days, now=now
    )
    return builder.build(password or settings.DESK_DEMO_PASSWORD)
