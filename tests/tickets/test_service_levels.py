"""Service levels that measure the shop's work (issue 13 section 3), with a frozen clock: business
hours, the pause while the ticket waits for the buyer or the return parcel, the refund import's
start time, and "overdue" giving the same answer everywhere."""

import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from tests.factories import make_order
from tests.tickets.export_files import REFUND_HEADERS, export_csv, refund_row
from tickets.business_hours import BusinessHours, add_business_time, business_time_between
from tickets.imports.run import Upload, import_files
from tickets.models import LedgerEntry, RefundRequest, Ticket, TicketEvent
from tickets.services import DeskError
from tickets.services.ledger import ledger_record
from tickets.services.tickets import (
    ItemRequest,
    ticket_await_buyer,
    ticket_buyer_answered,
    ticket_note,
    ticket_open,
    ticket_transition,
)
from tickets.sla import paused_time
from tickets.statistics import StatsRange, per_agent

BEIJING = ZoneInfo("Asia/Shanghai")
DESK_HOURS = BusinessHours(9 * 60, 24 * 60, BEIJING)
S = Ticket.Status


def bj(day: int, hour: int, minute: int = 0) -> datetime:
    """A Beijing time in March 2026 (no daylight saving in China)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=BEIJING)


# --- business time: pure, checked as properties ------------------------------------------
windows = st.integers(0, 24 * 60 - 60).flatmap(
    lambda opens: st.tuples(st.just(opens), st.integers(opens + 60, 24 * 60))
)
hours_st = windows.map(lambda w: BusinessHours(w[0], w[1], BEIJING))
# Hypothesis takes naive bounds and attaches the zone itself.
starts = st.datetimes(
    min_value=datetime(2020, 1, 1),  # noqa: DTZ001
    max_value=datetime(2030, 12, 31),  # noqa: DTZ001
    timezones=st.just(BEIJING),
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=80))


@settings(max_examples=200, deadline=None)
@given(hours=hours_st, start=starts, duration=durations)
def test_adding_business_time_is_undone_by_measuring_it(hours, start, duration):
    due = add_business_time(start, duration, hours)
    assert due >= start
    assert business_time_between(start, due, hours) == duration


@settings(max_examples=200, deadline=None)
@given(hours=hours_st, start=starts, duration=durations.filter(bool))
def test_a_due_time_lies_inside_business_hours(hours, start, duration):
    # the instant just before a due time is business time: the due is in (opening, closing]
    due = add_business_time(start, duration, hours)
    tick = timedelta(microseconds=1)
    assert business_time_between(due - tick, due, hours) == tick


@settings(max_examples=200, deadline=None)
@given(hours=hours_st, start=starts, shift=durations, a=durations, b=durations)
def test_business_time_is_monotonic(hours, start, shift, a, b):
    shorter, longer = sorted((a, b))
    assert add_business_time(start, shorter, hours) <= add_business_time(start, longer, hours)
    later = start + shift
    assert add_business_time(start, a, hours) <= add_business_time(later, a, hours)


@settings(max_examples=100, deadline=None)
@given(start=starts, duration=durations)
def test_round_the_clock_hours_are_plain_time(start, duration):
    whole_day = BusinessHours(0, 24 * 60, BEIJING)
    assert add_business_time(start, duration, whole_day) == start + duration


@settings(max_examples=100, deadline=None)
@given(window=windows, start=starts, duration=durations)
def test_a_zone_with_daylight_saving_keeps_the_arithmetic_exact(window, start, duration):
    # Beijing has no daylight saving; the arithmetic is done in UTC, so a zone with it holds too
    berlin = ZoneInfo("Europe/Berlin")
    hours = BusinessHours(window[0], window[1], berlin)
    start = start.astimezone(berlin)
    due = add_business_time(start, duration, hours)
    assert business_time_between(start, due, hours) == duration


def test_crossing_midnight_and_after_hours():
    # 23:58 plus 5 minutes: 2 minutes tonight, 3 after the 09:00 opening
    assert add_business_time(bj(2, 23, 58), timedelta(minutes=5), DESK_HOURS) == bj(3, 9, 3)
    # opened before the shop opens: due from the opening
    assert add_business_time(bj(2, 8, 0), timedelta(minutes=5), DESK_HOURS) == bj(2, 9, 5)
    # ending exactly at closing is due at midnight, not the next morning
    assert add_business_time(bj(2, 23, 55), timedelta(minutes=5), DESK_HOURS) == bj(3, 0, 0)
    # 72 business hours from Monday 23:58: 2 min + 4 × 15 h, then 11 h 58 min on Saturday
    assert add_business_time(bj(2, 23, 58), timedelta(hours=72), DESK_HOURS) == bj(7, 20, 58)
    # the night is not business time; a UTC input is read in Beijing time
    night = business_time_between(bj(2, 23), bj(3, 10).astimezone(ZoneInfo("UTC")), DESK_HOURS)
    assert night == timedelta(hours=2)


def test_refuses_what_it_cannot_measure():
    with pytest.raises(ValueError):
        add_business_time(datetime(2026, 3, 2, 10), timedelta(minutes=5), DESK_HOURS)  # noqa: DTZ001
    with pytest.raises(ValueError):
        add_business_time(bj(2, 10), timedelta(minutes=-1), DESK_HOURS)
    with pytest.raises(ValueError):
        BusinessHours(600, 540, BEIJING)
    assert BusinessHours.from_times(time(9), time(0), BEIJING) == DESK_HOURS
    assert DESK_HOURS.label() == "09:00-24:00"


# --- the desk, with a frozen clock ------------------------------------------------------
@pytest.fixture
def clock(monkeypatch, settings):
    """Freezes ``django.utils.timezone.now`` (what the services, the views and auto_now read)
    at ``clock.now``, Monday 2 March 2026 10:00 Beijing time, and gives the desk its real
    business hours (09:00-24:00); a test moves ``clock.now`` as the day goes on."""
    settings.DESK_BUSINESS_HOURS = (9 * 60, 24 * 60)

    class Clock:
        now = bj(2, 10)

    frozen = Clock()
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


def open_ticket(agent, order, kind=Ticket.Kind.RETURN, reason=Ticket.Reason.NOT_SUITABLE):
    return ticket_open(
        actor=agent,
        order=order,
        kind=kind,
        reason=reason,
        responsibility=Ticket.Responsibility.BUYER,
        items=[ItemRequest(order.items.first(), 1)],
        assignee=agent,
    )


def later(due, **business):
    """``due`` moved on by that much business time in the desk's hours."""
    return add_business_time(due, timedelta(**business), DESK_HOURS)


