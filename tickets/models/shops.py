"""Shops, their staff and the courier companies they ship with."""

import logging
from datetime import time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import ExtractHour, ExtractMinute, TruncMinute
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history import register as record_history
from simple_history.models import HistoricalRecords

from tickets.business_hours import (
    DAY_MINUTES,
    MIN_WINDOW_MINUTES,
    BusinessHours,
    default_business_hours,
    minute_of_day,
)
from tickets.roles import user_access_load

from .base import DeskModel, TimeStampedModel, choices_check

logger = logging.getLogger(__name__)


class ShopKind(models.TextChoices):
    C_STORE = "c_store", _("集市店")
    TMALL = "tmall", _("天猫店")


class ShopLocation(models.TextChoices):
    WUHAN = "wuhan", _("武汉")
    SHANGHAI = "shanghai", _("上海")
    OTHER = "other", _("其他")


def service_hours_problem(opens: time | None, closes: time | None) -> tuple[str, str] | None:
    """(field, message) for the first thing wrong with a shop's business hours, or None: the
    rule of ``Shop.clean``, ``service_hours_valid_q`` and ``BusinessHours``."""
    if opens is None and closes is None:
        return None
    if opens is None or closes is None:
        field = "service_opens_at" if opens is None else "service_closes_at"
        return field, _("上班和下班时间要么都填，要么都留空（用默认时间）。")
    for field, value in (("service_opens_at", opens), ("service_closes_at", closes)):
        if minute_of_day(value) is None:
            return field, _("时间只到分钟，不带秒：请按 HH:MM 填写（如 09:00）。")
    opens_minute, closes_minute = minute_of_day(opens), minute_of_day(closes) or DAY_MINUTES
    if opens_minute >= closes_minute:
        return "service_closes_at", _("下班时间必须晚于上班时间；00:00 表示午夜 24:00。")
    if closes_minute - opens_minute < MIN_WINDOW_MINUTES:
        return "service_closes_at", _(
            "上班时间太短：下班时间至少要比上班时间晚 %(minutes)s 分钟；00:00 表示午夜 24:00。"
        ) % {"minutes": MIN_WINDOW_MINUTES}
    return None


def _minute_of_day(field: str):
    return ExtractHour(field) * 60 + ExtractMinute(field)


def service_hours_valid_q() -> Q:
    """The database's form of ``service_hours_problem`` (constraint
    ``shop_service_hours_valid``, migration 0026): both times or neither; each a whole minute
    (equal to itself cut to the minute); the close at least ``MIN_WINDOW_MINUTES`` after the
    opening, a close of 00:00 counting as 24:00."""
    opens, closes = "service_opens_at", "service_closes_at"
    whole = Q(service_opens_at=TruncMinute(opens)) & Q(service_closes_at=TruncMinute(closes))
    to_midnight = Q(service_closes_at=time(0)) & LessThanOrEqual(
        _minute_of_day(opens), DAY_MINUTES - MIN_WINDOW_MINUTES
    )
    within_day = Q(service_closes_at__gt=time(0)) & GreaterThanOrEqual(
        _minute_of_day(closes) - _minute_of_day(opens), MIN_WINDOW_MINUTES
    )
    return Q(service_opens_at__isnull=True, service_closes_at__isnull=True) | (
        Q(service_opens_at__isnull=False, service_closes_at__isnull=False)
        & whole
        & (to_midnight | within_day)
    )


