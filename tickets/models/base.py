"""Building blocks shared by the desk's models: timestamps, money fields, append-only rows."""

from decimal import Decimal
from functools import cache

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone, translation
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
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


@cache
def _choice_labels(field: models.Field, language: str | None) -> dict:
    """``{value: label}`` of a field with fixed choices in one language, built once per field
    and language (only the values are hashed; each label is translated once)."""
    with translation.override(language):
        return {
            make_hashable(value): force_str(label, strings_only=True)
            for value, label in field.flatchoices
        }


class DeskModel(models.Model):
    """The base of every desk model: ``get_<field>_display()`` reads the label from a table
    built once per field and language. Django's own builds a dict of every choice on each
    call, hashing each lazy label (a translation lookup per choice): 0.1-0.5 ms a call, a
    dozen milliseconds on a list page that shows three choice fields per row. Same result
    (``test_choice_labels``)."""

    class Meta:
        abstract = True

    def _get_FIELD_display(self, field):
        value = getattr(self, field.attname)
        labels = _choice_labels(field, translation.get_language())
        return labels.get(make_hashable(value), force_str(value, strings_only=True))


class TimeStampedModel(DeskModel):
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


class AppendOnlyModel(DeskModel):
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