def refreshed(ticket):
    ticket.refresh_from_db()
    return ticket


def overdue_pks(now):
    return set(Ticket.objects.overdue(now).values_list("pk", flat=True))


def test_due_times_run_in_business_hours(clock, shop_a, agent):
    clock.now = bj(2, 23, 58)
    ticket = open_ticket(agent, make_order(shop_a), reason=Ticket.Reason.LOGISTICS)
    assert ticket.clock_started_at == bj(2, 23, 58)
    assert ticket.first_response_due == bj(3, 9, 3)
    # 48 business hours: 2 min + 3 × 15 h, then 2 h 58 min on Friday
    assert ticket.resolution_due == bj(6, 11, 58)
    clock.now = bj(3, 8, 59)  # the night passed, the clock did not
    assert not refreshed(ticket).is_overdue()


def test_a_shop_keeps_its_own_hours(clock, shop_a, agent):
    shop_a.service_opens_at, shop_a.service_closes_at = time(8), time(20)
    shop_a.save()
    clock.now = bj(2, 19, 58)
    ticket = open_ticket(agent, make_order(shop_a))
    assert ticket.first_response_due == bj(3, 8, 3)
    assert shop_a.business_hours.label() == "08:00-20:00"


def test_the_database_refuses_half_or_backward_hours(shop_a):
    for opens, closes in ((time(9), None), (time(20), time(8))):
        with pytest.raises(IntegrityError), transaction.atomic():
            type(shop_a).objects.filter(pk=shop_a.pk).update(
                service_opens_at=opens, service_closes_at=closes
            )


