"""Finance's page: the sheets by date and kind, downloads, the supervisor's signature.

Every sheet is looked up through ``visible_sheets(user)``, every line through its sheet; each
view checks the role's permission on the server. Views parse input, call one service, and
show its result.
"""

import logging
from decimal import Decimal
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aftersales.storage import StoreError, store_open, store_unavailable
from finance_exports.builders import Period, get_builder, scheduled_builders
from finance_exports.builders.exchanges import ExchangeListBuilder
from finance_exports.forms import RemoveLineForm, SheetFilterForm, ShipLineForm, TrackingUploadForm
from finance_exports.models import Sheet
from finance_exports.selectors import finance_dashboard, may_see_sheets, visible_sheets
from finance_exports.services import (
    exchange_line_remove,
    exchange_line_ship,
    exchange_list_approve,
    exchange_tracking_upload,
    sheet_download_record,
    sheet_rebuild,
)
from tickets.models import LedgerEntry
from tickets.money import cents
from tickets.privacy import mask_name, mask_nick, mask_phone
from tickets.selectors_exchanges import exchange_price_positions, goods_lines
from tickets.services import DeskError
from tickets.views.actions import back_name, back_to

logger = logging.getLogger(__name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PER_PAGE = 30


# --- reading -------------------------------------------------------------------------------
@require_GET
@permission_required("finance_exports.view_sheet", raise_exception=True)
def sheet_list(request):
    sheets = visible_sheets(request.user)
    form = SheetFilterForm(request.GET or None)
    listed = sheets
    if form.is_bound:
        form.is_valid()
        # What was valid still filters: a mistyped month must not drop the kind beside it.
        data = form.cleaned_data
        if data.get("kind"):
            listed = listed.filter(kind=data["kind"])
        if data.get("status"):
            listed = listed.filter(status=data["status"])
        if data.get("month"):
            month = data["month"]
            listed = listed.filter(business_date__year=month.year, business_date__month=month.month)
    listed = listed.select_related("approved_by").annotate(download_count=Count("downloads"))
    page = Paginator(listed.order_by("-business_date", "kind"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        # Says why the list is empty for staff without every shop (not "nothing matched").
        "may_see": may_see_sheets(request.user),
        "query": query.urlencode(),
        "schedule": _schedule(sheets),
        "counts": sheets.aggregate(
            awaiting=Count("pk", filter=Q(status=Sheet.Status.AWAITING_APPROVAL)),
            failed=Count("pk", filter=Q(status=Sheet.Status.FAILED)),
        ),
    }
    return render(request, "finance_exports/sheet_list.html", context)


def _daily_first(builder) -> tuple:
    """The daily sheets first (what finance opens every afternoon), then by time of day."""
    return (builder.period != Period.DAY, builder.due_time())


def _schedule(sheets):
    """For each scheduled kind: its latest sheet and when the next one is due."""
    now = timezone.now()
    cards = []
    for builder in sorted(scheduled_builders(), key=_daily_first):
        latest = sheets.filter(kind=builder.kind).order_by("-business_date").first()
        next_date = builder.following(builder.latest_due(now))
        cards.append(
            {
                "kind": Sheet.Kind(builder.kind).label,
                "latest": latest,
                "next_due": builder.cutoff(next_date),
            }
        )
    return cards


def dashboard_panel(user, now):
    """Finance's dashboard panel (``selectors.finance_dashboard``: today's sheets, failed
    builds, the latest downloads) with the finance sheet that money recorded at ``now`` goes
    on: its business date and cut-off. After the day's cut-off (16:00) that is tomorrow's, so
    an entry made this evening is not on the sheet built today. None for a user who may not
    see sheets."""
    panel = finance_dashboard(user, now)
    if panel is not None:
        builder = get_builder(Sheet.Kind.FINANCE)
        business_date = builder.following(builder.latest_due(now))
        panel["context"]["next_finance"] = {
            "date": business_date,
            "cutoff": builder.cutoff(business_date),
        }
    return panel


def _sheet(request, pk, queryset=None):
    if queryset is None:
        queryset = visible_sheets(request.user)
    return get_object_or_404(queryset, pk=pk)


@require_GET
@permission_required("finance_exports.view_sheet", raise_exception=True)
def sheet_detail(request, pk):
    sheet = _sheet(
        request, pk, visible_sheets(request.user).select_related("approved_by", "created_by")
    )
    context = {
        "sheet": sheet,
        "downloads": sheet.downloads.select_related("user").order_by("-downloaded_at")[:20],
        "download_total": sheet.downloads.count(),
        # The page the inbox sent the supervisor from: signing goes back there.
        "back": back_name(request.GET.get("next", "")),
    }
    if sheet.kind == Sheet.Kind.FINANCE:
        context.update(_finance_totals(sheet))
    elif sheet.kind == Sheet.Kind.EXCHANGES:
        context.update(_exchange_lines(sheet))
    elif sheet.kind == Sheet.Kind.EXCHANGE_SLIPS:
        context.update(_slip_totals(sheet))
    return render(request, "finance_exports/sheet_detail.html", context)


_SLIP_MONEY = ("charge_due", "charged", "refund_due", "refunded", "to_charge", "to_refund")


def _slip_totals(sheet):
    """The month's exchange slips per shop and in all, as the file's summary has them."""
    totals = sheet.totals or {}

    def money(row):
        return {
            "shop": row.get("shop"),
            "slips": row.get("slips", 0),
            "quantity": row.get("quantity", 0),
            **{key: cents(Decimal(row.get(key, "0"))) for key in _SLIP_MONEY},
        }

    return {
        "slips": {
            "by_shop": [money(row) for row in totals.get("by_shop", [])],
            "total": money(totals),
        }
    }


def _finance_totals(sheet):
    totals = sheet.totals or {}
    labels = dict(LedgerEntry.Kind.choices)
    # Money in (补差价): apart from the payouts above. Sheets built before it have none.
    received = totals.get("received") or {}
    return {
        "received": {
            "count": received.get("count", 0),
            "total": cents(Decimal(received.get("total", "0"))),
            "by_shop": [
                {
                    "shop": row["shop"],
                    "count": row["count"],
                    "amount": cents(Decimal(row["amount"])),
                }
                for row in received.get("by_shop", [])
            ],
        },
        "by_kind": [
            {
                "label": labels.get(row["kind"], row["kind"]),
                "count": row["count"],
                "amount": cents(Decimal(row["amount"])),
            }
            for row in totals.get("by_kind", [])
        ],
        "by_shop": [
            {"shop": row["shop"], "count": row["count"], "amount": cents(Decimal(row["amount"]))}
            for row in totals.get("by_shop", [])
        ],
    }


def _exchange_lines(sheet):
    """The list as the supervisor checks it: buyers' personal data masked (the file, which
    the warehouse ships from, has it in full)."""
    active, removed = [], []
    for line in ExchangeListBuilder.lines(sheet):
        ticket, order = line.ticket, line.ticket.order
        row = {
            "line": line,
            "ticket": ticket,
            "order": order,
            "nick": mask_nick(order.buyer_nick),
            "receiver": " ".join(
                part
                for part in (mask_name(order.receiver_name), mask_phone(order.receiver_phone))
                if part
            ),
            "place": " ".join(
                part for part in (order.receiver_province, order.receiver_city) if part
            ),
            "goods": goods_lines(ticket.items.all()),
        }
        (active if line.is_active else removed).append(row)
    prices = exchange_price_positions(row["ticket"].pk for row in active)
    for row in active:
        row["price"] = prices[row["ticket"].pk]
    shipped = sum(1 for row in active if row["ticket"].outbound_tracking_no)
    unsettled = sum(1 for row in active if not row["price"].settled)
    return {
        "lines": active,
        "removed": removed,
        "shipped_count": shipped,
        "unsettled_count": unsettled,
        "remove_form": RemoveLineForm(),
        "ship_form": ShipLineForm(),
        "upload_form": TrackingUploadForm(),
    }


@require_GET
@permission_required("finance_exports.download_sheet", raise_exception=True)
def sheet_download(request, pk):
    """Sheets are private files: served here, to finance and supervisors, as an attachment;
    every download is recorded."""
    sheet = _sheet(request, pk, visible_sheets(request.user).downloadable())
    try:
        handle = store_open(sheet.file)  # streamed from the store, never a public URL
    except FileNotFoundError:
        # The row says ready, the store has no file (deleted there, or the store's settings
        # changed): the desk's page saying so, not a bare "page not found"; nothing recorded.
        logger.error(
            "the file of sheet %s (%s) is missing from the file store", sheet.pk, sheet.kind
        )
        name = sheet.download_name
        return render(request, "errors/file_missing.html", {"name": name}, status=404)
    except StoreError as exc:  # nothing recorded: nothing was downloaded
        return store_unavailable(request, exc.message)
    sheet_download_record(actor=request.user, sheet=sheet)
    response = FileResponse(
        handle, as_attachment=True, filename=sheet.download_name, content_type=XLSX
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- actions -------------------------------------------------------------------------------
def sheet_action(perm: str, anchor: str = ""):
    """A POST-only view on a visible sheet: runs the action, shows its message, goes back to
    the page ``next`` names (``back_to``: the inbox a signature came from), else the sheet's
    page."""

    def decorate(action):
        @require_POST
        @permission_required(perm, raise_exception=True)
        @wraps(action)
        def view(request, pk, *args, **kwargs):
            sheet = _sheet(request, pk)
            try:
                result = action(request, sheet, *args, **kwargs)
            except DeskError as refusal:
                messages.error(request, refusal.message)
            else:
                if result:
                    messages.success(request, result)
            return redirect(back_to(request) or sheet.get_absolute_url() + anchor)

        return view

    return decorate


def _form_error(form) -> DeskError:
    return DeskError("；".join(str(error) for errors in form.errors.values() for error in errors))


@sheet_action("finance_exports.rebuild_sheet")
def sheet_rebuild_view(request, sheet):
    sheet_rebuild(actor=request.user, sheet=sheet)
    return _("已重新开始生成%(sheet)s，一两分钟后刷新本页查看。") % {"sheet": sheet}


@sheet_action("finance_exports.approve_sheet")
def exchange_approve_view(request, sheet):
    sheet = exchange_list_approve(actor=request.user, sheet=sheet)
    return _("已签字：%(sheet)s，共 %(n)s 单，可以发货了。") % {
        "sheet": sheet,
        "n": sheet.row_count,
    }


@sheet_action("finance_exports.approve_sheet", "#lines")
def exchange_line_remove_view(request, sheet, line_pk):
    line = get_object_or_404(sheet.exchange_lines.select_related("ticket"), pk=line_pk)
    form = RemoveLineForm(request.POST)
    if not form.is_valid():
        raise _form_error(form)
    exchange_line_remove(actor=request.user, line=line, reason=form.cleaned_data["reason"])
    return _("%(ticket)s 已移出清单，退回待换货，会上下一份换货清单。") % {
        "ticket": line.ticket.number
    }


@sheet_action("tickets.change_ticket", "#lines")
def exchange_line_ship_view(request, sheet, line_pk):
    line = get_object_or_404(sheet.exchange_lines.select_related("ticket"), pk=line_pk)
    form = ShipLineForm(request.POST)
    if not form.is_valid():
        raise _form_error(form)
    ticket = exchange_line_ship(
        actor=request.user, line=line, tracking_no=form.cleaned_data["tracking_no"]
    )
    return _("%(ticket)s 已发出（运单号 %(no)s），售后单已完结。") % {
        "ticket": ticket.number,
        "no": ticket.outbound_tracking_no,
    }


@sheet_action("tickets.change_ticket", "#lines")
def exchange_tracking_upload_view(request, sheet):
    form = TrackingUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        raise _form_error(form)
    upload = form.cleaned_data["file"]
    if upload.size > settings.FINANCE_TRACKING_UPLOAD_MAX_BYTES:  # refused before it is read
        raise DeskError(
            _("文件太大（上限 %(mb)s MB）。")
            % {"mb": settings.FINANCE_TRACKING_UPLOAD_MAX_BYTES // (1024 * 1024)}
        )
    result = exchange_tracking_upload(
        actor=request.user, sheet=sheet, data=upload.read(), filename=upload.name
    )
    for number, reason in result.errors:
        messages.error(request, f"{number}：{reason}")
    return _("已登记发货 %(shipped)s 单，%(unchanged)s 单此前已登记，%(errors)s 行有问题。") % {
        "shipped": len(result.shipped),
        "unchanged": len(result.unchanged),
        "errors": len(result.errors),
    }
