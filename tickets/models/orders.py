"""Orders as the seller centre knows them, their items, and who looked at buyers' data."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .base import AppendOnlyModel, DeskModel, MoneyField, TimeStampedModel, choices_check
from .catalogue import Sku
from .shops import Courier, Shop


class OrderStatus(models.TextChoices):
    WAITING_PAYMENT = "waiting_payment", _("等待买家付款")
    PAID = "paid", _("买家已付款")
    SHIPPED = "shipped", _("卖家已发货")
    SUCCESS = "success", _("交易成功")
    CLOSED = "closed", _("交易关闭")


class OrderFlag(models.TextChoices):
    NONE = "", _("无旗帜")
    RED = "red", _("红旗")
    YELLOW = "yellow", _("黄旗")
    GREEN = "green", _("绿旗")
    BLUE = "blue", _("蓝旗")
    PURPLE = "purple", _("紫旗")


class Order(TimeStampedModel):
    Status = OrderStatus
    Flag = OrderFlag

    # No index of its own: ``order_shop_placed_idx`` and the (shop, order_no) unique index
    # both start with the shop, and every import and seed kept a third copy up to date.
    shop = models.ForeignKey(
        Shop,
        verbose_name=_("店铺"),
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
    )
    order_no = models.CharField(_("订单编号"), max_length=32)
    alipay_no = models.CharField(_("支付宝交易号"), max_length=64, blank=True)
    buyer_nick = models.CharField(_("买家会员名"), max_length=64)
    buyer_alipay_account = models.CharField(_("买家支付宝账号"), max_length=100, blank=True)

    receiver_name = models.CharField(_("收货人姓名"), max_length=50, blank=True)
    receiver_phone = models.CharField(_("联系手机"), max_length=32, blank=True)
    # The last four digits of the phone, indexed (Meta): agents find an order by them.
    receiver_phone_tail = models.CharField(_("手机尾号"), max_length=4, blank=True)
    receiver_province = models.CharField(_("省份"), max_length=20, blank=True)
    receiver_city = models.CharField(_("城市"), max_length=30, blank=True)
    receiver_district = models.CharField(_("区县"), max_length=30, blank=True)
    receiver_address = models.CharField(_("详细地址"), max_length=255, blank=True)
    receiver_postcode = models.CharField(_("邮编"), max_length=10, blank=True)

    goods_amount = MoneyField(_("商品金额"), default=0)
    postage = MoneyField(_("邮费"), default=0)
    total_amount = MoneyField(_("总金额"), default=0)
    paid_amount = MoneyField(_("实付金额"), default=0)

    status = models.CharField(_("订单状态"), max_length=20, choices=Status.choices)
    placed_at = models.DateTimeField(_("拍下时间"))
    paid_at = models.DateTimeField(_("付款时间"), null=True, blank=True)
    ship_by = models.DateTimeField(_("承诺发货时间"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("发货时间"), null=True, blank=True)
    receipt_extended_days = models.PositiveSmallIntegerField(_("延长收货天数"), default=0)
    closed_reason = models.CharField(_("关闭原因"), max_length=100, blank=True)

    courier = models.ForeignKey(
        Courier, verbose_name=_("物流公司"), null=True, blank=True, on_delete=models.PROTECT
    )
    tracking_no = models.CharField(_("运单号"), max_length=40, blank=True)

    buyer_message = models.TextField(_("买家留言"), blank=True)
    remark = models.TextField(_("订单备注"), blank=True)
    flag = models.CharField(_("旗帜"), max_length=8, choices=Flag.choices, blank=True, default="")
    flag_memo = models.TextField(_("旗帜备忘"), blank=True)
    invoice_title = models.CharField(_("发票抬头"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("订单")
        verbose_name_plural = pgettext_lazy("plural", "订单")
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "order_no"], name="order_no_unique_per_shop"),
            choices_check("status", OrderStatus, "order_status_valid"),
            choices_check("flag", OrderFlag, "order_flag_valid"),
            models.CheckConstraint(
                condition=Q(goods_amount__gte=0)
                & Q(postage__gte=0)
                & Q(total_amount__gte=0)
                & Q(paid_amount__gte=0),
                name="order_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(shipped_at__isnull=True) | Q(shipped_at__gte=F("placed_at")),
                name="order_shipped_after_placed",
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "-placed_at"], name="order_shop_placed_idx"),
            # Agents search by the order number alone; the (shop, order_no) unique index
            # can't serve a lookup that doesn't name the shop.
            models.Index(fields=["order_no"], name="order_no_idx"),
            # Declared here, not as ``db_index=True``: PostgreSQL then builds the one index
            # the exact lookups use, without the ``varchar_pattern_ops`` copy Django adds to
            # an indexed text field for LIKE 'prefix%', which no search of the desk runs
            # (93 MB at a million orders, built by every seed and kept up by every import).
            models.Index(fields=["alipay_no"], name="order_alipay_no_idx"),
            models.Index(fields=["tracking_no"], name="order_tracking_no_idx"),
            models.Index(fields=["receiver_phone_tail"], name="order_phone_tail_idx"),
            models.Index(fields=["status"], name="order_status_idx"),
            # A buyer's orders, newest first, with the shop to check: the nickname searches
            # read them from the index alone (``BuyerNick``), the buyer's page by nickname.
            models.Index(
                fields=["buyer_nick", "-placed_at", "-id"],
                include=["shop"],
                name="order_nick_placed_idx",
            ),
            # Every order newest first with its nickname and shop: a nickname part many buyers
            # hold is searched by walking it until a page of matches turns up, no order row
            # read (``tickets.selectors.nick_way``).
            models.Index(
                fields=["-placed_at", "-id"],
                include=["buyer_nick", "shop"],
                name="order_placed_walk_idx",
            ),
        ]
        permissions = [("reveal_personal_data", _("可以查看买家完整个人信息"))]

    def __str__(self):
        return self.order_no

    @property
    def auto_confirm_at(self):
        """When a shipped order turns to success by itself (10 days + any extension)."""
        if self.shipped_at is None or self.status != self.Status.SHIPPED:
            return None
        days = settings.DESK_AUTO_CONFIRM_DAYS + self.receipt_extended_days
        return self.shipped_at + timedelta(days=days)

    def save(self, *args, **kwargs):
        digits = "".join(ch for ch in self.receiver_phone if ch.isdigit())
        self.receiver_phone_tail = digits[-4:]
        super().save(*args, **kwargs)


class BuyerNick(models.Model):
    """Every buyer's nickname (买家会员名) that any order has carried, once: what the nickname
    searches look a part of a nickname up in (``tickets.selectors.nick_orders``), a table of
    one row per buyer rather than one per order.

    Written by the database, not by the desk: triggers on ``tickets_order`` add the nickname of
    every order inserted or updated, whichever way it came (a form, the order import's COPY,
    ``seed_demo``, the admin), so no writer can forget it (migration 0024; SQLite's triggers are
    put back after every migrate by ``tickets.db.guards_ensure``). A nickname stays when its
    orders go: it then finds no order, which is the same answer."""

    nick = models.CharField(_("买家会员名"), max_length=64, primary_key=True)

    class Meta:
        verbose_name = _("买家会员名")
        verbose_name_plural = pgettext_lazy("plural", "买家会员名")

    def __str__(self):
        return self.nick


class OrderItem(DeskModel):
    order = models.ForeignKey(
        Order, verbose_name=_("订单"), on_delete=models.CASCADE, related_name="items"
    )
    sub_order_no = models.CharField(_("子订单编号"), max_length=32, blank=True)
    sku = models.ForeignKey(
        Sku, verbose_name=_("SKU"), null=True, blank=True, on_delete=models.PROTECT
    )
    title = models.CharField(_("宝贝标题"), max_length=200)
    sku_code = models.CharField(_("商家编码"), max_length=60, blank=True)
    colour = models.CharField(_("颜色"), max_length=40, blank=True)
    size = models.CharField(_("尺码"), max_length=20, blank=True)
    unit_price = MoneyField(_("单价"))
    quantity = models.PositiveIntegerField(_("数量"))
    paid_amount = MoneyField(_("实付金额"))

    class Meta:
        verbose_name = _("订单商品")
        verbose_name_plural = pgettext_lazy("plural", "订单商品")
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="order_item_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0) & Q(paid_amount__gte=0),
                name="order_item_amounts_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.title} × {self.quantity}"


class OrderChangeKind(models.TextChoices):
    FLAG = "flag", _("旗帜")
    RECEIPT_EXTENSION = "receipt_extension", _("延长收货")


class OrderChange(AppendOnlyModel):
    """A change an agent made to an order in the desk, kept for good: the seller flag and
    its memo (旗帜/商家备忘, before and after), or a receipt extension (延长收货: days added
    and the new auto-confirm deadline, aware time). The order carries the current values."""

    Kind = OrderChangeKind

    order = models.ForeignKey(
        Order, verbose_name=_("订单"), on_delete=models.PROTECT, related_name="changes"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    previous_flag = models.CharField(
        _("原旗帜"), max_length=8, choices=OrderFlag.choices, blank=True
    )
    previous_flag_memo = models.TextField(_("原旗帜备忘"), blank=True)
    flag = models.CharField(_("旗帜"), max_length=8, choices=OrderFlag.choices, blank=True)
    flag_memo = models.TextField(_("旗帜备忘"), blank=True)
    extended_days = models.PositiveSmallIntegerField(_("延长天数"), default=0)
    auto_confirm_at = models.DateTimeField(_("新的自动确认收货时间"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("订单变更")
        verbose_name_plural = pgettext_lazy("plural", "订单变更")
        ordering = ["created_at", "id"]
        constraints = [
            choices_check("kind", OrderChangeKind, "order_change_kind_valid"),
            choices_check("flag", OrderFlag, "order_change_flag_valid"),
            choices_check("previous_flag", OrderFlag, "order_change_previous_flag_valid"),
            models.CheckConstraint(
                condition=~Q(kind="receipt_extension") | Q(extended_days__gt=0),
                name="order_change_extension_adds_days",
            ),
        ]
        indexes = [models.Index(fields=["order", "created_at"], name="order_change_order_idx")]

    def __str__(self):
        at = timezone.localtime(self.created_at)
        return f"{self.order} {self.get_kind_display()} {at:%Y-%m-%d %H:%M}"


class PersonalDataAccess(AppendOnlyModel):
    """Audit row: who revealed a buyer's name, phone or address, when, on which order."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("查看人"), on_delete=models.PROTECT
    )
    order = models.ForeignKey(
        Order, verbose_name=_("订单"), on_delete=models.PROTECT, related_name="+"
    )
    fields = models.CharField(_("查看内容"), max_length=100)
    accessed_at = models.DateTimeField(_("查看时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("个人信息查看记录")
        verbose_name_plural = pgettext_lazy("plural", "个人信息查看记录")
        ordering = ["-accessed_at"]

    def __str__(self):
        return f"{self.user} {self.order} {self.fields}"
