"""The registers' pages (issue 5): an index, then per register a filtered list, a form to
write a row, a detail page and POST-only actions.

Every row is loaded through ``tickets.selectors_registers`` (another shop's id is a 404),
every page checks the role's permission on the server, every change is a POST that calls
one service and comes back with a message. Lists show order numbers and nicknames, never a
buyer's phone or address.
"""

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tickets import filters_registers as filters
from tickets import forms_registers as forms
from tickets import selectors_registers as sel
from tickets.models import CourierLossReport, User
from tickets.roles import Role, has_role
from tickets.selectors import staff_for_shops
from tickets.services import DeskError
from tickets.services import registers as reg
from tickets.services.ledger import submission_key_issue, submission_key_read
from tickets.views.actions import form_error, post_action

PAGE_SIZE = 50


@dataclass(frozen=True)
class Register:
    """One register as the index and the list pages show it."""

    key: str
    title: str
    perm: str
    add_perm: str | None = None


REGISTERS = [
    Register(
        "loss",
        gettext_lazy("快递丢件"),
        "tickets.view_courierlossreport",
        "tickets.add_courierlossreport",
    ),
    Register("review", gettext_lazy("中差评"), "tickets.view_review", "tickets.add_review"),
    Register(
        "quality",
        gettext_lazy("质量问题"),
        "tickets.view_qualityproblem",
        "tickets.add_qualityproblem",
    ),
    Register("alert", gettext_lazy("生产问题预警"), "tickets.view_productionalert"),
    Register(
        "feedback",
        gettext_lazy("顾客反馈（款式/尺码/颜色）"),
        "tickets.view_productfeedback",
        "tickets.add_productfeedback",
    ),
    Register(
        "wrong",
        gettext_lazy("发错货/漏发/多发"),
        "tickets.view_wrongshipment",
        "tickets.add_wrongshipment",
    ),
    Register(
        "intervention",
        gettext_lazy("小二介入"),
        "tickets.view_platformintervention",
        "tickets.add_platformintervention",
    ),
    Register(
        "invoice",
        gettext_lazy("发票申请"),
        "tickets.view_invoicerequest",
        "tickets.add_invoicerequest",
    ),
    Register(
        "handover",
        gettext_lazy("夜班交接"),
        "tickets.view_handovernote",
        "tickets.add_handovernote",
    ),
    Register(
        "vip", gettext_lazy("特邀 VIP 回访"), "tickets.view_vipcustomer", "tickets.add_vipcustomer"
    ),
]


@require_GET
def index(request):
    """The registers the user's role may read, each with its list and (if allowed) new-row link."""
    user = request.user
    entries = [
        {
            "title": r.title,
            "list_url": reverse(f"registers:{r.key}_list"),
            "new_url": reverse(f"registers:{r.key}_new")
            if r.add_perm and user.has_perm(r.add_perm)
            else None,
        }
        for r in REGISTERS
        if user.has_perm(r.perm)
    ]
    if not entries:
        raise PermissionDenied
    return render(request, "registers/index.html", {"registers": entries})


# --- shared helpers -------------------------------------------------------------------
def _page(request, filterset, template, extra=None, decorate=None):
    """One page of a filtered list, without COUNT(*): one row more tells if there's more."""
    try:
        page = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        page = 1
    rows = []
    if filterset.is_valid():
        start = (page - 1) * PAGE_SIZE
        rows = list(filterset.qs[start : start + PAGE_SIZE + 1])
    if decorate is not None:
        for row in rows:
            decorate(row)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": filterset,
        "rows": rows[:PAGE_SIZE],
        "page": page,
        "has_next": len(rows) > PAGE_SIZE,
        "has_previous": page > 1,
        "query": query.urlencode(),
        "now": timezone.now(),
        **(extra or {}),
    }
    return render(request, template, context)


