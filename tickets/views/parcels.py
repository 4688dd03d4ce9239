"""The unpacking screen, built for a scanner: scan, check, save, scan the next one."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tickets.forms import LedgerForm, MatchForm, UnpackForm
from tickets.models import LedgerEntry, Ticket
from tickets.postage import postage_quote
from tickets.selectors import find_ticket_for_parcel, visible_orders, visible_parcels
from tickets.selectors_exchanges import exchange_items, goods_lines
from tickets.services import DeskError
from tickets.services.ledger import submission_key_issue
from tickets.services.parcels import Unpacked, parcel_link_ticket, parcel_match, parcel_unpack
from tickets.text import normalise_tracking_no, plain_int
from tickets.views.actions import ledger_record_from_form

RECENT = 15
POSTAGE = "postage"  # the prefix of the postage fields on the unpacking form


def _postage_form(request, ticket=None) -> LedgerForm | None:
    """The ticket page's money form, for postage only, on the unpacking screen: bound when
    the agent typed an amount, else a fresh one with a new one-time key and the amount EMPTY,
    so saving the parcel with what the screen shows records no money (填了金额才登记). None
    for a user who may not record money. ``_postage_hints`` adds what the screen suggests."""
    if not request.user.has_perm("tickets.add_ledgerentry"):
        return None
    if request.method == "POST" and request.POST.get(f"{POSTAGE}-amount", "").strip():
        form = LedgerForm(request.POST, prefix=POSTAGE)
    else:
        initial = {
            "kind": LedgerEntry.Kind.POSTAGE,
            "payment_method": LedgerEntry.PaymentMethod.ALIPAY_TRANSFER,
            "submission": submission_key_issue(request.user),
        }
        form = LedgerForm(initial=initial, prefix=POSTAGE)
        form.fields["amount"].required = False
        form.fields["amount"].widget.attrs.pop("required", None)
    return _postage_hints(form, ticket)


def _postage_hints(form: LedgerForm | None, ticket) -> LedgerForm | None:
    """Sets on ``form`` what the screen says beside the amount, never the amount itself:
    ``buyer_pays`` when the ticket's responsibility is the buyer's (运费由买家承担: nothing is
    suggested), else ``suggestion``, the rate card's price for the ticket's order (None when
    it must be confirmed by hand), shown as the placeholder and on a button that fills it in."""
    if form is None:
        return None
    form.buyer_pays = ticket is not None and ticket.postage_payer == "buyer"
    form.suggestion = None
    form.suggestion_rule = ""
    if ticket is not None and not form.buyer_pays:
        quote = postage_quote(ticket.order)
        if not quote.confirm_by_hand:
            form.suggestion = f"{quote.amount:.2f}"
            form.suggestion_rule = quote.rule
            form.fields["amount"].widget.attrs["placeholder"] = _("建议 ¥%(amount)s") % {
                "amount": form.suggestion
            }
    return form


def _unpacked_message(result: Unpacked) -> tuple[str, str]:
    """(level, text) saying what the scan did, naming the status the ticket really has now."""
    parcel = result.parcel
    if not result.created:
        return "warning", _("包裹 %(no)s 已于 %(at)s 登记过，没有重复登记。") % {
            "no": parcel.tracking_no,
            "at": timezone.localtime(parcel.created_at).strftime("%m-%d %H:%M"),
        }
    if result.ticket is not None and result.moved:
        return "success", _(
            "已登记包裹 %(no)s，售后单 %(ticket)s 从“%(before)s”变为“%(status)s”。"
        ) % {
            "no": parcel.tracking_no,
            "ticket": result.ticket.number,
            "before": Ticket.Status(result.status_before).label,
            "status": result.ticket.get_status_display(),
        }
    if result.ticket is not None:
        return "success", _(
            "已登记包裹 %(no)s，记入售后单 %(ticket)s 的动态；售后单仍是“%(status)s”。"
        ) % {
            "no": parcel.tracking_no,
            "ticket": result.ticket.number,
            "status": result.ticket.get_status_display(),
        }
    if parcel.order_id:
        return "warning", _(
            "已登记包裹 %(no)s（订单 %(order)s，没有未完结的售后单）：包裹显示在订单页，"
            "可以在那里为它新建售后单。"
        ) % {"no": parcel.tracking_no, "order": parcel.order.order_no}
    return "warning", _("包裹 %(no)s 匹配不到售后单，已登记为待匹配包裹。") % {
        "no": parcel.tracking_no
    }


@require_http_methods(["GET", "POST"])
@permission_required("tickets.add_returnparcel", raise_exception=True)
def parcel_unpack_view(request):
    form = UnpackForm(request.POST or None)
    lookup = None
    postage_form = None
    if request.method == "GET" and request.GET.get("tracking_no"):
        # The scanner typed a number and pressed Enter: show what it matches before saving.
        tracking_no = normalise_tracking_no(request.GET["tracking_no"])
        form = UnpackForm(initial={"tracking_no": tracking_no})
        form.fields["contents"].widget.attrs["autofocus"] = True
        lookup = _lookup(request, tracking_no)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        postage_form = _postage_form(request)
        if postage_form is not None and postage_form.is_bound:
            if not postage_form.is_valid():
                form.add_error(
                    None,
                    _("邮费：")
                    + "；".join(str(e) for errors in postage_form.errors.values() for e in errors),
                )
            elif postage_form.cleaned_data["kind"] != LedgerEntry.Kind.POSTAGE:
                form.add_error(None, _("拆件登记只能登记邮费；退款和赔偿请在售后单上登记。"))
        order = None
        if data["order_no"]:
            order = visible_orders(request.user).filter(order_no=data["order_no"].strip()).first()
            if order is None:
                form.add_error("order_no", _("没有找到这个订单（或不属于你负责的店铺）。"))
        if not form.errors:
            try:
                result = parcel_unpack(
                    actor=request.user,
                    tracking_no=data["tracking_no"],
                    condition=data["condition"],
                    contents=data["contents"],
                    buyer_note=data["buyer_note"],
                    order=order,
                )
            except DeskError as exc:
                form.add_error(None, exc.message)
            else:
                level, text = _unpacked_message(result)
                getattr(messages, level)(request, text)
                if postage_form is not None and postage_form.is_bound:
                    _record_postage(request, result, postage_form)
                return redirect("tickets:parcel_unpack")
    elif request.method == "POST":
        postage_form = _postage_form(request)
    recent = (
        visible_parcels(request.user)
        .filter(received_by=request.user)
        .select_related("ticket", "order")
        .order_by("-created_at")[:RECENT]
    )
    if request.method == "POST" and normalise_tracking_no(form.data.get("tracking_no", "")):
        # Refused: the page shows again what the parcel matches, as it did before saving.
        lookup = _lookup(request, normalise_tracking_no(form.data["tracking_no"]))
    if lookup is None or lookup["ticket"] is None:
        # Postage is recorded on a ticket, where it is shown; a parcel that matched none has
        # nowhere to show it (the order page has no money), so the screen offers none.
        postage_form = None
    elif postage_form is None or not postage_form.is_bound:
        postage_form = _postage_form(request, lookup["ticket"])
    else:
        postage_form = _postage_hints(postage_form, lookup["ticket"])
    return render(
        request,
        "tickets/parcel_unpack.html",
        {"form": form, "lookup": lookup, "recent": recent, "postage_form": postage_form},
    )


def _lookup(request, tracking_no: str) -> dict:
    """What a scanned tracking number matches, shown before saving: the user's ticket waiting
    for it, a parcel already registered under it, and for an exchange the goods that came
    back and what goes out for them."""
    lookup = {
        "tracking_no": tracking_no,
        "ticket": find_ticket_for_parcel(request.user, tracking_no),
        "existing": visible_parcels(request.user).filter(tracking_no=tracking_no).first(),
    }
    if lookup["ticket"] is not None and lookup["ticket"].kind == Ticket.Kind.EXCHANGE:
        # Unpacking an exchange: check the parcel holds what the ticket says came back,
        # and see what the warehouse will send for it.
        lookup["goods"] = goods_lines(exchange_items(lookup["ticket"]))
    return lookup


def _record_postage(request, result: Unpacked, postage_form: LedgerForm) -> None:
    """The postage typed with the parcel, recorded on its ticket as the ticket page records
    it: same form, same rules, same one-time key. A parcel scanned again, or one that matched
    no ticket, records none and says so: the parcel stays registered (the agent scans on),
    and postage is recorded on the ticket once there is one. The screen offers no postage
    field for such a parcel; this refuses a hand-made or stale POST."""
    parcel = result.parcel
    if not result.created:
        messages.warning(request, _("这个包裹之前登记过，邮费没有再登记；需要时请在售后单上登记。"))
        return
    if parcel.order_id is None:
        messages.warning(
            request, _("包裹没有匹配到订单，邮费没有登记：匹配到订单后在售后单上登记。")
        )
        return
    if result.ticket is None:
        messages.warning(
            request,
            _(
                "包裹没有匹配到售后单，邮费没有登记：邮费只登记在售后单上。"
                "请在订单页为这个包裹新建售后单，再在售后单上登记邮费。"
            ),
        )
        return
    try:
        text = ledger_record_from_form(
            request, postage_form, order=parcel.order, ticket=result.ticket
        )
    except DeskError as exc:
        messages.error(request, _("邮费没有登记：%(why)s") % {"why": exc.message})
    else:
        messages.success(request, text)


@require_http_methods(["GET"])
@permission_required("tickets.view_returnparcel", raise_exception=True)
def parcel_list(request):
    unknown = (
        visible_parcels(request.user)
        .filter(order__isnull=True)
        .select_related("received_by", "courier")
    )
    return render(
        request,
        "tickets/parcel_list.html",
        {"unknown": unknown.order_by("-created_at")[:200], "match_form": MatchForm()},
    )


@require_POST
@permission_required("tickets.change_returnparcel", raise_exception=True)
def parcel_match_view(request, pk):
    parcel = get_object_or_404(visible_parcels(request.user), pk=pk)
    form = MatchForm(request.POST)
    if form.is_valid():
        try:
            parcel = parcel_match(
                actor=request.user, parcel=parcel, order_no=form.cleaned_data["order_no"]
            )
        except DeskError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("包裹 %(no)s 已匹配到订单 %(order)s。")
                % {"no": parcel.tracking_no, "order": parcel.order.order_no},
            )
    else:
        messages.error(request, _("请填写订单编号。"))
    return redirect("tickets:parcel_list")


def parcel_for_new_ticket(request, order):
    """The returned parcel a new ticket is opened for (``?parcel=<id>`` from the order page's
    parcel list), among the user's parcels of ``order``; None without the parameter. Another
    order's or shop's parcel is a 404."""
    pk = plain_int(request.GET.get("parcel"))
    if pk is None:
        return None
    return get_object_or_404(visible_parcels(request.user).filter(order=order), pk=pk)


def link_parcel_to_new_ticket(request, parcel, ticket) -> None:
    """Links ``parcel`` to the ticket just opened for it (``parcel_link_ticket``), which moves
    the ticket on as the parcel's arrival means; says so, or why not."""
    try:
        parcel = parcel_link_ticket(actor=request.user, parcel=parcel, ticket=ticket)
    except DeskError as exc:
        messages.warning(request, exc.message)
        return
    ticket.refresh_from_db()
    messages.info(
        request,
        _("退回包裹 %(no)s 已关联到这张售后单，售后单现在是“%(status)s”。")
        % {"no": parcel.tracking_no, "status": ticket.get_status_display()},
    )
