"""Special VIP customers and their monthly follow-up calls (特邀VIP回访, DOMAIN.md "The daily
routine" 10): supervisors keep the list per shop; each month every active VIP gets one
follow-up, which an agent records."""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.models import Shop, User, VipCustomer, VipFollowUp
from tickets.selectors_registers import first_of_month

from . import DeskError, require_perm


@transaction.atomic
def vip_add(*, actor: User, shop: Shop, buyer_nick: str, notes: str = "") -> VipCustomer:
    """Adds a buyer (by member name) to the shop's VIPs, once. Raises ``DeskError``,
    ``PermissionDenied`` for anyone but a supervisor."""
    require_perm(actor, "tickets.add_vipcustomer")
    buyer_nick = buyer_nick.strip()
    if not buyer_nick:
        raise DeskError(_("请填写买家会员名。"))
    if VipCustomer.objects.filter(shop=shop, buyer_nick=buyer_nick).exists():
        raise DeskError(_("%(nick)s 已经是这个店铺的 VIP。") % {"nick": buyer_nick})
    return VipCustomer.objects.create(shop=shop, buyer_nick=buyer_nick, notes=notes.strip())


@transaction.atomic
def vip_follow_ups_plan(*, actor: User | None = None, month: date | None = None, vips=None) -> int:
    """Creates the follow-up of ``month`` (any day in it; this month by default) for every
    active VIP among ``vips`` (a ``QuerySet[VipCustomer]``, all by default) that has none yet;
    returns how many were created. Safe to run again: one follow-up per VIP and month. The
    monthly task runs it without an actor. Raises ``PermissionDenied``."""
    if actor is not None:
        require_perm(actor, "tickets.add_vipfollowup")
    month = first_of_month(month)
    vips = (vips if vips is not None else VipCustomer.objects.all()).filter(is_active=True)
    missing = vips.exclude(follow_ups__month=month).values_list("pk", flat=True)
    rows = [VipFollowUp(vip_id=pk, month=month) for pk in missing]
    VipFollowUp.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


@transaction.atomic
def vip_follow_up_record(
    *, actor: User, follow_up: VipFollowUp, done: bool, notes: str
) -> VipFollowUp:
    """Records the call (done needs notes) or takes "done" back. Raises ``DeskError``,
    ``PermissionDenied``."""
    require_perm(actor, "tickets.change_vipfollowup")
    follow_up = VipFollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if done and not notes.strip():
        raise DeskError(_("请写下回访记录。"))
    follow_up.done = done
    follow_up.notes = notes.strip()
    follow_up.done_by = actor if done else None
    follow_up.done_at = timezone.now() if done else None
    follow_up.save(update_fields=["done", "notes", "done_by", "done_at", "updated_at"])
    return follow_up
