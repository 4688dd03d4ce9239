"""Neutral and negative reviews (中差评, DOMAIN.md "The daily routine" 9): registered, handed
round-robin to an agent on shift, the buyer contacted within the harassment guard
(DOMAIN.md "Platform rules"), compensated within the standard through the ledger, and closed
with an outcome and notes on the buyer. The rules that only read (who is on shift, may the
buyer be contacted, how much is left of the standard) are in ``tickets.selectors_registers``.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.models import LedgerEntry, Order, Review, ReviewContact, User
from tickets.money import ZERO, parse_money
from tickets.roles import Role, has_role
from tickets.selectors import work_refusal
from tickets.selectors_registers import (
    contact_refusal,
    next_agent_on_shift,
    review_compensation_given,
    review_compensation_note,
    review_standard_compensation,
)

from . import DeskError, require_perm
from .ledger import ledger_record

Outcome = Review.Outcome


@transaction.atomic
def review_register(
    *,
    actor: User,
    order: Order,
    rating: str,
    made_at: datetime,
    text: str = "",
    assign: bool = True,
) -> Review:
    """Registers a neutral or negative review of ``order`` made at ``made_at`` (aware, not in
    the future) and, unless ``assign`` is False, hands it to the next agent on shift
    (round-robin; unassigned when nobody is on shift). An order has one review: registering
    a second one (the same review again, or its revision) is refused.
    Raises ``DeskError``, ``PermissionDenied``."""
    require_perm(actor, "tickets.add_review")
    if rating not in Review.Rating.values:
        raise DeskError(_("未知的评价类型。"))
    if made_at > timezone.now() + timedelta(minutes=5):
        raise DeskError(_("评价时间不能晚于现在。"))
    # One review per order (the platform's rule: a revision is the same review). The order
    # row is locked so two agents registering it at once make one review.
    Order.objects.select_for_update().filter(pk=order.pk).first()
    existing = Review.objects.filter(order=order).first()
    if existing is not None:
        raise DeskError(
            _("订单 %(no)s 的评价已经登记过了（%(rating)s，%(outcome)s），请在那条评价上继续跟进。")
            % {
                "no": order.order_no,
                "rating": existing.get_rating_display(),
                "outcome": existing.get_outcome_display(),
            }
        )
    review = Review.objects.create(
        shop_id=order.shop_id,
        order=order,
        rating=rating,
        made_at=made_at,
        text=text.strip(),
        recorded_by=actor,
    )
    if assign:
        agent = next_agent_on_shift(order.shop_id)
        if agent is not None:
            review.assignee = agent
            review.assigned_at = timezone.now()
            review.save(update_fields=["assignee", "assigned_at", "updated_at"])
    return review


@transaction.atomic
def review_assign(*, actor: User, review: Review, assignee: User | None) -> Review:
    """Assigns by hand, or unassigns with None: a supervisor to anyone working the shop, an
    agent only to themselves. Raises ``DeskError``, ``PermissionDenied``."""
    require_perm(actor, "tickets.change_review")
    review = Review.objects.select_for_update().get(pk=review.pk)
    if assignee is not None:
        refusal = work_refusal(assignee, review.shop_id)
        if refusal:
            raise DeskError(refusal)
        if assignee != actor and not has_role(actor, Role.SUPERVISOR):
            raise DeskError(_("只有主管可以把评价分配给别人。"))
    review.assignee = assignee
    review.assigned_at = timezone.now() if assignee else None
    review.save(update_fields=["assignee", "assigned_at", "updated_at"])
    return review


def _lock_buyers_reviews(review: Review) -> Review:
    """Locks every review of the buyer of ``review`` (in id order, so two agents never wait
    for each other) and returns ``review`` re-read under the lock: one buyer's contacts are
    counted and logged one at a time, whichever review they are about."""
    nick = Order.objects.values_list("buyer_nick", flat=True).get(pk=review.order_id)
    locked = (
        Review.objects.select_for_update(of=("self",))
        .filter(order__buyer_nick=nick)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    list(locked)
    return Review.objects.select_related("order").get(pk=review.pk)


@transaction.atomic
def review_contact_log(
    *,
    actor: User,
    review: Review,
    channel: str,
    result: str = "",
    contacted_at: datetime | None = None,
) -> ReviewContact:
    """Logs one contact with the buyer of a review still pending (``contacted_at``: aware,
    now by default, not in the future). The first contact is remembered on the review, and an
    unassigned review goes to whoever called. Raises ``DeskError`` when the harassment guard
    (``contact_refusal``: per buyer, DOMAIN.md "Platform rules") refuses; ``PermissionDenied``.
    """
    require_perm(actor, "tickets.add_reviewcontact")
    review = _lock_buyers_reviews(review)
    if review.outcome != Outcome.PENDING:
        raise DeskError(_("这条评价已经有结果了，不需要再联系买家。"))
    if channel not in ReviewContact.Channel.values:
        raise DeskError(_("未知的联系渠道。"))
    now = timezone.now()
    contacted_at = contacted_at or now
    if contacted_at > now + timedelta(minutes=5):
        raise DeskError(_("联系时间不能晚于现在。"))
    refusal = contact_refusal(review, now)
    if refusal:
        raise DeskError(refusal)
    contact = ReviewContact.objects.create(
        review=review,
        agent=actor,
        channel=channel,
        contacted_at=contacted_at,
        result=result.strip()[:200],
    )
    fields = ["updated_at"]
    if review.first_contact_at is None or contacted_at < review.first_contact_at:
        review.first_contact_at = contacted_at
        fields.append("first_contact_at")
    if review.assignee_id is None:
        review.assignee = actor
        review.assigned_at = now
        fields += ["assignee", "assigned_at"]
    review.save(update_fields=fields)
    return contact


@transaction.atomic
def review_compensate(
    *,
    actor: User,
    review: Review,
    amount,
    payment_method: str,
    note: str = "",
    idempotency_key: str | None = None,
) -> LedgerEntry:
    """Money for the buyer of a review (cash, red packet or coupon value), recorded as a
    compensation ledger entry on the order. ``amount`` is yuan (str or Decimal).

    The standard (``review_standard_compensation``) is a total per review, not per entry;
    a review with an outcome takes no more money. The review row is locked while deciding,
    so two submissions can't both fit into the same room. The same ``idempotency_key`` again
    returns the entry it made. Raises ``DeskError`` (``MoneyError`` for what is not an
    amount), ``PermissionDenied`` without the permission."""
    require_perm(actor, "tickets.change_review")
    value = parse_money(amount)
    review = (
        Review.objects.select_for_update(of=("self",)).select_related("order").get(pk=review.pk)
    )
    if idempotency_key:
        done = LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
        if done is not None:
            return done
    if review.outcome != Outcome.PENDING:
        raise DeskError(_("这条评价已经有结果了，不能再登记补偿。"))
    standard = review_standard_compensation(review)
    given = review_compensation_given(review)
    room = max(standard - given, ZERO)
    if value > room:
        raise DeskError(
            _("%(rating)s的补偿标准合计最多 ¥%(max)s，已登记 ¥%(done)s，最多还能补偿 ¥%(room)s。")
            % {
                "rating": review.get_rating_display(),
                "max": standard,
                "done": given,
                "room": room,
            }
        )
    full_note = review_compensation_note(review)
    if note.strip():
        full_note = f"{full_note} {note.strip()}"
    return ledger_record(
        actor=actor,
        order=review.order,
        kind=LedgerEntry.Kind.COMPENSATION,
        amount=value,
        payment_method=payment_method,
        note=full_note,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def review_close(*, actor: User, review: Review, outcome: str, buyer_notes: str = "") -> Review:
    """Records the outcome (revised / explained / refused / no answer), once, and notes on
    the buyer's temperament for next time. "No answer" needs a contact first. Raises
    ``DeskError``, ``PermissionDenied``."""
    require_perm(actor, "tickets.change_review")
    review = Review.objects.select_for_update().get(pk=review.pk)
    if outcome not in Outcome.values or outcome == Outcome.PENDING:
        raise DeskError(_("请选择结果。"))
    if review.outcome != Outcome.PENDING:
        raise DeskError(_("这条评价已经有结果了。"))
    if outcome == Outcome.NO_ANSWER and not review.contacts.exists():
        raise DeskError(_("还没有联系过买家，不能登记为联系不上。"))
    review.outcome = outcome
    fields = ["outcome", "updated_at"]
    if outcome == Outcome.REVISED:
        review.revised_at = timezone.now()
        fields.append("revised_at")
    if buyer_notes.strip():
        review.buyer_notes = buyer_notes.strip()
        fields.append("buyer_notes")
    review.save(update_fields=fields)
    return review
