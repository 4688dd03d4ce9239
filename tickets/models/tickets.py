"""After-sales tickets (售后单), the items they concern, promises, photos and the timeline."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from .base import AppendOnlyModel, DeskModel, MoneyField, TimeStampedModel, choices_check
from .orders import Order, OrderItem
from .shops import Courier, Shop


class TicketKind(models.TextChoices):
    RETURN = "return", _("退货退款")
    EXCHANGE = "exchange", _("换货")
    REFUND_ONLY = "refund_only", _("仅退款")
    RESHIP = "reship", _("补发")
    REPAIR = "repair", _("维修")
    COMPENSATION = "compensation", _("赔偿")


class TicketReason(models.TextChoices):
    WRONG_ITEM = "wrong_item", _("发错货")
    MISSING_ITEM = "missing_item", _("漏发/少件")
    EXTRA_ITEM = "extra_item", _("多发")
    DAMAGED = "damaged", _("破损")
    QUALITY = "quality", _("质量问题")
    LOGISTICS = "logistics", _("物流问题")
    NOT_SUITABLE = "not_suitable", _("尺码/颜色/款式不合适")
    NO_REASON = "no_reason", _("七天无理由")
    INVOICE = "invoice", _("发票问题")
    OTHER = "other", _("其他")


class TicketResponsibility(models.TextChoices):
    SELLER = "seller", _("卖家")
    BUYER = "buyer", _("买家")
    COURIER = "courier", _("快递")
    PLATFORM = "platform", _("平台")


class TicketStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    AWAITING_RETURN = "awaiting_return", _("等待退回")
    RECEIVED = "received", _("已收到退件")
    QUEUED_FOR_EXCHANGE = "queued_for_exchange", _("待换货")
    ON_EXCHANGE_LIST = "on_exchange_list", _("已上换货单")
    IN_REPAIR = "in_repair", _("维修中")
    SHIPPED = "shipped", _("已发出")
    REFUNDED = "refunded", _("已退款")
    COMPENSATED = "compensated", _("已赔偿")
    CLOSED = "closed", _("已完结")
    CANCELLED = "cancelled", _("已撤销")


# Statuses of a ticket still being worked (the rest are finished: closed, cancelled).
OPEN_STATUSES = (
    TicketStatus.OPEN,
    TicketStatus.AWAITING_RETURN,
    TicketStatus.RECEIVED,
    TicketStatus.QUEUED_FOR_EXCHANGE,
    TicketStatus.ON_EXCHANGE_LIST,
    TicketStatus.IN_REPAIR,
    TicketStatus.SHIPPED,
    TicketStatus.REFUNDED,
    TicketStatus.COMPENSATED,
)


# Statuses in which the ticket waits for the buyer or the courier, not the shop: the
# service-level clock stands still (issue 13 section 3). Awaiting the return parcel pauses by
# its status; waiting for the buyer's answer is ``Ticket.awaiting_buyer``, allowed while the
# shop still has work to do (before the buyer's problem is solved).
PAUSING_STATUSES = (TicketStatus.AWAITING_RETURN,)
BUYER_WAIT_STATUSES = (
    TicketStatus.OPEN,
    TicketStatus.RECEIVED,
    TicketStatus.QUEUED_FOR_EXCHANGE,
    TicketStatus.ON_EXCHANGE_LIST,
    TicketStatus.IN_REPAIR,
)


def overdue_q(now, *, already_open: bool = False) -> Q:
    """The one rule for "overdue" (超时), used by the list, its filter, the dashboard, the
    statistics and the export (issue 13 section 3): an open ticket (never a closed or
    cancelled one) whose first reply or resolution is not done and whose due time passed
    while the clock ran: before ``now`` and, while the clock is paused, before the pause
    began. ``now`` aware; ``already_open`` leaves out the status condition (see
    ``TicketQuerySet.overdue``). A plain comparison on stored due times, so
    ``ticket_open_due_idx`` (which carries every column named here) answers it: pausing
    moves nothing, resuming moves the due times still ahead when the pause began forward by
    the business time paused, a missed one stays (``tickets.sla.clock_restart``)."""
    running = Q(paused_at__isnull=True)
    late = Q(first_responded_at__isnull=True, first_response_due__lt=now) & (
        running | Q(first_response_due__lt=F("paused_at"))
    ) | Q(resolved_at__isnull=True, resolution_due__lt=now) & (
        running | Q(resolution_due__lt=F("paused_at"))
    )
    return late if already_open else Q(status__in=OPEN_STATUSES) & late


# Who is usually responsible for each reason (DOMAIN.md "Responsibility decides who pays").
# The agent may choose otherwise; this is the suggestion the form starts from.
RESPONSIBILITY_BY_REASON = {
    TicketReason.WRONG_ITEM: TicketResponsibility.SELLER,
    TicketReason.MISSING_ITEM: TicketResponsibility.SELLER,
    TicketReason.EXTRA_ITEM: TicketResponsibility.SELLER,
    TicketReason.DAMAGED: TicketResponsibility.SELLER,
    TicketReason.QUALITY: TicketResponsibility.SELLER,
    TicketReason.INVOICE: TicketResponsibility.SELLER,
    TicketReason.LOGISTICS: TicketResponsibility.COURIER,
    TicketReason.NOT_SUITABLE: TicketResponsibility.BUYER,
    TicketReason.NO_REASON: TicketResponsibility.BUYER,
    TicketReason.OTHER: TicketResponsibility.BUYER,
}


def stale_cutoff(now=None):
    """The moment before which an unchanged open status counts as stale: ``now`` minus
    ``settings.DESK_STALE_AFTER_DAYS`` days (issue 11, "stale")."""
    return (now or timezone.now()) - timedelta(days=settings.DESK_STALE_AFTER_DAYS)


def stale_q(now=None) -> Q:
    """The one rule for "stale" (停滞) on a ticket already known to be open: its status has
    not changed since ``stale_cutoff(now)``. ``TicketQuerySet.stale`` filters by it; the
    dashboard's counts count by it (``selectors_inbox.open_ticket_counts``)."""
    return Q(status_changed_at__lte=stale_cutoff(now))


