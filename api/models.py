"""The API's own rows: integration tokens, the record of every call, idempotent batches, and
the webhooks an ERP hears with their deliveries and attempts (issue 16).

A token is stored as its SHA-256 only: the token itself is shown once, when it is issued.
Calls and attempts are append-only records; a token is never deleted, it is revoked.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models import Shop
from tickets.models.base import AppendOnlyModel, DeskModel, TimeStampedModel, choices_check


class ApiToken(TimeStampedModel):
    """A token an administrator issued to an integration (an ERP, a sync job, a script). It
    acts as ``user`` (an account with a desk role: the token can never do more than that
    account could in the browser), only in ``shops`` (or every shop the account serves, with
    ``all_shops``) and only what its ``scopes`` name. Revoked, it is refused from the next
    call on."""

    name = models.CharField(_("名称"), max_length=60)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("代表的账号"),
        on_delete=models.PROTECT,
        related_name="api_tokens",
        help_text=_("接口以这个账号的角色和店铺办事，令牌的权限不会超过它。"),
    )
    shops = models.ManyToManyField(
        Shop, verbose_name=_("店铺"), blank=True, related_name="api_tokens"
    )
    all_shops = models.BooleanField(
        _("全部店铺"),
        default=False,
        help_text=_(
            "账号负责的全部店铺（包括以后新增的）。财务报表覆盖全部店铺，只有这样的令牌能读。"
        ),
    )
    scopes = models.JSONField(_("权限"), default=list)
    # The first characters after "dsk_" find the row; the SHA-256 of the whole token proves it.
    key_prefix = models.CharField(_("令牌前缀"), max_length=12, unique=True, editable=False)
    key_hash = models.CharField(_("令牌摘要"), max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发放人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    expires_at = models.DateTimeField(_("到期时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("撤销人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True, revoked_by__isnull=True)
                | Q(revoked_at__isnull=False, revoked_by__isnull=False),
                name="api_token_revoked_with_who",
            ),
        ]

    def __str__(self):
        return f"{self.name} (dsk_{self.key_prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class ApiCall(AppendOnlyModel):
    """One call made with a token: who (the token and its account), when, what (method and the
    route, never the query string), how it ended and how many records it read or wrote. A call
    whose token was refused is recorded too: with the token when the desk knows it (revoked,
    expired), without one when it does not (``token`` empty), always with the caller's
    ``address`` and the refusal's ``reason`` - never the text of the token sent."""

    token = models.ForeignKey(
        ApiToken,
        verbose_name=_("令牌"),
        on_delete=models.PROTECT,
        related_name="calls",
        null=True,
        blank=True,
    )
    address = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    reason = models.CharField(_("拒绝原因"), max_length=40, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    method = models.CharField(_("方法"), max_length=8)
    endpoint = models.CharField(_("接口"), max_length=60)
    path = models.CharField(_("路径"), max_length=200)
    status_code = models.PositiveSmallIntegerField(_("状态码"))
    records = models.PositiveIntegerField(_("记录数"), default=0)
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), default=0)

    class Meta:
        verbose_name = _("接口调用记录")
        verbose_name_plural = _("接口调用记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["token", "-at"], name="api_call_token_at_idx")]

    def __str__(self):
        return f"{self.token} {self.method} {self.endpoint} {self.status_code}"


class BatchKind(models.TextChoices):
    ORDERS = "orders", _("订单和宝贝")
    REFUNDS = "refunds", _("退款")


class ApiBatch(DeskModel):
    """A batch the API imported under the client's idempotency key: the same key again
    returns this answer and imports nothing (a batch that was refused keeps no key, so the
    corrected batch may use it). Unique per token and key; ``body_sha256`` tells a retry of
    the same batch from another batch sent under a key already used."""

    Kind = BatchKind

    token = models.ForeignKey(
        ApiToken, verbose_name=_("令牌"), on_delete=models.PROTECT, related_name="batches"
    )
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    key = models.CharField(_("幂等键"), max_length=100)
    body_sha256 = models.CharField(_("请求摘要"), max_length=64)
    shop = models.ForeignKey(Shop, verbose_name=_("店铺"), on_delete=models.PROTECT)
    report = models.JSONField(_("导入结果"), default=dict)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("接口导入批次")
        verbose_name_plural = _("接口导入批次")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["token", "key"], name="api_batch_key_once_per_token"),
            choices_check("kind", BatchKind, "api_batch_kind_valid"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.key}"


class WebhookEvent(models.TextChoices):
    TICKET_STATUS_CHANGED = "ticket.status_changed", _("售后单状态变更")
    EXCHANGE_LIST_SIGNED = "exchange_list.signed", _("换货清单已签字")
    REFUND_RECORDED = "refund.recorded", _("登记退款")


class WebhookEndpoint(TimeStampedModel):
    """An ERP's address that hears some kinds of events of some shops. Each delivery is signed
    with the endpoint's own secret (HMAC-SHA256); the secret is shown once when the endpoint is
    created and never drawn back into a page. Kept by administrators in the admin."""

    name = models.CharField(_("名称"), max_length=60)
    url = models.URLField(_("地址"), max_length=500)
    events = models.JSONField(_("事件"), default=list)
    shops = models.ManyToManyField(
        Shop, verbose_name=_("店铺"), blank=True, related_name="webhook_endpoints"
    )
    all_shops = models.BooleanField(_("全部店铺"), default=False)
    secret = models.CharField(_("签名密钥"), max_length=100, editable=False)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("Webhook 地址")
        verbose_name_plural = _("Webhook 地址")
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("失败")


class WebhookDelivery(TimeStampedModel):
    """One event for one endpoint: its body (written with the event, in its transaction, so it
    exists exactly when the event does), its status and its last attempt. ``event_key`` names
    the event (the timeline row, the ledger entry, the list and its signature): an event is
    delivered once per endpoint however often its row is saved."""

    Status = DeliveryStatus

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("Webhook 地址"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    event = models.CharField(_("事件"), max_length=32, choices=WebhookEvent.choices)
    event_key = models.CharField(_("事件键"), max_length=80)
    payload = models.JSONField(_("内容"))
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_attempt_at = models.DateTimeField(_("最近尝试"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=255, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("Webhook 推送")
        verbose_name_plural = _("Webhook 推送")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event_key"], name="webhook_delivery_once_per_event"
            ),
            choices_check("status", DeliveryStatus, "webhook_delivery_status_valid"),
            choices_check("event", WebhookEvent, "webhook_delivery_event_valid"),
        ]

    def __str__(self):
        return f"{self.endpoint} {self.event} #{self.pk}"


class WebhookAttempt(AppendOnlyModel):
    """One try at a delivery: when, the receiver's HTTP status (None: no answer) or the error,
    and how long it took."""

    delivery = models.ForeignKey(
        WebhookDelivery,
        verbose_name=_("推送"),
        on_delete=models.CASCADE,
        related_name="attempt_log",
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(_("状态码"), null=True, blank=True)
    error = models.CharField(_("错误"), max_length=255, blank=True)
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), default=0)

    class Meta:
        verbose_name = _("Webhook 推送尝试")
        verbose_name_plural = _("Webhook 推送尝试")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.delivery} {self.status_code or self.error}"