def test_the_shop_form_says_what_is_wrong_with_its_hours(shop_a):
    for opens, closes, field in (
        (time(9), None, "service_closes_at"),
        (None, time(18), "service_opens_at"),
        (time(20), time(8), "service_closes_at"),
    ):
        shop_a.service_opens_at, shop_a.service_closes_at = opens, closes
        with pytest.raises(ValidationError) as refused:
            shop_a.full_clean()
        assert list(refused.value.message_dict) == [field]
    shop_a.service_opens_at, shop_a.service_closes_at = time(0), time(0)  # round the clock
    shop_a.full_clean()
    assert shop_a.business_hours.label() == "00:00-24:00"


def test_awaiting_the_return_parcel_pauses_the_clock(clock, shop_a, agent):
    # given: opened at 10:00, not yet answered; the seller centre's news moves it at 10:01
    ticket = open_ticket(agent, make_order(shop_a))
    first_due, resolution_due = ticket.first_response_due, ticket.resolution_due
    assert first_due == bj(2, 10, 5)
    clock.now = bj(2, 10, 1)
    ticket = ticket_transition(
        actor=agent, ticket=ticket, to_status=S.AWAITING_RETURN, responds=False
    )
    assert (ticket.paused_at, ticket.first_responded_at) == (bj(2, 10, 1), None)
    # when: the reply's due time passes while the parcel travels
    clock.now = bj(2, 11)
    # then: not overdue, here or in the query
    assert not refreshed(ticket).is_overdue()
    assert ticket.pk not in overdue_pks(clock.now)
    assert paused_time(ticket, clock.now) == timedelta(minutes=59)
    # when: the parcel arrives two hours after the pause began
    clock.now = bj(2, 12, 1)
    ticket = ticket_transition(actor=agent, ticket=ticket, to_status=S.RECEIVED, responds=False)
    # then: both due times moved on by the two hours paused, which the ticket keeps
    ticket = refreshed(ticket)
    assert ticket.paused_at is None and ticket.paused_seconds == 2 * 3600
    assert ticket.first_response_due == bj(2, 12, 5)
    assert ticket.resolution_due == add_business_time(
        resolution_due, timedelta(hours=2), DESK_HOURS
    )
    clock.now = bj(2, 12, 4)
    assert not ticket.is_overdue() and ticket.pk not in overdue_pks(clock.now)
    clock.now = bj(2, 12, 6)
    assert ticket.is_overdue() and ticket.pk in overdue_pks(clock.now)


def test_a_due_missed_before_the_pause_stays_missed(clock, shop_a, agent):
    ticket = open_ticket(agent, make_order(shop_a))
    clock.now = bj(2, 10, 10)  # the reply was due at 10:05
    ticket = ticket_transition(
        actor=agent, ticket=ticket, to_status=S.AWAITING_RETURN, responds=False
    )
    clock.now = bj(2, 11)
    assert refreshed(ticket).is_overdue() and ticket.pk in overdue_pks(clock.now)
    clock.now = bj(2, 11, 10)
    ticket = ticket_transition(actor=agent, ticket=ticket, to_status=S.RECEIVED, responds=False)
    # the reply's due time stays where it was (issue 13 second review): it was missed
    assert refreshed(ticket).first_response_due == bj(2, 10, 5)
    assert ticket.is_overdue() and ticket.pk in overdue_pks(clock.now)


