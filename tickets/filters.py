"""The ticket list's filter: every choice built from the requesting user's shops."""

from datetime import date, timedelta
from urllib.parse import urlencode

import django_filters
from django import forms
from django.db import connection
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .forms import IsoDateField, IsoDateInput
from .models import Ticket
from .selectors import (
    AnyOf,
    nick_orders,
    order_search,
    search_term,
    staff_for_shops,
    ticket_number_pk,
    unindexed,
    visible_shops,
)
from .text import normalise_tracking_no


class _ListedChoices(django_filters.fields.ModelChoiceIterator):
    """A model select's options from one plain query. Django's own iterator reads them
    through ``QuerySet.iterator()``, which on PostgreSQL is a server-side cursor: DECLARE …
    WITH HOLD, FETCH and CLOSE, three round trips and a result the server materialises, for
    the handful of shops or couriers a filter offers (a tenth of the ticket list's server
    time under load, bench/README)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        if self.field.null_label is not None:
            yield (self.field.null_value, self.field.null_label)
        for obj in self.queryset:
            yield self.choice(obj)


class _ListedModelChoiceField(django_filters.fields.ModelChoiceField):
    iterator = _ListedChoices


class ListedModelChoiceFilter(django_filters.ModelChoiceFilter):
    """``ModelChoiceFilter`` for a short table (the user's shops, the couriers): its options
    come from one plain query (``_ListedChoices``)."""

    field_class = _ListedModelChoiceField


class IsoDateRangeWidget(django_filters.widgets.RangeWidget):
    """A from/to pair of ``<input type="date">`` (``name_min``, ``name_max``) writing ISO dates
    in every language, like every other date input of the desk."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.widgets = [IsoDateInput(), IsoDateInput()]


class DeskDateRangeField(django_filters.fields.DateRangeField):
    """A from/to date range read as local day boundaries, where a bound on the first or last
    day the calendar holds (0001-01-01, 9999-12-31) is no bound: its midnight in the desk's
    time zone is outside what a datetime can hold once turned to UTC (SQLite's adapter raised
    OverflowError), and nothing lies beyond it anyway."""

    EARLIEST = date.min + timedelta(days=1)
    LATEST = date.max - timedelta(days=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Both ends read like every date input of the desk: 2026-11-01 only.
        self.fields = tuple(IsoDateField(required=False) for _bound in self.fields)

    def compress(self, data_list):
        if data_list:
            start, stop = data_list
            data_list = [
                None if start and start <= self.EARLIEST else start,
                None if stop and stop >= self.LATEST else stop,
            ]
        return super().compress(data_list)


class DeskDateRangeFilter(django_filters.DateFromToRangeFilter):
    """The desk's date range filter (every list's ``created``/``updated``): ISO inputs, and
    extreme dates read as no bound (``DeskDateRangeField``)."""

    field_class = DeskDateRangeField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", IsoDateRangeWidget())
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value and value.start is None and value.stop is None:
            return qs  # both bounds dropped: the whole calendar
        return super().filter(qs, value)


# "All unfinished" has a value of its own: "open" is the status 待处理, which used to share
# its value with this choice, so picking 待处理 filtered nothing (issue 11).
UNFINISHED = "unfinished"
STATUS_CHOICES = [(UNFINISHED, _("未完结（全部）")), *Ticket.Status.choices]
SEARCH_LIMIT = 500
SORTS = {
    "due": ("resolution_due", "id"),
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "-updated": ("-updated_at", "-id"),
}


def _sorted_not_walked(keys: tuple[str, ...]) -> list:
    """The same sort as ``keys``, on PostgreSQL, in a form no index serves (``unindexed``:
    ``resolution_due + '0'::interval``, a stable function the planner neither folds nor
    matches to an index). A searched list holds the tickets of at most 2 × SEARCH_LIMIT
    orders, found through ``order_id`` and ``return_tracking_no``; sorted by the bare column,
    the planner rather walks the whole-table ``ticket_due_idx`` (or ``ticket_updated_idx``)
    in order and filters, expecting the matches spread evenly: but the newest matching orders
    have the newest tickets, due last, so it read most of a million index entries (1.8 s)
    before filling a page. Sorting the matches themselves takes under a millisecond."""
    sort = []
    for key in keys:
        name = key.lstrip("-")
        if name == "id":
            sort.append(key)
            continue
        shifted = unindexed(Ticket, name)
        sort.append(shifted.desc() if key.startswith("-") else shifted.asc())
    return sort


SORT_CHOICES = [
    ("due", _("解决时限（先到期的在前）")),
    ("-created", _("最新创建")),
    ("created", _("最早创建")),
    ("-updated", _("最近更新")),
]


class TicketFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="search")
    # One buyer's tickets, the nickname matched whole (the buyer page's "see all"); the
    # search box's nickname match is by any part, so it would list 木子酱91 for 木子酱9.
    buyer = django_filters.CharFilter(
        label=_("买家"), method="filter_buyer", max_length=64, strip=False
    )
    status = django_filters.ChoiceFilter(
        label=_("状态"), choices=STATUS_CHOICES, method="filter_status", empty_label=_("全部状态")
    )
    kind = django_filters.ChoiceFilter(
        label=_("类型"), choices=Ticket.Kind.choices, empty_label=_("全部类型")
    )
    reason = django_filters.ChoiceFilter(
        label=_("原因"), choices=Ticket.Reason.choices, empty_label=_("全部原因")
    )
    responsibility = django_filters.ChoiceFilter(
        label=_("责任方"), choices=Ticket.Responsibility.choices, empty_label=_("全部责任方")
    )
    shop = ListedModelChoiceFilter(
        label=_("店铺"), queryset=None, empty_label=_("全部店铺"), method="filter_shop"
    )
    assignee = django_filters.ChoiceFilter(
        label=_("处理人"), method="filter_assignee", empty_label=_("全部处理人")
    )
    overdue = django_filters.BooleanFilter(
        label=_("只看超时"), method="filter_overdue", widget=forms.CheckboxInput
    )
    stale = django_filters.BooleanFilter(
        label=_("只看停滞"), method="filter_stale", widget=forms.CheckboxInput
    )
    created = DeskDateRangeFilter(label=_("创建日期"), field_name="created_at")
    updated = DeskDateRangeFilter(label=_("更新日期"), field_name="updated_at")
    sort = django_filters.ChoiceFilter(
        label=_("排序"), choices=SORT_CHOICES, method="filter_sort", empty_label=None
    )

    class Meta:
        model = Ticket
        fields = []

    def __init__(self, data=None, *args, request=None, **kwargs):
        data = data.copy() if data is not None else {}
        # The default view an agent opens: everything still open, most urgent first.
        if not data.get("status"):
            data.setdefault("status", UNFINISHED)
        data.setdefault("sort", "due")
        super().__init__(data, *args, request=request, **kwargs)
        # Set by ``search`` when the search matched more than SEARCH_LIMIT orders: the list
        # and the export then say they show only the newest ones (``search_notice``).
        self.search_truncated = False
        user = request.user
        shops = visible_shops(user)
        self.filters["shop"].queryset = shops
        # Only what a name needs (``User.__str__``), not the whole account row.
        staff = staff_for_shops(shops).only("username", "first_name", "last_name")
        self.filters["assignee"].extra["choices"] = [
            ("me", _("我")),
            ("none", _("未分配")),
            *[(str(u.pk), str(u)) for u in staff],
        ]

    @property
    def qs(self):
        # The sort always runs last, whatever order the filters were declared in.
        queryset = super().qs
        keys = SORTS.get(self.form.cleaned_data.get("sort") or "due", SORTS["due"])
        if self.searched and connection.vendor == "postgresql":
            keys = _sorted_not_walked(keys)
        return queryset.order_by(*keys)

    @property
    def searched(self) -> bool:
        """The list is limited to what the search box found (a bounded set: ``search``)."""
        return bool(search_term(self.form.cleaned_data.get("q")))

    @property
    def fenced(self) -> bool:
        """A searched list on PostgreSQL, whose other filters check their columns through
        ``unindexed`` expressions (FENCED): its rows are the few that the search's indexed
        lookups find (order ids, return tracking no., ticket number), and the status, shop,
        handler and dates are checked on those rows. Given the bare columns the planner ANDs
        in their indexes: the 21,543 open tickets of ``ticket_status_due_idx`` into the 471
        that a nickname part found took 8.6 ms of a 50 ms page at a million tickets
        (bench/README, issue 11)."""
        return self.searched and connection.vendor == "postgresql"

    # The columns a fenced list checks as ``checked_<column>`` (``filter_queryset``).
    FENCED = ("status", "shop_id", "assignee_id", "created_at", "updated_at")

    def filter_queryset(self, queryset):
        if self.fenced:
            queryset = queryset.alias(
                **{f"checked_{column}": unindexed(Ticket, column) for column in self.FENCED}
            )
            for name in ("created", "updated"):
                self.filters[name].field_name = f"checked_{name}_at"
        return super().filter_queryset(queryset)

    def filter_sort(self, queryset, name, value):
        return queryset

    def _in_statuses(self, queryset, statuses):
        if self.fenced:
            return queryset.filter(checked_status__in=statuses)
        return queryset.filter(status__in=statuses)

    def filter_status(self, queryset, name, value):
        # IN (the open statuses) rather than NOT IN (finished): the indexes can serve it.
        return self._in_statuses(queryset, Ticket.OPEN_STATUSES if value == UNFINISHED else [value])

    def filter_buyer(self, queryset, name, value):
        return queryset.filter(order__buyer_nick=value)

    def filter_shop(self, queryset, name, value):
        if self.fenced:
            return queryset.filter(checked_shop_id=value.pk)
        return queryset.filter(shop=value)

    def filter_assignee(self, queryset, name, value):
        column = "checked_assignee_id" if self.fenced else "assignee_id"
        if value == "none":
            return queryset.filter(**{f"{column}__isnull": True})
        return queryset.filter(**{column: self.request.user.pk if value == "me" else value})

    def _open(self, queryset):
        """``queryset`` limited to open tickets, unless the status filter did so already
        (saying it twice makes PostgreSQL misjudge how many rows match)."""
        if self._only_open():
            return queryset
        return self._in_statuses(queryset, Ticket.OPEN_STATUSES)

    def filter_overdue(self, queryset, name, value):
        if not value:
            return queryset
        return self._open(queryset).overdue(already_open=True)

    def filter_stale(self, queryset, name, value):
        if not value:
            return queryset
        return self._open(queryset).stale(already_open=True)

    def _only_open(self) -> bool:
        """The status filter has already limited the list to open tickets (so the overdue and
        stale filters need not say it again)."""
        status = self.form.cleaned_data.get("status")
        return status == UNFINISHED or status in Ticket.OPEN_STATUSES

    def search(self, queryset, name, value):
        """What the top-bar search finds (``tickets.selectors``): a ticket number (T00000081,
        T81), a return tracking no., an order no., Alipay no., outbound tracking no. or phone
        tail (``order_search``), or part of the buyer's nickname in any case
        (``nick_orders``: the tickets of the newest SEARCH_LIMIT orders it matches; more
        matches set ``search_truncated``, so the list and the export say so)."""
        term = search_term(value)
        if not term:
            return queryset
        user = self.request.user
        # Order ids first (a bounded list), so the ticket query is one BitmapOr of indexed
        # lookups (order id, return tracking no., id) rather than a join over both tables.
        orders = []
        for found in (order_search(user, term), nick_orders(user, term, SEARCH_LIMIT + 1)):
            ids = list(found.values_list("pk", flat=True)[: SEARCH_LIMIT + 1])
            if len(ids) > SEARCH_LIMIT:
                self.search_truncated = True
            orders += ids[:SEARCH_LIMIT]
        condition = Q(AnyOf(F("order_id"), orders)) | Q(
            return_tracking_no=normalise_tracking_no(term)
        )
        number = ticket_number_pk(term)
        if number is not None:
            condition |= Q(pk=number)
        return queryset.filter(condition)


def search_notice(filterset: TicketFilter) -> str:
    """What the list and its export say when the search matched more orders than it reads
    (after ``filterset.qs`` ran), or ""."""
    if not filterset.search_truncated:
        return ""
    return _("搜索匹配的订单太多：只显示最近 %(n)s 个订单的售后单，请缩小搜索。") % {
        "n": SEARCH_LIMIT
    }


def filter_keys() -> list[str]:
    """The query-string keys the ticket list's filter reads (a date range is two:
    ``created_min``, ``created_max``)."""
    keys = []
    for name, flt in TicketFilter.base_filters.items():
        widget = flt.extra.get("widget")
        suffixes = getattr(widget, "suffixes", None)
        keys += [widget.suffixed(name, s) for s in suffixes] if suffixes else [name]
    return keys


def filter_query(data) -> str:
    """The list's filter as a query string (``status=refunded&stale=on``): only the filter's
    own keys, in their declared order, without the page, the CSRF token or empty values (an
    empty ``status`` stays: it means every status, where no status means the open ones).
    ``data`` is a QueryDict. What a saved view stores and what "back to the list" keeps."""
    pairs = []
    for key in filter_keys():
        for value in data.getlist(key):
            if value != "" or key == "status":
                pairs.append((key, value))
    return urlencode(pairs)
