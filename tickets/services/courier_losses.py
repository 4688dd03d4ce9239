"""Courier-loss reports (快递丢件, DOMAIN.md "The daily routine" 7): one report per lost or
damaged parcel, handed to the courier's pickup person, settled with each courier company
monthly with finance. The steps are ``tickets.workflow.LOSS_FLOW``; the month's figures are
``tickets.selectors_registers.courier_loss_settlement``."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.models import Courier, CourierLossReport, Order, Ticket, User
from tickets.money import parse_money
from tickets.selectors_registers import courier_loss_refusal
from tickets.text import normalise_tracking_no, tracking_no_length_refusal

from . import DeskError, require_perm
from .register_links import ticket_of_order_check

L = CourierLossReport.Status


@transaction.atomic
def courier_loss_create(
    *,
    actor: User,
    order: Order,
    courier: Courier,
    tracking_no: str,
    damage: str,
    items_description: str,
    items_value,
    shop_action: str,
    claimed_amount,
    ticket: Ticket | None = None,
    note: str = "",
) -> CourierLossReport:
    """Writes the loss report for one parcel (status drafted), in the order's shop.

    ``items_value`` and ``claimed_amount`` are yuan (str or Decimal, read by
    ``tickets.money.parse_money``); the claim is never more than the goods were worth. One
    report per courier and tracking number (the tracking number normalised, at most
    ``TRACKING_NO_LENGTH`` characters). Raises
    ``DeskError`` (``MoneyError`` for an amount that is not money), ``PermissionDenied``."""
    require_perm(actor, "tickets.add_courierlossreport")
    ticket_of_order_check(ticket, order)
    tracking_no = normalise_tracking_no(tracking_no)
    if not tracking_no:
        raise DeskError(_("请填写运单号。"))
    refusal = tracking_no_length_refusal(tracking_no)
    if refusal:
        raise DeskError(refusal)
    if not items_description.strip():
        raise DeskError(_("请写明丢失或破损的物品。"))
    value = parse_money(items_value)
    claimed = parse_money(claimed_amount)
    if claimed > value:
        raise DeskError(_("索赔金额不能超过物品价值。"))
    if CourierLossReport.objects.filter(courier=courier, tracking_no=tracking_no).exists():
        raise DeskError(_("这个运单已经有丢件报告了。"))
    try:
        with transaction.atomic():
            return CourierLossReport.objects.create(
                shop_id=order.shop_id,
                courier=courier,
                tracking_no=tracking_no,
                order=order,
                ticket=ticket,
                damage=damage,
                items_description=items_description.strip(),
                items_value=value,
                shop_action=shop_action,
                claimed_amount=claimed,
                note=note.strip(),
                created_by=actor,
            )
    except IntegrityError as exc:
        raise DeskError(_("这个运单已经有丢件报告了。")) from exc


@transaction.atomic
def courier_loss_transition(
    *,
    actor: User,
    report: CourierLossReport,
    to_status: str,
    received_amount=None,
    note: str = "",
) -> CourierLossReport:
    """Moves a report one step along ``LOSS_FLOW``, stamping when it was handed, decided or
    settled; ``note`` is appended with the time and the actor.

    Settling (finance or a supervisor only) records ``received_amount``, the yuan the courier
    paid: more than zero and never more than was claimed (a courier that pays nothing has
    rejected the claim). The row is locked and the step re-checked under the lock. Raises
    ``DeskError`` (``MoneyError``), ``PermissionDenied``."""
    require_perm(actor, "tickets.change_courierlossreport")
    report = CourierLossReport.objects.select_for_update().get(pk=report.pk)
    refusal = courier_loss_refusal(report, to_status, actor)
    if refusal:
        raise DeskError(refusal)
    now = timezone.now()
    fields = ["status", "updated_at"]
    if to_status == L.HANDED:
        report.handed_at = now
        fields.append("handed_at")
    elif to_status in (L.ACCEPTED, L.REJECTED):
        report.decided_at = now
        fields.append("decided_at")
    elif to_status == L.SETTLED:
        if received_amount in (None, ""):
            raise DeskError(_("请填写实收赔款。"))
        received = parse_money(received_amount)
        if received > report.claimed_amount:
            raise DeskError(_("实收赔款不能超过索赔金额。"))
        report.received_amount = received
        report.settled_at = now
        fields += ["received_amount", "settled_at"]
    if note.strip():
        stamp = timezone.localtime(now).strftime("%Y-%m-%d %H:%M")
        line = f"[{stamp} {actor}] {note.strip()}"
        report.note = f"{report.note}\n{line}".strip()
        fields.append("note")
    report.status = to_status
    report.save(update_fields=fields)
    return report
