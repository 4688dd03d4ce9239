"""What the admin takes from a URL or a form reaches the database only in a shape the database
can hold (issue 12, section 1: bad input gets a clear answer in the user's language, never a
server error), on SQLite as on PostgreSQL.

- **A list's filters** (``?shop=…``, ``?groups__in=…``, ``?attempt_time__gte=…``, the date
  hierarchy's year, month and day, the search box): once the admin has built the list's query
  and before it runs, its values are checked (``query_values_refusal``); a number beyond 64
  bits, a time with no UTC equivalent (the calendar's first day east of Greenwich), a day
  after the calendar's last, a NUL character get the admin's own answer to a bad filter (the
  list redirects to ``?e=1``, "invalid lookup parameters").
- **The rows ticked for an action** (``_selected_action``) are checked the same way: one that
  cannot exist changes nothing and says so.
- **Dates typed into an admin form** are held to the days the desk accepts anywhere
  (``tickets.forms.EARLIEST_DAY`` to ``LATEST_DAY``), with the desk's own message; **ids
  chosen in a many-to-many field** (a user's groups and shops) are checked before the
  ``IN (…)`` query that would overflow SQLite's integer.

``CheckedInput`` carries all of it; every ``ModelAdmin`` and inline of the desk's admin takes
it first in its bases. A history page's ids are checked by ``tickets.admin.ReadOnlyHistory``.
"""

from datetime import UTC, date, datetime

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .forms import _day_in_range

# What every database the desk runs on stores in an integer column (SQLite's INTEGER and
# PostgreSQL's bigint): a larger number from a URL can match no row.
SMALLEST_INTEGER = -(2**63)
LARGEST_INTEGER = 2**63 - 1


def _value_refusal(value) -> str | None:
    """Why the database cannot take ``value`` as a query parameter, or None."""
    if isinstance(value, (list, tuple)):
        return next(filter(None, map(_value_refusal, value)), None)
    if isinstance(value, int) and not isinstance(value, bool):
        if not SMALLEST_INTEGER <= value <= LARGEST_INTEGER:
            return f"{value} is beyond 64 bits"
    elif isinstance(value, datetime) and timezone.is_aware(value):
        try:
            value.astimezone(UTC)
        except OverflowError:
            return f"{value} has no UTC equivalent"
    elif isinstance(value, str) and "\x00" in value:
        return "a NUL character"
    return None


def query_values_refusal(queryset: models.QuerySet) -> str | None:
    """Why ``queryset`` cannot run on its database with the values it carries (an integer
    beyond 64 bits, a time before the calendar's first UTC moment or after its last, a NUL
    character; or the error its SQL raised while being written), or None when it can (a
    query Django already knows to be empty included)."""
    try:
        _sql, params = queryset.query.clone().get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:
        return None
    except (OverflowError, ValueError, TypeError) as error:
        return str(error)
    return _value_refusal(list(params))


class CheckedChangeList(ChangeList):
    """A list whose filters are checked before its query runs (``query_values_refusal``)."""

    def get_filters(self, request):
        # The date hierarchy's day after 9999-12-31 (or the year after 9999) is out of the
        # calendar; Django turns only an impossible date into "invalid lookup parameters".
        try:
            return super().get_filters(request)
        except (OverflowError, ValueError) as error:
            raise IncorrectLookupParameters(error) from error

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        refusal = query_values_refusal(queryset)
        if refusal is not None:
            raise IncorrectLookupParameters(refusal)
        return queryset


def _within_the_desks_days(value) -> None:
    """A date, or a date and time read in the desk's time zone, between ``EARLIEST_DAY`` and
    ``LATEST_DAY`` (the desk's "out_of_range" message otherwise)."""
    if isinstance(value, datetime):
        try:
            day = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
        except OverflowError:
            day = value.date()
        _day_in_range(day)
    elif isinstance(value, date):
        _day_in_range(value)


class CheckedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Several rows chosen by id, each id checked alone before Django's ``IN (…)`` query: an id
    the database cannot hold is "not a valid value", as one that is not a number."""

    def _check_values(self, value):
        key = self.to_field_name or "pk"
        if isinstance(value, (list, tuple)):
            for pk in value:
                try:
                    refusal = query_values_refusal(self.queryset.filter(**{f"{key}__in": [pk]}))
                except (ValueError, TypeError, ValidationError):
                    refusal = "not an id"
                if refusal is not None:
                    raise ValidationError(
                        self.error_messages["invalid_pk_value"],
                        code="invalid_pk_value",
                        params={"pk": pk},
                    )
        return super()._check_values(value)


class CheckedInput:
    """What a ``ModelAdmin`` (or an inline) takes from the URL and its forms is checked before
    it reaches the database: the list's filters (``CheckedChangeList``), the rows ticked for an
    action, dates typed into a form and ids chosen in a many-to-many field."""

    def get_changelist(self, request, **kwargs):
        return CheckedChangeList

    def response_action(self, request, queryset):
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        try:
            refusal = query_values_refusal(queryset.filter(pk__in=selected))
        except (ValueError, TypeError, ValidationError):
            refusal = "not an id"
        if refusal is not None:
            self.message_user(
                request, _("所选的记录中有不存在的编号，没有做任何修改。"), messages.WARNING
            )
            return None  # the admin goes back to the list
        return super().response_action(request, queryset)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and isinstance(db_field, models.DateField):
            # models.DateTimeField is a DateField: the admin's split date and time field too
            formfield.validators.append(_within_the_desks_days)
        return formfield

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs.setdefault("form_class", CheckedModelMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)