def _create(request, form, template, save, title):
    """GET shows the form; a valid POST calls ``save`` (a service) and goes to the new row."""
    if request.method == "POST" and form.is_valid():
        try:
            url = save(form.cleaned_data)
        except DeskError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已登记。"))
            return redirect(url)
    return render(request, template, {"form": form, "title": title})


# --- courier losses -------------------------------------------------------------------
def _losses(user):
    return sel.visible_losses(user).select_related("courier", "order", "shop", "ticket")


@require_GET
@permission_required("tickets.view_courierlossreport", raise_exception=True)
def loss_list(request):
    filterset = filters.CourierLossFilter(
        request.GET, queryset=_losses(request.user), request=request
    )
    return _page(request, filterset, "registers/loss_list.html")


@require_http_methods(["GET", "POST"])
@permission_required("tickets.add_courierlossreport", raise_exception=True)
def loss_new(request):
    form = forms.CourierLossForm(request.POST or None, user=request.user)

    def save(data):
        report = reg.courier_loss_create(
            actor=request.user,
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

    return _create(request, form, "registers/form.html", save, _("写丢件报告"))


@require_GET
@permission_required("tickets.view_courierlossreport", raise_exception=True)
def loss_detail(request, pk):
    report = get_object_or_404(_losses(request.user).select_related("created_by"), pk=pk)
    next_steps = [
        (status, CourierLossReport.Status(status).label)
        for status in reg.LOSS_FLOW[report.status]
        if reg.courier_loss_refusal(report, status, request.user) is None
    ]
    return render(
        request,
        "registers/loss_detail.html",
        {"report": report, "next_steps": next_steps, "form": forms.CourierLossTransitionForm()},
    )


@require_GET
@permission_required("tickets.view_courierlossreport", raise_exception=True)
def loss_print(request, pk):
    """The A4 report handed to the courier's pickup person."""
    report = get_object_or_404(_losses(request.user), pk=pk)
    return render(request, "registers/loss_print.html", {"report": report, "now": timezone.now()})


@post_action("tickets.change_courierlossreport", _losses, "registers:loss_detail")
def loss_transition(request, report):
    form = forms.CourierLossTransitionForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    report = reg.courier_loss_transition(
        actor=request.user,
        report=report,
        to_status=form.cleaned_data["to_status"],
        received_amount=form.cleaned_data["received_amount"] or None,
        note=form.cleaned_data["note"],
    )
    return _("状态已改为“%(status)s”。") % {"status": report.get_status_display()}


# --- quality problems, production alerts, product feedback ----------------------------
def _quality(user):
    return sel.visible_quality_problems(user).select_related(
        "shop", "sku__product", "order", "ticket"
    )


@require_GET
@permission_required("tickets.view_qualityproblem", raise_exception=True)
def quality_list(request):
    filterset = filters.QualityProblemFilter(
        request.GET, queryset=_quality(request.user), request=request
    )
    return _page(request, filterset, "registers/quality_list.html")


@require_http_methods(["GET", "POST"])
@permission_required("tickets.add_qualityproblem", raise_exception=True)
def quality_new(request):
    form = forms.QualityProblemForm(request.POST or None, user=request.user)

    def save(data):
        problem, alert = reg.quality_problem_register(
            actor=request.user,
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
                request,
                _("这个 SKU 批次近期已有 %(n)s 起投诉，已提醒主管反馈生产。")
                % {"n": alert.complaint_count},
            )
        return reverse("registers:quality_detail", args=[problem.pk])

    return _create(request, form, "registers/form.html", save, _("登记质量问题"))


@require_GET
@permission_required("tickets.view_qualityproblem", raise_exception=True)
def quality_detail(request, pk):
    problem = get_object_or_404(_quality(request.user).select_related("reported_by"), pk=pk)
    alert = (
        sel.visible_alerts(request.user)
        .filter(sku=problem.sku, batch=problem.batch)
        .order_by("sent_at")
        .first()
    )
    return render(request, "registers/quality_detail.html", {"problem": problem, "alert": alert})


def _alerts(user):
    return sel.visible_alerts(user).select_related("sku__product", "sent_by")


@require_GET
@permission_required("tickets.view_productionalert", raise_exception=True)
def alert_list(request):
    rows = list(_alerts(request.user).order_by("sent_at", "-created_at")[:200])
    return render(request, "registers/alert_list.html", {"rows": rows})


@require_GET
@permission_required("tickets.view_productionalert", raise_exception=True)
def alert_detail(request, pk):
    alert = get_object_or_404(_alerts(request.user), pk=pk)
    complaints = list(
        sel.alert_complaints(request.user, alert).select_related(
            "shop", "order", "ticket", "reported_by"
        )[:200]
    )
    return render(
        request, "registers/alert_detail.html", {"alert": alert, "complaints": complaints}
    )


@post_action("tickets.change_productionalert", _alerts, "registers:alert_detail")
def alert_sent(request, alert):
    reg.production_alert_mark_sent(actor=request.user, alert=alert)
    return _("已标记为已反馈生产。")


@require_GET
@permission_required("tickets.view_productfeedback", raise_exception=True)
def feedback_list(request):
    base = (
        sel.visible_feedback(request.user)
        .select_related("sku__product", "order", "recorded_by")
        .order_by("-created_at")
    )
    filterset = filters.ProductFeedbackFilter(request.GET, queryset=base, request=request)
    return _page(request, filterset, "registers/feedback_list.html")


@require_http_methods(["GET", "POST"])
@permission_required("tickets.add_productfeedback", raise_exception=True)
def feedback_new(request):
    form = forms.ProductFeedbackForm(request.POST or None, user=request.user)

    def save(data):
        reg.product_feedback_record(
            actor=request.user,
            sku=data["sku"],
            topic=data["topic"],
            text=data["text"],
            order=data["order"],
        )
        return reverse("registers:feedback_list") + "?" + urlencode({"q": data["sku"].code})

    return _create(request, form, "registers/form.html", save, _("记录顾客反馈"))


# --- wrong shipments ------------------------------------------------------------------
def _wrong(user):
    return sel.visible_wrong_shipments(user).select_related(
        "shop", "order", "ticket", "recorded_by"
    )


@require_GET
@permission_required("tickets.view_wrongshipment", raise_exception=True)
def wrong_list(request):
    filterset = filters.WrongShipmentFilter(
        request.GET, queryset=_wrong(request.user), request=request
    )
    return _page(request, filterset, "registers/wrong_list.html")


@require_http_methods(["GET", "POST"])
@permission_required("tickets.add_wrongshipment", raise_exception=True)
def wrong_new(request):
    form = forms.WrongShipmentForm(request.POST or None, user=request.user)

    def save(data):
        row = reg.wrong_shipment_register(
            actor=request.user,
            order=data["order"],
            ticket=data["ticket"],
            kind=data["kind"],
            ordered_description=data["ordered_description"],
            sent_description=data["sent_description"],
            packed_by=data["packed_by"],
            listing_to_check=data["listing_to_check"],
        )
        return reverse("registers:wrong_detail", args=[row.pk])

    return _create(request, form, "registers/form.html", save, _("登记发错货"))


@require_GET
@permission_required("tickets.view_wrongshipment", raise_exception=True)
def wrong_detail(request, pk):
    row = get_object_or_404(_wrong(request.user), pk=pk)
    return render(request, "registers/wrong_detail.html", {"row": row})


# --- platform interventions -----------------------------------------------------------
def _interventions(user):
    return sel.visible_interventions(user).select_related("shop", "order", "ticket", "recorded_by")


@require_GET
@permission_required("tickets.view_platformintervention", raise_exception=True)
def intervention_list(request):
    filterset = filters.InterventionFilter(
        request.GET, queryset=_interventions(request.user), request=request
    )
    return _page(request, filterset, "registers/intervention_list.html")


@require_http_methods(["GET", "POST"])
@permission_required("tickets.add_platformintervention", raise_exception=True)
def intervention_new(request):
    form = forms.InterventionForm(request.POST or None, user=request.user)

    def save(data):
        case = reg.intervention_register(
            actor=request.user,
            order=data["order"],
            ticket=data["ticket"],
            case_no=data["case_no"],
            reason=data["reason"],
            deadline=data["deadline"],
            evidence=data["evidence"],
        )
        return reverse("registers:intervention_detail", args=[case.pk])

    return _create(request, form, "registers/form.html", save, _("登记小二介入"))


@require_GET
@permission_required("tickets.view_platformintervention", raise_exception=True)
def intervention_detail(request, pk):
    case = get_object_or_404(_interventions(request.user), pk=pk)
    form = forms.InterventionUpdateForm(
        initial={"evidence": case.evidence, "outcome": case.outcome}
    )
    return render(
        request,
        "registers/intervention_detail.html",
        {"case": case, "form": form, "now": timezone.now()},
    )


@post_action("tickets.change_platformintervention", _interventions, "registers:intervention_detail")
def intervention_update(request, case):
    form = forms.InterventionUpdateForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    reg.intervention_update(actor=request.user, intervention=case, **form.cleaned_data)
    return _("已保存。")


# --- invoices -------------------------------------------------------------------------
def _invoices(user):
    return sel.visible_invoices(user).select_related("shop", "order", "recorded_by", "sheet")


@require_GET
@permission_required("tickets.view_invoicerequest", raise_exception=True)
def invoice_list(request):
    filterset = filters.InvoiceFilter(
        request.GET, queryset=_invoices(request.user), request=request
    )
    return _page(request, filterset, "registers/invoice_list.html")


@require_http_methods(["GET", "POST"])
@permission_required("tickets.add_invoicerequest", raise_exception=True)
def invoice_new(request):
    form = forms.InvoiceRequestForm(request.POST or None, user=request.user)

    def save(data):
        invoice = reg.invoice_request_register(
            actor=request.user,
            order=data["order"],
            title=data["title"],
            tax_no=data["tax_no"],
            amount=data["amount"],
        )
        return reverse("registers:invoice_detail", args=[invoice.pk])

    return _create(request, form, "registers/form.html", save, _("登记发票申请"))


@require_GET
@permission_required("tickets.view_invoicerequest", raise_exception=True)
def invoice_detail(request, pk):
    invoice = get_object_or_404(_invoices(request.user), pk=pk)
    context = {
        "invoice": invoice,
        "may_decline": reg.invoice_may_decline(invoice)
        and request.user.has_perm("tickets.change_invoicerequest"),
        "may_issue": request.user.has_perm("tickets.change_invoicerequest")
        and has_role(request.user, Role.FINANCE, Role.SUPERVISOR)
        and invoice.status != invoice.Status.DECLINED,
        "decline_form": forms.InvoiceDeclineForm(),
        "issue_form": forms.InvoiceIssueForm(initial={"invoice_no": invoice.invoice_no}),
    }
    return render(request, "registers/invoice_detail.html", context)


@post_action("tickets.change_invoicerequest", _invoices, "registers:invoice_detail")
def invoice_decline(request, invoice):
    form = forms.InvoiceDeclineForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    reg.invoice_decline(actor=request.user, invoice=invoice, reason=form.cleaned_data["reason"])
    return _("已拒绝，并记录了理由。")


@post_action("tickets.change_invoicerequest", _invoices, "registers:invoice_detail")
def invoice_issue(request, invoice):
    form = forms.InvoiceIssueForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    invoice = reg.invoice_record_issue(actor=request.user, invoice=invoice, **form.cleaned_data)
    return _("已保存：%(status)s。") % {"status": invoice.get_status_display()}


# --- reviews --------------------------------------------------------------------------
def _reviews(user):
    return sel.visible_reviews(user).select_related("shop", "order", "assignee")


@require_GET
@permission_required("tickets.view_review", raise_exception=True)
def review_list(request):
    filterset = filters.ReviewFilter(request.GET, queryset=_reviews(request.user), request=request)
    late_before = timezone.now() - timedelta(hours=1)
    return _page(request, filterset, "registers/review_list.html", {"late_before": late_before})


@require_http_methods(["GET", "POST"])
@permission_required("tickets.add_review", raise_exception=True)
def review_new(request):
    form = forms.ReviewForm(request.POST or None, user=request.user)

    def save(data):
        review = reg.review_register(
            actor=request.user,
            order=data["order"],
            rating=data["rating"],
            made_at=data["made_at"],
            text=data["text"],
            assign=data["assign"],
        )
        return reverse("registers:review_detail", args=[review.pk])

    return _create(request, form, "registers/form.html", save, _("登记中差评"))


@require_GET
@permission_required("tickets.view_review", raise_exception=True)
def review_detail(request, pk):
    review = get_object_or_404(_reviews(request.user).select_related("recorded_by"), pk=pk)
    now = timezone.now()
    room = reg.review_compensation_room(review)
    staff = (
        list(staff_for_shops([review.shop_id])) if has_role(request.user, Role.SUPERVISOR) else []
    )
    context = {
        "review": review,
        "contacts": list(review.contacts.select_related("agent")),
        "compensations": list(reg.review_compensations(review).select_related("recorded_by")),
        "refusal": reg.contact_refusal(review, now),
        "late": reg.review_is_late(review, now),
        "standard": reg.review_standard_compensation(review),
        "room": room,
        "limits": {
            "per_day": settings.DESK_REVIEW_MAX_CONTACTS_PER_DAY,
            "total": settings.DESK_REVIEW_MAX_CONTACTS_TOTAL,
        },
        "staff": staff,
        "contact_form": forms.ReviewContactForm(),
        "compensate_form": forms.ReviewCompensateForm(
            initial={
                "submission": submission_key_issue(request.user),
                "amount": room or None,
            }
        ),
        "close_form": forms.ReviewCloseForm(initial={"buyer_notes": review.buyer_notes}),
        "may_compensate": request.user.has_perm("tickets.add_ledgerentry"),
    }
    return render(request, "registers/review_detail.html", context)


@post_action("tickets.change_review", _reviews, "registers:review_detail")
def review_assign(request, review):
    choice = request.POST.get("assignee", "")
    if choice == "me":
        assignee = request.user
    elif choice == "":
        assignee = None
    else:
        assignee = User.objects.filter(pk=choice if choice.isdigit() else 0, is_active=True).first()
        if assignee is None:
            raise DeskError(_("没有这个员工。"))
    reg.review_assign(actor=request.user, review=review, assignee=assignee)
    return _("跟进人已更新。")


@post_action("tickets.add_reviewcontact", _reviews, "registers:review_detail")
def review_contact(request, review):
    form = forms.ReviewContactForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    reg.review_contact_log(actor=request.user, review=review, **form.cleaned_data)
    return _("已记录这次联系。")


@post_action("tickets.add_ledgerentry", _reviews, "registers:review_detail")
def review_compensate(request, review):
    form = forms.ReviewCompensateForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    data = form.cleaned_data
    entry = reg.review_compensate(
        actor=request.user,
        review=review,
        amount=data["amount"],
        payment_method=data["payment_method"],
        note=data["note"],
        idempotency_key=submission_key_read(request.user, data["submission"]),
    )
    return _("已登记赔偿 ¥%(amount)s。") % {"amount": entry.amount}


@post_action("tickets.change_review", _reviews, "registers:review_detail")
def review_close(request, review):
    form = forms.ReviewCloseForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    review = reg.review_close(actor=request.user, review=review, **form.cleaned_data)
    return _("结果已记录：%(outcome)s。") % {"outcome": review.get_outcome_display()}


# --- shift handover -------------------------------------------------------------------
def _handover(user):
    return sel.visible_handover(user).select_related(
        "shop", "ticket", "order", "created_by", "handled_by"
    )


@require_GET
@permission_required("tickets.view_handovernote", raise_exception=True)
def handover_list(request):
    data = request.GET.copy()
    if not data:
        data["open"] = "on"
    filterset = filters.HandoverFilter(
        data,
        queryset=_handover(request.user).order_by("handled_at", "shift_date", "id"),
        request=request,
    )
    now = timezone.now()

    def flag(item):
        item.flagged = reg.handover_is_flagged(item, now)

    return _page(request, filterset, "registers/handover_list.html", decorate=flag)


@require_http_methods(["GET", "POST"])
@permission_required("tickets.add_handovernote", raise_exception=True)
def handover_new(request):
    form = forms.HandoverForm(
        request.POST or None, user=request.user, initial={"shift_date": reg.handover_shift_date()}
    )

    def save(data):
        reg.handover_add(
            actor=request.user,
            shop=data["shop"],
            note=data["note"],
            ticket=data["ticket"],
            order=data["order"],
            shift_date=data["shift_date"],
        )
        return reverse("registers:handover_list")

    return _create(request, form, "registers/form.html", save, _("写交接事项"))


@post_action("tickets.change_handovernote", _handover, "registers:handover_list", with_pk=False)
def handover_handled(request, item):
    form = forms.HandledForm(request.POST)
    if not form.is_valid():
        raise form_error(form)
    reg.handover_mark_handled(actor=request.user, item=item, note=form.cleaned_data["note"])
    return _("已标记为已处理。")


# --- VIPs -----------------------------------------------------------------------------
def _vips(user):
    return sel.visible_vips(user).select_related("shop")


@require_GET
@permission_required("tickets.view_vipcustomer", raise_exception=True)
def vip_list(request):
    month = reg.first_of_month()
    vips = list(_vips(request.user).order_by("shop__code", "buyer_nick")[:500])
    follow_ups = {
        f.vip_id: f
        for f in sel.visible_follow_ups(request.user).filter(
            month=month, vip__in=[v.pk for v in vips]
        )
    }
    for vip in vips:
        vip.this_month = follow_ups.get(vip.pk)
    return render(request, "registers/vip_list.html", {"vips": vips, "month": month})


@require_http_methods(["GET", "POST"])
@permission_required("tickets.add_vipcustomer", raise_exception=True)
def vip_new(request):
    form = forms.VipForm(request.POST or None, user=request.user)

    def save(data):
        vip = reg.vip_add(
            actor=request.user,
            shop=data["shop"],
            buyer_nick=data["buyer_nick"],
            notes=data["notes"],
        )
        return reverse("registers:vip_detail", args=[vip.pk])

    return _create(request, form, "registers/form.html", save, _("添加 VIP 顾客"))


@require_GET
@permission_required("tickets.view_vipcustomer", raise_exception=True)
def vip_detail(request, pk):
    vip = get_object_or_404(_vips(request.user), pk=pk)
    follow_ups = list(vip.follow_ups.select_related("done_by").order_by("-month")[:24])
    return render(request, "registers/vip_detail.html", {"vip": vip, "follow_ups": follow_ups})


@require_POST
@permission_required("tickets.add_vipfollowup", raise_exception=True)
def vip_plan(request):
    created = reg.vip_follow_ups_plan(actor=request.user, vips=sel.visible_vips(request.user))
    messages.success(request, _("已生成本月回访任务 %(n)s 条。") % {"n": created})
    return redirect("registers:vip_list")


def _follow_ups(user):
    return sel.visible_follow_ups(user).select_related("vip")


@require_POST
@permission_required("tickets.change_vipfollowup", raise_exception=True)
def follow_up_record(request, pk):
    follow_up = get_object_or_404(_follow_ups(request.user), pk=pk)
    form = forms.FollowUpForm(request.POST)
    try:
        if not form.is_valid():
            raise form_error(form)
        reg.vip_follow_up_record(actor=request.user, follow_up=follow_up, **form.cleaned_data)
    except DeskError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("回访记录已保存。"))
    return redirect("registers:vip_detail", pk=follow_up.vip_id)
