"""What waits for a supervisor and who is told about what (issue 13 sections 1 and 2):
escalations with their decision, the desk's notifications (the bell), and the team chat's
group-robot webhooks (DingTalk, WeCom)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tickets.chat_urls import ChatUrlRefused, chat_url_target

from .base import DeskModel, TimeStampedModel, choices_check
from .shops import Shop
from .tickets import Ticket


class EscalationDecision(models.TextChoices):
    INSTRUCT = "instruct", _("指示客服")
    EXCEPTION = "exception", _("批准例外")
    TAKE_OVER = "take_over", _("主管接手")
    RETURN = "return", _("退回客服")
    # Not a supervisor's choice: the desk closes an open escalation when its ticket is
    # finished or cancelled (``ticket_transition``), by whoever finished it or nobody.
    TICKET_FINISHED = "ticket_finished", _("售后单已完结，自动关闭")


# What a supervisor may choose in ``escalation_decide`` (the form's choices).
SUPERVISOR_DECISIONS = [
    (value, label)
    for value, label in EscalationDecision.choices
    if value != EscalationDecision.TICKET_FINISHED
]


class Escalation(TimeStampedModel):
    """An agent's request for a supervisor's decision on a ticket (升级), with its reason, and
    the decision when made. At most one is open per ticket (the database guards it); the
    decision is made once, by ``tickets.services.escalations.escalation_decide``, or by the
    desk when the ticket is finished or cancelled first (``Decision.TICKET_FINISHED``, its
    ``decided_by`` whoever finished the ticket, none for the import or the exchange list)."""

    Decision = EscalationDecision
    SUPERVISOR_DECISIONS = SUPERVISOR_DECISIONS

    ticket = models.ForeignKey(
        Ticket,
        verbose_name=pgettext_lazy("singular", "售后单"),
        on_delete=models.PROTECT,
        related_name="escalations",
    )
    reason = models.TextField(_("升级原因"))
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("升级人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    raised_at = models.DateTimeField(_("升级时间"), default=timezone.now)
    decision = models.CharField(_("主管决定"), max_length=16, choices=Decision.choices, blank=True)
    decision_note = models.TextField(_("决定说明"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("决定人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "升级")
        verbose_name_plural = pgettext_lazy("plural", "升级")
        ordering = ["raised_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(decided_at__isnull=True),
                name="escalation_one_open_per_ticket",
            ),
            models.CheckConstraint(
                condition=Q(decision="", decided_by__isnull=True, decided_at__isnull=True)
                | (
                    ~Q(decision="")
                    & Q(decided_at__isnull=False)
                    & Q(decision__in=EscalationDecision.values)
                    & (Q(decided_by__isnull=False) | Q(decision=EscalationDecision.TICKET_FINISHED))
                ),
                name="escalation_decided_with_who_when_what",
            ),
        ]
        indexes = [
            models.Index(
                fields=["raised_at", "id"],
                condition=Q(decided_at__isnull=True),
                name="escalation_open_idx",
            )
        ]
        permissions = [("decide_escalation", _("可以决定升级的售后单"))]

    def __str__(self):
        return f"{self.ticket} {timezone.localtime(self.raised_at):%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.decided_at is None


class NotificationKind(models.TextChoices):
    ASSIGNED = "assigned", _("分配给我")
    ESCALATION_RAISED = "escalation_raised", _("升级待决定")
    ESCALATION_DECIDED = "escalation_decided", _("升级已决定")
    APPROVAL_NEEDED = "approval_needed", _("赔偿待审批")
    APPROVAL_DECIDED = "approval_decided", _("赔偿已审批")
    SLA_BREACH_SOON = "sla_breach_soon", _("即将超时")
    PRODUCTION_ALERT = "production_alert", _("生产问题预警")
    SHEET_FAILED = "sheet_failed", _("报表生成失败")
    INTERVENTION_DEADLINE = "intervention_deadline", _("平台介入举证期限")
    VIP_FOLLOW_UPS = "vip_follow_ups", _("VIP 回访待办")


class Notification(DeskModel):
    """One line in a staff member's bell (通知): what happened, where to go, read or not.
    Written in the same transaction as the event it tells about, so it exists exactly when the
    event does. ``dedupe_key``: an event a scheduled task finds again and again (a ticket near
    its due time, an intervention near its deadline) is told once per recipient and key.

    What it says is not stored in anyone's language: ``kind`` and ``params`` (numbers, values
    of choices, dates, staff names; never a buyer's data nor anything a person typed) are put
    into words when it is shown, in the reader's language (``message``,
    ``tickets.notification_messages``). ``text`` holds the words of the rows written before
    migration 0027 in the writer's language, shown as they are."""

    Kind = NotificationKind

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("类型"), max_length=24, choices=Kind.choices)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    text = models.CharField(_("内容"), max_length=255, blank=True)
    url = models.CharField(_("链接"), max_length=200, blank=True)
    shop = models.ForeignKey(
        Shop, verbose_name=_("店铺"), null=True, blank=True, on_delete=models.CASCADE
    )
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=pgettext_lazy("singular", "售后单"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
    )
    dedupe_key = models.CharField(_("去重键"), max_length=80, null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        constraints = [
            choices_check("kind", NotificationKind, "notification_kind_valid"),
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"],
                condition=Q(dedupe_key__isnull=False),
                name="notification_once_per_key",
            ),
        ]
        indexes = [
            models.Index(
                fields=["recipient", "created_at"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
            models.Index(fields=["recipient", "created_at"], name="notification_recipient_idx"),
        ]

    def __str__(self):
        return self.message

    @property
    def message(self) -> str:
        """What this notification says, in the active language (the reader's)."""
        from tickets.notification_messages import notification_message

        return notification_message(self)


class ChatProvider(models.TextChoices):
    DINGTALK = "dingtalk", _("钉钉")
    WECOM = "wecom", _("企业微信")


class ChatWebhook(TimeStampedModel):
    """A team chat's group robot (群机器人) that hears one kind of event of one shop (no shop:
    events of every shop and those that belong to none, such as a failed sheet). Kept by
    administrators in the admin; the secret is write-only there."""

    Provider = ChatProvider

    name = models.CharField(_("名称"), max_length=60)
    provider = models.CharField(_("平台"), max_length=12, choices=Provider.choices)
    shop = models.ForeignKey(
        Shop,
        verbose_name=_("店铺"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text=_("留空：所有店铺，以及不属于某个店铺的事件（如报表生成失败）。"),
    )
    kind = models.CharField(_("事件类型"), max_length=24, choices=NotificationKind.choices)
    url = models.URLField(
        _("Webhook 地址"),
        max_length=500,
        help_text=_(
            "钉钉：https://oapi.dingtalk.com/robot/send?access_token=…；"
            "企业微信：https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"
        ),
    )
    secret = models.CharField(
        _("加签密钥"),
        max_length=200,
        blank=True,
        help_text=_("钉钉机器人“加签”的密钥（SEC 开头）；企业微信不需要。保存后不再显示。"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    # The last attempt to send (``tickets.services.notifications.chat_send``), kept so an
    # administrator sees a robot that keeps failing: written by the sender, read-only in the
    # admin. ``last_error`` is a short phrase of the sender's own (an HTTP status, an errcode,
    # a network error's kind), never the robot's URL, its query or its secret.
    last_attempt_at = models.DateTimeField(_("最近发送时间"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("最近成功时间"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=200, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("连续失败次数"), default=0)

    class Meta:
        verbose_name = _("群机器人")
        verbose_name_plural = pgettext_lazy("plural", "群机器人")
        ordering = ["name", "id"]
        constraints = [
            choices_check("provider", ChatProvider, "chat_webhook_provider_valid"),
            choices_check("kind", NotificationKind, "chat_webhook_kind_valid"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        """Refuses a URL the desk would not send to (``tickets.chat_urls.chat_url_target``:
        https, no credentials, public addresses only unless ``DESK_CHAT_ALLOW_PRIVATE_URLS``),
        as a ``ValidationError`` on ``url``. Resolves the host name (DNS)."""
        super().clean()
        if self.url:
            try:
                chat_url_target(self.url)
            except ChatUrlRefused as exc:
                raise ValidationError({"url": exc.message}) from exc

    @property
    def is_failing(self) -> bool:
        """True when the last attempt failed (``consecutive_failures`` > 0)."""
        return self.consecutive_failures > 0