class Shop(TimeStampedModel):
    Kind = ShopKind
    Location = ShopLocation

    code = models.SlugField(_("店铺代码"), max_length=32, unique=True)
    name = models.CharField(_("店铺名称"), max_length=100, unique=True)
    kind = models.CharField(_("店铺类型"), max_length=16, choices=Kind.choices)
    location = models.CharField(_("所在地"), max_length=16, choices=Location.choices)
    is_active = models.BooleanField(_("在用"), default=True)
    return_address = models.CharField(
        _("退货地址"),
        max_length=255,
        blank=True,
        help_text=_("买家退换货寄回的收件人、电话和地址；快捷短语的 {退货地址} 用它。"),
    )
    # When this shop's service-level clock runs (Beijing time); both empty: the desk's
    # DESK_BUSINESS_HOURS (09:00-24:00). Closing at 00:00 means midnight (24:00).
    service_opens_at = models.TimeField(
        _("客服上班时间"),
        null=True,
        blank=True,
        help_text=_("售后时效只在上班时间内计时；留空则用工作台的默认时间（09:00-24:00）。"),
    )
    service_closes_at = models.TimeField(
        _("客服下班时间"),
        null=True,
        blank=True,
        help_text=_("00:00 表示午夜 24:00。"),
    )

    history = HistoricalRecords(verbose_name=_("变更记录"))

    class Meta:
        verbose_name = _("店铺")
        verbose_name_plural = pgettext_lazy("plural", "店铺")
        ordering = ["code"]
        constraints = [
            choices_check("kind", ShopKind, "shop_kind_valid"),
            choices_check("location", ShopLocation, "shop_location_valid"),
            models.CheckConstraint(
                condition=service_hours_valid_q(), name="shop_service_hours_valid"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        """The shop's business hours read as the admin's form shows them: both or neither, in
        whole minutes (HH:MM), the close at least ``MIN_WINDOW_MINUTES`` (an hour) after the
        opening (00:00 as the close is midnight, 24:00). The database holds the same rule
        (``shop_service_hours_valid``) and ``BusinessHours`` the same again; this says it on
        the field."""
        problem = service_hours_problem(self.service_opens_at, self.service_closes_at)
        if problem:
            field, message = problem
            raise ValidationError({field: message})

    @property
    def is_tmall(self) -> bool:
        return self.kind == self.Kind.TMALL

    @property
    def business_hours(self) -> BusinessHours:
        """The daily window in which this shop's service-level clock runs (issue 13 section 3):
        its own hours, else ``settings.DESK_BUSINESS_HOURS``; Beijing time. Hours stored
        before the rule held (seconds, a day under an hour) never break a page: the desk's
        default hours are used instead, logged here and shown on the shop's admin page
        (``business_hours_problem``)."""
        if self.service_opens_at is None or self.service_closes_at is None:
            return default_business_hours()
        try:
            return BusinessHours.from_times(
                self.service_opens_at, self.service_closes_at, ZoneInfo(settings.TIME_ZONE)
            )
        except ValueError:
            logger.warning(
                "shop %s has unusable business hours %s-%s: the default hours are used",
                self.code,
                self.service_opens_at,
                self.service_closes_at,
            )
            return default_business_hours()

    @property
    def business_hours_problem(self) -> str:
        """What is wrong with the stored hours, in the user's language ("" when nothing is):
        for the admin, which shows that the default hours are used meanwhile."""
        problem = service_hours_problem(self.service_opens_at, self.service_closes_at)
        return str(problem[1]) if problem else ""


class User(AbstractUser):
    """A member of staff. Which shops they serve decides which orders they may see."""

    shops = models.ManyToManyField(
        Shop, verbose_name=_("负责店铺"), blank=True, related_name="staff"
    )
    all_shops = models.BooleanField(
        _("负责全部店铺"),
        default=False,
        help_text=_("主管和财务通常负责全部店铺，包括以后新开的店铺。"),
    )

    # Who gave whom which role and shops, and when; never the password or the last login.
    history = HistoricalRecords(
        verbose_name=_("变更记录"),
        excluded_fields=["password", "last_login"],
        m2m_fields=[shops, "groups", "user_permissions"],
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("员工")
        verbose_name_plural = pgettext_lazy("plural", "员工")

    def __str__(self):
        full = f"{self.last_name}{self.first_name}".strip()
        return full or self.username

    # Every permission question first loads the roles and permissions in one query
    # (tickets.roles.user_access_load); Django's backend then answers from what it loaded.
    def has_perm(self, perm, obj=None):
        user_access_load(self)
        return super().has_perm(perm, obj)

    def has_module_perms(self, app_label):
        user_access_load(self)
        return super().has_module_perms(app_label)

    def get_all_permissions(self, obj=None):
        user_access_load(self)
        return super().get_all_permissions(obj)


class Courier(DeskModel):
    """A courier company (物流公司). Some are priced by hand (SF Express, EMS)."""

    code = models.SlugField(_("代码"), max_length=16, unique=True)
    name = models.CharField(_("名称"), max_length=50, unique=True)
    priced_by_hand = models.BooleanField(
        _("按官方价格人工确认"), default=False, help_text=_("顺丰、EMS 等按快递公司官方价格计费。")
    )

    history = HistoricalRecords(verbose_name=_("变更记录"))

    class Meta:
        verbose_name = _("快递公司")
        verbose_name_plural = pgettext_lazy("plural", "快递公司")
        ordering = ["name"]

    def __str__(self):
        return self.name


# The roles (groups) and which permissions each holds: their changes are recorded too.
record_history(Group, app="tickets", m2m_fields=["permissions"], verbose_name=_("角色变更记录"))
