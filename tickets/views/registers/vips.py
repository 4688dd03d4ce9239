"""Special VIP customers: the list with this month's follow-up, new VIP (supervisors), the
VIP's follow-ups, planning the month and recording a call."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from tickets import forms_registers as forms
from tickets import selectors_registers as sel
from tickets.services import DeskError
from tickets.services import vips as service
from tickets.views.actions import form_error

from .base import RegisterCreateView, RegisterDetailView, RegisterPage

VIEW = "tickets.view_vipcustomer"


def _vips(user):
    return sel.visible_vips(user).select_related("shop")


class VipList(RegisterPage, TemplateView):
    """The shops' VIPs (at most 500), each with this month's follow-up if planned."""

    permission_required = VIEW
    template_name = "registers/vip_list.html"

    def get_context_data(self, **kwargs):
        user, month = self.request.user, sel.first_of_month()
        vips = list(_vips(user).order_by("shop__code", "buyer_nick")[:500])
        follow_ups = (
            sel.visible_follow_ups(user)
            .filter(month=month, vip__in=[v.pk for v in vips])
            .select_related("assignee")
        )
        by_vip = {f.vip_id: f for f in follow_ups}
        for vip in vips:
            vip.this_month = by_vip.get(vip.pk)
        return super().get_context_data(vips=vips, month=month, **kwargs)


class VipCreate(RegisterCreateView):
    permission_required = "tickets.add_vipcustomer"
    form_class = forms.VipForm
    title = gettext_lazy("添加 VIP 顾客")

    def save(self, data):
        vip = service.vip_add(
            actor=self.request.user,
            shop=data["shop"],
            buyer_nick=data["buyer_nick"],
            notes=data["notes"],
        )
        return reverse("registers:vip_detail", args=[vip.pk])


class VipDetail(RegisterDetailView):
    permission_required = VIEW
    rows = staticmethod(_vips)
    template_name = "registers/vip_detail.html"
    context_object_name = "vip"

    def get_context_data(self, **kwargs):
        follow_ups = self.object.follow_ups.select_related("done_by", "assignee").order_by(
            "-month"
        )[:24]
        return super().get_context_data(follow_ups=list(follow_ups), **kwargs)


@require_POST
@permission_required("tickets.add_vipfollowup", raise_exception=True)
def vip_plan(request):
    """Plans this month's follow-ups of the VIPs the supervisor sees, and says how many; when
    VIPs added today, the month's last day, were left for next month
    (``sel.vips_waiting_for_next_month``), it says so, or "0 created" would read as a fault."""
    vips = sel.visible_vips(request.user)
    created = service.vip_follow_ups_plan(actor=request.user, vips=vips)
    message = _("已生成本月回访任务 %(n)s 条。") % {"n": created}
    waiting = sel.vips_waiting_for_next_month(sel.first_of_month(), vips).count()
    if waiting:
        message += " " + ngettext(
            "%(n)s 位今天加入的 VIP 从下月开始回访。",
            "%(n)s 位今天加入的 VIP 从下月开始回访。",
            waiting,
        ) % {"n": waiting}
    messages.success(request, message)
    return redirect("registers:vip_list")


@require_POST
@permission_required("tickets.change_vipfollowup", raise_exception=True)
def follow_up_record(request, pk):
    """Records a call; goes back to the VIP's page (not the follow-up's), with a message."""
    follow_up = get_object_or_404(sel.visible_follow_ups(request.user).select_related("vip"), pk=pk)
    form = forms.FollowUpForm(request.POST)
    try:
        if not form.is_valid():
            raise form_error(form)
        service.vip_follow_up_record(actor=request.user, follow_up=follow_up, **form.cleaned_data)
    except DeskError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("回访记录已保存。"))
    return redirect("registers:vip_detail", pk=follow_up.vip_id)
