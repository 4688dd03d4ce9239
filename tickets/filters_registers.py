"""The registers' list filters (issue 5): every choice built from the requesting user."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .filters import DeskDateRangeFilter, IsoDateRangeWidget, ListedModelChoiceFilter
from .forms import IsoDateField, IsoDateInput
from .models import (
    CourierLossReport,
    HandoverNote,
    InvoiceRequest,
    PlatformIntervention,
    ProductFeedback,
    QualityProblem,
    Review,
    VipFollowUp,
    WrongShipment,
)
from .selectors import search_term, staff_for_shops, visible_shops


class IsoDateFilter(django_filters.DateFilter):
    """A date filter reading only ``2026-11-01`` (``IsoDateField``)."""

    field_class = IsoDateField


_RANGE = IsoDateRangeWidget()


class RegisterFilter(django_filters.FilterSet):
    """Shop (from the user's shops), a search box on order number / tracking / text, and the
    date the row was written."""

    search_fields: tuple[str, ...] = ("order__order_no",)

    q = django_filters.CharFilter(label=_("搜索"), method="search")
    shop = ListedModelChoiceFilter(label=_("店铺"), queryset=None, empty_label=_("全部店铺"))
    created = DeskDateRangeFilter(label=_("登记日期"), field_name="created_at", widget=_RANGE)

    def __init__(self, data=None, *args, request=None, **kwargs):
        super().__init__(data, *args, request=request, **kwargs)
        self.filters["shop"].queryset = visible_shops(request.user)

    def search(self, queryset, name, value):
        term = search_term(value)
        if not term:
            return queryset
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{field: term})
        return queryset.filter(condition)


class CourierLossFilter(RegisterFilter):
    search_fields = ("order__order_no", "tracking_no")
    status = django_filters.ChoiceFilter(
        label=_("状态"), choices=CourierLossReport.Status.choices, empty_label=_("全部状态")
    )
    courier = ListedModelChoiceFilter(label=_("快递公司"), queryset=None, empty_label=_("全部快递"))

    class Meta:
        model = CourierLossReport
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .models import Courier

        self.filters["courier"].queryset = Courier.objects.all()


class QualityProblemFilter(RegisterFilter):
    search_fields = ("order__order_no", "sku__code", "batch")
    problem_type = django_filters.ChoiceFilter(
        label=_("问题类型"),
        choices=QualityProblem.ProblemType.choices,
        empty_label=_("全部类型"),
    )

    class Meta:
        model = QualityProblem
        fields = []


class ProductFeedbackFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("商家编码"), field_name="sku__code")
    topic = django_filters.ChoiceFilter(
        label=_("方面"), choices=ProductFeedback.Topic.choices, empty_label=_("全部方面")
    )

    class Meta:
        model = ProductFeedback
        fields = []


class WrongShipmentFilter(RegisterFilter):
    kind = django_filters.ChoiceFilter(
        label=_("类型"), choices=WrongShipment.Kind.choices, empty_label=_("全部类型")
    )
    listing_to_check = django_filters.BooleanFilter(
        label=_("只看需核对页面"), widget=forms.CheckboxInput, method="filter_listing"
    )

    class Meta:
        model = WrongShipment
        fields = []

    def filter_listing(self, queryset, name, value):
        return queryset.filter(listing_to_check=True) if value else queryset


class InterventionFilter(RegisterFilter):
    search_fields = ("order__order_no", "case_no")
    outcome = django_filters.ChoiceFilter(
        label=_("结果"), choices=PlatformIntervention.Outcome.choices, empty_label=_("全部结果")
    )

    class Meta:
        model = PlatformIntervention
        fields = []


class InvoiceFilter(RegisterFilter):
    search_fields = ("order__order_no", "invoice_no", "title")
    status = django_filters.ChoiceFilter(
        label=_("状态"), choices=InvoiceRequest.Status.choices, empty_label=_("全部状态")
    )

    class Meta:
        model = InvoiceRequest
        fields = []


class ReviewFilter(RegisterFilter):
    rating = django_filters.ChoiceFilter(
        label=_("评价"), choices=Review.Rating.choices, empty_label=_("中评和差评")
    )
    outcome = django_filters.ChoiceFilter(
        label=_("结果"), choices=Review.Outcome.choices, empty_label=_("全部结果")
    )
    assignee = django_filters.ChoiceFilter(
        label=_("跟进人"), method="filter_assignee", empty_label=_("全部跟进人")
    )

    class Meta:
        model = Review
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        staff = staff_for_shops(visible_shops(self.request.user))
        self.filters["assignee"].extra["choices"] = [
            ("me", _("我")),
            ("none", _("未分配")),
            *[(str(u.pk), str(u)) for u in staff],
        ]

    def filter_assignee(self, queryset, name, value):
        if value == "me":
            return queryset.filter(assignee=self.request.user)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        return queryset.filter(assignee_id=value)


class HandoverFilter(RegisterFilter):
    search_fields = ("order__order_no",)
    open = django_filters.BooleanFilter(
        label=_("只看未处理"), widget=forms.CheckboxInput, method="filter_open"
    )

    class Meta:
        model = HandoverNote
        fields = []

    def filter_open(self, queryset, name, value):
        return queryset.filter(handled_at__isnull=True) if value else queryset


class FollowUpFilter(django_filters.FilterSet):
    month = IsoDateFilter(label=_("月份（当月第一天）"), widget=IsoDateInput())
    done = django_filters.BooleanFilter(label=_("已回访"))

    class Meta:
        model = VipFollowUp
        fields = []
