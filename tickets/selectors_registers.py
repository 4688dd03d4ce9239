"""Reads for the registers (issue 5). Every register's list, detail, count, dashboard entry
and sheet starts from one of these querysets, built on ``tickets.selectors.scope_to_user``,
so another shop's row is never seen and its id is a 404."""

from datetime import timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from .models import (
    CourierLossReport,
    HandoverNote,
    InvoiceRequest,
    PlatformIntervention,
    ProductFeedback,
    ProductionAlert,
    QualityProblem,
    Review,
    VipCustomer,
    VipFollowUp,
    WrongShipment,
)
from .roles import user_roles
from .selectors import scope_to_user, visible_orders


def visible_losses(user) -> QuerySet[CourierLossReport]:
    return scope_to_user(CourierLossReport.objects.all(), user)


def visible_quality_problems(user) -> QuerySet[QualityProblem]:
    return scope_to_user(QualityProblem.objects.all(), user)


def visible_alerts(user) -> QuerySet[ProductionAlert]:
    """An alert belongs to no shop: a user sees it when a complaint behind it (same SKU and
    batch) was registered in one of their shops."""
    complaints = visible_quality_problems(user).filter(
        sku_id=OuterRef("sku_id"), batch=OuterRef("batch")
    )
    return ProductionAlert.objects.filter(Exists(complaints))


def alert_complaints(user, alert: ProductionAlert) -> QuerySet[QualityProblem]:
    """The complaints (and through them the affected orders) behind an alert."""
    return visible_quality_problems(user).filter(sku_id=alert.sku_id, batch=alert.batch)


def visible_feedback(user) -> QuerySet[ProductFeedback]:
    """Feedback is kept per SKU (SKUs belong to no shop); when it names an order, that order
    must be visible."""
    if not user_roles(user):
        return ProductFeedback.objects.none()
    feedback = ProductFeedback.objects.all()
    if user.is_superuser or user.all_shops:
        return feedback
    return feedback.filter(Q(order__isnull=True) | Q(order__in=visible_orders(user).values("pk")))


def visible_wrong_shipments(user) -> QuerySet[WrongShipment]:
    return scope_to_user(WrongShipment.objects.all(), user)


def visible_interventions(user) -> QuerySet[PlatformIntervention]:
    return scope_to_user(PlatformIntervention.objects.all(), user)


def visible_invoices(user) -> QuerySet[InvoiceRequest]:
    return scope_to_user(InvoiceRequest.objects.all(), user)


def visible_reviews(user) -> QuerySet[Review]:
    return scope_to_user(Review.objects.all(), user)


def visible_handover(user) -> QuerySet[HandoverNote]:
    return scope_to_user(HandoverNote.objects.all(), user)


def visible_vips(user) -> QuerySet[VipCustomer]:
    return scope_to_user(VipCustomer.objects.all(), user)


def visible_follow_ups(user) -> QuerySet[VipFollowUp]:
    return scope_to_user(VipFollowUp.objects.all(), user, shop_field="vip__shop")


def dashboard_registers(user, now=None) -> dict:
    """What the registers put on the dashboard: open production alerts (supervisors), platform
    interventions due within two days, handover items (flagged after 12:00), late reviews."""
    from .services.registers import handover_flagged_filter, handover_is_flagged

    now = now or timezone.now()
    result = {"now": now}
    if user.has_perm("tickets.change_productionalert"):
        result["alerts"] = list(
            visible_alerts(user).filter(sent_at__isnull=True).select_related("sku")[:10]
        )
    if user.has_perm("tickets.view_platformintervention"):
        result["interventions"] = list(
            visible_interventions(user)
            .filter(closed_at__isnull=True, deadline__isnull=False)
            .filter(deadline__lte=now + timedelta(days=2))
            .select_related("order", "shop")
            .order_by("deadline")[:10]
        )
    if user.has_perm("tickets.view_handovernote"):
        handover = visible_handover(user).filter(handled_at__isnull=True)
        items = list(handover.select_related("ticket", "shop").order_by("shift_date", "id")[:10])
        for item in items:
            item.flagged = handover_is_flagged(item, now)
        result["handover"] = items
        result["handover_flagged"] = handover.filter(handover_flagged_filter(now)).count()
    if user.has_perm("tickets.view_review"):
        result["late_reviews"] = (
            visible_reviews(user)
            .filter(assignee__isnull=True, made_at__lt=now - timedelta(hours=1))
            .filter(outcome=Review.Outcome.PENDING)
            .count()
        )
    return result
