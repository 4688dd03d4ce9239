"""Wrong, missing and extra shipments: list, new row, detail."""

from django.urls import reverse
from django.utils.translation import gettext_lazy

from tickets import filters_registers as filters
from tickets import forms_registers as forms
from tickets import selectors_registers as sel
from tickets.services import wrong_shipments as service

from .base import RegisterCreateView, RegisterDetailView, RegisterListView

VIEW = "tickets.view_wrongshipment"


def _wrong(user):
    return sel.visible_wrong_shipments(user).select_related(
        "shop", "order", "ticket", "recorded_by"
    )


class WrongList(RegisterListView):
    permission_required = VIEW
    rows = staticmethod(_wrong)
    filterset_class = filters.WrongShipmentFilter
    template_name = "registers/wrong_list.html"


class WrongCreate(RegisterCreateView):
    permission_required = "tickets.add_wrongshipment"
    form_class = forms.WrongShipmentForm
    title = gettext_lazy("登记发错货")

    def save(self, data):
        row = service.wrong_shipment_register(
            actor=self.request.user,
            order=data["order"],
            ticket=data["ticket"],
            kind=data["kind"],
            ordered_description=data["ordered_description"],
            sent_description=data["sent_description"],
            packed_by=data["packed_by"],
            listing_to_check=data["listing_to_check"],
        )
        return reverse("registers:wrong_detail", args=[row.pk])


class WrongDetail(RegisterDetailView):
    permission_required = VIEW
    rows = staticmethod(_wrong)
    template_name = "registers/wrong_detail.html"
    context_object_name = "row"
