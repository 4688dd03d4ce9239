"""The demo's registers (登记簿): reviews with their contacts and compensation, courier-loss
reports, quality problems and production alerts, buyers' feedback, wrong shipments, platform
interventions, invoice requests, night handover items and VIPs with their monthly calls.

They scale with the orders, as the desk's own volumes do (DOMAIN.md "Volumes to design for":
a few hundred reviews a day for 8,000-10,000 parcels): each batch of orders gets its share
(``RATES``, per order of the batch), drawn from the batch's own orders and tickets, so a
review is of an order that succeeded, a quality problem of a quality ticket's SKU, a loss
report of a shipped parcel, and every time follows the order's and the ticket's. The rows are
plain dicts written with the orders (``tickets.imports.bulk.insert_rows``: COPY on
PostgreSQL), never one save per row. A small seed still shows every register: each has a
minimum for the whole seed (``MINIMUMS``), and the first batch gives its first rows the ages
that put them in every status (``SHOWCASE``: a review just made, one an hour late, one at
the harassment guard's limit, a loss report at each step, an intervention whose evidence is
due within a day and one past its deadline ...). A status always follows the row's age, as it
would at a real desk.

The draws come from a random stream of their own (seeded from the demo's seed), so the
orders, tickets and money of a seed are the same as without the registers.
"""

import random
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from math import ceil, gcd

from django.conf import settings

from .imports.bulk import insert_rows, reserve_ids, row_defaults
from .models import (
    CourierLossReport,
    HandoverNote,
    InvoiceRequest,
    LedgerEntry,
    Order,
    PlatformIntervention,
    ProductFeedback,
    ProductionAlert,
    QualityProblem,
    Review,
    ReviewContact,
    Ticket,
    VipCustomer,
    VipFollowUp,
    WrongShipment,
)
from .money import CENT
from .selectors_registers import first_of_month, vip_follow_ups_due_month

# The register tables a seed fills batch by batch (with the orders; ``tickets.demo``).
REGISTER_MODELS = (
    Review,
    ReviewContact,
    CourierLossReport,
    QualityProblem,
    ProductFeedback,
    WrongShipment,
    PlatformIntervention,
    InvoiceRequest,
    HandoverNote,
    VipCustomer,
    VipFollowUp,
)

# Rows per order of a batch: about 150 reviews, 10 lost parcels, 30 quality complaints, 60
# invoice requests a day at 10,000 parcels.
RATES = {
    "reviews": 0.015,
    "losses": 0.001,
    "quality": 0.003,
    "feedback": 0.0015,
    "wrong": 0.002,
    "interventions": 0.001,
    "invoices": 0.006,
    "handover": 0.003,
    "vips": 0.0005,
}
# Rows of each register in the whole seed, however small (spread over the batches), but at
# most one order in twenty: from 600 orders on, each register gets its whole minimum.
MINIMUM_SHARE = 0.05
MINIMUMS = {
    "reviews": 30,
    "losses": 8,
    "quality": 10,
    "feedback": 5,
    "wrong": 6,
    "interventions": 8,
    "invoices": 12,
    "handover": 12,
    "vips": 12,
}

H = timedelta(hours=1)
D = timedelta(days=1)
S = Ticket.Status
R = Ticket.Reason
RO = Review.Outcome
LS = CourierLossReport.Status
IO = PlatformIntervention.Outcome

# --- what people write ------------------------------------------------------------------
REVIEW_TEXTS = {
    Review.Rating.NEUTRAL: [
        "衣服还行，就是有点色差",
        "物流有点慢，东西一般般",
        "尺码偏小一码，建议买大一号",
        "质量对得起这个价格，没有惊喜",
        "包装有点简陋，衣服有褶皱",
        "客服回复太慢了",
    ],
    Review.Rating.NEGATIVE: [
        "穿了一次就开线了，质量太差",
        "发错颜色了，换货还要自己垫运费",
        "和图片差别很大，不推荐购买",
        "快递包装破了，衣服上有污渍",
        "洗了一次就缩水褪色",
        "有很大的异味，晾了三天还有",
    ],
}
REVIEW_CONTACT_RESULTS = {
    "first": ["电话接通，买家说明了不满意的地方", "旺旺留言，买家已读", "发短信致歉并说明处理办法"],
    RO.REVISED: ["买家同意修改评价", "补偿到账后买家已改为好评"],
    RO.EXPLAINED: ["已解释尺码和色差问题，买家表示理解", "已在评价下作出解释"],
    RO.REFUSED: ["买家拒绝修改，态度坚决", "买家不接受补偿，不愿修改"],
    RO.NO_ANSWER: ["电话未接通", "旺旺未回复"],
    RO.PENDING: ["买家在忙，约晚上再联系", "买家说考虑一下"],
}
BUYER_NOTES = [
    "性子急，先打电话，不要只发旺旺",
    "讲道理，解释清楚就愿意改",
    "比较在意补偿金额",
    "晚上八点后联系比较方便",
    "老顾客，之前买过好几次",
    "不喜欢被打扰，联系一次就好",
]
QUALITY_DESCRIPTIONS = {
    "stitching": "袖口开线约 3 厘米",
    "fabric": "面料起球严重，穿一次就起",
    "colour": "洗后褪色，染到了其他衣服",
    "size": "实际尺码比吊牌小一码",
    "hardware": "拉链拉不上，拉头脱落",
    "stain": "领口有一块黄色污渍",
    "smell": "拆开有刺鼻气味",
    "other": "纽扣松动，缝线不牢",
}
QUALITY_TYPES = [
    ("stitching", 25),
    ("fabric", 20),
    ("colour", 15),
    ("size", 10),
    ("hardware", 10),
    ("stain", 8),
    ("smell", 5),
    ("other", 7),
]
FEEDBACK_TEXTS = {
    ProductFeedback.Topic.SIZE: [
        "买家说平时穿 M，这款 M 偏小，建议详情页提示拍大一码",
        "腰围偏大，裤长正好",
        "肩宽偏窄，胳膊抬不起来",
    ],
    ProductFeedback.Topic.COLOUR: [
        "实物颜色比图片深，买家以为是黑色",
        "米白偏黄，和模特图不一样",
    ],
    ProductFeedback.Topic.STYLE: [
        "领口比图片大，买家不喜欢",
        "版型偏宽松，个子小的买家穿着显大",
    ],
}
PACKERS = ["仓库-周敏", "仓库-吴刚", "仓库-郑丽", "仓库-冯涛", "仓库-何平"]
INTERVENTION_REASONS = [
    "买家申请退款，商家拒绝后买家要求客服介入",
    "买家称商品与描述不符",
    "退货物流显示签收，买家称商家未退款",
    "买家称未收到货，物流显示已签收",
    "买家称收到的商品有质量问题",
]
INTERVENTION_EVIDENCE = [
    "已上传发货底单和物流签收截图",
    "已上传质检报告和出库照片",
    "已上传聊天记录，买家曾同意换货",
    "已上传退件拆包视频，包裹内少一件",
]
INVOICE_COMPANIES = [
    "武汉光谷云帆科技有限公司",
    "上海嘉禾贸易有限公司",
    "杭州青禾文化传媒有限公司",
    "南京栖霞建设工程有限公司",
    "深圳前海星河网络有限公司",
    "成都锦城餐饮管理有限公司",
]
INVOICE_DECLINE = "个人集市店铺暂不提供发票，已向买家说明并致歉"
HANDOVER_NOTES = [
    "买家晚上 11 点要求改地址，已备注，早班请跟进发货",
    "破损件买家拍照了，等早班确认是否补发",
    "物流显示签收但买家说没收到，需联系快递",
    "买家要求开发票，抬头已发旺旺",
    "买家催退款，退件已签收，待拆件",
    "换货买家想改成 L 码，请早班改换出商品",
    "差评买家约了明早 10 点电话",
]
HANDOVER_HANDLED = [
    "已联系快递，明天派送",
    "已补发，运单号已填",
    "已退款，旺旺告知买家",
    "已改地址并通知仓库",
    "已回复买家，等买家确认",
]
VIP_NOTES = [
    "每年换季都会回购，喜欢连衣裙",
    "偏好顺丰，介意包装",
    "经常推荐朋友来买",
    "生日在 5 月，可送小礼物",
    "只买新款，对面料要求高",
]
VIP_CALL_NOTES = [
    "回访满意，问了新款上市时间",
    "买家在外地，聊了几句，反馈上次尺码偏大",
    "告知会员活动，买家说会来看看",
    "买家对上次换货很满意",
]
# Buyers on the VIP lists who have no order in the desk (found by the search all the same).
VIPS_WITHOUT_ORDERS = ["星星点灯的衣柜", "老顾客王姐"]