def test_waiting_for_the_buyer_over_the_night(clock, shop_a, agent):
    ticket = open_ticket(agent, make_order(shop_a))
    clock.now = bj(2, 23)
    ticket = ticket_await_buyer(actor=agent, ticket=ticket, note="请买家补拍吊牌照片")
    assert ticket.awaiting_buyer and ticket.paused_at == bj(2, 23)
    assert ticket.first_responded_at == bj(2, 23)  # asking the buyer is a response
    with pytest.raises(DeskError):
        ticket_await_buyer(actor=agent, ticket=ticket)
    resolution_due = ticket.resolution_due
    # the buyer answers at 10:00 the next day: one hour last night, one this morning
    clock.now = bj(3, 10)
    assert paused_time(refreshed(ticket), clock.now) == timedelta(hours=2)
    ticket = ticket_buyer_answered(actor=agent, ticket=ticket)
    assert (ticket.awaiting_buyer, ticket.paused_at, ticket.paused_seconds) == (False, None, 7200)
    assert ticket.resolution_due == add_business_time(
        resolution_due, timedelta(hours=2), DESK_HOURS
    )
    note = ticket.events.filter(kind=TicketEvent.Kind.NOTE).latest("id")
    assert "120" in note.message
    with pytest.raises(DeskError):
        ticket_buyer_answered(actor=agent, ticket=ticket)


def test_a_status_change_ends_the_wait_for_the_buyer(clock, shop_a, agent):
    ticket = open_ticket(agent, make_order(shop_a))
    ticket = ticket_await_buyer(actor=agent, ticket=ticket)
    clock.now = bj(2, 12)
    # the buyer ships the parcel: the wait goes on, now for the courier, as one pause
    ticket = ticket_transition(actor=agent, ticket=ticket, to_status=S.AWAITING_RETURN)
    assert (ticket.awaiting_buyer, ticket.paused_at) == (False, bj(2, 10))
    clock.now = bj(2, 13)
    ticket = ticket_transition(actor=agent, ticket=ticket, to_status=S.CANCELLED)
    assert (refreshed(ticket).paused_at, ticket.paused_seconds) == (None, 3 * 3600)
    with pytest.raises(DeskError):
        ticket_await_buyer(actor=agent, ticket=ticket)  # finished


def test_the_database_keeps_the_pause_and_the_status_together(clock, shop_a, agent):
    ticket = open_ticket(agent, make_order(shop_a))
    cancelled = ticket_transition(
        actor=agent, ticket=open_ticket(agent, make_order(shop_a)), to_status=S.CANCELLED
    )
    broken = [
        (ticket, {"status": S.AWAITING_RETURN}),  # awaiting the parcel, clock running
        (ticket, {"paused_at": clock.now}),  # paused, waiting for nobody
        (ticket, {"awaiting_buyer": True}),  # waiting, clock running
        (cancelled, {"awaiting_buyer": True, "paused_at": clock.now}),  # finished
    ]
    for row, values in broken:
        with pytest.raises(IntegrityError), transaction.atomic():
            Ticket.objects.filter(pk=row.pk).update(**values)


