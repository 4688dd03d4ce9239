"""The unpacking screen, built for a scanner: scan, check, save, scan the next one."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tickets.forms import MatchForm, UnpackForm
from tickets.selectors import find_ticket_for_parcel, visible_orders, visible_parcels
from tickets.services import DeskError
from tickets.services.parcels import parcel_match, parcel_unpack
from tickets.text import normalise_tracking_no

RECENT = 15


@require_http_methods(["GET", "POST"])
@permission_required("tickets.add_returnparcel", raise_exception=True)
def parcel_unpack_view(request):
    form = UnpackForm(request.POST or None)
    lookup = None
    if request.method == "GET" and request.GET.get("tracking_no"):
        # The scanner typed a number and pressed Enter: show what it matches before saving.
        tracking_no = normalise_tracking_no(request.GET["tracking_no"])
        form = UnpackForm(initial={"tracking_no": tracking_no})
        form.fields["contents"].widget.attrs["autofocus"] = True
        lookup = {
            "tracking_no": tracking_no,
            "ticket": find_ticket_for_parcel(request.user, tracking_no),
            "existing": visible_parcels(request.user).filter(tracking_no=tracking_no).first(),
        }
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        order = None
        if data["order_no"]:
            order = visible_orders(request.user).filter(order_no=data["order_no"].strip()).first()
            if order is None:
                form.add_error("order_no", _("没有找到这个订单（或不属于你负责的店铺）。"))
        if not form.errors:
            try:
                result = parcel_unpack(
                    actor=request.user,
                    tracking_no=data["tracking_no"],
                    condition=data["condition"],
                    contents=data["contents"],
                    buyer_note=data["buyer_note"],
                    order=order,
                )
            except DeskError as exc:
                form.add_error(None, exc.message)
            else:
                parcel = result.parcel
                if not result.created:
                    messages.warning(
                        request,
                        _("包裹 %(no)s 已于 %(at)s 登记过，没有重复登记。")
                        % {
                            "no": parcel.tracking_no,
                            "at": parcel.created_at.strftime("%m-%d %H:%M"),
                        },
                    )
                elif parcel.ticket_id:
                    messages.success(
                        request,
                        _("已登记包裹 %(no)s，售后单 %(ticket)s 已更新为“%(status)s”。")
                        % {
                            "no": parcel.tracking_no,
                            "ticket": parcel.ticket.number,
                            "status": parcel.ticket.get_status_display(),
                        },
                    )
                elif parcel.order_id:
                    messages.success(
                        request,
                        _("已登记包裹 %(no)s（订单 %(order)s，没有未完结的售后单）。")
                        % {"no": parcel.tracking_no, "order": parcel.order.order_no},
                    )
                else:
                    messages.warning(
                        request,
                        _("包裹 %(no)s 匹配不到售后单，已登记为待匹配包裹。")
                        % {"no": parcel.tracking_no},
                    )
                return redirect("tickets:parcel_unpack")
    recent = (
        visible_parcels(request.user)
        .filter(received_by=request.user)
        .select_related("ticket", "order")
        .order_by("-created_at")[:RECENT]
    )
    return render(
        request, "tickets/parcel_unpack.html", {"form": form, "lookup": lookup, "recent": recent}
    )


@require_http_methods(["GET"])
@permission_required("tickets.view_returnparcel", raise_exception=True)
def parcel_list(request):
    unknown = (
        visible_parcels(request.user)
        .filter(order__isnull=True)
        .select_related("received_by", "courier")
    )
    return render(
        request,
        "tickets/parcel_list.html",
        {"unknown": unknown.order_by("-created_at")[:200], "match_form": MatchForm()},
    )


@require_POST
@permission_required("tickets.change_returnparcel", raise_exception=True)
def parcel_match_view(request, pk):
    parcel = get_object_or_404(visible_parcels(request.user), pk=pk)
    form = MatchForm(request.POST)
    if form.is_valid():
        try:
            parcel = parcel_match(
                actor=request.user, parcel=parcel, order_no=form.cleaned_data["order_no"]
            )
        except DeskError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("包裹 %(no)s 已匹配到订单 %(order)s。")
                % {"no": parcel.tracking_no, "order": parcel.order.order_no},
            )
    else:
        messages.error(request, _("请填写订单编号。"))
    return redirect("tickets:parcel_list")
