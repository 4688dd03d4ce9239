"""Platform interventions (淘宝小二介入, DOMAIN.md "The daily routine" 6): a case the platform
opened on an order, its evidence deadline, our evidence, and the platform's decision."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.models import Notification, Order, PlatformIntervention, Ticket, User

from . import DeskError, require_perm
from .notifications import intervention_url, notifications_handled
from .register_links import ticket_of_order_check

Outcome = PlatformIntervention.Outcome


@transaction.atomic
def intervention_register(
    *,
    actor: User,
    order: Order,
    case_no: str,
    reason: str,
    deadline: datetime | None = None,
    evidence: str = "",
    ticket: Ticket | None = None,
) -> PlatformIntervention:
    """Registers a case on ``order`` (in its shop); ``case_no`` is stored without spaces and
    is registered once per shop (another shop's case of that number is not looked at, issue
    16 review 6); ``deadline`` is when our evidence is due (aware). Raises
    ``DeskError``, ``PermissionDenied``."""
    require_perm(actor, "tickets.add_platformintervention")
    ticket_of_order_check(ticket, order)
    case_no = "".join(case_no.split())
    if not case_no or not reason.strip():
        raise DeskError(_("请填写介入编号和介入原因。"))
    if PlatformIntervention.objects.filter(shop_id=order.shop_id, case_no=case_no).exists():
        raise DeskError(_("介入编号 %(no)s 已经登记过了。") % {"no": case_no})
    return PlatformIntervention.objects.create(
        shop_id=order.shop_id,
        order=order,
        ticket=ticket,
        case_no=case_no,
        reason=reason.strip(),
        deadline=deadline,
        evidence=evidence.strip(),
        recorded_by=actor,
    )


@transaction.atomic
def intervention_update(
    *, actor: User, intervention: PlatformIntervention, evidence: str, outcome: str
) -> PlatformIntervention:
    """Replaces our evidence and records the platform's decision; any outcome but pending
    closes the case, and a closed case is not changed again; closing it takes its evidence
    deadline's warnings out of every bell (issue 13 review: nothing is due any more). Raises
    ``DeskError``, ``PermissionDenied``."""
    require_perm(actor, "tickets.change_platformintervention")
    case = PlatformIntervention.objects.select_for_update().get(pk=intervention.pk)
    if case.closed_at is not None:
        raise DeskError(_("这个介入已经结案。"))
    if outcome not in Outcome.values:
        raise DeskError(_("未知的介入结果。"))
    case.evidence = evidence.strip()
    case.outcome = outcome
    fields = ["evidence", "outcome", "updated_at"]
    if outcome != Outcome.PENDING:
        case.closed_at = timezone.now()
        fields.append("closed_at")
    case.save(update_fields=fields)
    if case.closed_at is not None:
        notifications_handled(
            kind=Notification.Kind.INTERVENTION_DEADLINE, url=intervention_url(case)
        )
    return case
