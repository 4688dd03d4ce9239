"""The shops' postage rate card (运费表): data the business edits, not code.

Each row says what sending a parcel from a shop's location to a destination costs: a price
for the first weight and a price per extra kilogram, or "confirm by hand" where the shops
quote no price (Tibet). Couriers priced by their own official tariff (SF Express, EMS) are
marked on ``Courier.priced_by_hand``. Which row applies and how weight is rounded is
decided in ``tickets.postage``.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .base import MoneyField, TimeStampedModel
from .shops import ShopLocation


class Province(models.TextChoices):
    """Province-level destinations, by the short name addresses start with."""

    BEIJING = "北京", _("北京")
    TIANJIN = "天津", _("天津")
    HEBEI = "河北", _("河北")
    SHANXI = "山西", _("山西")
    INNER_MONGOLIA = "内蒙古", _("内蒙古")
    LIAONING = "辽宁", _("辽宁")
    JILIN = "吉林", _("吉林")
    HEILONGJIANG = "黑龙江", _("黑龙江")
    SHANGHAI = "上海", _("上海")
    JIANGSU = "江苏", _("江苏")
    ZHEJIANG = "浙江", _("浙江")
    ANHUI = "安徽", _("安徽")
    FUJIAN = "福建", _("福建")
    JIANGXI = "江西", _("江西")
    SHANDONG = "山东", _("山东")
    HENAN = "河南", _("河南")
    HUBEI = "湖北", _("湖北")
    HUNAN = "湖南", _("湖南")
    GUANGDONG = "广东", _("广东")
    GUANGXI = "广西", _("广西")
    HAINAN = "海南", _("海南")
    CHONGQING = "重庆", _("重庆")
    SICHUAN = "四川", _("四川")
    GUIZHOU = "贵州", _("贵州")
    YUNNAN = "云南", _("云南")
    TIBET = "西藏", _("西藏")
    SHAANXI = "陕西", _("陕西")
    GANSU = "甘肃", _("甘肃")
    QINGHAI = "青海", _("青海")
    NINGXIA = "宁夏", _("宁夏")
    XINJIANG = "新疆", _("新疆")
    HONG_KONG = "香港", _("香港")
    MACAO = "澳门", _("澳门")
    TAIWAN = "台湾", _("台湾")


class PostageRate(TimeStampedModel):
    """One line of the rate card. The most specific line wins (see ``tickets.postage``):
    a city beats its province, a province beats "every other province", and a line for the
    shop's own location beats a line for any location."""

    origin = models.CharField(
        _("发货地"),
        max_length=16,
        choices=ShopLocation.choices,
        blank=True,
        help_text=_("店铺所在地；留空表示所有店铺。"),
    )
    province = models.CharField(
        _("目的省份"),
        max_length=8,
        choices=Province.choices,
        blank=True,
        help_text=_("留空表示其他所有省份（默认运费）。"),
    )
    city = models.CharField(
        _("目的城市"),
        max_length=20,
        blank=True,
        help_text=_("只对这个城市生效（如同城价填“武汉”）；留空表示全省。"),
    )
    name = models.CharField(
        _("规则名称"), max_length=50, help_text=_("如“江浙沪本地”，和运费建议一起显示。")
    )
    first_weight_kg = models.DecimalField(
        _("首重（kg）"), max_digits=5, decimal_places=2, default=Decimal("1")
    )
    first_price = MoneyField(_("首重价格"), null=True, blank=True)
    extra_kg_price = MoneyField(
        _("续重每 kg 价格"),
        null=True,
        blank=True,
        help_text=_("留空表示只定了首重价格：超过首重时请人工确认。"),
    )
    confirm_by_hand = models.BooleanField(
        _("人工确认运费"),
        default=False,
        help_text=_("如西藏：收费前必须先确认实际运费再告知买家，不给建议金额。"),
    )

    history = HistoricalRecords(verbose_name=_("变更记录"))

    class Meta:
        verbose_name = _("运费规则")
        verbose_name_plural = _("运费表")
        ordering = ["origin", "province", "city"]
        constraints = [
            models.UniqueConstraint(
                fields=["origin", "province", "city"], name="postage_rate_one_per_destination"
            ),
            models.CheckConstraint(
                condition=Q(origin="") | Q(origin__in=ShopLocation.values),
                name="postage_rate_origin_valid",
            ),
            models.CheckConstraint(
                condition=Q(province="") | Q(province__in=Province.values),
                name="postage_rate_province_valid",
            ),
            models.CheckConstraint(
                condition=Q(city="") | ~Q(province=""), name="postage_rate_city_needs_province"
            ),
            models.CheckConstraint(
                condition=Q(
                    confirm_by_hand=True, first_price__isnull=True, extra_kg_price__isnull=True
                )
                | Q(confirm_by_hand=False, first_price__isnull=False),
                name="postage_rate_priced_or_by_hand",
            ),
            models.CheckConstraint(
                condition=Q(first_weight_kg__gt=0), name="postage_rate_first_weight_positive"
            ),
            models.CheckConstraint(
                condition=(Q(first_price__isnull=True) | Q(first_price__gte=0))
                & (Q(extra_kg_price__isnull=True) | Q(extra_kg_price__gte=0)),
                name="postage_rate_prices_not_negative",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        from tickets.postage import city_key

        self.city = city_key(self.city)
        if self.city and not self.province:
            raise ValidationError({"city": _("填写城市时必须同时选择省份。")})
        if self.confirm_by_hand:
            if self.first_price is not None or self.extra_kg_price is not None:
                raise ValidationError(_("人工确认运费的规则不填价格。"))
        elif self.first_price is None:
            raise ValidationError({"first_price": _("请填写首重价格，或勾选“人工确认运费”。")})


__all__ = ["PostageRate", "Province"]
