"""Every form's text limits match the columns their values land in (issue 12, section 1): a
form that lets through more than its column holds was a server error on PostgreSQL (the
unpacking form allowed a 60-character tracking number; the column holds 40). Checked for every
text field of every form of the desk, each declared here with the column it is stored in or
compared with, and for every form the admin builds from a model."""

import pytest
from django import forms
from django.apps import apps
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.test import RequestFactory

from tests.factories import make_user
from tests.url_walk import form_classes
from tickets.roles import Role

pytestmark = pytest.mark.django_db

# (form, field) -> "app.Model.field": the column the value is stored in, or compared with when
# the form looks a row up by it.
COLUMNS = {
    ("TicketOpenForm", "return_tracking_no"): "tickets.Ticket.return_tracking_no",
    ("TicketOpenForm", "promise_text"): "tickets.Promise.text",
    ("TicketOpenForm", "description"): "tickets.Ticket.description",
    ("TransitionForm", "note"): "tickets.TicketEvent.message",
    ("TransitionForm", "tracking_no"): "tickets.Ticket.outbound_tracking_no",
    ("TransitionForm", "waive_reason"): "tickets.Promise.waived_reason",
    ("NoteForm", "text"): "tickets.TicketEvent.message",
    ("EscalateForm", "reason"): "tickets.TicketEvent.message",
    ("PromiseForm", "text"): "tickets.Promise.text",
    ("LedgerForm", "note"): "tickets.LedgerEntry.note",
    ("ReverseForm", "reason"): "tickets.LedgerEntry.note",
    ("UnpackForm", "tracking_no"): "tickets.ReturnParcel.tracking_no",
    ("UnpackForm", "contents"): "tickets.ReturnParcel.contents",
    ("UnpackForm", "buyer_note"): "tickets.ReturnParcel.buyer_note",
    ("UnpackForm", "order_no"): "tickets.Order.order_no",
    ("MatchForm", "order_no"): "tickets.Order.order_no",
    ("DecisionForm", "reason"): "tickets.LedgerApproval.reason",
    ("EscalationDecisionForm", "note"): "tickets.Escalation.decision_note",
    ("ChatWebhookForm", "name"): "tickets.ChatWebhook.name",
    ("ChatWebhookForm", "url"): "tickets.ChatWebhook.url",
    ("ChatWebhookForm", "secret"): "tickets.ChatWebhook.secret",
    ("TicketBulkForm", "text"): "tickets.TicketEvent.message",
    ("SavedViewForm", "name"): "tickets.SavedView.name",
    ("QuickReplyForm", "title"): "tickets.QuickReply.title",
    ("QuickReplyForm", "body"): "tickets.QuickReply.body",
    ("ExchangeChargeForm", "reference"): "tickets.ExchangeCharge.reference",
    ("ExchangeChargeForm", "note"): "tickets.ExchangeCharge.note",
    ("ExchangeChargeReverseForm", "reason"): "tickets.ExchangeCharge.note",
    ("OrderFlagForm", "memo"): "tickets.Order.flag_memo",
    ("ReceiptExtensionForm", "note"): "tickets.OrderChange.note",
    ("OrderRefForm", "order_no"): "tickets.Order.order_no",
    ("CourierLossForm", "tracking_no"): "tickets.CourierLossReport.tracking_no",
    ("CourierLossForm", "items_description"): "tickets.CourierLossReport.items_description",
    ("CourierLossForm", "note"): "tickets.CourierLossReport.note",
    ("CourierLossTransitionForm", "note"): "tickets.CourierLossReport.note",
    ("QualityProblemForm", "batch"): "tickets.QualityProblem.batch",
    ("QualityProblemForm", "description"): "tickets.QualityProblem.description",
    ("ProductFeedbackForm", "text"): "tickets.ProductFeedback.text",
    ("WrongShipmentForm", "ordered_description"): "tickets.WrongShipment.ordered_description",
    ("WrongShipmentForm", "sent_description"): "tickets.WrongShipment.sent_description",
    ("WrongShipmentForm", "packed_by"): "tickets.WrongShipment.packed_by",
    ("InterventionForm", "case_no"): "tickets.PlatformIntervention.case_no",
    ("InterventionForm", "reason"): "tickets.PlatformIntervention.reason",
    ("InterventionForm", "evidence"): "tickets.PlatformIntervention.evidence",
    ("InterventionUpdateForm", "evidence"): "tickets.PlatformIntervention.evidence",
    ("InvoiceRequestForm", "title"): "tickets.InvoiceRequest.title",
    ("InvoiceRequestForm", "tax_no"): "tickets.InvoiceRequest.tax_no",
    ("InvoiceDeclineForm", "reason"): "tickets.InvoiceRequest.decline_reason",
    ("InvoiceIssueForm", "invoice_no"): "tickets.InvoiceRequest.invoice_no",
    ("InvoiceIssueForm", "posting_tracking_no"): "tickets.InvoiceRequest.posting_tracking_no",
    ("ReviewForm", "text"): "tickets.Review.text",
    ("ReviewContactForm", "result"): "tickets.ReviewContact.result",
    ("ReviewCloseForm", "buyer_notes"): "tickets.Review.buyer_notes",
    ("HandoverForm", "note"): "tickets.HandoverNote.note",
    ("HandledForm", "note"): "tickets.HandoverNote.handled_note",
    ("VipForm", "buyer_nick"): "tickets.VipCustomer.buyer_nick",
    ("VipForm", "notes"): "tickets.VipCustomer.notes",
    ("FollowUpForm", "notes"): "tickets.VipFollowUp.notes",
    ("PostageQuoteForm", "city"): "tickets.PostageRate.city",
    ("RemoveLineForm", "reason"): "finance_exports.ExchangeLine.removed_reason",
    ("ShipLineForm", "tracking_no"): "tickets.Ticket.outbound_tracking_no",
    ("UnlockForm", "username"): "tickets.User.username",
}

