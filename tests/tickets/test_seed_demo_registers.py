"""seed_demo fills every register, the supervisor's inbox and the sheets (issue 17): in every
status even when small, each row in a state the desk's own rules could have left it in,
nothing dated after the demo's end, the same rows for the same seed, and written per batch
rather than per row."""

import datetime as dt
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, F, Sum
from django.test.utils import CaptureQueriesContext

from finance_exports.models import Sheet, SheetDownload
from tests.conftest import restore_reference_data
from tickets import demo_registers
from tickets.demo import DAY_ENDS_AT, SHANGHAI, build_demo
from tickets.demo_registers import MINIMUMS, RATES, RegisterRows
from tickets.models import (
    CourierLossReport,
    Escalation,
    HandoverNote,
    InvoiceRequest,
    LedgerEntry,
    Notification,
    PlatformIntervention,
    ProductFeedback,
    ProductionAlert,
    QualityProblem,
    Review,
    ReviewContact,
    Shop,
    User,
    VipCustomer,
    VipFollowUp,
    WrongShipment,
)
from tickets.selectors_registers import (
    contact_refusal,
    handover_flagged_filter,
    review_compensation_given,
    review_standard_compensation,
    vip_follow_ups_pending,
)

TODAY = dt.date(2026, 11, 24)
END = dt.datetime.combine(TODAY, DAY_ENDS_AT, tzinfo=SHANGHAI)


@pytest.fixture
def seeded(db):
    return build_demo(seed=5, orders=1500, tickets=300, today=TODAY)


def test_every_register_is_in_every_status(seeded):
    assert set(Review.objects.values_list("outcome", flat=True)) == set(Review.Outcome.values)
    assert set(Review.objects.values_list("rating", flat=True)) == set(Review.Rating.values)
    statuses = set(CourierLossReport.objects.values_list("status", flat=True))
    assert statuses == set(CourierLossReport.Status.values)
    assert set(WrongShipment.objects.values_list("kind", flat=True)) == set(
        WrongShipment.Kind.values
    )
    assert ProductFeedback.objects.exists()
    outcomes = set(PlatformIntervention.objects.values_list("outcome", flat=True))
    assert outcomes == set(PlatformIntervention.Outcome.values)
    invoices = InvoiceRequest.objects.all()
    assert set(invoices.values_list("status", flat=True)) == set(InvoiceRequest.Status.values)
    assert set(invoices.values_list("shop__kind", flat=True)) == set(Shop.Kind.values)
    # one production alert waits for a supervisor, one was sent
    assert ProductionAlert.objects.filter(sent_at__isnull=True).exists()
    assert ProductionAlert.objects.filter(sent_at__isnull=False).exists()
    assert HandoverNote.objects.filter(handled_at__isnull=False).exists()
    assert VipFollowUp.objects.filter(done=True).exists()


def test_the_desk_has_what_a_working_day_leaves(seeded):
    agent = User.objects.get(username="agent")
    shops = set(agent.shops.values_list("pk", flat=True))
    # reviews: one found just now, one unassigned for more than an hour, one at the guard
    pending = Review.objects.filter(outcome=Review.Outcome.PENDING).select_related("order")
    assert pending.filter(assignee__isnull=True, made_at__gt=END - timedelta(hours=1)).exists()
    assert pending.filter(assignee__isnull=True, made_at__lt=END - timedelta(hours=1)).exists()
    assert any(contact_refusal(review, END) for review in pending)
    # interventions of the agent's shops: one due within a day, one past its deadline
    open_cases = PlatformIntervention.objects.filter(closed_at__isnull=True, shop__in=shops)
    assert open_cases.filter(deadline__gt=END, deadline__lte=END + timedelta(days=1)).exists()
    assert open_cases.filter(deadline__lt=END).exists()
    # handover: last night's items, one of them still open at 15:30 (flagged)
    assert HandoverNote.objects.filter(handover_flagged_filter(END), shop__in=shops).exists()
    # this month's calls are planned for every active VIP, and some wait for the agent
    assert not vip_follow_ups_pending(END)
    month = TODAY.replace(day=1)
    assert VipFollowUp.objects.filter(month=month, done=False, assignee=agent).exists()
    assert VipCustomer.objects.filter(buyer_nick__in=demo_registers.VIPS_WITHOUT_ORDERS).exists()
    # the supervisor's inbox: escalations open and decided, compensation waiting
    assert Escalation.objects.filter(decided_at__isnull=True).count() >= 2
    assert Escalation.objects.filter(decided_at__isnull=False).exists()
    waiting = LedgerEntry.objects.filter(requires_approval=True, approval__isnull=True)
    assert waiting.exists()
    # everyone's bell
    told = Counter(Notification.objects.values_list("recipient__username", flat=True))
    assert told["agent"] and told["supervisor"]
    kinds = set(Notification.objects.values_list("kind", flat=True))
    assert {"escalation_raised", "escalation_decided", "approval_needed"} <= kinds
    assert {"production_alert", "intervention_deadline", "assigned"} <= kinds


