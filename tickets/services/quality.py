"""Quality problems (质量问题登记), production alerts (生产问题反馈) and buyers' product
feedback (DOMAIN.md "The daily routine" 3): each complaint is registered with its SKU and
batch; when one SKU+batch draws DESK_QUALITY_ALERT_COUNT complaints within
DESK_QUALITY_ALERT_DAYS, a production alert waits for a supervisor to tell production."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tickets.models import (
    Notification,
    Order,
    ProductFeedback,
    ProductionAlert,
    QualityProblem,
    Shop,
    Sku,
    Ticket,
    User,
)

from . import DeskError, require_perm
from .notifications import (
    ChatCard,
    chat_language,
    notifications_handled,
    notify,
    supervisors_of,
)
from .register_links import of_shop_check, ticket_of_order_check


@transaction.atomic
def quality_problem_register(
    *,
    actor: User,
    shop: Shop,
    sku: Sku,
    problem_type: str,
    batch: str = "",
    description: str = "",
    order: Order | None = None,
    ticket: Ticket | None = None,
) -> tuple[QualityProblem, ProductionAlert | None]:
    """Registers one complaint (the batch defaults to the SKU's) and raises or updates the
    production alert for the SKU and batch. Complaints already reported to production (before
    the last alert was sent) don't count again.

    Returns the problem and the open alert of its SKU+batch, if any. Raises ``DeskError``
    when the order or ticket is of another shop or the ticket of another order,
    ``PermissionDenied``."""
    require_perm(actor, "tickets.add_qualityproblem")
    of_shop_check(shop, order, ticket)
    ticket_of_order_check(ticket, order)
    batch = (batch or sku.batch or "").strip()
    problem = QualityProblem.objects.create(
        shop=shop,
        order=order,
        ticket=ticket,
        sku=sku,
        batch=batch,
        problem_type=problem_type,
        description=description.strip(),
        reported_by=actor,
    )
    alert = _production_alert_check(sku=sku, batch=batch, now=problem.created_at)
    if alert is not None and alert.created_at >= problem.created_at:
        production_alert_notify(alert, shop)
    return problem, alert


def production_alert_notify(alert: ProductionAlert, shop: Shop) -> None:
    """Tells every supervisor (production alerts are not limited to a shop) that ``alert``
    was just raised by a complaint in ``shop``; the chat goes to the robots of that shop
    (issue 13). Called when a complaint raises the alert, and by the demo for the alerts its
    complaints raised (``tickets.demo_desk``). The row and the chat card carry the SKU's
    code, the number of complaints and the shop, never the batch: it is typed by whoever
    registers a complaint and may quote a buyer (DOMAIN.md "Information leak")."""
    count = alert.complaint_count
    with chat_language():
        headline = ngettext("%(sku)s：%(n)s 起投诉", "%(sku)s：%(n)s 起投诉", count) % {
            "sku": alert.sku.code,
            "n": count,
        }
    notify(
        recipients=supervisors_of(None),
        kind=Notification.Kind.PRODUCTION_ALERT,
        params={"sku": alert.sku.code, "n": count},
        url=reverse("registers:alert_detail", args=[alert.pk]),
        shop=shop,
        card=ChatCard(kind=Notification.Kind.PRODUCTION_ALERT, headline=headline, shop=shop.name),
    )


def _production_alert_check(*, sku: Sku, batch: str, now: datetime) -> ProductionAlert | None:
    # One SKU at a time: lock its row, so two complaints never raise two alerts.
    Sku.objects.select_for_update().filter(pk=sku.pk).first()
    since = now - timedelta(days=settings.DESK_QUALITY_ALERT_DAYS)
    last_sent = ProductionAlert.objects.filter(
        sku=sku, batch=batch, sent_at__isnull=False
    ).aggregate(at=Max("sent_at"))["at"]
    if last_sent and last_sent > since:
        since = last_sent
    recent = QualityProblem.objects.filter(
        sku=sku, batch=batch, created_at__gt=since, created_at__lte=now
    ).count()
    alert = ProductionAlert.objects.filter(sku=sku, batch=batch, sent_at__isnull=True).first()
    if alert is not None:
        if recent > alert.complaint_count:
            alert.complaint_count = recent
            alert.save(update_fields=["complaint_count", "updated_at"])
        return alert
    if recent >= settings.DESK_QUALITY_ALERT_COUNT:
        return ProductionAlert.objects.create(sku=sku, batch=batch, complaint_count=recent)
    return None


@transaction.atomic
def production_alert_mark_sent(*, actor: User, alert: ProductionAlert) -> ProductionAlert:
    """A supervisor has told production; the alert leaves the dashboard, its notifications
    leave every supervisor's bell (the work they asked for is done), and the SKU+batch starts
    counting again. Raises ``DeskError`` when it was already sent, ``PermissionDenied`` for
    anyone but a supervisor."""
    require_perm(actor, "tickets.change_productionalert")
    alert = ProductionAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.sent_at is not None:
        raise DeskError(_("这条预警已经反馈给生产了。"))
    alert.sent_at = timezone.now()
    alert.sent_by = actor
    alert.save(update_fields=["sent_at", "sent_by", "updated_at"])
    notifications_handled(
        kind=Notification.Kind.PRODUCTION_ALERT,
        url=reverse("registers:alert_detail", args=[alert.pk]),
    )
    return alert


@transaction.atomic
def product_feedback_record(
    *, actor: User, sku: Sku, topic: str, text: str, order: Order | None = None
) -> ProductFeedback:
    """Keeps a buyer's words on a SKU's style, size or colour for the buyers' team. Raises
    ``DeskError`` for empty text, ``PermissionDenied``."""
    require_perm(actor, "tickets.add_productfeedback")
    if not text.strip():
        raise DeskError(_("请填写顾客的反馈。"))
    return ProductFeedback.objects.create(
        sku=sku, order=order, topic=topic, text=text.strip(), recorded_by=actor
    )
