"""Special VIP customers and their monthly follow-up calls (特邀VIP回访, DOMAIN.md "The daily
routine" 10): supervisors keep the list per shop; each month every active VIP gets one
follow-up, assigned to an agent of the VIP's shop, who makes the call and records it. Celery
beat plans the month on the 1st (``tickets.tasks.plan_vip_follow_ups``, at
``DESK_VIP_FOLLOW_UPS_AT``, Beijing time); when beat was down then, the minutely catch-up check
plans it as soon as beat or a worker is back (``vip_follow_ups_pending``)."""

from datetime import date, datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.models import Notification, Shop, User, VipCustomer, VipFollowUp
from tickets.selectors_registers import (
    first_of_month,
    vip_follow_up_agents,
    vip_follow_ups_due_month,
    vips_to_follow_up,
)

from . import DeskError, require_perm
from .notifications import notify


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
    VIP among ``vips`` (a ``QuerySet[VipCustomer]``, all by default) that is owed one
    (``vips_to_follow_up``: active, and added before the month's last day - DOMAIN.md "The
    daily routine" 10, "once a month, call back a list of special customers"; a VIP added on
    the last day waits for the next month's) and has none yet, each assigned to an agent
    (``vip_follow_up_agents``); returns how many were created.

    Each agent given a call is reminded in the bell (issue 13 section 4, "with a reminder to
    the assigned agent"): one notification per agent and month (``dedupe_key``
    ``vip-follow-ups:YYYY-MM``), so a second run, or a VIP added mid-month and planned by the
    catch-up, tells nobody twice; the dashboard lists the calls themselves.

    Safe to run again, and at the same time as another run (beat and a supervisor's button,
    two beats): the VIPs' rows are locked before the missing follow-ups are read, so runs
    queue behind each other, and the unique key (VIP, month) holds it in the database
    whatever happens. Celery beat runs it on the 1st without an actor
    (``tickets.tasks.plan_vip_follow_ups``). Raises ``PermissionDenied``."""
    if actor is not None:
        require_perm(actor, "tickets.add_vipfollowup")
    month = first_of_month(month)
    vips = vips_to_follow_up(month, vips)
    # A second run waits here until the first commits, then reads what the first created.
    list(VipCustomer.objects.filter(pk__in=vips.values("pk")).select_for_update().order_by("pk"))
    missing = list(
        vips.exclude(follow_ups__month=month).only("pk", "shop_id").order_by("shop_id", "pk")
    )
    assignees = vip_follow_up_agents(missing, month)
    rows = [VipFollowUp(vip_id=v.pk, month=month, assignee=assignees.get(v.pk)) for v in missing]
    VipFollowUp.objects.bulk_create(rows, ignore_conflicts=True)
    _remind_assignees([agent for agent in assignees.values() if agent is not None], month)
    return len(rows)


def _remind_assignees(agents: list[User], month: date) -> None:
    """One bell notification to each of ``agents`` for ``month``'s calls, once per month."""
    notify(
        recipients=agents,
        kind=Notification.Kind.VIP_FOLLOW_UPS,
        params={"month": f"{month:%Y-%m}"},
        url=reverse("tickets:dashboard") + "#my-vip-follow-ups",
        dedupe_key=f"vip-follow-ups:{month:%Y-%m}",
    )


def vip_follow_ups_catch_up(*, now: datetime | None = None) -> int:
    """Plans the follow-ups of the month that is due at ``now`` when any are missing: what
    beat runs on the 1st at ``DESK_VIP_FOLLOW_UPS_AT``, and what the minutely catch-up check
    runs when beat was down then (``vip_follow_ups_pending``). Returns how many were created
    (0 before the month's time, or when every active VIP has its follow-up)."""
    month = vip_follow_ups_due_month(now or timezone.now())
    if month is None:
        return 0
    return vip_follow_ups_plan(month=month)


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
