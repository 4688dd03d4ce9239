"""Shift handover: the open items (flagged once their noon deadline passed), new item,
marking an item handled."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tickets import filters_registers as filters
from tickets import forms_registers as forms
from tickets import selectors_registers as sel
from tickets.services import handover as service
from tickets.views.actions import form_error, post_action

from .base import RegisterCreateView, RegisterListView


def _handover(user):
    return sel.visible_handover(user).select_related(
        "shop", "ticket", "order", "created_by", "handled_by"
    )


class HandoverList(RegisterListView):
    """Open items by default (a bare URL); oldest night first."""

    permission_required = "tickets.view_handovernote"
    rows = staticmethod(lambda user: _handover(user).order_by("handled_at", "shift_date", "id"))
    filterset_class = filters.HandoverFilter
    template_name = "registers/handover_list.html"

    def filter_data(self):
        data = self.request.GET.copy()
        if not data:
            data["open"] = "on"
        return data

    def decorate(self, rows):
        now = timezone.now()
        for item in rows:
            item.flagged = sel.handover_is_flagged(item, now)


class HandoverCreate(RegisterCreateView):
    permission_required = "tickets.add_handovernote"
    form_class = forms.HandoverForm
    title = gettext_lazy("写交接事项")

    def get_initial(self):
        return {"shift_date": sel.handover_shift_date()}

    def save(self, data):
        service.handover_add(
            actor=self.request.user,
            shop=data["shop"],
            note=data["note"],
            ticket=data["ticket"],
            order=data["order"],
            shift_date=data["shift_date"],
        )
        return reverse("registers:handover_list")


@post_action("tickets.change_handovernote", _handover, "registers:handover_list", with_pk=False)
def handover_handled(request, item):
    form = forms.HandledForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    service.handover_mark_handled(actor=request.user, item=item, note=form.cleaned_data["note"])
    return _("已标记为已处理。")
