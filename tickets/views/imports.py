"""The order import (upload, preview, confirm) and the postage calculator pages."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tickets.imports.batches import order_import_apply, order_import_discard, order_import_upload
from tickets.imports.forms import ImportUploadForm, PostageQuoteForm
from tickets.imports.run import KIND_ORDER, kind_label
from tickets.models import OrderImport, PostageRate, Province
from tickets.postage import late_shipment_penalty, postage_calculate, postage_quote
from tickets.selectors import scope_to_user, visible_orders
from tickets.services import DeskError
from tickets.text import plain_int

RECENT_IMPORTS = 20
COUNT_LABELS = {
    "orders": {
        "created": gettext_lazy("新建"),
        "updated": gettext_lazy("更新"),
        "unchanged": gettext_lazy("无变化"),
        "stale": gettext_lazy("比工作台里的旧，保持不变"),
        "repeated": gettext_lazy("文件里重复的行"),
    },
    "items": {
        "created": gettext_lazy("新建"),
        "updated": gettext_lazy("更新"),
        "unchanged": gettext_lazy("无变化"),
    },
    "refunds": {
        "opened": gettext_lazy("新建售后单"),
        "linked": gettext_lazy("关联已有售后单"),
        "updated": gettext_lazy("更新"),
        "unchanged": gettext_lazy("无变化"),
        "ignored": gettext_lazy("已关闭，不建单"),
        "interventions_created": gettext_lazy("新登记小二介入"),
        "interventions_updated": gettext_lazy("更新小二介入"),
    },
}
SECTION_LABELS = {
    "orders": gettext_lazy("订单"),
    "items": gettext_lazy("宝贝明细"),
    "refunds": gettext_lazy("退款申请"),
}


def _visible_batches(user):
    return scope_to_user(OrderImport.objects.all(), user).select_related("shop", "created_by")


@require_http_methods(["GET", "POST"])
@permission_required("tickets.add_orderimport", raise_exception=True)
def import_home(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            batch = order_import_upload(
                actor=request.user, shop=form.cleaned_data["shop"], files=form.files_by_kind()
            )
        except DeskError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("imports:detail", pk=batch.pk)
    recent = _visible_batches(request.user).order_by("-created_at")[:RECENT_IMPORTS]
    return render(request, "tickets/imports/home.html", {"form": form, "recent": recent})


def _sections(report: dict) -> list[dict]:
    """The counts of a report as labelled figures, in a fixed order, zeros included."""
    counts = report.get("counts", {})
    sections = []
    for kind, labels in COUNT_LABELS.items():
        if kind not in report.get("files", {}):
            continue
        figures = counts.get(kind, {})
        sections.append(
            {
                "label": SECTION_LABELS[kind],
                "figures": [
                    (labels[key], figures.get(key, 0))
                    for key in labels
                    if figures.get(key) or key in ("created", "updated", "unchanged", "opened")
                ],
            }
        )
    return sections


@require_GET
@permission_required("tickets.view_orderimport", raise_exception=True)
def import_detail(request, pk):
    batch = get_object_or_404(_visible_batches(request.user), pk=pk)
    report = batch.report or {}
    stored = report.get("files", {})
    files = [{**stored[kind], "label": kind_label(kind)} for kind in KIND_ORDER if kind in stored]
    context = {
        "batch": batch,
        "report": report,
        "files": files,
        "sections": _sections(report),
        "hidden_errors": report.get("error_count", 0) - len(report.get("errors", [])),
        "hidden_warnings": report.get("warning_count", 0) - len(report.get("warnings", [])),
        "can_confirm": batch.status == OrderImport.Status.PREVIEWED
        and batch.created_by_id == request.user.pk,
    }
    return render(request, "tickets/imports/detail.html", context)


@require_POST
@permission_required("tickets.add_orderimport", raise_exception=True)
def import_apply(request, pk):
    batch = get_object_or_404(_visible_batches(request.user), pk=pk)
    try:
        batch = order_import_apply(actor=request.user, batch=batch)
    except DeskError as exc:
        messages.error(request, exc.message)
    else:
        if batch.status == OrderImport.Status.APPLIED:
            messages.success(request, _("导入完成。"))
        else:
            messages.error(request, _("导入时发现错误，没有导入任何数据。"))
    return redirect("imports:detail", pk=batch.pk)


@require_POST
@permission_required("tickets.add_orderimport", raise_exception=True)
def import_discard(request, pk):
    batch = get_object_or_404(_visible_batches(request.user), pk=pk)
    try:
        order_import_discard(actor=request.user, batch=batch)
    except DeskError as exc:
        messages.error(request, exc.message)
        return redirect("imports:detail", pk=batch.pk)
    messages.success(request, _("已放弃这批文件，上传的文件已删除。"))
    return redirect("imports:home")


_QUOTE_FIELDS = ("shop", "province", "city", "weight_kg", "courier")
_PROVINCE_ORDER = {value: index for index, value in enumerate(Province.values)}


def rate_card_lines(rates: list[PostageRate]) -> list[dict]:
    """The rate card as people read it: one line per rule, with all its destinations
    ("西北五省: 陕西、甘肃、宁夏、青海、新疆 15 元/kg"); the shops' own lines first, then the
    zones, the ones priced by hand, and "every other province" last."""
    groups: dict[tuple, list[PostageRate]] = {}
    for rate in rates:
        key = (
            rate.origin,
            rate.name,
            rate.first_weight_kg,
            rate.first_price,
            rate.extra_kg_price,
            rate.confirm_by_hand,
        )
        groups.setdefault(key, []).append(rate)
    lines = []
    for members in groups.values():
        members.sort(key=lambda r: (_PROVINCE_ORDER.get(r.province, -1), r.city))
        lines.append(
            {
                "rate": members[0],
                "destinations": [
                    " ".join(filter(None, (r.get_province_display(), r.city)))
                    for r in members
                    if r.province
                ],
            }
        )
    lines.sort(
        key=lambda line: (
            line["rate"].origin == "",
            line["rate"].origin,
            line["rate"].province == "",
            not line["rate"].city,
            line["rate"].confirm_by_hand,
            _PROVINCE_ORDER.get(line["rate"].province, -1),
        )
    )
    return lines


@require_GET
@permission_required("tickets.view_postagerate", raise_exception=True)
def postage_calculator(request):
    """The calculator: for an order (``?order=<id>``, one the user may see) or for a shop and
    a destination; with the whole rate card below."""
    order = None
    if "order" in request.GET:
        order = get_object_or_404(
            visible_orders(request.user).select_related("shop", "courier"),
            pk=plain_int(request.GET["order"]),
        )
    submitted = any(name in request.GET for name in _QUOTE_FIELDS)
    form = PostageQuoteForm(request.GET if submitted else None, user=request.user, order=order)
    if order is not None and not submitted:
        form.initial = {"courier": order.courier_id}
    rates = list(PostageRate.objects.all())
    quote = None
    if order is not None and not submitted:
        quote = postage_quote(order, rates=rates)
    elif submitted and form.is_valid():
        data = form.cleaned_data
        if order is not None:
            quote = postage_quote(
                order, weight_kg=data["weight_kg"], courier=data["courier"], rates=rates
            )
        else:
            quote = postage_calculate(
                origin=data["shop"].location,
                province=data["province"],
                city=data["city"],
                weight_kg=data["weight_kg"],
                courier=data["courier"],
                rates=rates,
            )
    context = {
        "form": form,
        "order": order,
        "quote": quote,
        "penalty": late_shipment_penalty(order) if order is not None else None,
        "card": rate_card_lines(rates),
    }
    return render(request, "tickets/imports/postage.html", context)