def test_finance_has_its_sheets_signed_shipped_and_downloaded(seeded):
    lists = Sheet.objects.filter(kind=Sheet.Kind.EXCHANGES).order_by("business_date")
    assert lists.count() == 3
    newest = lists.last()
    assert newest.status == Sheet.Status.AWAITING_APPROVAL  # in the supervisor's inbox
    assert all(s.status == Sheet.Status.APPROVED for s in lists.exclude(pk=newest.pk))
    # the demo's end is 15:30: yesterday's finance sheet is the newest due
    finance = Sheet.objects.filter(kind=Sheet.Kind.FINANCE).order_by("business_date")
    assert finance.last().business_date == TODAY - timedelta(days=1)
    assert finance.count() == 3
    assert Sheet.objects.filter(kind=Sheet.Kind.INVOICES).count() == 2
    built = [Sheet.Status.READY, Sheet.Status.APPROVED, Sheet.Status.AWAITING_APPROVAL]
    assert not Sheet.objects.exclude(status__in=built)
    assert SheetDownload.objects.filter(user__username="finance").exists()
    # the requests on the batches were issued by finance, the older batch's posted
    assert InvoiceRequest.objects.filter(status="posted").exclude(posting_tracking_no="").exists()
    assert not InvoiceRequest.objects.filter(status="batched", batch_claim__isnull=True).exists()


def test_every_row_is_one_the_desk_could_have_made(seeded):
    # Nothing happens after the demo's end.
    for model, field in [
        (Review, "made_at"),
        (Review, "revised_at"),
        (ReviewContact, "contacted_at"),
        (CourierLossReport, "created_at"),
        (CourierLossReport, "settled_at"),
        (QualityProblem, "created_at"),
        (ProductionAlert, "sent_at"),
        (PlatformIntervention, "created_at"),
        (PlatformIntervention, "closed_at"),
        (InvoiceRequest, "created_at"),
        (HandoverNote, "handled_at"),
        (VipFollowUp, "done_at"),
    ]:
        assert not model.objects.filter(**{f"{field}__gt": END}).exists(), (model, field)
    # Reviews: no answer needs a call; revised has its time; compensation within the standard
    assert not Review.objects.filter(outcome="no_answer", contacts__isnull=True).exists()
    assert not Review.objects.filter(outcome="revised", revised_at__isnull=True).exists()
    for review in Review.objects.select_related("order"):
        assert review_compensation_given(review) <= review_standard_compensation(review)
    given = LedgerEntry.objects.filter(note__startswith="[中差评#").aggregate(n=Sum("amount"))
    assert given["n"] and given["n"] > 0
    # the harassment guard: at most two contacts with a buyer within any 24 hours
    times = defaultdict(list)
    for nick, at in ReviewContact.objects.values_list("review__order__buyer_nick", "contacted_at"):
        times[nick].append(at)
    for moments in times.values():
        moments.sort()
        for first, third in zip(moments, moments[2:], strict=False):
            assert third - first >= timedelta(hours=24)
    # Loss reports: the claim within the goods' value, money received within the claim,
    # and the steps in order
    losses = CourierLossReport.objects.all()
    assert not losses.filter(claimed_amount__gt=F("items_value")).exists()
    assert not losses.filter(received_amount__gt=F("claimed_amount")).exists()
    assert not losses.filter(handed_at__lt=F("created_at")).exists()
    assert not losses.filter(decided_at__lt=F("handed_at")).exists()
    assert not losses.filter(settled_at__lt=F("decided_at")).exists()
    # Invoices: declined only by a C-store; never more than the buyer paid
    assert not InvoiceRequest.objects.filter(status="declined", shop__kind="tmall").exists()
    assert not InvoiceRequest.objects.filter(amount__gt=F("order__paid_amount")).exists()
    # Interventions: closed ones have an outcome, open ones none
    assert not PlatformIntervention.objects.filter(closed_at__isnull=False, outcome="pending")
    # Production alerts: each has at least the rule's count of complaints behind it
    for alert in ProductionAlert.objects.all():
        complaints = QualityProblem.objects.filter(sku=alert.sku, batch=alert.batch)
        assert complaints.count() >= settings.DESK_QUALITY_ALERT_COUNT
        assert alert.complaint_count >= settings.DESK_QUALITY_ALERT_COUNT
    # Every active VIP has one call a month at most, by one agent
    calls = VipFollowUp.objects.values("vip").annotate(agents=Count("assignee", distinct=True))
    assert all(row["agents"] == 1 for row in calls)


