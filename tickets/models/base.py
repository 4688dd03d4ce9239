"""Building blocks shared by the desk's models: timestamps, money fields, append-only rows."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.money import MONEY_MAX_DIGITS, MONEY_PLACES


def MoneyField(verbose_name, **kwargs):
    """A CNY amount: Decimal with two places, never a float."""
    kwargs.setdefault("max_digits", MONEY_MAX_DIGITS)
    kwargs.setdefault("decimal_places", MONEY_PLACES)
    kwargs.setdefault("validators", [MinValueValidator(Decimal("0"))])
    return models.DecimalField(verbose_name, **kwargs)


def choices_check(field: str, choices, name: str) -> models.CheckConstraint:
    """A database constraint that keeps a choice column to its declared values."""
    return models.CheckConstraint(condition=models.Q(**{f"{field}__in": choices.values}), name=name)


class TimeStampedModel(models.Model):
    # A default rather than auto_now_add, so imports and seed data can keep historic times.
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class AppendOnlyError(Exception):
    """An append-only row (ledger, timeline, audit) was asked to change or disappear."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(_("只能追加的记录不能修改。"))

    def delete(self):
        raise AppendOnlyError(_("只能追加的记录不能删除。"))


class AppendOnlyModel(models.Model):
    """Rows that are written once and never edited or deleted.

    A correction is a new row (for money: a reversing entry). The database repeats this
    rule with triggers on PostgreSQL (see ``tickets.migrations`` helpers), so raw SQL and
    other programs are held to it too.
    """

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(
                _("%(model)s 只能追加，不能修改。") % {"model": self._meta.verbose_name}
            )
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(
            _("%(model)s 只能追加，不能删除。") % {"model": self._meta.verbose_name}
        )
