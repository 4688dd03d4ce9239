"""Invoice requests: list, new request, detail; declining (C-stores) and issuing (finance)."""

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tickets import filters_registers as filters
from tickets import forms_registers as forms
from tickets import selectors_registers as sel
from tickets.services import invoices as service
from tickets.views.actions import form_error, post_action

from .base import RegisterCreateView, RegisterDetailView, RegisterListView

VIEW = "tickets.view_invoicerequest"
CHANGE = "tickets.change_invoicerequest"


def _invoices(user):
    return sel.visible_invoices(user).select_related("shop", "order", "recorded_by")


class InvoiceList(RegisterListView):
    permission_required = VIEW
    rows = staticmethod(_invoices)
    filterset_class = filters.InvoiceFilter
    template_name = "registers/invoice_list.html"


class InvoiceCreate(RegisterCreateView):
    permission_required = "tickets.add_invoicerequest"
    form_class = forms.InvoiceRequestForm
    title = gettext_lazy("登记发票申请")

    def save(self, data):
        invoice = service.invoice_request_register(
            actor=self.request.user,
            order=data["order"],
            title=data["title"],
            tax_no=data["tax_no"],
            amount=data["amount"],
        )
        return reverse("registers:invoice_detail", args=[invoice.pk])


class InvoiceDetail(RegisterDetailView):
    permission_required = VIEW
    rows = staticmethod(_invoices)
    template_name = "registers/invoice_detail.html"
    context_object_name = "invoice"

    def get_context_data(self, **kwargs):
        invoice, user = self.object, self.request.user
        return super().get_context_data(
            may_decline=sel.invoice_may_decline(invoice) and user.has_perm(CHANGE),
            may_issue=sel.invoice_may_issue(invoice, user),
            decline_form=forms.InvoiceDeclineForm(),
            issue_form=forms.InvoiceIssueForm(initial={"invoice_no": invoice.invoice_no}),
            **kwargs,
        )


@post_action(CHANGE, _invoices, "registers:invoice_detail")
def invoice_decline(request, invoice):
    form = forms.InvoiceDeclineForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    service.invoice_decline(actor=request.user, invoice=invoice, reason=form.cleaned_data["reason"])
    return _("已拒绝，并记录了理由。")


@post_action(CHANGE, _invoices, "registers:invoice_detail")
def invoice_issue(request, invoice):
    form = forms.InvoiceIssueForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    invoice = service.invoice_record_issue(actor=request.user, invoice=invoice, **form.cleaned_data)
    return _("已保存：%(status)s。") % {"status": invoice.get_status_display()}
