"""Platform interventions: list, new case, detail with our evidence and the outcome."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tickets import filters_registers as filters
from tickets import forms_registers as forms
from tickets import selectors_registers as sel
from tickets.services import interventions as service
from tickets.views.actions import form_error, post_action

from .base import RegisterCreateView, RegisterDetailView, RegisterListView

VIEW = "tickets.view_platformintervention"


def _interventions(user):
    return sel.visible_interventions(user).select_related("shop", "order", "ticket", "recorded_by")


class InterventionList(RegisterListView):
    permission_required = VIEW
    rows = staticmethod(_interventions)
    filterset_class = filters.InterventionFilter
    template_name = "registers/intervention_list.html"


class InterventionCreate(RegisterCreateView):
    permission_required = "tickets.add_platformintervention"
    form_class = forms.InterventionForm
    title = gettext_lazy("登记小二介入")

    def save(self, data):
        case = service.intervention_register(
            actor=self.request.user,
            order=data["order"],
            ticket=data["ticket"],
            case_no=data["case_no"],
            reason=data["reason"],
            deadline=data["deadline"],
            evidence=data["evidence"],
        )
        return reverse("registers:intervention_detail", args=[case.pk])


class InterventionDetail(RegisterDetailView):
    permission_required = VIEW
    rows = staticmethod(_interventions)
    template_name = "registers/intervention_detail.html"
    context_object_name = "case"

    def get_context_data(self, **kwargs):
        case = self.object
        form = forms.InterventionUpdateForm(
            initial={"evidence": case.evidence, "outcome": case.outcome}
        )
        return super().get_context_data(form=form, now=timezone.now(), **kwargs)


@post_action("tickets.change_platformintervention", _interventions, "registers:intervention_detail")
def intervention_update(request, case):
    form = forms.InterventionUpdateForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    service.intervention_update(actor=request.user, intervention=case, **form.cleaned_data)
    return _("已保存。")
