"""The supervisors' statistics page (issue 5): server-drawn SVG charts, the numbers in tables,
each table downloadable as .xlsx with the same filter. Supervisors only (the permission to
approve compensation is the supervisor's)."""

from datetime import timedelta

from django import forms
from django.contrib.auth.decorators import permission_required
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_GET

from aftersales.spreadsheets import MONEY, NUMBER, Column, SheetBook
from tickets.exports import book_file
from tickets.forms import DeskDateField
from tickets.selectors import visible_shops
from tickets.statistics import (
    StatsRange,
    bar_chart,
    overdue_list_query,
    overdue_summary,
    per_agent,
    per_day,
    per_product,
)

PERM = "tickets.approve_compensation"
MAX_DAYS = 366


class StatsForm(forms.Form):
    start = DeskDateField(label=gettext_lazy("从"))
    end = DeskDateField(label=gettext_lazy("到"))
    shop = forms.ModelChoiceField(
        label=gettext_lazy("店铺"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("全部店铺"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shop"].queryset = visible_shops(user)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and (end < start or (end - start).days >= MAX_DAYS):
            raise forms.ValidationError(_("日期范围须在一年以内，且结束不早于开始。"))
        return data


def _range(request) -> tuple[StatsForm, StatsRange]:
    today = timezone.localdate()
    data = request.GET.copy()
    data.setdefault("start", (today - timedelta(days=29)).isoformat())
    data.setdefault("end", today.isoformat())
    form = StatsForm(data, user=request.user)
    if form.is_valid():
        shop = form.cleaned_data["shop"]
        range_ = StatsRange(
            form.cleaned_data["start"], form.cleaned_data["end"], [shop.pk] if shop else None
        )
    else:
        # What was valid still applies (a bad date must not drop the shop chosen beside it);
        # a bad or inverted range falls back to the last 30 days, and the form says why.
        clean = form.cleaned_data
        start, end, shop = clean.get("start"), clean.get("end"), clean.get("shop")
        if not (start and end and start <= end and (end - start).days < MAX_DAYS):
            start, end = today - timedelta(days=29), today
        range_ = StatsRange(start, end, [shop.pk] if shop else None)
    return form, range_


@require_GET
@permission_required(PERM, raise_exception=True)
def statistics(request):
    form, range_ = _range(request)
    now = timezone.now()
    days = per_day(request.user, range_)
    reasons, products = per_product(request.user, range_)
    agents = per_agent(request.user, range_, now)
    # Each overdue figure links to the ticket list that lists exactly those tickets.
    for agent in agents:
        agent.overdue_query = overdue_list_query(range_, agent.agent_id)
    context = {
        "form": form,
        "range": range_,
        "agents": agents,
        "overdue": overdue_summary(request.user, range_, now),
        "overdue_query": overdue_list_query(range_),
        "overdue_unassigned_query": overdue_list_query(range_, "none"),
        "reasons": reasons,
        "products": products,
        "days": days,
        "ticket_chart": bar_chart(days, ("tickets_created", "tickets_resolved")),
        "review_chart": bar_chart(days, ("reviews_made", "reviews_revised")),
        "query": request.GET.urlencode(),
    }
    return render(request, "registers/statistics.html", context)


def _agents_sheet(book, user, range_):
    writer = book.table(
        _("按客服"),
        [
            Column(_("客服"), 16),
            Column(_("解决售后单"), 12, NUMBER),
            Column(_("首次响应中位数（分钟）"), 20, NUMBER),
            Column(_("解决中位数（小时）"), 18, NUMBER),
            Column(_("超时"), 8, NUMBER),
            Column(_("中差评已修改"), 14, NUMBER),
            Column(_("赔偿金额"), 12, MONEY),
        ],
    )
    now = timezone.now()
    for r in per_agent(user, range_, now):
        writer.append(
            [
                r.agent,
                r.resolved,
                r.first_response_minutes,
                r.resolution_hours,
                r.overdue,
                r.reviews_revised,
                r.compensation,
            ]
        )
    # The overdue column's queue and total, as on the page (``overdue_summary``).
    overdue = overdue_summary(user, range_, now)
    writer.append([_("未分配"), None, None, None, overdue.unassigned, None, None])
    writer.append([_("合计"), None, None, None, overdue.total, None, None])
    return writer


def _products_sheet(book, user, range_):
    reasons, rows = per_product(user, range_, limit=1000)
    writer = book.table(
        _("按商品"),
        [
            Column(_("商品"), 36),
            *[Column(str(label), 10, NUMBER) for _v, label in reasons],
            Column(_("合计"), 8, NUMBER),
        ],
    )
    for r in rows:
        writer.append([r["product"], *r["counts"], r["total"]])
    return writer


def _days_sheet(book, user, range_):
    writer = book.table(
        _("按日"),
        [
            Column(_("日期"), 12),
            Column(pgettext("statistics column", "新建售后单"), 12, NUMBER),
            Column(_("解决售后单"), 12, NUMBER),
            Column(_("中差评（评价日）"), 16, NUMBER),
            Column(_("中差评（修改日）"), 16, NUMBER),
        ],
    )
    for d in per_day(user, range_):
        writer.append(
            [
                d["day"].isoformat(),
                d["tickets_created"],
                d["tickets_resolved"],
                d["reviews_made"],
                d["reviews_revised"],
            ]
        )
    return writer


TABLES = {"agents": _agents_sheet, "products": _products_sheet, "days": _days_sheet}


@require_GET
@permission_required(PERM, raise_exception=True)
def statistics_export(request, table: str):
    build = TABLES.get(table)
    if build is None:
        raise Http404
    _form, range_ = _range(request)
    book = SheetBook()
    build(book, request.user, range_).finish()
    handle = book_file(book)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"statistics-{table}-{range_.start:%Y%m%d}-{range_.end:%Y%m%d}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
