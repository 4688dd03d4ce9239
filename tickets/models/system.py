"""Small system records: when the worker and beat last showed they are alive."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Heartbeat(models.Model):
    name = models.CharField(_("名称"), max_length=40, unique=True)
    beat_at = models.DateTimeField(_("时间"))
    detail = models.CharField(_("说明"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("心跳")
        verbose_name_plural = pgettext_lazy("plural", "心跳")

    def __str__(self):
        return f"{self.name} {timezone.localtime(self.beat_at):%Y-%m-%d %H:%M:%S}"
