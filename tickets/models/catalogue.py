"""What the shops sell: a product model (款号) and its SKUs (colour, size, batch)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from .base import MoneyField, TimeStampedModel


class Product(TimeStampedModel):
    model_no = models.CharField(_("款号"), max_length=40, unique=True)
    title = models.CharField(_("商品标题"), max_length=200)

    history = HistoricalRecords(verbose_name=_("变更记录"))

    class Meta:
        verbose_name = _("商品")
        verbose_name_plural = pgettext_lazy("plural", "商品")
        ordering = ["model_no"]

    def __str__(self):
        return f"{self.model_no} {self.title}"


class Sku(TimeStampedModel):
    product = models.ForeignKey(
        Product, verbose_name=_("商品"), on_delete=models.PROTECT, related_name="skus"
    )
    code = models.CharField(_("商家编码"), max_length=60, unique=True)
    colour = models.CharField(_("颜色"), max_length=40, blank=True)
    size = models.CharField(_("尺码"), max_length=20, blank=True)
    batch = models.CharField(_("批次"), max_length=40, blank=True)
    # The shop's selling price (售价), used for an exchange's price difference; blank when
    # the catalogue does not know it (the returned item's paid price is used then).
    price = MoneyField(_("售价"), null=True, blank=True)

    history = HistoricalRecords(verbose_name=_("变更记录"))

    class Meta:
        verbose_name = _("SKU")
        verbose_name_plural = pgettext_lazy("plural", "SKU")
        ordering = ["code"]

    def __str__(self):
        return " ".join(part for part in (self.code, self.colour, self.size) if part)
