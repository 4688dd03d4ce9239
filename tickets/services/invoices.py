"""Invoice requests (DOMAIN.md "The daily routine" 6 and "Platform rules": Invoices): a
C-store may decline, a Tmall store must issue; requests go to finance as one sheet
(``finance_exports``), and the issued invoice's number and posting tracking number come back
here."""

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from tickets.models import InvoiceRequest, Order, User
from tickets.money import cents, parse_money
from tickets.roles import Role, has_role
from tickets.text import meaningful_text, normalise_tracking_no, tracking_no_length_refusal

from . import DeskError, require_perm

INV = InvoiceRequest.Status


@transaction.atomic
def invoice_request_register(
    *, actor: User, order: Order, title: str, amount, tax_no: str = ""
) -> InvoiceRequest:
    """Registers a buyer's request for an invoice of ``amount`` yuan (str or Decimal). All the
    order's requests not declined together never exceed what the buyer paid, so a second
    request (or a double click) can't invoice the order twice. Raises ``DeskError``
    (``MoneyError``), ``PermissionDenied``."""
    require_perm(actor, "tickets.add_invoicerequest")
    title = meaningful_text(title)
    if not title:
        raise DeskError(_("请填写发票抬头。"))
    value = parse_money(amount)
    # One request at a time per order, so two at once can't both fit under the cap.
    order = Order.objects.select_for_update().get(pk=order.pk)
    requested = cents(
        order.invoice_requests.exclude(status=INV.DECLINED).aggregate(total=Sum("amount"))["total"]
    )
    if value + requested > order.paid_amount:
        raise DeskError(
            _("开票金额合计不能超过买家实付 ¥%(paid)s：这个订单已申请开票 ¥%(done)s。")
            % {"paid": order.paid_amount, "done": requested}
        )
    return InvoiceRequest.objects.create(
        shop_id=order.shop_id,
        order=order,
        title=title,
        tax_no="".join(tax_no.split()).upper(),
        amount=value,
        recorded_by=actor,
    )


@transaction.atomic
def invoice_decline(*, actor: User, invoice: InvoiceRequest, reason: str) -> InvoiceRequest:
    """A C-store declines a waiting request, with the reason. Raises ``DeskError`` for a
    Tmall store (it must issue), a request no longer waiting or no reason;
    ``PermissionDenied``."""
    require_perm(actor, "tickets.change_invoicerequest")
    invoice = InvoiceRequest.objects.select_for_update().select_related("shop").get(pk=invoice.pk)
    if invoice.shop.is_tmall:
        raise DeskError(_("天猫店必须开具发票，不能拒绝。"))
    if invoice.status != INV.REQUESTED:
        raise DeskError(_("只有待处理的申请可以拒绝。"))
    if not reason.strip():
        raise DeskError(_("拒绝时请写明理由。"))
    invoice.status = INV.DECLINED
    invoice.decline_reason = reason.strip()[:200]
    invoice.save(update_fields=["status", "decline_reason", "updated_at"])
    return invoice


@transaction.atomic
def invoice_record_issue(
    *, actor: User, invoice: InvoiceRequest, invoice_no: str, posting_tracking_no: str = ""
) -> InvoiceRequest:
    """Finance records the invoice number (issued) and, then or later, the posting's tracking
    number (posted); an empty ``invoice_no`` keeps the one recorded. What is recorded is not
    rewritten: another invoice number, or another tracking number on a posted invoice, is
    refused, and a posted invoice never goes back to issued. Raises ``DeskError`` for anyone
    but finance or a supervisor, a declined request, no number or a tracking number longer
    than its column; ``PermissionDenied``."""
    require_perm(actor, "tickets.change_invoicerequest")
    if not has_role(actor, Role.FINANCE, Role.SUPERVISOR):
        raise DeskError(_("只有财务可以登记发票号码。"))
    invoice = InvoiceRequest.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == INV.DECLINED:
        raise DeskError(_("已拒绝的申请不能开票。"))
    given = "".join(meaningful_text(invoice_no).split())
    if given and invoice.invoice_no and given != invoice.invoice_no:
        raise DeskError(
            _("这张发票已登记号码 %(no)s，不能改成别的号码。") % {"no": invoice.invoice_no}
        )
    invoice_no = given or invoice.invoice_no
    if not invoice_no:
        raise DeskError(_("请填写发票号码。"))
    tracking = normalise_tracking_no(posting_tracking_no)
    refusal = tracking_no_length_refusal(tracking)
    if refusal:
        raise DeskError(refusal)
    if invoice.status == INV.POSTED:
        if tracking and tracking != invoice.posting_tracking_no:
            raise DeskError(
                _("这张发票已按运单号 %(no)s 寄出，不能再改。")
                % {"no": invoice.posting_tracking_no}
            )
        return invoice
    invoice.invoice_no = invoice_no
    invoice.status = INV.ISSUED
    if tracking:
        invoice.posting_tracking_no = tracking
        invoice.status = INV.POSTED
    invoice.save(update_fields=["invoice_no", "posting_tracking_no", "status", "updated_at"])
    return invoice