# --- the refund import ------------------------------------------------------------------
def test_the_import_starts_the_clock_when_the_buyer_applied(shop_a, agent, clock):
    # given: an order in the desk, a refund the buyer asked for yesterday at 20:00
    order = make_order(shop_a, order_no="3515012345678909999")
    item = order.items.first()
    clock.now = bj(6, 10)
    rows = [
        refund_row(
            "88001122330001",
            order.order_no,
            退款的申请时间="2026-03-05 20:00:00",
            退款状态="卖家已经同意退款，等待买家退货",
            商家编码=item.sku_code,
        ),
        refund_row(
            "88001122330002",
            order.order_no,
            退款的申请时间="2026-03-09 20:00:00",  # a time still to come counts as now
            是否需要退货="否",
            商家编码=item.sku_code,
        ),
    ]
    # when
    upload = Upload("refunds", "退款管理.csv", io.BytesIO(export_csv(REFUND_HEADERS, rows)))
    report = import_files(shop=shop_a, uploads=[upload], actor=agent)
    # then
    assert report.ok, report.lines()
    returned = RefundRequest.objects.get(refund_no="88001122330001").ticket
    assert returned.created_at == bj(6, 10)
    assert returned.clock_started_at == bj(5, 20)
    assert returned.first_response_due == bj(5, 20, 5)
    # the import moved it to awaiting the return: not the agent's first response
    assert (returned.status, returned.first_responded_at) == (S.AWAITING_RETURN, None)
    # the reply was due last night, before the pause: overdue
    assert returned.is_overdue() and returned.pk in overdue_pks(clock.now)
    refund_only = RefundRequest.objects.get(refund_no="88001122330002").ticket
    assert refund_only.clock_started_at == bj(6, 10)


# --- one rule for "overdue" -------------------------------------------------------------
def test_overdue_is_the_same_in_the_list_the_dashboard_the_statistics_and_the_export(
    clock, client, shop_a, agent, supervisor
):
    # given: tickets opened at 10:00 by the agent, in every state that matters
    def opened(kind=Ticket.Kind.RETURN):
        return open_ticket(agent, make_order(shop_a), kind=kind)

    never_answered = opened()
    answered = opened()
    waiting = opened()
    late_then_closed = opened(Ticket.Kind.REFUND_ONLY)
    late_then_cancelled = opened()
    clock.now = bj(2, 10, 2)
    ticket_await_buyer(actor=agent, ticket=waiting)
    ticket_transition(actor=agent, ticket=answered, to_status=S.AWAITING_RETURN)
    ticket_transition(actor=agent, ticket=answered, to_status=S.RECEIVED)
    clock.now = bj(2, 11)
    ticket_transition(actor=agent, ticket=late_then_cancelled, to_status=S.CANCELLED)
    Ticket.objects.filter(pk=late_then_closed.pk).update(
        status=S.CLOSED, resolved_at=clock.now, closed_at=clock.now
    )
    # when: five days later; the answered ticket is still within its resolution time
    clock.now = bj(7, 10)
    Ticket.objects.filter(pk=answered.pk).update(resolution_due=bj(9, 10))
    expected = {never_answered.pk}
    # then: the model and the query
    assert overdue_pks(clock.now) == expected
    assert {t.pk for t in Ticket.objects.all() if t.is_overdue()} == expected
    # the list's filter, over every status (finished tickets included) and over open ones
    client.force_login(supervisor)
    for status in ("", "unfinished"):
        page = client.get(reverse("tickets:ticket_list"), {"overdue": "on", "status": status})
        assert {t.pk for t in page.context["tickets"]} == expected
    # the dashboard's count (the agent's and the supervisor's view of the same shop)
    for user in (agent, supervisor):
        client.force_login(user)
        assert client.get(reverse("tickets:dashboard")).context["counts"]["overdue"] == 1
    # the statistics, per agent, over the days the tickets were opened
    rows = per_agent(supervisor, StatsRange(date(2026, 3, 2), date(2026, 3, 7)), now=clock.now)
    assert sum(row.overdue for row in rows) == 1
    # the list's export marks the same ticket
    client.force_login(supervisor)
    response = client.get(reverse("tickets:ticket_export"), {"status": ""})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header = [c.value for c in sheet[1]]
    marked = [row for row in sheet.iter_rows(min_row=2, values_only=True) if "是" in row]
    assert len(marked) == 1 and never_answered.number in marked[0], header