class TicketQuerySet(models.QuerySet):
    def open(self):
        # IN (the open statuses) rather than NOT IN (finished): the indexes can serve it.
        return self.filter(status__in=Ticket.OPEN_STATUSES)

    def overdue(self, now=None, *, already_open=False):
        """Open tickets past a due time they have not met (the same rule as ``is_overdue``).
        ``already_open``: the queryset is limited to open tickets already; saying the same
        condition twice makes PostgreSQL misjudge how many rows match and pick a slow plan."""
        now = now or timezone.now()
        queryset = self if already_open else self.open()
        return queryset.filter(overdue_q(now, already_open=True))

    def stale(self, now=None, *, already_open=False):
        """Open tickets whose status has not changed for ``DESK_STALE_AFTER_DAYS`` days or more
        (停滞: refunded or shipped but never closed, waiting for a return that never came), the
        same rule as ``Ticket.is_stale``. Independent of the SLA: a stale ticket may have met
        every due time. ``now`` an aware datetime (default: now); ``already_open`` as for
        ``overdue``. Reads the partial index ``ticket_open_stale_idx`` (status_changed_at, id)."""
        queryset = self if already_open else self.open()
        return queryset.filter(stale_q(now))


class Ticket(TimeStampedModel):
    Kind = TicketKind
    Reason = TicketReason
    Responsibility = TicketResponsibility
    Status = TicketStatus

    FINISHED_STATUSES = (Status.CLOSED, Status.CANCELLED)
    OPEN_STATUSES = OPEN_STATUSES
    PAUSING_STATUSES = PAUSING_STATUSES
    BUYER_WAIT_STATUSES = BUYER_WAIT_STATUSES

    # TimeStampedModel's, without its single-column index: ``ticket_created_at_idx`` below
    # carries the shop too.
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    shop = models.ForeignKey(
        Shop, verbose_name=_("店铺"), on_delete=models.PROTECT, related_name="tickets"
    )
    order = models.ForeignKey(
        Order, verbose_name=_("订单"), on_delete=models.PROTECT, related_name="tickets"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    reason = models.CharField(_("原因"), max_length=16, choices=Reason.choices)
    responsibility = models.CharField(_("责任方"), max_length=16, choices=Responsibility.choices)
    status = models.CharField(_("状态"), max_length=24, choices=Status.choices, default=Status.OPEN)
    description = models.TextField(_("问题描述"), blank=True)

    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_tickets",
    )
    escalated = models.BooleanField(_("已升级给主管"), default=False)

    return_courier = models.ForeignKey(
        Courier, verbose_name=_("退回物流公司"), null=True, blank=True, on_delete=models.PROTECT
    )
    # Indexed in ``Meta`` (``ticket_return_tracking_idx``), not with ``db_index``: the desk
    # looks a return parcel up by its whole number, never by LIKE 'prefix%'.
    return_tracking_no = models.CharField(_("退回运单号"), max_length=40, blank=True)
    outbound_tracking_no = models.CharField(_("换货/补发运单号"), max_length=40, blank=True)

    first_response_due = models.DateTimeField(_("首次响应时限"))
    first_responded_at = models.DateTimeField(_("首次响应时间"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("解决时限"))
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)
    # Service-level clock (issue 13 section 3): it starts when the buyer asked (the opening,
    # or 退款申请时间 for a refund import), stands still while ``paused_at`` is set (awaiting
    # the return parcel, or ``awaiting_buyer``) and runs in the shop's business hours only.
    clock_started_at = models.DateTimeField(_("计时开始"), default=timezone.now)
    awaiting_buyer = models.BooleanField(_("等待买家回复"), default=False)
    paused_at = models.DateTimeField(_("暂停计时时间"), null=True, blank=True)
    # Business seconds of the pauses that have ended (the current one is not yet in it).
    paused_seconds = models.PositiveIntegerField(_("已暂停（营业秒数）"), default=0)
    closed_at = models.DateTimeField(_("完结时间"), null=True, blank=True)
    # When the status last changed (set by ``ticket_transition``): a ticket that has sat in
    # a non-final status longer than ``DESK_STALE_AFTER`` is stale (停滞), even if not overdue.
    status_changed_at = models.DateTimeField(_("状态变更时间"), default=timezone.now)
    # The new-ticket form's server-issued one-time key: the same POST twice opens one ticket.
    idempotency_key = models.CharField(
        _("提交编号"), max_length=64, null=True, blank=True, unique=True, editable=False
    )

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("singular", "售后单")
        verbose_name_plural = _("售后单")
        ordering = ["-created_at"]
        constraints = [
            choices_check("kind", TicketKind, "ticket_kind_valid"),
            choices_check("reason", TicketReason, "ticket_reason_valid"),
            choices_check("responsibility", TicketResponsibility, "ticket_responsibility_valid"),
            choices_check("status", TicketStatus, "ticket_status_valid"),
            models.CheckConstraint(
                condition=Q(resolution_due__gte=models.F("first_response_due")),
                name="ticket_resolution_due_after_first_response",
            ),
            # The clock is paused exactly while the ticket waits for the return parcel or the
            # buyer, and the buyer is waited for only while the shop still has work to do.
            models.CheckConstraint(
                condition=Q(
                    paused_at__isnull=False,
                    status__in=PAUSING_STATUSES,
                    awaiting_buyer=False,
                )
                | Q(paused_at__isnull=False, status__in=BUYER_WAIT_STATUSES, awaiting_buyer=True)
                | (
                    Q(paused_at__isnull=True, awaiting_buyer=False)
                    & ~Q(status__in=PAUSING_STATUSES)
                ),
                name="ticket_paused_while_waiting",
            ),
        ]
        indexes = [
            models.Index(
                fields=["shop", "status", "resolution_due"], name="ticket_shop_status_due_idx"
            ),
            models.Index(
                fields=["assignee", "status", "resolution_due"], name="ticket_assignee_due_idx"
            ),
            models.Index(fields=["status", "resolution_due"], name="ticket_status_due_idx"),
            # The default list (open tickets, soonest due first) and the overdue count read
            # this small index in order instead of sorting every open ticket.
            models.Index(
                fields=["resolution_due", "id"],
                condition=Q(status__in=OPEN_STATUSES),
                # Carries what the dashboard counts filter on, so they read the index alone
                # (``selectors_inbox.open_ticket_counts``: overdue and stale per assignee).
                include=[
                    "shop",
                    "assignee",
                    "first_response_due",
                    "first_responded_at",
                    "resolved_at",
                    "paused_at",
                    "status_changed_at",
                ],
                name="ticket_open_due_idx",
            ),
            # The list over every status ("全部状态"), soonest due first or last updated first:
            # read in order and stopped at the page, instead of joining and sorting them all.
            models.Index(fields=["resolution_due", "id"], name="ticket_due_idx"),
            models.Index(fields=["updated_at", "id"], name="ticket_updated_idx"),
            models.Index(fields=["return_tracking_no"], name="ticket_return_tracking_idx"),
            # The dashboard's "opened today" and "resolved today" of the user's shops, from the
            # index alone: at a million tickets each read thousands of scattered heap pages
            # only to look at the shop (bench/README.md, "The dashboard at a million").
            models.Index(fields=["created_at"], include=["shop"], name="ticket_created_at_idx"),
            models.Index(fields=["resolved_at"], include=["shop"], name="ticket_resolved_at_idx"),
            models.Index(
                fields=["status_changed_at", "id"],
                condition=Q(status__in=OPEN_STATUSES),
                name="ticket_open_stale_idx",
            ),
            # The open logistics tickets' orders, for the dashboards' auto-confirm warnings
            # (``tickets.selectors_orders.auto_confirm_warnings``): a few thousand at a million
            # tickets, read from the index alone.
            models.Index(
                fields=["order"],
                include=["shop", "assignee"],
                condition=Q(status__in=OPEN_STATUSES, reason="logistics"),
                name="ticket_open_logistics_idx",
            ),
        ]
        permissions = [("escalate_ticket", _("可以把售后单升级给主管"))]

    def __str__(self):
        return self.number

    @property
    def number(self) -> str:
        """The ticket number agents read out and finance sees on the sheets."""
        return f"T{self.pk:08d}" if self.pk else "-"

    @property
    def is_open(self) -> bool:
        return self.status not in self.FINISHED_STATUSES

    @property
    def postage_payer(self) -> str:
        """Who pays the return postage: the buyer when it was the buyer's choice, else the shop."""
        return "buyer" if self.responsibility == self.Responsibility.BUYER else "shop"

    @property
    def is_stale(self) -> bool:
        """Open and unchanged in status for ``DESK_STALE_AFTER_DAYS`` days or more (the rule of
        ``TicketQuerySet.stale``)."""
        return self.is_open and self.status_changed_at <= stale_cutoff()

    @property
    def stale_days(self) -> int | None:
        """Whole days the ticket has sat in its status when it is stale (停滞 N 天), else None."""
        if not self.is_stale:
            return None
        return (timezone.now() - self.status_changed_at).days

    def is_overdue(self, now=None) -> bool:
        """``overdue_q`` for this ticket: open, and the first reply or the resolution not done
        by its due time, which passed while the clock ran (before ``now``, or before the
        current pause began). ``now`` aware, default now."""
        if not self.is_open:
            return False
        now = now or timezone.now()

        def passed(due):
            return due < now and (self.paused_at is None or due < self.paused_at)

        if self.first_responded_at is None and passed(self.first_response_due):
            return True
        return self.resolved_at is None and passed(self.resolution_due)

    @property
    def is_paused(self) -> bool:
        """The service-level clock stands still: the ticket waits for the buyer or the courier."""
        return self.paused_at is not None


