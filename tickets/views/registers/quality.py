"""Quality problems, the production alerts they raise, and buyers' product feedback."""

from urllib.parse import urlencode

from django.contrib import messages
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from tickets import filters_registers as filters
from tickets import forms_registers as forms
from tickets import selectors_registers as sel
from tickets.services import quality as service
from tickets.views.actions import post_action

from .base import RegisterCreateView, RegisterDetailView, RegisterListView, RegisterPage


# --- quality problems -----------------------------------------------------------------
def _quality(user):
    return sel.visible_quality_problems(user).select_related(
        "shop", "sku__product", "order", "ticket"
    )


class QualityList(RegisterListView):
    permission_required = "tickets.view_qualityproblem"
    rows = staticmethod(_quality)
    filterset_class = filters.QualityProblemFilter
    template_name = "registers/quality_list.html"


class QualityCreate(RegisterCreateView):
    permission_required = "tickets.add_qualityproblem"
    form_class = forms.QualityProblemForm
    title = gettext_lazy("登记质量问题")

    def save(self, data):
        problem, alert = service.quality_problem_register(
            actor=self.request.user,
            shop=data["shop"],
            sku=data["sku"],
            batch=data["batch"],
            problem_type=data["problem_type"],
            description=data["description"],
            order=data["order"],
            ticket=data["ticket"],
        )
        if alert is not None:
            messages.warning(
                self.request,
                _("这个 SKU 批次近期已有 %(n)s 起投诉，已提醒主管反馈生产。")
                % {"n": alert.complaint_count},
            )
        return reverse("registers:quality_detail", args=[problem.pk])


class QualityDetail(RegisterDetailView):
    permission_required = "tickets.view_qualityproblem"
    rows = staticmethod(lambda user: _quality(user).select_related("reported_by"))
    template_name = "registers/quality_detail.html"
    context_object_name = "problem"

    def get_context_data(self, **kwargs):
        problem = self.object
        alert = (
            sel.visible_alerts(self.request.user)
            .filter(sku=problem.sku, batch=problem.batch)
            .order_by("sent_at")
            .first()
        )
        return super().get_context_data(alert=alert, **kwargs)


# --- production alerts ----------------------------------------------------------------
def _alerts(user):
    return sel.visible_alerts(user).select_related("sku__product", "sent_by")


class AlertList(RegisterPage, TemplateView):
    """Open alerts first, then the ones production was told about (at most 200)."""

    permission_required = "tickets.view_productionalert"
    template_name = "registers/alert_list.html"

    def get_context_data(self, **kwargs):
        rows = list(_alerts(self.request.user).order_by("sent_at", "-created_at")[:200])
        return super().get_context_data(rows=rows, **kwargs)


class AlertDetail(RegisterDetailView):
    permission_required = "tickets.view_productionalert"
    rows = staticmethod(_alerts)
    template_name = "registers/alert_detail.html"
    context_object_name = "alert"

    def get_context_data(self, **kwargs):
        complaints = sel.alert_complaints(self.request.user, self.object).select_related(
            "shop", "order", "ticket", "reported_by"
        )
        return super().get_context_data(complaints=list(complaints[:200]), **kwargs)


@post_action("tickets.change_productionalert", _alerts, "registers:alert_detail")
def alert_sent(request, alert):
    service.production_alert_mark_sent(actor=request.user, alert=alert)
    return _("已标记为已反馈生产。")


# --- product feedback -----------------------------------------------------------------
def _feedback(user):
    return (
        sel.visible_feedback(user)
        .select_related("sku__product", "order", "recorded_by")
        .order_by("-created_at")
    )


class FeedbackList(RegisterListView):
    permission_required = "tickets.view_productfeedback"
    rows = staticmethod(_feedback)
    filterset_class = filters.ProductFeedbackFilter
    template_name = "registers/feedback_list.html"


class FeedbackCreate(RegisterCreateView):
    permission_required = "tickets.add_productfeedback"
    form_class = forms.ProductFeedbackForm
    title = gettext_lazy("记录顾客反馈")

    def save(self, data):
        service.product_feedback_record(
            actor=self.request.user,
            sku=data["sku"],
            topic=data["topic"],
            text=data["text"],
            order=data["order"],
        )
        return reverse("registers:feedback_list") + "?" + urlencode({"q": data["sku"].code})