# --- the first batch's rows that put each register in every status -----------------------
# Reviews: (hours since it was made, outcome, assigned, contacts).
REVIEW_SHOWCASE = [
    (0.4, RO.PENDING, False, 0),  # just found, not yet late
    (2.5, RO.PENDING, False, 0),  # an hour past due and still nobody's: late
    (3.0, RO.PENDING, True, 0),
    (5.0, RO.PENDING, True, 1),
    (30.0, RO.PENDING, True, 2),
    (52.0, RO.PENDING, True, 3),  # at the harassment guard's limit: a fourth is refused
    (75.0, RO.REVISED, True, 2),
    (100.0, RO.EXPLAINED, True, 1),
    (130.0, RO.REFUSED, True, 2),
    (160.0, RO.NO_ANSWER, True, 2),
    (200.0, RO.REVISED, True, 1),
]
# Loss reports, days since they were written: one at each step.
LOSS_SHOWCASE = [(0.25, LS.DRAFTED), (2, LS.HANDED), (9, LS.ACCEPTED), (12, LS.REJECTED)]
LOSS_SHOWCASE += [(45, LS.SETTLED)]
# Interventions, days since they were registered (the evidence is due 3 days after): two open
# and due within two days (one within a day), one past its deadline, three decided.
INTERVENTION_SHOWCASE = [(0.5, IO.PENDING), (2.3, IO.PENDING), (3.6, IO.PENDING)]
INTERVENTION_SHOWCASE += [(10, IO.WON), (16, IO.LOST), (25, IO.WITHDRAWN)]
EVIDENCE_DAYS = 3
# When an agent calls a buyer about a review (Beijing time).
CALLS_FROM, CALLS_UNTIL = time(9), time(22)
# Invoice requests (hours ago, of a Tmall store?): two since the last ten-day batch, then one
# every four days for four weeks, so each of the last two batches (1st, 11th, 21st) finance
# builds has at least two, whatever the day (finance_exports.demo issues and posts them).
INVOICE_SHOWCASE = [(5, True), (28, False)] + [(96 * n, n % 2 == 0) for n in range(1, 8)]
# A production alert raised in the last two days is still waiting for a supervisor.
ALERT_SENT_AFTER = timedelta(hours=48)
# Complaints about one SKU and batch close together: (problem, hours ago of each). The first
# raises an alert that is still open, the second one that was sent three weeks ago.
ALERT_CLUSTERS = [("stitching", (44, 21, 2.5)), ("colour", (530, 505, 490))]


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT)


class UniqueNumbers:
    """Numbers of ``digits`` digits, the first never 0, that look drawn at random yet never
    repeat: ``at(n)`` maps the serial ``n`` (an id, a running count) through an affine
    permutation of the ``9 * 10**(digits-1)`` such numbers, whose offset comes from ``rng``
    (the seed's stream) and whose step is prime to the span and far from 1, so neighbouring
    serials share no digits. Two serials under the span never give the same number."""

    def __init__(self, rng: random.Random, digits: int):
        self.low = 10 ** (digits - 1)
        self.span = 9 * self.low
        step = int(self.span * 0.6180339887) + rng.randrange(1000)
        while gcd(step, self.span) != 1:
            step += 1
        self.step = step
        self.offset = rng.randrange(self.span)

    def at(self, serial: int) -> int:
        return self.low + (serial * self.step + self.offset) % self.span


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


@dataclass
class _Complaint:
    """A quality complaint as the production-alert rule counts it."""

    at: datetime
    sku_id: int
    batch: str


