"""Courier-loss reports: list, new report, detail, the A4 print for the courier, steps."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tickets import filters_registers as filters
from tickets import forms_registers as forms
from tickets import selectors_registers as sel
from tickets.services import courier_losses as service
from tickets.views.actions import form_error, post_action

from .base import RegisterCreateView, RegisterDetailView, RegisterListView

VIEW = "tickets.view_courierlossreport"


def _losses(user):
    return sel.visible_losses(user).select_related("courier", "order", "shop", "ticket")


class LossList(RegisterListView):
    permission_required = VIEW
    rows = staticmethod(_losses)
    filterset_class = filters.CourierLossFilter
    template_name = "registers/loss_list.html"


class LossCreate(RegisterCreateView):
    permission_required = "tickets.add_courierlossreport"
    form_class = forms.CourierLossForm
    title = gettext_lazy("写丢件报告")

    def save(self, data):
        report = service.courier_loss_create(
            actor=self.request.user,
            order=data["order"],
            ticket=data["ticket"],
            courier=data["courier"],
            tracking_no=data["tracking_no"],
            damage=data["damage"],
            items_description=data["items_description"],
            items_value=data["items_value"],
            shop_action=data["shop_action"],
            claimed_amount=data["claimed_amount"],
            note=data["note"],
        )
        return reverse("registers:loss_detail", args=[report.pk])


class LossDetail(RegisterDetailView):
    permission_required = VIEW
    rows = staticmethod(lambda user: _losses(user).select_related("created_by"))
    template_name = "registers/loss_detail.html"
    context_object_name = "report"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            next_steps=sel.courier_loss_next_steps(self.object, self.request.user),
            form=forms.CourierLossTransitionForm(),
            **kwargs,
        )


class LossPrint(RegisterDetailView):
    """The A4 report handed to the courier's pickup person."""

    permission_required = VIEW
    rows = staticmethod(_losses)
    template_name = "registers/loss_print.html"
    context_object_name = "report"

    def get_context_data(self, **kwargs):
        return super().get_context_data(now=timezone.now(), **kwargs)


@post_action("tickets.change_courierlossreport", _losses, "registers:loss_detail")
def loss_transition(request, report):
    form = forms.CourierLossTransitionForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    report = service.courier_loss_transition(
        actor=request.user,
        report=report,
        to_status=form.cleaned_data["to_status"],
        received_amount=form.cleaned_data["received_amount"],
        note=form.cleaned_data["note"],
    )
    return _("状态已改为“%(status)s”。") % {"status": report.get_status_display()}
