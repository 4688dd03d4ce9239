"""Notifications raised by the registers, the sheets and the scheduled check (issue 13 section
2), with the bell's count after each event; the inbox's cost does not grow with its rows."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from finance_exports.builders.finance import FinanceSheetBuilder
from finance_exports.models import Sheet
from finance_exports.services import SheetBuildFailed, sheet_build, sheet_rebuild
from tests.factories import make_order, make_sku, make_ticket, make_user
from tickets.models import Notification, Ticket
from tickets.roles import Role
from tickets.selectors import unread_notification_count
from tickets.services.interventions import intervention_register
from tickets.services.notifications import intervention_deadline_warnings_send
from tickets.services.quality import quality_problem_register
from tickets.services.tickets import promise_add, ticket_escalate

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 24)


def test_a_production_alert_tells_every_supervisor_once(agent, supervisor, shop_a, settings):
    settings.DESK_QUALITY_ALERT_COUNT = 2
    other_boss = make_user("boss-2", Role.SUPERVISOR, shops=[shop_a])
    sku = make_sku()
    for _ in range(3):  # the third complaint updates the open alert: no second notification
        quality_problem_register(actor=agent, shop=shop_a, sku=sku, problem_type="stitching")
    for boss in (supervisor, other_boss):
        assert unread_notification_count(boss) == 1
        note = Notification.objects.get(recipient=boss)
        assert note.kind == Notification.Kind.PRODUCTION_ALERT and sku.code in note.message
    assert unread_notification_count(agent) == 0


def test_a_sheet_that_fails_for_good_tells_finance_and_supervisors(
    supervisor, finance, agent, monkeypatch, settings
):
    settings.FINANCE_SHEET_MAX_ATTEMPTS = 2
    monkeypatch.setattr(FinanceSheetBuilder, "write", lambda *a: 1 / 0)
    with pytest.raises(SheetBuildFailed):
        sheet_build(kind="finance", business_date=DAY)
    assert unread_notification_count(finance) == 0  # one attempt failed: retried, not failed
    with pytest.raises(SheetBuildFailed):
        sheet_build(kind="finance", business_date=DAY)
    assert Sheet.objects.get().status == Sheet.Status.FAILED
    assert unread_notification_count(finance) == 1
    assert unread_notification_count(supervisor) == 1
    assert unread_notification_count(agent) == 0
    note = Notification.objects.get(recipient=finance)
    assert note.kind == Notification.Kind.SHEET_FAILED and "2026-11-24" in note.message
    # rebuilt by a supervisor and failing again: told again
    sheet_rebuild(actor=supervisor, sheet=Sheet.objects.get())
    for _ in range(2):
        with pytest.raises(SheetBuildFailed):
            sheet_build(kind="finance", business_date=DAY)
    assert unread_notification_count(finance) == 2


def test_an_intervention_deadline_is_told_once(agent, supervisor, order_a, settings):
    settings.DESK_INTERVENTION_WARNING_HOURS = 24
    now = timezone.now()
    ticket = make_ticket(order_a, agent, assignee=agent)
    intervention_register(
        actor=agent,
        order=order_a,
        ticket=ticket,
        case_no="C-88",
        reason="买家申请小二介入",
        deadline=now + timedelta(hours=30),
    )
    assert intervention_deadline_warnings_send(now=now) == 0  # not near yet
    assert intervention_deadline_warnings_send(now=now + timedelta(hours=7)) == 2
    assert intervention_deadline_warnings_send(now=now + timedelta(hours=8)) == 0
    assert unread_notification_count(supervisor) == 1
    assert unread_notification_count(agent) == 1
    assert "C-88" in Notification.objects.get(recipient=agent).message


def test_the_inbox_costs_the_same_whatever_waits(
    client, agent, supervisor, shop_a, django_assert_max_num_queries
):
    def add_work(n):
        for _ in range(n):
            order = make_order(shop_a)
            ticket = make_ticket(order, agent, kind=Ticket.Kind.COMPENSATION, assignee=agent)
            ticket_escalate(actor=agent, ticket=ticket, reason="请主管决定")
            promise_add(
                actor=agent,
                ticket=ticket,
                kind="gift",
                text="送袜子",
                due_on=timezone.localdate() - timedelta(days=2),
            )

    client.force_login(supervisor)
    add_work(1)
    with django_assert_max_num_queries(40) as few:
        assert client.get(reverse("tickets:inbox")).status_code == 200
    add_work(6)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("tickets:inbox")).content.decode()
    assert page.count('class="inbox-escalation') == 7
    assert page.count('class="inbox-promise') == 7