# (form, field) -> why the value is not a column's as typed.
NOT_A_COLUMN = {
    ("ReviewCompensateForm", "note"): "after the review's marker in LedgerEntry.note (255)",
    ("SavedViewForm", "query"): "rewritten by filter_query; saved_view_create checks its length",
    ("TicketBulkForm", "query"): "the list's filter to go back to, never stored",
    ("TicketBulkForm", "submission"): "a signed one-time key; a digest of it is stored",
    ("TicketOpenForm", "submission"): "a signed one-time key; a digest of it is stored",
    ("LedgerForm", "submission"): "a signed one-time key; a digest of it is stored",
    ("ReverseForm", "submission"): "a signed one-time key; a digest of it is stored",
    ("ExchangeChargeForm", "submission"): "a signed one-time key; a digest of it is stored",
    ("ReviewCompensateForm", "submission"): "a signed one-time key; a digest of it is stored",
    ("OrderFlagForm", "expected_flag"): "what the page showed, compared, never stored",
    ("OrderFlagForm", "expected_memo"): "what the page showed, compared, never stored",
    ("OrderRefForm", "ticket_no"): "a ticket number (T00000012) read as an id",
    ("UnlockForm", "ip_address"): "an address, valid only as one (GenericIPAddressField)",
}

# Money is typed as text and parsed to a Decimal (``tickets.money.parse_money``).
MONEY = ("MoneyField",)


def _column(label: str):
    app_model, name = label.rsplit(".", 1)
    return apps.get_model(app_model)._meta.get_field(name)


def _text_fields():
    """(form class name, field name, field) for every text field of every desk form,
    inherited ones under the class that declares them."""
    seen = set()
    for form_class in form_classes():
        for name, field in form_class.base_fields.items():
            if not isinstance(field, forms.CharField) or type(field).__name__ in MONEY:
                continue
            owner = next(
                (
                    c.__name__
                    for c in reversed(form_class.__mro__)
                    if name in getattr(c, "declared_fields", {})
                ),
                form_class.__name__,
            )
            if (owner, name) not in seen:
                seen.add((owner, name))
                yield owner, name, field


def test_every_text_field_of_every_form_is_declared_with_its_column():
    undeclared = [
        f"{form}.{name}"
        for form, name, _field in _text_fields()
        if (form, name) not in COLUMNS and (form, name) not in NOT_A_COLUMN
    ]
    assert not undeclared, f"say which column these land in (COLUMNS): {undeclared}"
    assert not set(COLUMNS) & set(NOT_A_COLUMN)


def test_every_form_limit_matches_its_column():
    """A form field stored in a column with a length has that length, no more and no less (a
    shorter one refuses what the desk could keep); a column without a length (text) takes
    whatever the form allows."""
    wrong = []
    for form, name, field in _text_fields():
        if (form, name) not in COLUMNS:
            continue
        column = _column(COLUMNS[(form, name)])
        if column.max_length is not None and field.max_length != column.max_length:
            wrong.append(f"{form}.{name}: form {field.max_length}, column {column.max_length}")
    assert not wrong, wrong


def test_the_declared_forms_and_columns_exist():
    fields = {(form, name) for form, name, _field in _text_fields()}
    for key, label in COLUMNS.items():
        assert key in fields, key
        _column(label)  # FieldDoesNotExist for a column that isn't there
    assert set(NOT_A_COLUMN) <= fields


def test_every_admin_form_limit_matches_its_model(db):
    """The admin builds its forms from the models; every text field it offers (add and change,
    for a superuser) has its column's length."""
    superuser = make_user("root", None, is_superuser=True, is_staff=True)
    supervisor = make_user("boss-admin", Role.SUPERVISOR, all_shops=True, is_staff=True)
    wrong = []
    for model, model_admin in admin.site._registry.items():
        for user in (superuser, supervisor):
            request = RequestFactory().get("/admin/")
            request.user = user
            form_class = model_admin.get_form(request, obj=None)
            for name, field in form_class.base_fields.items():
                if not isinstance(field, forms.CharField) or field.max_length is None:
                    continue
                try:
                    column = model._meta.get_field(name)
                except FieldDoesNotExist:  # a form's own field (a password confirmation)
                    continue
                limit = getattr(column, "max_length", None)
                if limit is not None and field.max_length != limit:
                    wrong.append(f"{model.__name__}.{name}: {field.max_length} vs {limit}")
    assert not wrong, wrong
