"""The registers the team keeps today in side spreadsheets: quality, wrong shipments,
platform interventions, invoices, reviews, shift handover and VIP follow-ups."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .base import AppendOnlyModel, MoneyField, TimeStampedModel, choices_check
from .catalogue import Sku
from .orders import Order
from .shops import Shop
from .tickets import Ticket

_USER = settings.AUTH_USER_MODEL


def _staff_fk(verbose_name, **kwargs):
    kwargs.setdefault("on_delete", models.PROTECT)
    kwargs.setdefault("related_name", "+")
    return models.ForeignKey(_USER, verbose_name=verbose_name, **kwargs)


def _optional_ticket():
    return models.ForeignKey(
        Ticket,
        verbose_name=pgettext_lazy("singular", "售后单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )


class QualityProblemProblemType(models.TextChoices):
    STITCHING = "stitching", _("开线/走线")
    FABRIC = "fabric", _("面料问题")
    COLOUR = "colour", _("褪色/色差")
    SIZE = "size", _("尺码偏差")
    HARDWARE = "hardware", _("拉链/纽扣")
    STAIN = "stain", _("污渍")
    SMELL = "smell", _("异味")
    OTHER = "other", _("其他")


class QualityProblem(TimeStampedModel):
    """质量问题登记: one complaint about a SKU and its production batch."""

    ProblemType = QualityProblemProblemType

    shop = models.ForeignKey(
        Shop, verbose_name=_("店铺"), on_delete=models.PROTECT, related_name="+"
    )
    order = models.ForeignKey(
        Order,
        verbose_name=_("订单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ticket = _optional_ticket()
    sku = models.ForeignKey(
        Sku, verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="quality_problems"
    )
    batch = models.CharField(_("批次"), max_length=40, blank=True)
    problem_type = models.CharField(_("问题类型"), max_length=16, choices=ProblemType.choices)
    description = models.TextField(_("描述"), blank=True)
    reported_by = _staff_fk(_("登记人"))

    class Meta:
        verbose_name = _("质量问题")
        verbose_name_plural = pgettext_lazy("plural", "质量问题")
        ordering = ["-created_at"]
        constraints = [
            choices_check("problem_type", QualityProblemProblemType, "quality_problem_type_valid")
        ]
        indexes = [
            models.Index(fields=["sku", "batch", "created_at"], name="quality_sku_batch_idx")
        ]

    def __str__(self):
        return f"{self.sku} {self.batch} {self.get_problem_type_display()}"


class ProductionAlert(TimeStampedModel):
    """生产问题反馈: raised when one SKU+batch draws too many complaints in a short time."""

    sku = models.ForeignKey(Sku, verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="+")
    batch = models.CharField(_("批次"), max_length=40, blank=True)
    complaint_count = models.PositiveIntegerField(_("投诉数"))
    sent_at = models.DateTimeField(_("已反馈生产时间"), null=True, blank=True)
    sent_by = _staff_fk(_("反馈人"), null=True, blank=True)

    class Meta:
        verbose_name = _("生产问题预警")
        verbose_name_plural = pgettext_lazy("plural", "生产问题预警")
        ordering = ["-created_at"]
        constraints = [
            # At most one alert per SKU+batch waits to be sent to production.
            models.UniqueConstraint(
                fields=["sku", "batch"],
                condition=Q(sent_at__isnull=True),
                name="alert_one_open_per_batch",
            )
        ]

    def __str__(self):
        return f"{self.sku} {self.batch}"


class ProductFeedbackTopic(models.TextChoices):
    STYLE = "style", _("款式")
    SIZE = "size", _("尺码")
    COLOUR = "colour", _("颜色")


class ProductFeedback(TimeStampedModel):
    """Buyers' words on style, size or colour, kept per SKU for the buyers' team."""

    Topic = ProductFeedbackTopic

    sku = models.ForeignKey(
        Sku, verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="feedback"
    )
    order = models.ForeignKey(
        Order,
        verbose_name=_("订单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    topic = models.CharField(_("方面"), max_length=16, choices=Topic.choices)
    text = models.TextField(_("反馈"))
    recorded_by = _staff_fk(_("登记人"))

    class Meta:
        verbose_name = _("顾客反馈")
        verbose_name_plural = _("顾客反馈")
        constraints = [choices_check("topic", ProductFeedbackTopic, "feedback_topic_valid")]

    def __str__(self):
        return f"{self.sku} {self.get_topic_display()}"


class WrongShipmentKind(models.TextChoices):
    WRONG = "wrong", _("发错货")
    MISSING = "missing", _("漏发")
    EXTRA = "extra", _("多发")


class WrongShipment(TimeStampedModel):
    """发错货 / 漏发 / 多发: what was sent against what was ordered."""

    Kind = WrongShipmentKind

    shop = models.ForeignKey(
        Shop, verbose_name=_("店铺"), on_delete=models.PROTECT, related_name="+"
    )
    order = models.ForeignKey(
        Order, verbose_name=_("订单"), on_delete=models.PROTECT, related_name="+"
    )
    ticket = _optional_ticket()
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    packed_by = models.CharField(_("打包人"), max_length=50, blank=True)
    ordered_description = models.TextField(_("应发"), blank=True)
    sent_description = models.TextField(_("实发"), blank=True)
    listing_to_check = models.BooleanField(_("需核对商品页面"), default=False)
    recorded_by = _staff_fk(_("登记人"))

    class Meta:
        verbose_name = _("发错货登记")
        verbose_name_plural = pgettext_lazy("plural", "发错货登记")
        ordering = ["-created_at"]
        constraints = [choices_check("kind", WrongShipmentKind, "wrong_shipment_kind_valid")]

    def __str__(self):
        return f"{self.order} {self.get_kind_display()}"


class PlatformInterventionOutcome(models.TextChoices):
    PENDING = "pending", _("处理中")
    WON = "won", _("支持卖家")
    LOST = "lost", _("支持买家")
    WITHDRAWN = "withdrawn", _("买家撤销")


class PlatformIntervention(TimeStampedModel):
    """淘宝小二介入: a case the platform opened on an order, with its evidence deadline."""

    Outcome = PlatformInterventionOutcome

    shop = models.ForeignKey(
        Shop, verbose_name=_("店铺"), on_delete=models.PROTECT, related_name="+"
    )
    order = models.ForeignKey(
        Order, verbose_name=_("订单"), on_delete=models.PROTECT, related_name="+"
    )
    ticket = _optional_ticket()
    # The platform's case numbers are global, so a number is unique within its shop: a shop
    # never learns or blocks another shop's cases (issue 16 review 6).
    case_no = models.CharField(_("介入编号"), max_length=40)
    reason = models.CharField(_("介入原因"), max_length=200)
    deadline = models.DateTimeField(_("举证截止"), null=True, blank=True, db_index=True)
    evidence = models.TextField(_("我方举证"), blank=True)
    outcome = models.CharField(
        _("结果"), max_length=16, choices=Outcome.choices, default=Outcome.PENDING
    )
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    recorded_by = _staff_fk(_("登记人"))

    class Meta:
        verbose_name = _("小二介入")
        verbose_name_plural = pgettext_lazy("plural", "小二介入")
        ordering = ["deadline"]
        constraints = [
            choices_check("outcome", PlatformInterventionOutcome, "intervention_outcome_valid"),
            models.UniqueConstraint(
                fields=["shop", "case_no"], name="intervention_case_no_unique_per_shop"
            ),
        ]
        # The register's search looks a number up without naming the shop, which the
        # (shop, case_no) unique index can't serve.
        indexes = [models.Index(fields=["case_no"], name="intervention_case_no_idx")]

    def __str__(self):
        return self.case_no


class InvoiceRequestStatus(models.TextChoices):
    REQUESTED = "requested", _("待处理")
    DECLINED = "declined", _("已拒绝")
    BATCHED = "batched", _("已交财务")
    ISSUED = "issued", _("已开票")
    POSTED = "posted", _("已寄出")


class InvoiceRequest(TimeStampedModel):
    """A buyer's invoice request. A C-store may decline; a Tmall store must issue. The batch
    that takes it to finance claims it from its own side; this model knows no sheets."""

    Status = InvoiceRequestStatus

    shop = models.ForeignKey(
        Shop, verbose_name=_("店铺"), on_delete=models.PROTECT, related_name="+"
    )
    order = models.ForeignKey(
        Order, verbose_name=_("订单"), on_delete=models.PROTECT, related_name="invoice_requests"
    )
    title = models.CharField(_("发票抬头"), max_length=100)
    tax_no = models.CharField(_("税号"), max_length=30, blank=True)
    amount = MoneyField(_("开票金额"))
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.REQUESTED
    )
    decline_reason = models.CharField(_("拒绝理由"), max_length=200, blank=True)
    invoice_no = models.CharField(_("发票号码"), max_length=40, blank=True)
    posting_tracking_no = models.CharField(_("寄送运单号"), max_length=40, blank=True)
    recorded_by = _staff_fk(_("登记人"))

    class Meta:
        verbose_name = _("发票申请")
        verbose_name_plural = pgettext_lazy("plural", "发票申请")
        ordering = ["-created_at"]
        constraints = [
            choices_check("status", InvoiceRequestStatus, "invoice_status_valid"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="invoice_amount_positive"),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""),
                name="invoice_decline_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["issued", "posted"]) | ~Q(invoice_no=""),
                name="invoice_issued_has_number",
            ),
        ]

    def __str__(self):
        return f"{self.order} {self.title}"


class ReviewRating(models.TextChoices):
    NEUTRAL = "neutral", _("中评")
    NEGATIVE = "negative", _("差评")


class ReviewOutcome(models.TextChoices):
    PENDING = "pending", _("跟进中")
    REVISED = "revised", _("已修改")
    EXPLAINED = "explained", _("已解释")
    REFUSED = "refused", _("买家拒绝")
    NO_ANSWER = "no_answer", _("联系不上")


class Review(TimeStampedModel):
    """中差评: a neutral or negative review, followed up until revised or closed."""

    Rating = ReviewRating
    Outcome = ReviewOutcome

    shop = models.ForeignKey(
        Shop, verbose_name=_("店铺"), on_delete=models.PROTECT, related_name="+"
    )
    order = models.ForeignKey(
        Order, verbose_name=_("订单"), on_delete=models.PROTECT, related_name="reviews"
    )
    rating = models.CharField(_("评价"), max_length=16, choices=Rating.choices)
    text = models.TextField(_("评价内容"), blank=True)
    made_at = models.DateTimeField(_("评价时间"), db_index=True)
    assignee = _staff_fk(_("跟进人"), null=True, blank=True)
    assigned_at = models.DateTimeField(_("分配时间"), null=True, blank=True)
    first_contact_at = models.DateTimeField(_("首次联系时间"), null=True, blank=True)
    outcome = models.CharField(
        _("结果"), max_length=16, choices=Outcome.choices, default=Outcome.PENDING
    )
    revised_at = models.DateTimeField(_("修改时间"), null=True, blank=True)
    buyer_notes = models.TextField(_("买家性格备注"), blank=True)
    recorded_by = _staff_fk(_("登记人"))

    class Meta:
        verbose_name = _("中差评")
        verbose_name_plural = pgettext_lazy("plural", "中差评")
        ordering = ["-made_at"]
        constraints = [
            choices_check("rating", ReviewRating, "review_rating_valid"),
            choices_check("outcome", ReviewOutcome, "review_outcome_valid"),
            # A buyer reviews an order once; a revision or a follow-up is the same review, so
            # a second row (and a second compensation standard) is refused.
            models.UniqueConstraint(fields=["order"], name="review_one_per_order"),
        ]

    def __str__(self):
        return f"{self.order} {self.get_rating_display()}"


class ReviewContactChannel(models.TextChoices):
    PHONE = "phone", _("电话")
    WANGWANG = "wangwang", _("旺旺")
    SMS = "sms", _("短信")


class ReviewContact(AppendOnlyModel):
    """One contact with the buyer about a review. Counted by the harassment guard."""

    Channel = ReviewContactChannel

    review = models.ForeignKey(
        Review, verbose_name=_("中差评"), on_delete=models.PROTECT, related_name="contacts"
    )
    agent = _staff_fk(_("联系人"))
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    contacted_at = models.DateTimeField(_("联系时间"), db_index=True)
    result = models.CharField(_("结果"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("买家联系记录")
        verbose_name_plural = pgettext_lazy("plural", "买家联系记录")
        ordering = ["contacted_at"]
        constraints = [
            choices_check("channel", ReviewContactChannel, "review_contact_channel_valid")
        ]

    def __str__(self):
        return f"{self.review} {self.get_channel_display()}"


class HandoverNote(TimeStampedModel):
    """夜班交接: an open item the night shift leaves for the morning shift."""

    shop = models.ForeignKey(
        Shop, verbose_name=_("店铺"), on_delete=models.PROTECT, related_name="+"
    )
    ticket = _optional_ticket()
    order = models.ForeignKey(
        Order,
        verbose_name=_("订单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    shift_date = models.DateField(_("班次日期"), db_index=True)
    note = models.TextField(_("交接内容"))
    created_by = _staff_fk(_("交接人"))
    handled_by = _staff_fk(_("处理人"), null=True, blank=True)
    handled_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    handled_note = models.TextField(_("处理说明"), blank=True)

    class Meta:
        verbose_name = _("交接事项")
        verbose_name_plural = pgettext_lazy("plural", "交接事项")
        ordering = ["handled_at", "-shift_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(handled_at__isnull=True, handled_by__isnull=True)
                | Q(handled_at__isnull=False, handled_by__isnull=False),
                name="handover_handled_with_who_and_when",
            )
        ]

    def __str__(self):
        return f"{self.shift_date} {self.note[:30]}"


class VipCustomer(TimeStampedModel):
    """特邀VIP: a special customer called back once a month."""

    shop = models.ForeignKey(
        Shop, verbose_name=_("店铺"), on_delete=models.PROTECT, related_name="+"
    )
    buyer_nick = models.CharField(_("买家会员名"), max_length=64)
    notes = models.TextField(_("备注"), blank=True)
    is_active = models.BooleanField(_("在用"), default=True)

    class Meta:
        verbose_name = _("VIP 顾客")
        verbose_name_plural = pgettext_lazy("plural", "VIP 顾客")
        ordering = ["shop", "buyer_nick"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "buyer_nick"], name="vip_once_per_shop")
        ]

    def __str__(self):
        return self.buyer_nick


class VipFollowUp(TimeStampedModel):
    """特邀VIP回访: one call to a VIP in a month (``month`` is its first day), made by the
    assigned agent. Planned by Celery beat on the 1st (``tickets.tasks.plan_vip_follow_ups``),
    one per VIP and month (a unique key, so a second run or a second beat creates nothing)."""

    vip = models.ForeignKey(
        VipCustomer, verbose_name=_("VIP 顾客"), on_delete=models.PROTECT, related_name="follow_ups"
    )
    month = models.DateField(_("月份"), help_text=_("当月第一天"))
    done = models.BooleanField(_("已回访"), default=False)
    notes = models.TextField(_("回访记录"), blank=True)
    done_by = _staff_fk(_("回访人"), null=True, blank=True)
    done_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    # The agent who makes the call; their dashboard lists the month's calls still to make.
    assignee = _staff_fk(_("负责客服"), null=True, blank=True)

    class Meta:
        verbose_name = _("VIP 回访")
        verbose_name_plural = pgettext_lazy("plural", "VIP 回访")
        ordering = ["-month", "vip"]
        constraints = [
            models.UniqueConstraint(fields=["vip", "month"], name="vip_follow_up_once_a_month"),
            models.CheckConstraint(
                condition=Q(month__day=1), name="vip_follow_up_month_is_first_day"
            ),
        ]

    def __str__(self):
        return f"{self.vip} {self.month:%Y-%m}"


__all__ = [
    "HandoverNote",
    "InvoiceRequest",
    "PlatformIntervention",
    "ProductFeedback",
    "ProductionAlert",
    "QualityProblem",
    "Review",
    "ReviewContact",
    "VipCustomer",
    "VipFollowUp",
    "WrongShipment",
]