def test_the_statistics_count_the_shops_working_time(clock, shop_a, agent, supervisor):
    # given: a ticket opened at 23:50 and answered at 09:10: ten minutes each side of the night
    clock.now = bj(2, 23, 50)
    night = open_ticket(agent, make_order(shop_a))
    clock.now = bj(3, 9, 10)
    ticket_note(actor=agent, ticket=night, text="已联系买家")
    # and a return opened at 10:00, waiting for its parcel 10:02-12:02, refunded at 14:00
    clock.now = bj(3, 10)
    returned = open_ticket(agent, make_order(shop_a))
    clock.now = bj(3, 10, 2)
    ticket_transition(actor=agent, ticket=returned, to_status=S.AWAITING_RETURN)
    clock.now = bj(3, 12, 2)
    ticket_transition(actor=agent, ticket=returned, to_status=S.RECEIVED)
    clock.now = bj(3, 14)
    ledger_record(
        actor=agent,
        order=returned.order,
        ticket=returned,
        kind=LedgerEntry.Kind.REFUND,
        amount="1.00",
        payment_method=LedgerEntry.PaymentMethod.PLATFORM_REFUND,
    )
    assert refreshed(returned).status == S.REFUNDED
    # when
    (row,) = per_agent(supervisor, StatsRange(date(2026, 3, 2), date(2026, 3, 3)), now=clock.now)
    # then: replies after 20 and 2 minutes; 4 hours of which 2 waited for the parcel
    assert row.first_response_minutes == 11.0
    assert row.resolution_hours == 2.0


# --- the ticket page ----------------------------------------------------------------------
def test_the_ticket_page_pauses_and_resumes_and_shows_the_time_paused(clock, client, shop_a, agent):
    ticket = open_ticket(agent, make_order(shop_a))
    page_url = reverse("tickets:ticket_detail", args=[ticket.pk])
    client.force_login(agent)
    assert "等待买家回复" in client.get(page_url).content.decode()
    # when: the agent asks the buyer for photos, and the buyer answers 90 minutes later
    response = client.post(
        reverse("tickets:ticket_await_buyer", args=[ticket.pk]), {"text": "请补拍照片"}
    )
    assert response.status_code == 302
    clock.now = bj(2, 11, 30)
    client.force_login(agent)  # the session idled out while the clock jumped
    html = client.get(page_url).content.decode()
    assert "等待买家回复，暂停计时" in html and "已暂停 1 小时 30 分钟" in html
    client.post(reverse("tickets:ticket_buyer_answered", args=[ticket.pk]))
    # then: the clock runs again and the page keeps the time paused
    ticket = refreshed(ticket)
    assert (ticket.awaiting_buyer, ticket.paused_seconds) == (False, 90 * 60)
    html = client.get(page_url).content.decode()
    assert "计时中" in html and "已暂停 1 小时 30 分钟" in html


def test_another_shops_agent_cannot_pause_the_clock(clock, client, shop_a, shop_b, agent):
    from tests.factories import make_user
    from tickets.roles import Role

    ticket = open_ticket(agent, make_order(shop_a))
    client.force_login(make_user("agent-of-b", Role.AGENT, shops=[shop_b]))
    for name in ("tickets:ticket_await_buyer", "tickets:ticket_buyer_answered"):
        assert client.post(reverse(name, args=[ticket.pk])).status_code == 404
        assert client.get(reverse(name, args=[ticket.pk])).status_code in (404, 405)
    assert not refreshed(ticket).is_paused


def test_the_list_and_the_dashboard_mark_a_paused_clock(clock, client, shop_a, agent):
    waiting = open_ticket(agent, make_order(shop_a))
    running = open_ticket(agent, make_order(shop_a))
    ticket_await_buyer(actor=agent, ticket=waiting)
    client.force_login(agent)
    for url in (reverse("tickets:ticket_list"), reverse("tickets:dashboard")):
        html = client.get(url).content.decode()
        assert html.count("暂停计时</span>") == 1, url
        row = html[html.index(f">{waiting.number}<") :]
        assert row.index("暂停计时") < row.index("</tr>")
    assert running.number in html
