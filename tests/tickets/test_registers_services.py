"""The registers' rules (issue 5): courier-loss flow and monthly totals, production alert
threshold, invoice rule (C-store may decline, Tmall must issue), review round-robin,
harassment guard, review compensation through the ledger, handover flagging, VIP months."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.factories import make_order, make_shop, make_ticket, make_user
from tests.tickets.registers_helpers import make_sku, open_ticket
from tickets.models import (
    Courier,
    CourierLossReport,
    HandoverNote,
    InvoiceRequest,
    LedgerEntry,
    ProductionAlert,
    QualityProblem,
    Review,
    ReviewContact,
    VipCustomer,
    VipFollowUp,
)
from tickets.roles import Role
from tickets.selectors_registers import (
    contact_refusal,
    courier_loss_settlement,
    handover_flagged_filter,
    handover_is_flagged,
    handover_shift_date,
    invoice_may_decline,
    review_compensation_room,
    review_compensations,
    review_is_late,
)
from tickets.services import DeskError
from tickets.services.courier_losses import courier_loss_create, courier_loss_transition
from tickets.services.handover import handover_add, handover_mark_handled
from tickets.services.invoices import (
    invoice_decline,
    invoice_record_issue,
    invoice_request_register,
)
from tickets.services.ledger import submission_key_issue, submission_key_read
from tickets.services.quality import production_alert_mark_sent, quality_problem_register
from tickets.services.reviews import (
    review_assign,
    review_close,
    review_compensate,
    review_contact_log,
    review_register,
)
from tickets.services.vips import vip_add, vip_follow_up_record, vip_follow_ups_plan

pytestmark = pytest.mark.django_db
TZ = timezone.get_current_timezone()


def local(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


# --- courier losses -------------------------------------------------------------------
def _loss(agent, order, tracking="YT100", claimed="80", courier_code="yto", **extra):
    return courier_loss_create(
        actor=agent,
        order=order,
        courier=Courier.objects.get(code=courier_code),
        tracking_no=tracking,
        damage="lost",
        items_description="连衣裙 M 1 件",
        items_value=extra.pop("items_value", "99.00"),
        shop_action="reship",
        claimed_amount=claimed,
        **extra,
    )


def test_loss_moves_drafted_handed_accepted_settled(agent, finance, order_a):
    report = _loss(agent, order_a)
    assert report.status == "drafted" and report.shop_id == order_a.shop_id
    report = courier_loss_transition(actor=agent, report=report, to_status="handed")
    assert report.handed_at is not None
    report = courier_loss_transition(actor=agent, report=report, to_status="accepted")
    assert report.decided_at is not None
    report = courier_loss_transition(
        actor=finance, report=report, to_status="settled", received_amount="60.50"
    )
    report.refresh_from_db()
    assert report.status == "settled"
    assert report.received_amount == Decimal("60.50")
    assert report.settled_at is not None


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ([], "accepted"),  # drafted cannot skip "handed to courier"
        ([], "settled"),
        (["handed", "rejected"], "settled"),  # a rejected claim is never settled
        (["handed", "accepted"], "handed"),  # no way back
    ],
)
def test_loss_refuses_steps_outside_the_flow(agent, finance, order_a, path, refused):
    report = _loss(agent, order_a)
    for step in path:
        report = courier_loss_transition(actor=agent, report=report, to_status=step)
    with pytest.raises(DeskError):
        courier_loss_transition(
            actor=finance, report=report, to_status=refused, received_amount="1"
        )
    report.refresh_from_db()
    assert report.status == (path[-1] if path else "drafted")


def test_only_finance_or_supervisor_settles_and_never_above_the_claim(agent, finance, order_a):
    report = _loss(agent, order_a, claimed="50")
    for step in ("handed", "accepted"):
        report = courier_loss_transition(actor=agent, report=report, to_status=step)
    with pytest.raises(DeskError):
        courier_loss_transition(
            actor=agent, report=report, to_status="settled", received_amount="50"
        )
    with pytest.raises(DeskError):
        courier_loss_transition(
            actor=finance, report=report, to_status="settled", received_amount="50.01"
        )
    with pytest.raises(DeskError):
        courier_loss_transition(actor=finance, report=report, to_status="settled")
    report.refresh_from_db()
    assert report.status == "accepted"


def test_one_report_per_parcel_and_claim_within_value(agent, order_a):
    _loss(agent, order_a, tracking="yt 100")
    with pytest.raises(DeskError):
        _loss(agent, order_a, tracking="YT100")
    with pytest.raises(DeskError):
        _loss(agent, order_a, tracking="YT101", claimed="120", items_value="99")
    assert CourierLossReport.objects.count() == 1


def test_finance_cannot_write_a_report(finance, order_a):
    with pytest.raises(PermissionDenied):
        _loss(finance, order_a)


def test_monthly_settlement_totals_per_courier(agent, supervisor, order_a, shop_a):
    # given reports in November (two YTO, one ZTO) and one in December
    order2 = make_order(shop_a)
    nov = [
        _loss(agent, order_a, tracking="Y1", claimed="80"),
        _loss(agent, order2, tracking="Y2", claimed="40"),
        _loss(agent, order_a, tracking="Z1", claimed="30", courier_code="zto"),
    ]
    dec = _loss(agent, order_a, tracking="Y3", claimed="99")
    CourierLossReport.objects.filter(pk__in=[r.pk for r in nov]).update(
        created_at=local(2026, 11, 15, 10)
    )
    CourierLossReport.objects.filter(pk=dec.pk).update(created_at=local(2026, 12, 1, 0, 0))
    y1, y2, _z1 = nov
    for report, steps, received in ((y1, "accepted", "70"), (y2, "rejected", None)):
        courier_loss_transition(actor=agent, report=report, to_status="handed")
        courier_loss_transition(actor=agent, report=report, to_status=steps)
        if received:
            courier_loss_transition(
                actor=supervisor, report=report, to_status="settled", received_amount=received
            )
    # when the November settlement is computed
    rows = courier_loss_settlement(CourierLossReport.objects.all(), date(2026, 11, 1))
    # then per courier: claimed, received, outstanding (hand-computed)
    by_code = {row.courier.code: row for row in rows}
    assert set(by_code) == {"yto", "zto"}
    assert by_code["yto"].claimed == Decimal("120.00")
    assert by_code["yto"].received == Decimal("70.00")
    assert by_code["yto"].outstanding == Decimal("50.00")
    assert [r.tracking_no for r in by_code["yto"].reports] == ["Y1", "Y2"]
    assert (by_code["zto"].claimed, by_code["zto"].received) == (Decimal("30"), Decimal("0"))


def test_database_refuses_a_settled_report_without_amount(agent, order_a):
    report = _loss(agent, order_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        CourierLossReport.objects.filter(pk=report.pk).update(status="settled")


# --- production alert -----------------------------------------------------------------
def _complain(agent, shop, sku, batch="B1"):
    return quality_problem_register(
        actor=agent, shop=shop, sku=sku, batch=batch, problem_type="stitching"
    )


def test_third_complaint_within_seven_days_raises_one_alert(agent, shop_a, settings):
    settings.DESK_QUALITY_ALERT_COUNT = 3
    settings.DESK_QUALITY_ALERT_DAYS = 7
    sku = make_sku()
    assert _complain(agent, shop_a, sku)[1] is None
    assert _complain(agent, shop_a, sku, batch="B2")[1] is None  # another batch counts apart
    assert _complain(agent, shop_a, sku)[1] is None
    _problem, alert = _complain(agent, shop_a, sku)
    assert alert is not None and alert.complaint_count == 3 and alert.batch == "B1"
    # a fourth complaint updates the same open alert
    _again_problem, again = _complain(agent, shop_a, sku)
    assert again.pk == alert.pk
    assert ProductionAlert.objects.get().complaint_count == 4


def test_complaints_older_than_the_window_do_not_count(agent, shop_a, settings):
    settings.DESK_QUALITY_ALERT_COUNT = 3
    settings.DESK_QUALITY_ALERT_DAYS = 7
    sku = make_sku()
    old, _ = _complain(agent, shop_a, sku)
    type(old).objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    _complain(agent, shop_a, sku)
    assert _complain(agent, shop_a, sku)[1] is None
    assert not ProductionAlert.objects.exists()


def test_sent_alert_leaves_and_counting_starts_again(agent, supervisor, shop_a, settings):
    settings.DESK_QUALITY_ALERT_COUNT = 2
    sku = make_sku()
    _complain(agent, shop_a, sku)
    _p, alert = _complain(agent, shop_a, sku)
    with pytest.raises(PermissionDenied):
        production_alert_mark_sent(actor=agent, alert=alert)
    production_alert_mark_sent(actor=supervisor, alert=alert)
    with pytest.raises(DeskError):
        production_alert_mark_sent(actor=supervisor, alert=alert)
    # the complaints already reported don't raise a new alert; two new ones do
    assert _complain(agent, shop_a, sku)[1] is None
    assert _complain(agent, shop_a, sku)[1].complaint_count == 2
    assert ProductionAlert.objects.count() == 2


def test_complaint_refuses_an_order_or_ticket_of_another_shop(supervisor, shop_a, order_b):
    # given a supervisor of every shop, and a ticket of shop B
    ticket_b = open_ticket(supervisor, order_b)
    # when a complaint of shop A names shop B's order or ticket, then it is refused
    for extra in ({"order": order_b}, {"ticket": ticket_b}):
        with pytest.raises(DeskError, match="店铺"):
            quality_problem_register(
                actor=supervisor, shop=shop_a, sku=make_sku(), problem_type="smell", **extra
            )
    assert not QualityProblem.objects.exists()


# --- invoices -------------------------------------------------------------------------
def test_c_store_may_decline_with_a_reason(agent, order_a):
    invoice = invoice_request_register(actor=agent, order=order_a, title="某某公司", amount="99")
    assert invoice_may_decline(invoice)
    with pytest.raises(DeskError):
        invoice_decline(actor=agent, invoice=invoice, reason="  ")
    invoice = invoice_decline(actor=agent, invoice=invoice, reason="集市店不提供发票")
    assert invoice.status == "declined"


def test_tmall_store_must_issue(shop_b, order_b, finance):
    agent_b = make_user("agent-b", Role.AGENT, shops=[shop_b])
    invoice = invoice_request_register(actor=agent_b, order=order_b, title="某某公司", amount="99")
    assert not invoice_may_decline(invoice)
    with pytest.raises(DeskError, match="天猫"):
        invoice_decline(actor=agent_b, invoice=invoice, reason="不想开")
    assert InvoiceRequest.objects.get().status == "requested"
    # only finance records the number; a tracking number marks it posted
    with pytest.raises(DeskError):
        invoice_record_issue(actor=agent_b, invoice=invoice, invoice_no="0001")
    invoice = invoice_record_issue(actor=finance, invoice=invoice, invoice_no="0001")
    assert invoice.status == "issued"
    invoice = invoice_record_issue(
        actor=finance, invoice=invoice, invoice_no="", posting_tracking_no="sf 123"
    )
    assert (invoice.status, invoice.invoice_no, invoice.posting_tracking_no) == (
        "posted",
        "0001",
        "SF123",
    )


def test_invoice_amount_within_what_was_paid(agent, order_a):
    with pytest.raises(DeskError):
        invoice_request_register(actor=agent, order=order_a, title="x", amount="99.01")


# --- reviews --------------------------------------------------------------------------
def _on_shift(user):
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    return user


def _review(actor, order, minutes_ago=10, **extra):
    return review_register(
        actor=actor,
        order=order,
        rating=extra.pop("rating", "negative"),
        made_at=timezone.now() - timedelta(minutes=minutes_ago),
        text="发货太慢",
        **extra,
    )


def test_reviews_go_round_robin_over_agents_on_shift(shop_a, supervisor):
    a1 = _on_shift(make_user("rr-1", Role.AGENT, shops=[shop_a]))
    a2 = _on_shift(make_user("rr-2", Role.AGENT, shops=[shop_a]))
    make_user("rr-off", Role.AGENT, shops=[shop_a])  # never logged in today: off shift
    make_user("rr-other", Role.AGENT, shops=[make_shop()]).save()  # another shop
    assignees = [_review(supervisor, make_order(shop_a), minutes_ago=n).assignee for n in range(5)]
    assert assignees == [a1, a2, a1, a2, a1]


def test_no_agent_on_shift_leaves_the_review_unassigned_and_late(supervisor, order_a):
    review = _review(supervisor, order_a, minutes_ago=61)
    assert review.assignee is None
    assert review_is_late(review)
    assert not review_is_late(_review(supervisor, make_order(order_a.shop), minutes_ago=30))


def test_review_registered_once(agent, order_a):
    made = timezone.now() - timedelta(hours=2)
    review_register(actor=agent, order=order_a, rating="neutral", made_at=made)
    with pytest.raises(DeskError):
        review_register(actor=agent, order=order_a, rating="neutral", made_at=made)


def test_harassment_guard_two_a_day(agent, order_a, settings):
    settings.DESK_REVIEW_MAX_CONTACTS_PER_DAY = 2
    settings.DESK_REVIEW_MAX_CONTACTS_TOTAL = 3
    review = _review(agent, order_a)
    now = timezone.now()
    review_contact_log(
        actor=agent, review=review, channel="phone", contacted_at=now - timedelta(hours=3)
    )
    review_contact_log(actor=agent, review=review, channel="wangwang")
    with pytest.raises(DeskError, match="24"):
        review_contact_log(actor=agent, review=review, channel="sms")
    assert ReviewContact.objects.count() == 2
    review.refresh_from_db()
    assert review.first_contact_at == now - timedelta(hours=3)


def test_harassment_guard_three_in_total(agent, order_a, settings):
    settings.DESK_REVIEW_MAX_CONTACTS_PER_DAY = 2
    settings.DESK_REVIEW_MAX_CONTACTS_TOTAL = 3
    review = _review(agent, order_a, minutes_ago=3 * 24 * 60)
    now = timezone.now()
    for hours in (50, 26):  # outside the last 24 hours
        review_contact_log(
            actor=agent, review=review, channel="phone", contacted_at=now - timedelta(hours=hours)
        )
    review_contact_log(actor=agent, review=review, channel="phone")
    refusal = contact_refusal(review)
    assert refusal and "3" in refusal
    with pytest.raises(DeskError):
        review_contact_log(actor=agent, review=review, channel="phone")
    assert review.contacts.count() == 3


def test_harassment_guard_counts_per_buyer_over_all_their_reviews(agent, shop_a, settings):
    # given one buyer with two reviews, in two of the company's shops
    settings.DESK_REVIEW_MAX_CONTACTS_PER_DAY = 2
    settings.DESK_REVIEW_MAX_CONTACTS_TOTAL = 3
    other_shop = make_shop()
    both = make_user("both-shops", Role.AGENT, shops=[shop_a, other_shop])
    first = _review(agent, make_order(shop_a, buyer_nick="爱买家"))
    second = _review(both, make_order(other_shop, buyer_nick="爱买家"))
    stranger = _review(agent, make_order(shop_a, buyer_nick="别的买家"))
    # when the buyer is contacted once about each review
    review_contact_log(actor=agent, review=first, channel="phone")
    review_contact_log(actor=both, review=second, channel="wangwang")
    # then a third contact in 24 hours is refused, whichever review it is about
    for review in (first, second):
        assert contact_refusal(review)
        with pytest.raises(DeskError, match="24"):
            review_contact_log(actor=both, review=review, channel="sms")
    assert ReviewContact.objects.count() == 2
    # and another buyer is not held back by them
    assert contact_refusal(stranger) is None
    review_contact_log(actor=agent, review=stranger, channel="phone")


def test_harassment_guard_total_is_per_buyer_over_the_reviews_being_followed(
    agent, shop_a, settings
):
    settings.DESK_REVIEW_MAX_CONTACTS_PER_DAY = 2
    settings.DESK_REVIEW_MAX_CONTACTS_TOTAL = 3
    now = timezone.now()
    old = _review(agent, make_order(shop_a, buyer_nick="老买家"), minutes_ago=90 * 24 * 60)
    first = _review(agent, make_order(shop_a, buyer_nick="老买家"), minutes_ago=4 * 24 * 60)
    second = _review(agent, make_order(shop_a, buyer_nick="老买家"), minutes_ago=4 * 24 * 60)
    # given an old review, closed long ago after three calls: its follow-up is over
    for days in (80, 70, 60):
        review_contact_log(
            actor=agent, review=old, channel="phone", contacted_at=now - timedelta(days=days)
        )
    review_close(actor=agent, review=old, outcome="refused")
    # when the buyer's two open reviews are contacted on different days
    for review, hours in ((first, 72), (second, 48)):
        review_contact_log(
            actor=agent, review=review, channel="phone", contacted_at=now - timedelta(hours=hours)
        )
    review_contact_log(actor=agent, review=first, channel="phone")
    # then the third contact over both open reviews is the limit
    with pytest.raises(DeskError, match="3"):
        review_contact_log(actor=agent, review=second, channel="phone")
    assert ReviewContact.objects.filter(review__in=[first, second]).count() == 3


def _negative_review(agent, order, **extra):
    return _review(agent, order, rating="negative", **extra)


def _compensate(agent, review, amount, **extra):
    return review_compensate(
        actor=agent, review=review, amount=amount, payment_method="red_packet", **extra
    )


def test_compensation_standard_is_a_total_per_review(agent, order_a):
    # given a negative review (standard 10 yuan)
    review = _negative_review(agent, order_a)
    # when money is recorded in parts
    _compensate(agent, review, "4")
    _compensate(agent, review, "6.00")
    # then nothing more fits, not even a cent, and five tens were never possible
    for amount in ("0.01", "10"):
        with pytest.raises(DeskError, match=r"¥10\.00"):
            _compensate(agent, review, amount)
    assert review_compensation_room(review) == Decimal("0.00")
    assert sum(e.amount for e in LedgerEntry.objects.all()) == Decimal("10.00")


def test_a_closed_review_takes_no_money(agent, order_a):
    review = _negative_review(agent, order_a)
    review_close(actor=agent, review=review, outcome="explained")
    with pytest.raises(DeskError, match="结果"):
        _compensate(agent, review, "5")
    assert not LedgerEntry.objects.exists()


def test_a_reversal_frees_room_again(agent, order_a):
    from tickets.services.ledger import ledger_reverse

    review = _negative_review(agent, order_a)
    entry = _compensate(agent, review, "10")
    with pytest.raises(DeskError):
        _compensate(agent, review, "1")
    reversal = ledger_reverse(actor=agent, entry=entry, reason="买家不要红包")
    assert list(review_compensations(review)) == [entry, reversal]
    assert review_compensation_room(review) == Decimal("10.00")
    _compensate(agent, review, "10")
    assert review_compensation_room(review) == Decimal("0.00")


def test_waiting_money_counts_and_rejected_money_does_not(agent, supervisor, order_a, settings):
    from tickets.services.ledger import compensation_decide

    # given compensation above the approval threshold, waiting for a supervisor
    settings.DESK_COMPENSATION_APPROVAL_THRESHOLD = Decimal("5")
    review = _negative_review(agent, order_a)
    waiting = _compensate(agent, review, "8")
    assert waiting.requires_approval
    with pytest.raises(DeskError):
        _compensate(agent, review, "3")
    # when the supervisor rejects it
    compensation_decide(actor=supervisor, entry=waiting, approved=False, reason="太多")
    # then the whole standard is free again
    assert review_compensation_room(review) == Decimal("10.00")
    _compensate(agent, review, "3")


def test_compensation_goes_through_the_ledger_once(agent, order_a):
    review = _review(agent, order_a, rating="neutral")
    token = submission_key_issue(agent)
    key = submission_key_read(agent, token)
    with pytest.raises(DeskError):  # above the neutral standard (5)
        review_compensate(actor=agent, review=review, amount="5.01", payment_method="red_packet")
    entries = {
        review_compensate(
            actor=agent,
            review=review,
            amount="5",
            payment_method="red_packet",
            note="旺旺红包",
            idempotency_key=key,
        ).pk
        for _ in range(2)  # a double click
    }
    assert len(entries) == 1
    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.amount, entry.order_id) == ("compensation", Decimal("5"), order_a.pk)
    assert list(review_compensations(review)) == [entry]


def test_outcome_recorded_once_with_revised_time(agent, order_a):
    review = _review(agent, order_a)
    with pytest.raises(DeskError):  # nobody called yet
        review_close(actor=agent, review=review, outcome="no_answer")
    review = review_close(
        actor=agent, review=review, outcome="revised", buyer_notes="脾气急，先打电话"
    )
    assert review.revised_at is not None and review.buyer_notes == "脾气急，先打电话"
    with pytest.raises(DeskError):
        review_close(actor=agent, review=review, outcome="explained")
    with pytest.raises(DeskError):
        review_contact_log(actor=agent, review=review, channel="phone")


def test_agent_assigns_only_to_self(agent, supervisor, order_a, shop_a):
    other = make_user("peer", Role.AGENT, shops=[shop_a])
    review = _review(supervisor, order_a, assign=False)
    with pytest.raises(DeskError):
        review_assign(actor=agent, review=review, assignee=other)
    assert review_assign(actor=agent, review=review, assignee=agent).assignee == agent
    assert review_assign(actor=supervisor, review=review, assignee=other).assignee == other
    stranger = make_user("stranger", Role.AGENT, shops=[make_shop()])
    with pytest.raises(DeskError):
        review_assign(actor=supervisor, review=review, assignee=stranger)


# --- handover -------------------------------------------------------------------------
def test_handover_flagged_after_noon_the_next_day(agent, shop_a, order_a):
    ticket = make_ticket(order_a, agent)
    item = handover_add(
        actor=agent, shop=shop_a, ticket=ticket, note="买家等回电", shift_date=date(2026, 3, 9)
    )
    assert item.order_id == order_a.pk
    assert not handover_is_flagged(item, local(2026, 3, 10, 11, 59))
    assert handover_is_flagged(item, local(2026, 3, 10, 12, 0))
    rows = HandoverNote.objects.filter(handover_flagged_filter(local(2026, 3, 10, 11, 59)))
    assert not rows.exists()
    rows = HandoverNote.objects.filter(handover_flagged_filter(local(2026, 3, 10, 12, 0)))
    assert list(rows) == [item]
    handover_mark_handled(actor=agent, item=item, note="已回电")
    item.refresh_from_db()
    assert not handover_is_flagged(item, local(2026, 3, 11, 9))
    with pytest.raises(DeskError):
        handover_mark_handled(actor=agent, item=item)


def test_night_shift_date_before_and_after_noon():
    assert handover_shift_date(local(2026, 3, 10, 2, 30)) == date(2026, 3, 9)
    assert handover_shift_date(local(2026, 3, 10, 22, 0)) == date(2026, 3, 10)


def test_handover_item_must_belong_to_the_shop(agent, shop_a, order_b):
    with pytest.raises(DeskError):
        handover_add(actor=agent, shop=shop_a, order=order_b, note="x")


# --- VIPs -----------------------------------------------------------------------------
def test_monthly_follow_ups_once_per_vip(supervisor, agent, shop_a):
    vip = vip_add(actor=supervisor, shop=shop_a, buyer_nick="老顾客")
    VipCustomer.objects.create(shop=shop_a, buyer_nick="不再回访", is_active=False)
    with pytest.raises(PermissionDenied):
        vip_add(actor=agent, shop=shop_a, buyer_nick="x")
    # on the list since April (a VIP added after May is owed no call in May)
    april = datetime(2026, 4, 1, 10, 0, tzinfo=timezone.get_current_timezone())
    VipCustomer.objects.update(created_at=april)
    assert vip_follow_ups_plan(month=date(2026, 5, 17)) == 1
    assert vip_follow_ups_plan(month=date(2026, 5, 2)) == 0
    follow_up = VipFollowUp.objects.get()
    assert (follow_up.vip, follow_up.month) == (vip, date(2026, 5, 1))
    with pytest.raises(DeskError):
        vip_follow_up_record(actor=agent, follow_up=follow_up, done=True, notes="")
    follow_up = vip_follow_up_record(
        actor=agent, follow_up=follow_up, done=True, notes="满意，想要新款"
    )
    assert follow_up.done_by == agent and follow_up.done_at is not None


def test_review_rows_are_scoped(agent, order_b, supervisor):
    from tickets.selectors_registers import visible_reviews

    review = _review(supervisor, order_b)
    assert not visible_reviews(agent).filter(pk=review.pk).exists()
    assert visible_reviews(supervisor).filter(pk=review.pk).exists()
    assert Review.objects.count() == 1