class TicketItem(DeskModel):
    """An order item the ticket is about, and how many of it (never more than ordered)."""

    # No index of its own: ``ticket_item_once`` (ticket, order item) leads with it.
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=pgettext_lazy("singular", "售后单"),
        on_delete=models.CASCADE,
        related_name="items",
        db_index=False,
    )
    order_item = models.ForeignKey(
        OrderItem, verbose_name=_("订单商品"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField(_("数量"))

    class Meta:
        verbose_name = _("售后商品")
        verbose_name_plural = pgettext_lazy("plural", "售后商品")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "order_item"], name="ticket_item_once"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="ticket_item_quantity_positive"
            ),
        ]

    def __str__(self):
        return f"{self.order_item.title} × {self.quantity}"


class ExchangeReplacement(DeskModel):
    """What the warehouse sends out for (part of) a returned item on an exchange ticket
    (换货: 退回 → 发出): a SKU of the same product in another colour or size, or of another
    product, and how many; an item's replacements add up to the quantity returned.
    ``unit_price`` and ``returned_unit_price`` are the two SKUs' prices when the choice was
    made (the catalogue's 售价, or the price on the order where the catalogue has none), so
    the price difference (差价) does not move when the catalogue does; ``code``, ``title``,
    ``colour`` and ``size`` are the SKU as it was then, so what a signed list sends out is
    what was signed even if the catalogue's SKU is edited afterwards. Changed through
    ``tickets.services.exchanges`` only, and only until the exchange list is signed."""

    # No index of its own: ``exchange_replacement_once_per_sku`` (item, SKU) leads with it.
    ticket_item = models.ForeignKey(
        TicketItem,
        verbose_name=_("退回商品"),
        on_delete=models.CASCADE,
        related_name="replacements",
        db_index=False,
    )
    sku = models.ForeignKey(
        "tickets.Sku", verbose_name=_("发出 SKU"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField(_("数量"))
    unit_price = MoneyField(_("发出单价"))
    returned_unit_price = MoneyField(_("退回单价"))
    # The SKU as chosen (its lengths are the catalogue's: Sku.code/colour/size, Product.title).
    code = models.CharField(_("商家编码"), max_length=60)
    title = models.CharField(_("商品标题"), max_length=200)
    colour = models.CharField(_("颜色"), max_length=40, blank=True)
    size = models.CharField(_("尺码"), max_length=20, blank=True)
    # Another product goes out (换款), not another colour or size of the returned one: decided
    # when chosen, so a catalogue SKU moved to another product later changes no signed list.
    other_product = models.BooleanField(_("换款"), default=False)
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("选择人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    chosen_at = models.DateTimeField(_("选择时间"), default=timezone.now)

    class Meta:
        verbose_name = _("换货发出商品")
        verbose_name_plural = pgettext_lazy("plural", "换货发出商品")
        ordering = ["ticket_item", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket_item", "sku"], name="exchange_replacement_once_per_sku"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="exchange_replacement_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0) & Q(returned_unit_price__gte=0),
                name="exchange_replacement_price_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.sku} × {self.quantity}"

    @property
    def price_difference(self):
        """Yuan (Decimal) the buyer owes for this line: positive when the replacement is
        dearer, negative when the shop owes the buyer."""
        return (self.unit_price - self.returned_unit_price) * self.quantity


class ExchangeCharge(AppendOnlyModel):
    """The price difference (补差价) a buyer paid the shop for a dearer replacement, usually
    through the shop's price-difference link as a separate platform order. Money in, so it
    is not a ledger entry (the ledger holds what the shop pays out). Append-only: a mistake
    is corrected by a reversing row, as in the ledger."""

    ticket = models.ForeignKey(
        Ticket,
        verbose_name=pgettext_lazy("singular", "售后单"),
        on_delete=models.PROTECT,
        related_name="exchange_charges",
    )
    amount = MoneyField(_("金额"))
    reference = models.CharField(_("补差价订单号"), max_length=40, blank=True)
    note = models.CharField(_("备注"), max_length=255, blank=True)
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("冲销的记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversal",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    # A server-issued one-time key from the form: the same POST twice makes one row.
    idempotency_key = models.CharField(
        _("提交编号"), max_length=64, null=True, blank=True, unique=True
    )

    class Meta:
        verbose_name = _("换货补差价")
        verbose_name_plural = pgettext_lazy("plural", "换货补差价")
        ordering = ["recorded_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="exchange_charge_positive"),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True) | ~Q(reverses=F("id")),
                name="exchange_charge_not_reversing_itself",
            ),
        ]

    def __str__(self):
        return f"{self.ticket} {self.signed_amount} ¥"

    @property
    def signed_amount(self):
        return -self.amount if self.reverses_id else self.amount


class SavedView(TimeStampedModel):
    """A named ticket-list filter (保存的视图): the query string an agent finds again in one
    click. A supervisor may share one with the team; only its owner changes it."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.CASCADE,
        related_name="saved_views",
    )
    name = models.CharField(_("名称"), max_length=40)
    query = models.CharField(_("筛选条件"), max_length=1000, blank=True)
    shared = models.BooleanField(_("团队共享"), default=False)

    class Meta:
        verbose_name = pgettext_lazy("singular", "保存的视图")
        verbose_name_plural = _("保存的视图")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_name_per_owner")
        ]

    def __str__(self):
        return self.name


class PromiseKind(models.TextChoices):
    POSTAGE = "postage", _("承担运费")
    PRICE_DIFFERENCE = "price_difference", _("补差价")
    DISCOUNT = "discount", _("优惠")
    GIFT = "gift", _("赠品")
    DELIVERY_DAY = "delivery_day", _("发货/到货日期")
    OTHER = "other", _("其他")


class Promise(TimeStampedModel):
    """What an agent promised the buyer: shown on the ticket until it is kept (违背承诺)."""

    Kind = PromiseKind

    ticket = models.ForeignKey(
        Ticket,
        verbose_name=pgettext_lazy("singular", "售后单"),
        on_delete=models.CASCADE,
        related_name="promises",
    )
    kind = models.CharField(_("承诺类型"), max_length=20, choices=Kind.choices)
    text = models.CharField(_("承诺内容"), max_length=255)
    due_on = models.DateField(_("兑现日期"), null=True, blank=True)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("承诺人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    fulfilled_at = models.DateTimeField(_("兑现时间"), null=True, blank=True)
    fulfilled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("兑现人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # A promise not kept when the ticket ends is waived on purpose, with the reason: the
    # breach-of-promise rule (违背承诺) wants it on record, never silently dropped.
    waived_at = models.DateTimeField(_("放弃时间"), null=True, blank=True)
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("放弃人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    waived_reason = models.CharField(_("未兑现原因"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("对买家的承诺")
        verbose_name_plural = pgettext_lazy("plural", "对买家的承诺")
        ordering = ["fulfilled_at", "due_on", "id"]
        constraints = [
            choices_check("kind", PromiseKind, "promise_kind_valid"),
            models.CheckConstraint(
                condition=Q(fulfilled_at__isnull=True, fulfilled_by__isnull=True)
                | Q(fulfilled_at__isnull=False, fulfilled_by__isnull=False),
                name="promise_fulfilled_with_who_and_when",
            ),
            models.CheckConstraint(
                condition=Q(waived_at__isnull=True, waived_by__isnull=True, waived_reason="")
                | (
                    Q(waived_at__isnull=False, waived_by__isnull=False, fulfilled_at__isnull=True)
                    & ~Q(waived_reason="")
                ),
                name="promise_waived_with_who_when_why_and_not_kept",
            ),
        ]

    def __str__(self):
        return self.text

    @property
    def is_open(self) -> bool:
        """Neither kept nor waived: the ticket shows it and may not end while it stays."""
        return self.fulfilled_at is None and self.waived_at is None


class TicketEventKind(models.TextChoices):
    OPENED = "opened", _("创建")
    STATUS = "status", _("状态变更")
    ASSIGNED = "assigned", _("分配")
    NOTE = "note", _("备注")
    MONEY = "money", _("资金")
    PARCEL = "parcel", _("退件")
    TRACKING = "tracking", _("退回运单号")
    PHOTO = "photo", _("照片")
    PROMISE = "promise", _("承诺")
    ESCALATED = "escalated", _("升级")
    EXCHANGE = "exchange", _("换货商品")


class TicketEvent(AppendOnlyModel):
    """One line of a ticket's timeline: who did what, when. Never edited."""

    Kind = TicketEventKind

    # No index of its own: ``ticket_event_timeline_idx`` (ticket, time) leads with it.
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=pgettext_lazy("singular", "售后单"),
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    from_status = models.CharField(_("原状态"), max_length=24, blank=True)
    to_status = models.CharField(_("新状态"), max_length=24, blank=True)
    message = models.TextField(_("内容"), blank=True)
    # A line the desk words itself: its key and parameters, said in the reader's language
    # (``tickets.timeline_lines``); ``message`` then holds it in the default language.
    params = models.JSONField(_("参数"), null=True, blank=True, editable=False)
    # The bulk form a note came from (its one-time key): the same form sent again
    # writes no second note, while the same words typed anywhere else are a new note.
    submission = models.CharField(
        _("批量表单"), max_length=64, null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    def shown_message(self) -> str:
        """What the line says to the person reading it (``tickets.timeline_lines``)."""
        from tickets.timeline_lines import event_message

        return event_message(self)

    class Meta:
        verbose_name = _("售后单动态")
        verbose_name_plural = pgettext_lazy("plural", "售后单动态")
        ordering = ["created_at", "id"]
        constraints = [choices_check("kind", TicketEventKind, "ticket_event_kind_valid")]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="ticket_event_timeline_idx"),
            # The month's exchange slips (``finance_exports``: the tickets shipped in a month):
            # at a million tickets the timeline's 5 million events were read whole, 1.7-2 s,
            # three times per sheet; shipping is a few events in a hundred.
            models.Index(
                fields=["created_at"],
                condition=Q(kind=TicketEventKind.STATUS, to_status=TicketStatus.SHIPPED),
                name="ticket_event_shipped_idx",
            ),
        ]

    def __str__(self):
        at = timezone.localtime(self.created_at)
        return f"{self.ticket} {self.get_kind_display()} {at:%Y-%m-%d %H:%M}"

    @property
    def from_label(self) -> str:
        return TicketStatus(self.from_status).label if self.from_status else ""

    @property
    def to_label(self) -> str:
        return TicketStatus(self.to_status).label if self.to_status else ""


def photo_buyer_folder(buyer_nick: str) -> str:
    """The folder of a buyer's photos: ``b`` and 20 hexadecimal digits, a keyed hash
    (``salted_hmac`` with ``SECRET_KEY``) of the nickname, the same for every photo of that
    buyer - never the nickname itself, which is personal data and would stand in every key
    the object store lists and logs (and in the desk's own log lines)."""
    from django.utils.crypto import salted_hmac

    return "b" + salted_hmac("tickets.photo-folder", buyer_nick).hexdigest()[:20]


def ticket_photo_path(instance: "TicketPhoto", filename: str) -> str:
    """Photos are filed under the buyer (as the business asks: ``photos/<buyer>/<ticket id>/``,
    the buyer's folder from ``photo_buyer_folder``) with a generated name. Photos stored
    before under ``photos/<nickname>/`` keep their names (the row holds the name)."""
    import uuid

    buyer = photo_buyer_folder(instance.ticket.order.buyer_nick)
    return f"photos/{buyer}/{instance.ticket_id}/{uuid.uuid4().hex}.{instance.image_format}"


class TicketPhoto(TimeStampedModel):
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=pgettext_lazy("singular", "售后单"),
        on_delete=models.PROTECT,
        related_name="photos",
    )
    file = models.FileField(_("文件"), upload_to=ticket_photo_path, max_length=255)
    image_format = models.CharField(_("格式"), max_length=8)
    original_name = models.CharField(_("原文件名"), max_length=255, blank=True)
    width = models.PositiveIntegerField(_("宽"))
    height = models.PositiveIntegerField(_("高"))
    size_bytes = models.PositiveIntegerField(_("大小"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("售后照片")
        verbose_name_plural = pgettext_lazy("plural", "售后照片")
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(image_format__in=["jpeg", "png", "webp"]),
                name="ticket_photo_format_valid",
            )
        ]

    def __str__(self):
        return self.original_name or self.file.name


class QuickReply(TimeStampedModel):
    """The team's shared phrases (快捷短语), kept by supervisors."""

    title = models.CharField(_("标题"), max_length=60)
    body = models.TextField(
        _("内容"),
        help_text=_("可用占位符：{买家}、{订单号}、{运单号}、{退回运单号}、{店铺}、{退货地址}"),
    )
    is_active = models.BooleanField(_("在用"), default=True)

    history = HistoricalRecords(verbose_name=_("变更记录"))

    class Meta:
        verbose_name = pgettext_lazy("singular", "快捷短语")
        verbose_name_plural = _("快捷短语")
        ordering = ["title"]

    def __str__(self):
        return self.title
