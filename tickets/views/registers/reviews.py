"""Neutral and negative reviews: list (late ones marked), new review, the follow-up page with
contacts, compensation and outcome, and its POST actions."""

from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tickets import filters_registers as filters
from tickets import forms_registers as forms
from tickets import selectors_registers as sel
from tickets.roles import Role, has_role
from tickets.selectors import staff_for_shops
from tickets.services import reviews as service
from tickets.services.ledger import submission_key_issue, submission_key_read
from tickets.views.actions import (
    assignee_from_post,
    form_error,
    post_action,
    reverse_entry_from_post,
)

from .base import RegisterCreateView, RegisterDetailView, RegisterListView

VIEW = "tickets.view_review"
CHANGE = "tickets.change_review"


def _reviews(user):
    return sel.visible_reviews(user).select_related("shop", "order", "assignee")


class ReviewList(RegisterListView):
    permission_required = VIEW
    rows = staticmethod(_reviews)
    filterset_class = filters.ReviewFilter
    template_name = "registers/review_list.html"

    def get_context_data(self, **kwargs):
        late_before = timezone.now() - timedelta(hours=1)
        return super().get_context_data(late_before=late_before, **kwargs)


class ReviewCreate(RegisterCreateView):
    permission_required = "tickets.add_review"
    form_class = forms.ReviewForm
    title = gettext_lazy("登记中差评")

    def save(self, data):
        review = service.review_register(
            actor=self.request.user,
            order=data["order"],
            rating=data["rating"],
            made_at=data["made_at"],
            text=data["text"],
            assign=data["assign"],
        )
        return reverse("registers:review_detail", args=[review.pk])


class ReviewDetail(RegisterDetailView):
    permission_required = VIEW
    rows = staticmethod(lambda user: _reviews(user).select_related("recorded_by"))
    template_name = "registers/review_detail.html"
    context_object_name = "review"

    def get_context_data(self, **kwargs):
        review, user = self.object, self.request.user
        now = timezone.now()
        room = sel.review_compensation_room(review)
        staff = list(staff_for_shops([review.shop_id])) if has_role(user, Role.SUPERVISOR) else []
        compensations = sel.review_compensations(review).select_related("recorded_by", "reversal")
        return super().get_context_data(
            contacts=list(review.contacts.select_related("agent")),
            compensations=list(compensations),
            refusal=sel.contact_refusal(review, now),
            late=sel.review_is_late(review, now),
            standard=sel.review_standard_compensation(review),
            room=room,
            limits={
                "per_day": settings.DESK_REVIEW_MAX_CONTACTS_PER_DAY,
                "total": settings.DESK_REVIEW_MAX_CONTACTS_TOTAL,
            },
            staff=staff,
            contact_form=forms.ReviewContactForm(),
            compensate_form=forms.ReviewCompensateForm(
                initial={"submission": submission_key_issue(user), "amount": room or None}
            ),
            close_form=forms.ReviewCloseForm(initial={"buyer_notes": review.buyer_notes}),
            may_compensate=user.has_perm("tickets.add_ledgerentry"),
            reverse_key=submission_key_issue(user),
            **kwargs,
        )


@post_action(CHANGE, _reviews, "registers:review_detail")
def review_assign(request, review):
    assignee = assignee_from_post(request)
    service.review_assign(actor=request.user, review=review, assignee=assignee)
    return _("跟进人已更新。")


@post_action("tickets.add_reviewcontact", _reviews, "registers:review_detail")
def review_contact(request, review):
    form = forms.ReviewContactForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    service.review_contact_log(actor=request.user, review=review, **form.cleaned_data)
    return _("已记录这次联系。")


@post_action("tickets.add_ledgerentry", _reviews, "registers:review_detail")
def review_compensate(request, review):
    form = forms.ReviewCompensateForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    data = form.cleaned_data
    entry = service.review_compensate(
        actor=request.user,
        review=review,
        amount=data["amount"],
        payment_method=data["payment_method"],
        note=data["note"],
        idempotency_key=submission_key_read(request.user, data["submission"]),
    )
    return _("已登记赔偿 ¥%(amount)s。") % {"amount": entry.amount}


@post_action("tickets.add_ledgerentry", _reviews, "registers:review_detail")
def review_compensation_reverse(request, review, entry_pk):
    """A mistaken compensation is corrected by a reversing entry (never an edit), which frees
    the review's standard again."""
    entries = sel.review_compensations(review).filter(reverses__isnull=True)
    return reverse_entry_from_post(request, entries, entry_pk)


@post_action(CHANGE, _reviews, "registers:review_detail")
def review_close(request, review):
    form = forms.ReviewCloseForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    review = service.review_close(actor=request.user, review=review, **form.cleaned_data)
    return _("结果已记录：%(outcome)s。") % {"outcome": review.get_outcome_display()}