def _registers_fingerprint():
    return [
        sorted(
            Review.objects.values_list(
                "order__order_no", "rating", "outcome", "made_at", "assignee__username"
            )
        ),
        sorted(ReviewContact.objects.values_list("review__order__order_no", "contacted_at")),
        sorted(
            CourierLossReport.objects.values_list(
                "tracking_no", "status", "claimed_amount", "received_amount", "created_at"
            )
        ),
        sorted(QualityProblem.objects.values_list("sku__code", "batch", "created_at")),
        sorted(ProductionAlert.objects.values_list("sku__code", "complaint_count", "sent_at")),
        sorted(PlatformIntervention.objects.values_list("order__order_no", "deadline", "outcome")),
        sorted(InvoiceRequest.objects.values_list("order__order_no", "title", "status")),
        sorted(HandoverNote.objects.values_list("ticket__order__order_no", "note", "handled_at")),
        sorted(VipFollowUp.objects.values_list("vip__buyer_nick", "month", "done", "done_at")),
        sorted(WrongShipment.objects.values_list("order__order_no", "kind", "sent_description")),
        sorted(Escalation.objects.values_list("ticket__order__order_no", "reason", "decision")),
    ]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_seed_gives_the_same_registers():
    build_demo(seed=9, orders=400, tickets=120, today=TODAY)
    first = _registers_fingerprint()
    assert all(first), [len(rows) for rows in first]
    call_command("flush", "--no-input", verbosity=0)
    restore_reference_data()
    build_demo(seed=9, orders=400, tickets=120, today=TODAY)
    assert _registers_fingerprint() == first
    call_command("flush", "--no-input", verbosity=0)
    restore_reference_data()
    build_demo(seed=10, orders=400, tickets=120, today=TODAY)
    assert _registers_fingerprint() != first


def test_each_batch_gets_the_registers_share_of_its_orders():
    # A seed of a million orders in batches of 5,000: each batch's share is its rate.
    big = RegisterRows.__new__(RegisterRows)
    big.demo = SimpleNamespace(order_count=1_000_000)
    assert big._quota("reviews", 5000) == round(5000 * RATES["reviews"])
    assert big._quota("losses", 5000) == round(5000 * RATES["losses"])
    # A small seed still gets each register's minimum, spread over its batches.
    small = RegisterRows.__new__(RegisterRows)
    small.demo = SimpleNamespace(order_count=2000)
    assert small._quota("losses", 2000) == MINIMUMS["losses"]
    assert small._quota("losses", 1000) == MINIMUMS["losses"] // 2
    # A tiny one gives a register at most one order in twenty.
    tiny = RegisterRows.__new__(RegisterRows)
    tiny.demo = SimpleNamespace(order_count=40)
    assert tiny._quota("reviews", 40) == 2


@pytest.mark.django_db
def test_the_registers_are_written_per_batch_not_per_row(monkeypatch):
    # given batches of 500 orders
    monkeypatch.setattr("tickets.demo.DemoBuilder.batch_size", 500)
    with CaptureQueriesContext(connection) as queries:
        build_demo(seed=6, orders=2000, tickets=200, today=TODAY)
    written = {
        table: sum(1 for q in queries if q["sql"].startswith(f'INSERT INTO "{table}"'))
        for table in ("tickets_review", "tickets_reviewcontact", "tickets_invoicerequest")
    }
    # then each table gets at most one INSERT per batch (none on PostgreSQL: COPY), however
    # many rows it holds
    assert Review.objects.count() > 4 and InvoiceRequest.objects.count() > 4
    assert all(n <= 4 for n in written.values()), written


def test_the_review_compensation_counts_on_the_review(seeded):
    # The ledger note's marker is the one the review page finds its money by.
    review = (
        Review.objects.filter(order__ledger_entries__note__startswith="[中差评#")
        .select_related("order")
        .first()
    )
    assert review is not None
    assert review_compensation_given(review) > Decimal("0")