class RegisterRows:
    """Draws and writes the registers' rows, one batch of orders at a time (``batch``), then
    what needs the whole seed (``production_alerts``, which ``DemoBuilder`` writes after the
    batches). ``demo`` is the ``tickets.demo.DemoBuilder`` whose orders, tickets, staff and
    catalogue they follow; ``seed`` seeds the registers' own random stream."""

    def __init__(self, demo, seed: int):
        self.demo = demo
        self.rng = random.Random(f"{seed}-registers")
        self.case_numbers = UniqueNumbers(random.Random(f"{seed}-cases"), 18)
        self.now = demo.now
        self.counts: dict[str, int] = defaultdict(int)
        self.defaults = {
            model: row_defaults(model) for model in (*REGISTER_MODELS, ProductionAlert, LedgerEntry)
        }
        self.shops = {shop.pk: shop for shop in demo.shops}
        self.complaints: list[_Complaint] = []
        self.contacts_by_nick: dict[str, list[datetime]] = defaultdict(list)
        # One loss report per parcel and one VIP per shop and buyer, with a desk seeded before.
        self.loss_parcels = set(CourierLossReport.objects.values_list("courier_id", "tracking_no"))
        self.vip_keys = set(VipCustomer.objects.values_list("shop_id", "buyer_nick"))
        self.vip_load: dict[int, int] = defaultdict(int)
        self.first = True
        # The first batch's showcase rows are in the shops of the demo's "agent", so the first
        # login sees them on the dashboard and in the inbox.
        agent = demo.staff.get("agent")
        self.shown_shops = set(agent.shops.values_list("pk", flat=True)) if agent else set()

    # --- shared helpers --------------------------------------------------------------
    def _quota(self, name: str, size: int) -> int:
        """The batch's share of a register: its rate of the batch's orders, at least its
        part of the register's minimum for the whole seed; a tiny seed's minimum is at most
        ``MINIMUM_SHARE`` of its orders, so they are not all under review."""
        orders = max(self.demo.order_count, 1)
        minimum = min(MINIMUMS[name], ceil(orders * MINIMUM_SHARE))
        return max(round(size * RATES[name]), ceil(minimum * size / orders))

    def _agent(self, shop_id: int):
        agents = self.demo.agents_by_shop.get(shop_id) or [self.demo.system_user]
        return self.rng.choice(agents)

    def _worker(self, ticket: dict | None, shop_id: int) -> int:
        """Who works a register row of ``ticket`` (its assignee, else its opener), or an agent
        of the shop."""
        if ticket is not None:
            return ticket["assignee_id"] or ticket["opened_by_id"]
        return self._agent(shop_id).pk

    def _by_now(self, at: datetime, since: datetime, slack_minutes: int = 10) -> datetime:
        """``at``, or when that is after the demo's end (less ``slack_minutes``) a time
        between ``since`` and the end: what had not happened by then happened some time
        after ``since``, not all in the last minutes (which would make "today" hold several
        days' worth)."""
        latest = self.now - timedelta(minutes=slack_minutes)
        if at <= latest:
            return at
        if since >= latest:
            return latest
        return since + (latest - since) * self.rng.random()

    def _daytime(self, at: datetime) -> datetime:
        """``at``, or the next 09:00-09:40 when it falls at night: nobody calls a buyer about
        a review between 22:00 and 09:00 (Beijing time)."""
        local = at.astimezone(self.now.tzinfo)
        if CALLS_FROM <= local.time() < CALLS_UNTIL:
            return at
        day = local.date() if local.time() < CALLS_FROM else local.date() + D
        start = datetime.combine(day, CALLS_FROM, tzinfo=self.now.tzinfo)
        return start + timedelta(minutes=self.rng.randrange(0, 40))

    def _pick(self, candidates: list, count: int, used: set) -> list:
        if count <= 0:
            return []
        free = [c for c in candidates if id(c) not in used]
        chosen = self.rng.sample(free, min(count, len(free)))
        used.update(id(c) for c in chosen)
        return chosen

    def _shown(self, candidates: list, shop_of=lambda row: row["shop_id"]) -> list:
        """The candidates in the showcase's shops, or all when none is."""
        mine = [c for c in candidates if shop_of(c) in self.shown_shops]
        return mine or candidates

    @staticmethod
    def _fitting(candidates: list, key, latest: datetime, used: set):
        """The candidate whose ``key`` time is the latest at or before ``latest`` and not
        used yet (``candidates`` sorted by that time, newest first), or None."""
        for candidate in candidates:
            if id(candidate) not in used and key(candidate) <= latest:
                used.add(id(candidate))
                return candidate
        return None

    def _row(self, model, **values) -> dict:
        row = {**self.defaults[model], **values}
        if "updated_at" in self.defaults[model]:
            row["updated_at"] = self.demo.written_at
        return row

    # --- the batch ---------------------------------------------------------------------
    def batch(self, pairs: list[tuple[dict, list[dict]]], tickets: list[dict]) -> None:
        """Writes the registers' share of one batch of orders (``pairs``: each order's row and
        its items' rows, as ``DemoBuilder`` wrote them) and of its ``tickets``."""
        size = len(pairs)
        tickets_of = defaultdict(list)
        for ticket in tickets:
            tickets_of[ticket["order_id"]].append(ticket)
        self._reviews(pairs, size)
        self._losses(pairs, tickets_of, size)
        self._quality(pairs, tickets, size)
        self._feedback(tickets, size)
        self._wrong_shipments(pairs, tickets, size)
        self._interventions(pairs, tickets, size)
        self._invoices(pairs, size)
        self._handover(pairs, tickets, size)
        self._vips(pairs, size)
        self.first = False

    # --- reviews (中差评) ----------------------------------------------------------------
    def _reviews(self, pairs, size: int) -> None:
        rng, now = self.rng, self.now
        done = [o for o, _i in pairs if o["status"] == Order.Status.SUCCESS and o["shipped_at"]]
        quota = min(self._quota("reviews", size), len(done))
        used: set = set()
        plans = []
        if self.first:
            newest = sorted(self._shown(done), key=lambda o: o["shipped_at"], reverse=True)
            for hours, outcome, assigned, contacts in REVIEW_SHOWCASE[:quota]:
                made = now - timedelta(hours=hours)
                order = self._fitting(newest, lambda o: o["shipped_at"], made - D, used)
                if order is not None:
                    plans.append((order, made, (outcome, assigned, contacts)))
        for order in self._pick(done, quota - len(plans), used):
            made = order["shipped_at"] + timedelta(minutes=rng.randrange(2 * 1440, 15 * 1440))
            plans.append((order, self._by_now(made, order["shipped_at"] + D, 20), None))
        if not plans:
            return
        first_id = reserve_ids(Review, len(plans))
        reviews, contacts, money_rows = [], [], []
        for n, (order, made, shown) in enumerate(plans):
            review_id = first_id + n
            review, review_contacts, entries = self._review(review_id, order, made, shown)
            reviews.append(review)
            contacts += review_contacts
            money_rows += entries
        insert_rows(Review, reviews, with_pk=True)
        insert_rows(ReviewContact, contacts)
        insert_rows(LedgerEntry, money_rows)
        self.counts["reviews"] += len(reviews)
        self.counts["review contacts"] += len(contacts)
        self.demo.result.ledger += len(money_rows)

    def _review_plan(self, age_hours: float) -> tuple[str, bool, int]:
        """(outcome, assigned, contacts) of a review made ``age_hours`` ago: a new one waits
        to be assigned, the last days' are being followed, older ones have an outcome."""
        rng = self.rng
        if age_hours < 1:
            return RO.PENDING, rng.random() < 0.5, 0
        if age_hours < 8:
            return RO.PENDING, rng.random() < 0.9, rng.choice((0, 1))
        if age_hours < 72 and rng.random() < 0.5:
            return RO.PENDING, True, rng.choice((1, 2))
        outcome = _weighted(
            rng, [(RO.REVISED, 50), (RO.EXPLAINED, 20), (RO.REFUSED, 12), (RO.NO_ANSWER, 18)]
        )
        return outcome, True, rng.choice((1, 2, 2, 3))

    def _contact_allowed(self, nick: str, at: datetime, pending: bool) -> bool:
        """The harassment guard the desk holds the agents to (``contact_refusal``), held by
        the demo's contacts too: never more than two with one buyer within 24 hours, never
        more than three about the buyer's reviews still followed."""
        times = self.contacts_by_nick[nick]
        if sum(1 for t in times if abs(t - at) < D) >= 1:
            return False
        return not (pending and len(times) >= 3)

    def _review(self, review_id: int, order: dict, made: datetime, shown):
        rng, now = self.rng, self.now
        age_hours = (now - made).total_seconds() / 3600
        outcome, assigned, wanted = shown or self._review_plan(age_hours)
        rating = Review.Rating.NEGATIVE if rng.random() < 0.4 else Review.Rating.NEUTRAL
        shop_id = order["shop_id"]
        registered = min(made + timedelta(minutes=rng.randrange(5, 40)), now - H / 6)
        registered = max(registered, made)
        agent = self._agent(shop_id).pk
        assigned_at = registered + timedelta(minutes=rng.randrange(1, 15)) if assigned else None
        if assigned_at is not None and assigned_at > now:
            assigned_at = registered
        contacts, at = [], (assigned_at or registered) + timedelta(minutes=rng.randrange(5, 90))
        pending = outcome == RO.PENDING
        for k in range(wanted):
            at = self._daytime(at)
            if at > now - timedelta(minutes=5):
                break
            if self._contact_allowed(order["buyer_nick"], at, pending):
                self.contacts_by_nick[order["buyer_nick"]].append(at)
                last = k == wanted - 1
                results = REVIEW_CONTACT_RESULTS[outcome if last else "first"]
                channel = _weighted(rng, [("phone", 55), ("wangwang", 40), ("sms", 5)])
                contacts.append(
                    self._row(
                        ReviewContact,
                        review_id=review_id,
                        agent_id=agent,
                        channel=channel,
                        contacted_at=at,
                        result=rng.choice(results),
                    )
                )
            # A day apart at least; a shown review's calls as close as the guard lets them.
            gap = (24 * 60 + 30, 24 * 60 + 40) if shown else (25 * 60, 40 * 60)
            at += timedelta(minutes=rng.randrange(*gap))
        if not contacts and outcome == RO.NO_ANSWER:
            outcome = RO.EXPLAINED  # "no answer" needs a call first (review_close)
        last_contact = contacts[-1]["contacted_at"] if contacts else assigned_at or registered
        revised_at = None
        if outcome == RO.REVISED:
            revised_at = self._by_now(
                last_contact + timedelta(minutes=rng.randrange(30, 900)), last_contact
            )
            revised_at = max(revised_at, last_contact)
        review = self._row(
            Review,
            id=review_id,
            shop_id=shop_id,
            order_id=order["id"],
            rating=rating,
            text=rng.choice(REVIEW_TEXTS[rating]),
            made_at=made,
            assignee_id=agent if assigned else None,
            assigned_at=assigned_at,
            first_contact_at=contacts[0]["contacted_at"] if contacts else None,
            outcome=outcome,
            revised_at=revised_at,
            buyer_notes=rng.choice(BUYER_NOTES) if not pending and rng.random() < 0.6 else "",
            recorded_by_id=agent,
            created_at=registered,
        )
        entries = []
        compensated = {RO.REVISED: 0.65, RO.EXPLAINED: 0.15, RO.REFUSED: 0.05, RO.PENDING: 0.15}
        if contacts and rng.random() < compensated.get(outcome, 0):
            entries.append(self._review_money(review, contacts[0]["contacted_at"]))
        return review, contacts, entries

    def _review_money(self, review: dict, after: datetime) -> dict:
        """The review's compensation, within its standard (5 yuan for a neutral, 10 for a
        negative review), recorded with the marker the review finds it by."""
        rng = self.rng
        if review["rating"] == Review.Rating.NEGATIVE:
            amount = rng.choice((10, 10, 8, 5))
        else:
            amount = rng.choice((5, 5, 3))
        method = _weighted(
            rng,
            [
                (LedgerEntry.PaymentMethod.RED_PACKET, 50),
                (LedgerEntry.PaymentMethod.ALIPAY_TRANSFER, 35),
                (LedgerEntry.PaymentMethod.COUPON, 15),
            ],
        )
        words = rng.choice(("买家同意修改评价", "补偿运费", "致歉补偿"))
        return self._row(
            LedgerEntry,
            shop_id=review["shop_id"],
            order_id=review["order_id"],
            ticket_id=None,
            kind=LedgerEntry.Kind.COMPENSATION,
            amount=money(amount),
            payment_method=method,
            # The marker of ``selectors_registers.review_compensation_note``.
            note=f"[中差评#{review['id']}] {words}",
            recorded_by_id=review["assignee_id"] or review["recorded_by_id"],
            recorded_at=self._by_now(after + timedelta(minutes=rng.randrange(10, 60)), after, 2),
        )

    # --- courier losses (快递丢件) --------------------------------------------------------
    def _losses(self, pairs, tickets_of, size: int) -> None:
        rng, now = self.rng, self.now
        shipped = [p for p in pairs if p[0]["shipped_at"] and p[0]["tracking_no"]]
        shipped = [p for p in shipped if p[0]["paid_amount"] >= 1]
        quota = min(self._quota("losses", size), len(shipped))
        used: set = set()
        plans = []
        if self.first:
            newest = sorted(
                self._shown(shipped, lambda p: p[0]["shop_id"]),
                key=lambda p: p[0]["shipped_at"],
                reverse=True,
            )
            for days, status in LOSS_SHOWCASE[:quota]:
                written = now - timedelta(days=days)
                pair = self._fitting(newest, lambda p: p[0]["shipped_at"], written - 2 * D, used)
                if pair is not None:
                    plans.append((pair, written, status))
        # Parcels whose ticket says lost or damaged first, as an agent writes them.
        hurt = [
            p
            for p in shipped
            if any(t["reason"] in (R.LOGISTICS, R.DAMAGED) for t in tickets_of[p[0]["id"]])
        ]
        for pair in self._pick(hurt, (quota - len(plans)) // 2, used):
            plans.append((pair, None, None))
        for pair in self._pick(shipped, quota - len(plans), used):
            plans.append((pair, None, None))
        rows = []
        for (order, items), written, status in plans:
            if (order["courier_id"], order["tracking_no"]) in self.loss_parcels:
                continue  # one report per parcel
            self.loss_parcels.add((order["courier_id"], order["tracking_no"]))
            ticket = next(
                (t for t in tickets_of[order["id"]] if t["reason"] in (R.LOGISTICS, R.DAMAGED)),
                None,
            )
            if written is None:
                start = ticket["created_at"] if ticket else order["shipped_at"] + 3 * D
                since = ticket["created_at"] if ticket else order["shipped_at"]
                written = self._by_now(
                    start + timedelta(minutes=rng.randrange(30, 3 * 1440)), since
                )
            written = max(written, order["shipped_at"])
            rows.append(self._loss(order, items, ticket, written, status))
        insert_rows(CourierLossReport, rows)
        self.counts["courier losses"] += len(rows)

    def _loss_status(self, age: timedelta) -> str:
        rng = self.rng
        if age < D:
            return LS.DRAFTED
        if age < 5 * D:
            return LS.HANDED if rng.random() < 0.85 else LS.DRAFTED
        if age < 25 * D:
            return _weighted(rng, [(LS.ACCEPTED, 65), (LS.REJECTED, 15), (LS.HANDED, 20)])
        return LS.SETTLED if rng.random() < 0.85 else LS.REJECTED

    def _loss(self, order, items, ticket, written: datetime, status: str | None) -> dict:
        rng, now = self.rng, self.now
        status = status or self._loss_status(now - written)
        damaged = (ticket is not None and ticket["reason"] == R.DAMAGED) or (
            ticket is None and rng.random() < 0.3
        )
        goods = items[:1] if damaged else items
        value = sum((item["paid_amount"] for item in goods), Decimal("0"))
        value = value if value >= 1 else order["paid_amount"]
        claimed = value if not damaged else money(value * Decimal(rng.choice((50, 80, 100))) / 100)
        claimed = max(claimed, Decimal("1.00"))
        if ticket is not None and ticket["kind"] == Ticket.Kind.RESHIP:
            action = CourierLossReport.ShopAction.RESHIP
        elif ticket is not None:
            action = CourierLossReport.ShopAction.REFUND
        else:
            action = rng.choice(CourierLossReport.ShopAction.values)
        handed = decided = settled = received = None
        note = ""
        if status != LS.DRAFTED:
            handed = min(written + timedelta(minutes=rng.randrange(120, 1800)), now - H)
            note = "已交快递取件员，报告已签收"
        if status in (LS.ACCEPTED, LS.REJECTED, LS.SETTLED):
            decided = min(handed + timedelta(hours=rng.randrange(30, 160)), now - H / 2)
            note += "；快递同意赔付" if status != LS.REJECTED else "；快递称签收正常，拒绝赔付"
        if status == LS.SETTLED:
            # Settled with the courier's monthly statement, early in the next month.
            local = decided.astimezone(self.now.tzinfo)
            month = (local.replace(day=28) + timedelta(days=4)).replace(day=1)
            settled = datetime.combine(month, time(10), tzinfo=self.now.tzinfo) + timedelta(
                days=rng.randrange(0, 5), minutes=rng.randrange(0, 300)
            )
            if settled > now:
                status, settled = LS.ACCEPTED, None
            else:
                received = claimed if rng.random() < 0.7 else money(claimed * Decimal("0.8"))
                received = max(received, Decimal("0.01"))
                note += "；月结赔款已到账"
        return self._row(
            CourierLossReport,
            shop_id=order["shop_id"],
            courier_id=order["courier_id"],
            tracking_no=order["tracking_no"],
            order_id=order["id"],
            ticket_id=ticket["id"] if ticket else None,
            damage=CourierLossReport.Damage.DAMAGED if damaged else CourierLossReport.Damage.LOST,
            items_description="；".join(
                f"{i['title']} {i['colour']}/{i['size']} ×{i['quantity']}" for i in goods
            ),
            items_value=money(value),
            shop_action=action,
            claimed_amount=money(claimed),
            received_amount=received,
            status=status,
            handed_at=handed,
            decided_at=decided,
            settled_at=settled,
            note=note,
            created_by_id=self._worker(ticket, order["shop_id"]),
            created_at=written,
        )

    # --- quality problems (质量问题) and production alerts (生产问题反馈) ---------------------
    def _quality(self, pairs, tickets, size: int) -> None:
        rng = self.rng
        quota = self._quota("quality", size)
        rows = []
        with_ticket = [t for t in tickets if t["reason"] == R.QUALITY and t["_item"]["sku_id"]]
        for ticket in self._pick(with_ticket, quota, set()):
            item = ticket["_item"]
            opened = ticket["created_at"]
            at = self._by_now(opened + timedelta(minutes=rng.randrange(10, 120)), opened)
            rows.append(self._complaint(ticket["shop_id"], ticket["order_id"], ticket, item, at))
        done = [p for p in pairs if p[0]["status"] == Order.Status.SUCCESS and p[1][0]["sku_id"]]
        for order, items in self._pick(done, quota - len(rows), set()):
            at = order["shipped_at"] + timedelta(minutes=rng.randrange(2 * 1440, 12 * 1440))
            at = self._by_now(at, order["shipped_at"])
            rows.append(self._complaint(order["shop_id"], order["id"], None, items[0], at))
        if self.first and done:
            rows += self._complaint_clusters(pairs)
        insert_rows(QualityProblem, rows)
        self.counts["quality problems"] += len(rows)

    def _complaint_clusters(self, pairs) -> list[dict]:
        """Three complaints about one SKU and batch within two days (``ALERT_CLUSTERS``), for
        the two SKUs the first batch sold most: the recent cluster's alert waits for a
        supervisor, the older one's was sent to production."""
        counts = defaultdict(int)
        for _order, items in pairs:
            for item in items:
                if item["sku_id"]:
                    counts[item["sku_id"]] += 1
        top = sorted(counts, key=lambda pk: (-counts[pk], pk))
        rows = []
        for sku_id, (kind, hours_ago) in zip(top, ALERT_CLUSTERS, strict=False):
            holders = [p for p in pairs if any(i["sku_id"] == sku_id for i in p[1])]
            holders = self._shown(holders, lambda p: p[0]["shop_id"])
            for hours in hours_ago:
                at = self.now - timedelta(hours=hours)
                order, items = next(
                    (p for p in holders if p[0]["shipped_at"] and p[0]["shipped_at"] < at - D),
                    (None, None),
                )
                if order is None:
                    item = {"sku_id": sku_id}
                    shop_id = min(self.shown_shops or {self.demo.shops[0].pk})
                else:
                    holders = [p for p in holders if p[0] is not order]
                    item = next(i for i in items if i["sku_id"] == sku_id)
                    shop_id = order["shop_id"]
                order_id = order["id"] if order else None
                rows.append(self._complaint(shop_id, order_id, None, item, at, kind=kind))
        return rows

    def _complaint(self, shop_id, order_id, ticket, item, at: datetime, kind=None) -> dict:
        sku = self.demo.sku_by_pk[item["sku_id"]]
        kind = kind or _weighted(self.rng, QUALITY_TYPES)
        self.complaints.append(_Complaint(at=at, sku_id=sku.pk, batch=sku.batch))
        return self._row(
            QualityProblem,
            shop_id=shop_id,
            order_id=order_id,
            ticket_id=ticket["id"] if ticket else None,
            sku_id=sku.pk,
            batch=sku.batch,
            problem_type=kind,
            description=QUALITY_DESCRIPTIONS[kind],
            reported_by_id=self._worker(ticket, shop_id),
            created_at=at,
        )

    def production_alerts(self, supervisor_id: int, open_batches: set) -> list[dict]:
        """The production alerts the complaints raised, by the desk's rule
        (``services.quality``): DESK_QUALITY_ALERT_COUNT complaints about one SKU and batch
        within DESK_QUALITY_ALERT_DAYS, counted from the last alert sent; the count grows
        while the alert is open. A supervisor tells production a few hours to a day later,
        except for the alerts of the last two days, which still wait. ``open_batches``: the
        (SKU, batch) pairs that have an open alert already (none is raised for them)."""
        window = timedelta(days=settings.DESK_QUALITY_ALERT_DAYS)
        threshold = settings.DESK_QUALITY_ALERT_COUNT
        by_batch = defaultdict(list)
        for complaint in self.complaints:
            by_batch[(complaint.sku_id, complaint.batch)].append(complaint.at)
        alerts = []
        for (sku_id, batch), times in sorted(by_batch.items()):
            times.sort()
            last_sent, current = None, None
            for at in times:
                if current and current["_send_at"] and current["_send_at"] <= at:
                    current["sent_at"] = last_sent = current["_send_at"]
                    current = None
                since = max(at - window, last_sent) if last_sent else at - window
                recent = bisect_right(times, at) - bisect_right(times, since)
                if current is not None:
                    current["complaint_count"] = max(current["complaint_count"], recent)
                elif recent >= threshold and (sku_id, batch) not in open_batches:
                    current = self._row(
                        ProductionAlert,
                        sku_id=sku_id,
                        batch=batch,
                        complaint_count=recent,
                        created_at=at,
                    )
                    late = at < self.now - ALERT_SENT_AFTER
                    send = at + timedelta(minutes=self.rng.randrange(240, 1800))
                    current["_send_at"] = send if late else None
                    current["sent_by_id"] = supervisor_id if late else None
                    alerts.append(current)
            if current and current["_send_at"] and current["_send_at"] <= self.now:
                current["sent_at"] = current["_send_at"]
            if current and current["sent_at"] is None:
                current["sent_by_id"] = None
        return alerts

    # --- buyers' feedback (顾客反馈) -------------------------------------------------------
    def _feedback(self, tickets, size: int) -> None:
        rng = self.rng
        unfit = [t for t in tickets if t["reason"] == R.NOT_SUITABLE and t["_item"]["sku_id"]]
        rows = []
        for ticket in self._pick(unfit, self._quota("feedback", size), set()):
            words = ticket["description"]
            # What the buyer said decides the topic mostly; the rest is about the cut.
            if "颜色" in words:
                topic = ProductFeedback.Topic.COLOUR
            elif "码" in words and rng.random() < 0.7:
                topic = ProductFeedback.Topic.SIZE
            else:
                topic = ProductFeedback.Topic.STYLE
            opened = ticket["created_at"]
            at = self._by_now(opened + timedelta(minutes=rng.randrange(5, 90)), opened)
            rows.append(
                self._row(
                    ProductFeedback,
                    sku_id=ticket["_item"]["sku_id"],
                    order_id=ticket["order_id"],
                    topic=topic,
                    text=rng.choice(FEEDBACK_TEXTS[topic]),
                    recorded_by_id=self._worker(ticket, ticket["shop_id"]),
                    created_at=at,
                )
            )
        insert_rows(ProductFeedback, rows)
        self.counts["feedback"] += len(rows)

    # --- wrong shipments (发错货 / 漏发 / 多发) ---------------------------------------------
    def _wrong_shipments(self, pairs, tickets, size: int) -> None:
        rng = self.rng
        kinds = {
            R.WRONG_ITEM: WrongShipment.Kind.WRONG,
            R.MISSING_ITEM: WrongShipment.Kind.MISSING,
            R.EXTRA_ITEM: WrongShipment.Kind.EXTRA,
        }
        about = [t for t in tickets if t["reason"] in kinds]
        quota = self._quota("wrong", size)
        plans = [(t, kinds[t["reason"]]) for t in self._pick(about, quota, set())]
        if self.first:
            # Each kind at least once: a shipped order without a ticket where none has one.
            shipped = [p for p in pairs if p[0]["shipped_at"]]
            missing = [k for k in WrongShipment.Kind.values if k not in {k for _t, k in plans}]
            for kind, (order, items) in zip(missing, shipped, strict=False):
                stand_in = {
                    "id": None,
                    "order_id": order["id"],
                    "shop_id": order["shop_id"],
                    "created_at": order["shipped_at"] + timedelta(days=3),
                    "assignee_id": None,
                    "opened_by_id": self._agent(order["shop_id"]).pk,
                    "_item": items[0],
                }
                plans.append((stand_in, kind))
        rows = []
        for ticket, kind in plans:
            item = ticket["_item"]
            ordered = f"{item['title']} {item['colour']}/{item['size']} ×{item['quantity']}"
            other = self._other_sku(item)
            if kind == WrongShipment.Kind.WRONG:
                sent = f"{other.title} {other.colour}/{other.size} ×{item['quantity']}"
            elif kind == WrongShipment.Kind.MISSING:
                sent = f"{item['title']} ×{max(item['quantity'] - 1, 0)}（少 1 件）"
            else:
                sent = f"{ordered}，另多发 {other.title} {other.colour}/{other.size} ×1"
            opened = ticket["created_at"]
            at = self._by_now(opened + timedelta(minutes=rng.randrange(10, 180)), opened)
            rows.append(
                self._row(
                    WrongShipment,
                    shop_id=ticket["shop_id"],
                    order_id=ticket["order_id"],
                    ticket_id=ticket["id"],
                    kind=kind,
                    packed_by=rng.choice(PACKERS),
                    ordered_description=ordered,
                    sent_description=sent,
                    listing_to_check=kind == WrongShipment.Kind.WRONG and rng.random() < 0.3,
                    recorded_by_id=self._worker(
                        ticket if ticket["id"] else None, ticket["shop_id"]
                    ),
                    created_at=at,
                )
            )
        insert_rows(WrongShipment, rows)
        self.counts["wrong shipments"] += len(rows)

    def _other_sku(self, item: dict):
        """The SKU a packer took instead: another colour (or size) of the same product."""
        demo = self.demo
        if not item["sku_id"]:
            return demo.sku_info[0]
        other = demo.other_colour.get(item["sku_id"], item["sku_id"])
        if other == item["sku_id"]:
            other = demo.next_size[item["sku_id"]][0]
        return demo.sku_by_pk[other]

    # --- platform interventions (小二介入) -------------------------------------------------
    def _interventions(self, pairs, tickets, size: int) -> None:
        rng, now = self.rng, self.now
        disputes = [
            t for t in tickets if t["kind"] in (Ticket.Kind.RETURN, Ticket.Kind.REFUND_ONLY)
        ]
        quota = min(self._quota("interventions", size), len(disputes))
        used: set = set()
        plans = []
        if self.first:
            newest = sorted(self._shown(disputes), key=lambda t: t["created_at"], reverse=True)
            for days, outcome in INTERVENTION_SHOWCASE[:quota]:
                at = now - timedelta(days=days)
                ticket = self._fitting(newest, lambda t: t["created_at"], at - D, used)
                if ticket is not None:
                    plans.append((ticket, at, outcome))
        for ticket in self._pick(disputes, quota - len(plans), used):
            at = ticket["created_at"] + timedelta(minutes=rng.randrange(1440, 6 * 1440))
            plans.append((ticket, self._by_now(at, ticket["created_at"]), None))
        rows = []
        for ticket, at, outcome in plans:
            deadline = at + timedelta(days=EVIDENCE_DAYS)
            closed = None
            if outcome is None:
                outcome = IO.PENDING
                if deadline < now - D / 2 or (deadline < now and rng.random() < 0.5):
                    outcome = _weighted(rng, [(IO.WON, 45), (IO.LOST, 30), (IO.WITHDRAWN, 25)])
            if outcome != IO.PENDING:
                closed = deadline + timedelta(minutes=rng.randrange(60, 5 * 1440))
                closed = max(min(closed, now - H), at)
            evidence = rng.choice(INTERVENTION_EVIDENCE)
            if outcome == IO.PENDING and deadline > now + D:
                evidence = ""  # just registered: the evidence is still being gathered
            rows.append(
                self._row(
                    PlatformIntervention,
                    shop_id=ticket["shop_id"],
                    order_id=ticket["order_id"],
                    ticket_id=ticket["id"],
                    # 退款编号-like, 18 digits: unique per ticket, whatever the order number.
                    case_no=str(self.case_numbers.at(ticket["id"])),
                    reason=rng.choice(INTERVENTION_REASONS),
                    deadline=deadline,
                    evidence=evidence,
                    outcome=outcome,
                    closed_at=closed,
                    recorded_by_id=self._worker(ticket, ticket["shop_id"]),
                    created_at=at,
                )
            )
        insert_rows(PlatformIntervention, rows)
        self.counts["interventions"] += len(rows)

    # --- invoice requests (发票) ----------------------------------------------------------
    def _invoices(self, pairs, size: int) -> None:
        rng, now = self.rng, self.now
        paying = (Order.Status.PAID, Order.Status.SHIPPED, Order.Status.SUCCESS)
        paid = [o for o, _i in pairs if o["status"] in paying and o["paid_amount"] > 0]
        used: set = set()
        plans = []
        if self.first:
            # Requests since the last ten-day batch, one per shop kind, wait for the next.
            newest = sorted(self._shown(paid), key=lambda o: o["paid_at"], reverse=True)
            for hours, tmall in INVOICE_SHOWCASE:
                at = now - timedelta(hours=hours)
                kind = [o for o in newest if self.shops[o["shop_id"]].is_tmall == tmall]
                order = self._fitting(kind, lambda o: o["paid_at"], at - H, used)
                if order is not None:
                    plans.append((order, at, False))
        quota = self._quota("invoices", size) - len(plans)
        declined_shown = not self.first
        for order in self._pick(paid, quota, used):
            at = order["paid_at"] + timedelta(minutes=rng.randrange(60, 20 * 1440))
            tmall = self.shops[order["shop_id"]].is_tmall
            declined = not tmall and (rng.random() < 0.1 or not declined_shown)
            declined_shown = declined_shown or declined
            plans.append((order, self._by_now(at, order["paid_at"]), declined))
        if not declined_shown:
            # The batch's picks were all Tmall stores': a C-store's buyer asks too, declined.
            c_stores = [
                o for o in paid if id(o) not in used and not self.shops[o["shop_id"]].is_tmall
            ]
            if c_stores:
                order = rng.choice(c_stores)
                at = order["paid_at"] + timedelta(minutes=rng.randrange(60, 20 * 1440))
                plans.append((order, self._by_now(at, order["paid_at"]), True))
        rows = []
        for order, at, declined in plans:
            shop = self.shops[order["shop_id"]]
            if rng.random() < 0.6:
                title = rng.choice(INVOICE_COMPANIES)
                tax_no = f"9142{rng.randrange(10**8):08d}MA{rng.randrange(10**3):03d}X"
            else:
                title, tax_no = "个人", ""
            rows.append(
                self._row(
                    InvoiceRequest,
                    shop_id=shop.pk,
                    order_id=order["id"],
                    title=title,
                    tax_no=tax_no,
                    amount=order["paid_amount"],
                    # Batched, issued and posted come from finance's ten-day batches.
                    status=InvoiceRequest.Status.DECLINED
                    if declined
                    else InvoiceRequest.Status.REQUESTED,
                    decline_reason=INVOICE_DECLINE if declined else "",
                    recorded_by_id=self._agent(shop.pk).pk,
                    created_at=at,
                )
            )
        insert_rows(InvoiceRequest, rows)
        self.counts["invoice requests"] += len(rows)

    # --- the night shift's handover (夜班交接) ----------------------------------------------
    def _handover(self, pairs, tickets, size: int) -> None:
        rng, now = self.rng, self.now
        tz = now.tzinfo
        rows = []
        used: set = set()
        if self.first:
            # The last night whose first note is written by now: its items are dealt with
            # the next morning, one is still open (flagged after 12:00).
            night = (now - timedelta(hours=22, minutes=30)).astimezone(tz).date()
            newest = sorted(self._shown(tickets), key=lambda t: t["created_at"], reverse=True)
            for n, minutes in enumerate((5, 40, 80, 170)):
                written = datetime.combine(night, time(22), tzinfo=tz) + timedelta(minutes=minutes)
                if written > now:
                    break
                ticket = self._fitting(newest, lambda t: t["created_at"], written - H, used)
                if ticket is not None:
                    rows.append(self._note(ticket, night, written, keep_open=n == 3))
        for ticket in self._pick(tickets, self._quota("handover", size) - len(rows), used):
            opened = ticket["created_at"].astimezone(tz)
            night = opened.date() if opened.hour >= 12 else opened.date() - D
            written = datetime.combine(night, time(22), tzinfo=tz) + timedelta(
                minutes=rng.randrange(0, 200)
            )
            if written > now - H:
                continue
            rows.append(self._note(ticket, night, written, keep_open=False))
        insert_rows(HandoverNote, rows)
        self.counts["handover items"] += len(rows)

    def _note(self, ticket: dict, night: date, written: datetime, *, keep_open: bool) -> dict:
        rng, now = self.rng, self.now
        shop_id = ticket["shop_id"]
        handled = datetime.combine(night + D, time(9), tzinfo=now.tzinfo) + timedelta(
            minutes=rng.randrange(0, 160)
        )
        if rng.random() < 0.05:
            handled += timedelta(hours=rng.randrange(4, 9))  # a busy morning: after noon
        done = not keep_open and handled <= now
        return self._row(
            HandoverNote,
            shop_id=shop_id,
            ticket_id=ticket["id"],
            order_id=ticket["order_id"],
            shift_date=night,
            note=rng.choice(HANDOVER_NOTES),
            created_by_id=self._agent(shop_id).pk,
            handled_by_id=self._agent(shop_id).pk if done else None,
            handled_at=handled if done else None,
            handled_note=rng.choice(HANDOVER_HANDLED) if done else "",
            created_at=written,
        )

    # --- VIPs and their monthly calls (特邀VIP回访) ----------------------------------------
    def _vips(self, pairs, size: int) -> None:
        rng, now = self.rng, self.now
        good = [
            o for o, _i in pairs if o["status"] == Order.Status.SUCCESS and o["paid_amount"] >= 150
        ]
        plans = []
        for order in self._pick(good, self._quota("vips", size), set()):
            key = (order["shop_id"], order["buyer_nick"])
            if key not in self.vip_keys:
                added = order["placed_at"] + timedelta(days=rng.randrange(1, 30))
                plans.append((key, min(added, now - 2 * D)))
        if self.first:
            shops = sorted(self.shown_shops) or [s.pk for s in self.demo.shops]
            for n, nick in enumerate(VIPS_WITHOUT_ORDERS):
                shop_id = shops[n % len(shops)]
                plans.append(((shop_id, nick), now - timedelta(days=40 + 90 * n)))
        plans = [(key, added) for key, added in plans if key not in self.vip_keys]
        if not plans:
            return
        first_id = reserve_ids(VipCustomer, len(plans))
        vips, calls = [], []
        for n, ((shop_id, nick), added) in enumerate(plans):
            self.vip_keys.add((shop_id, nick))
            active = rng.random() < 0.9
            vip_id = first_id + n
            vips.append(
                self._row(
                    VipCustomer,
                    id=vip_id,
                    shop_id=shop_id,
                    buyer_nick=nick,
                    notes=rng.choice(VIP_NOTES),
                    is_active=active,
                    created_at=added,
                )
            )
            calls += self._vip_calls(vip_id, shop_id, added, active)
        insert_rows(VipCustomer, vips, with_pk=True)
        insert_rows(VipFollowUp, calls)
        self.counts["VIPs"] += len(vips)
        self.counts["VIP follow-ups"] += len(calls)

    def _vip_calls(self, vip_id: int, shop_id: int, added: datetime, active: bool) -> list[dict]:
        """One call a month from the month the VIP was added, by one agent of the shop (the
        buyer hears the same voice, as ``vip_follow_up_agents`` plans), made in past months
        (a few missed) and partly made this month; none after a VIP left the list."""
        rng, now = self.rng, self.now
        agents = self.demo.agents_by_shop.get(shop_id) or []
        if not agents:
            return []
        agent = min(agents, key=lambda a: (self.vip_load[a.pk], a.pk))
        self.vip_load[agent.pk] += 1
        last = vip_follow_ups_due_month(now) or first_of_month(first_of_month(now.date()) - D)
        if not active:
            last = first_of_month(first_of_month(last) - 40 * D)
        month = first_of_month(added.astimezone(now.tzinfo).date())
        calls = []
        while month <= last:
            start = datetime.combine(month, time(10), tzinfo=now.tzinfo)
            this_month = month == first_of_month(now.date())
            if this_month:
                elapsed = (now - start).total_seconds() / (30 * 86400)
                done = rng.random() < min(0.5, max(elapsed, 0))
            else:
                done = rng.random() < 0.9
            done_at = None
            if done:
                span = (now - start) if this_month else 25 * D
                done_at = start + timedelta(
                    seconds=rng.randrange(max(int(span.total_seconds()), 1))
                )
                done = done_at <= now
            calls.append(
                self._row(
                    VipFollowUp,
                    vip_id=vip_id,
                    month=month,
                    done=done,
                    notes=rng.choice(VIP_CALL_NOTES) if done else "",
                    done_by_id=agent.pk if done else None,
                    done_at=done_at if done else None,
                    assignee_id=agent.pk,
                    created_at=max(start - timedelta(hours=2), added),
                )
            )
            month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
        return calls
