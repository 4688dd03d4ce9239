"""Changes an agent makes to an order in the desk: the seller flag (旗帜 and its memo, 商家备忘)
and a receipt extension (延长收货). Each change is kept as an ``OrderChange`` row (before →
after, who, when); the order carries the current values.

The desk has no connection to the seller centre: the agent changes the flag or extends the
receipt there, and records it here so that everybody at the desk sees it and the auto-confirm
warning counts the extension.

The order import and the desk (decided for issue 11): the 商家备忘 column of the seller
centre's export is the flag memo, and the seller centre is where the flag really lives (the
warehouse and customer service write it there), so a re-import brings the platform's memo
over the desk's. It is never silent: the import's preview warns for each order whose memo an
agent set in the desk and the file would replace, and the desk's version stays on the order's
history (``OrderChange``). The export has no flag colour column, so the colour set in the desk
stays until the next desk change.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.models import Order, OrderChange, Ticket, TicketEvent, User
from tickets.selectors import can_work_on
from tickets.selectors_orders import receipt_extension_refusal
from tickets.text import meaningful_text

from . import DeskError, require_perm
from .timeline import timeline_write

# A memo is a short note between the warehouse, after-sales and customer service (seeds/004
# "旗帜的使用"); the desk's limit, in characters.
FLAG_MEMO_MAX = 500
EXTENSION_NOTE_MAX = 255


def _check_can_change(actor: User, order: Order) -> None:
    """Agents and supervisors of the order's shop change it; finance only reads."""
    require_perm(actor, "tickets.change_order")
    if not can_work_on(actor, order.shop_id):
        raise DeskError(_("你不负责这个店铺的订单，不能修改。"))


def _lock(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


def _clean_memo(memo: str | None) -> str:
    """The memo as stored: line ends as ``\\n``, no trailing spaces, "" when nothing in it can
    be read (spaces, zero-width characters)."""
    text = (memo or "").replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return meaningful_text(text)


@transaction.atomic
def order_set_flag(
    *,
    actor: User,
    order: Order,
    flag: str,
    memo: str,
    expected: tuple[str, str] | None = None,
) -> OrderChange | None:
    """Sets ``order``'s seller flag (one of ``Order.Flag``, "" for none) and memo (商家备忘, at
    most ``FLAG_MEMO_MAX`` characters) and records the change (before → after, who, when).

    ``expected``: the (flag, memo) the agent saw when they started editing. When somebody (or
    an import) changed them since, the change is refused so that nobody overwrites a memo they
    never read. Returns None, recording nothing, when the flag and memo are already these (a
    second submission of the same form). Raises ``PermissionDenied`` without the role's
    permission, ``DeskError`` (message for the user) for another shop's order, an unknown
    flag, a memo that is too long or a stale edit."""
    _check_can_change(actor, order)
    if flag not in Order.Flag.values:
        raise DeskError(_("没有这种旗帜。"))
    memo = _clean_memo(memo)
    if len(memo) > FLAG_MEMO_MAX:
        raise DeskError(
            _("备忘最多 %(max)s 个字（现在 %(n)s 个字）。") % {"max": FLAG_MEMO_MAX, "n": len(memo)}
        )
    order = _lock(order)
    if (order.flag, order.flag_memo) == (flag, memo):
        return None
    if expected is not None and (order.flag, _clean_memo(order.flag_memo)) != (
        expected[0],
        _clean_memo(expected[1]),
    ):
        raise DeskError(
            _("这个订单的旗帜刚刚被改过，现在是“%(flag)s”%(memo)s。请看过以后再修改。")
            % {
                "flag": order.get_flag_display(),
                "memo": f"：{order.flag_memo}" if order.flag_memo else "",
            }
        )
    change = OrderChange.objects.create(
        order=order,
        kind=OrderChange.Kind.FLAG,
        previous_flag=order.flag,
        previous_flag_memo=order.flag_memo,
        flag=flag,
        flag_memo=memo,
        actor=actor,
        created_at=timezone.now(),
    )
    order.flag, order.flag_memo = flag, memo
    order.save(update_fields=["flag", "flag_memo", "updated_at"])
    return change


@transaction.atomic
def order_extend_receipt(
    *,
    actor: User,
    order: Order,
    days: int,
    note: str = "",
    expected_days: int | None = None,
) -> OrderChange:
    """Records that the receipt time of ``order`` was extended by ``days`` (延长收货), with the
    new auto-confirm deadline (aware time) on the change and ``receipt_extended_days`` on the
    order, so the auto-confirm warning counts it. Rules: ``receipt_extension_refusal``.

    ``expected_days``: the extension the agent saw on the page (``receipt_extended_days``).
    When it has changed since, somebody extended already (or this is the same form posted
    twice) and nothing is recorded. Raises ``PermissionDenied`` without the role's
    permission, ``DeskError`` (message for the user) when a rule refuses."""
    _check_can_change(actor, order)
    note = meaningful_text(note)
    if len(note) > EXTENSION_NOTE_MAX:
        raise DeskError(_("备注最多 %(max)s 个字。") % {"max": EXTENSION_NOTE_MAX})
    order = _lock(order)
    if expected_days is not None and order.receipt_extended_days != expected_days:
        last = order.changes.filter(kind=OrderChange.Kind.RECEIPT_EXTENSION).last()
        raise DeskError(
            _("这个订单刚刚已经延长过收货时间（%(who)s，%(days)s 天），没有重复延长。")
            % {"who": last.actor if last else "-", "days": last.extended_days if last else "-"}
        )
    now = timezone.now()
    # None asks the rule whether any extension is possible: here it is a length, refused.
    refusal = receipt_extension_refusal(order, 0 if days is None else days, now)
    if refusal:
        raise DeskError(refusal)
    order.receipt_extended_days += days
    change = OrderChange.objects.create(
        order=order,
        kind=OrderChange.Kind.RECEIPT_EXTENSION,
        extended_days=days,
        auto_confirm_at=order.auto_confirm_at,
        note=note,
        actor=actor,
        created_at=now,
    )
    order.save(update_fields=["receipt_extended_days", "updated_at"])
    # The open logistics tickets are why the receipt was extended (their auto-confirm warning):
    # each one's timeline says so, with the new deadline.
    line = (
        "receipt_extended",
        {"days": days, "at": change.auto_confirm_at.isoformat(), "note": note or ""},
    )
    for ticket in order.tickets.open().filter(reason=Ticket.Reason.LOGISTICS).order_by("id"):
        timeline_write(ticket=ticket, actor=actor, kind=TicketEvent.Kind.NOTE, line=line)
    return change
