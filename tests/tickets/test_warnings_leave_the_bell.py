"""A deadline's warning leaves the bell once what it warned about is gone (issue 13 review),
through the same ``notifications_handled`` as a decided escalation or approval: a ticket
about to breach its service level once its clock stops, it is answered, resolved, finished or
cancelled; an intervention's evidence deadline once the case is closed; a failed sheet once
that kind and date is built. Each event goes through the door its user uses (the ticket
page's POSTs, the register's POST, the Celery tasks), the bell's number read from the page."""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from finance_exports.builders.finance import FinanceSheetBuilder
from finance_exports.models import Sheet
from finance_exports.services import SheetBuildFailed, sheet_build
from finance_exports.tasks import build_sheet
from tests.factories import make_order, make_ticket
from tickets.models import Notification, Ticket
from tickets.services.interventions import intervention_register
from tickets.tasks import notifications_due

pytestmark = pytest.mark.django_db

SLA = Notification.Kind.SLA_BREACH_SOON


def bell(client, user) -> int:
    """The unread count the bell in the page's top bar shows ``user`` (0 when it shows
    none)."""
    client.force_login(user)
    page = client.get(reverse("tickets:notification_list")).content.decode()
    found = re.search(r'<span class="bell-count"[^>]*>(\d+)</span>', page)
    return int(found.group(1)) if found else 0


def unread(user, kind) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind=kind, read_at__isnull=True))


def due_soon(ticket, *, first=False, resolution=False, minutes=10):
    """Brings the ticket's due times within the warning's reach (``minutes`` from now)."""
    soon = timezone.now() + timedelta(minutes=minutes)
    fields = {}
    if first:
        fields["first_response_due"] = soon
    if resolution:
        fields["resolution_due"] = soon
    Ticket.objects.filter(pk=ticket.pk).update(**fields)


@pytest.fixture
def warned(settings, agent, order_a):
    """An unanswered return assigned to the agent, warned by the minutely task that both its
    first reply and its resolution fall due within the half hour."""
    settings.DESK_SLA_WARNING_MINUTES = 30
    ticket = make_ticket(order_a, agent, kind=Ticket.Kind.RETURN, assignee=agent)
    Ticket.objects.filter(pk=ticket.pk).update(first_responded_at=None)
    due_soon(ticket, first=True, resolution=True)
    assert notifications_due() == 2
    return ticket


def post(client, user, name, ticket, data):
    client.force_login(user)
    response = client.post(reverse(f"tickets:{name}", args=[ticket.pk]), data)
    assert response.status_code == 302
    return response


# --- a ticket about to breach its service level -----------------------------------------
def test_a_reply_takes_the_first_reply_warning_out_but_not_the_resolutions(client, agent, warned):
    assert bell(client, agent) == 2
    # when the agent answers the buyer (a note on the ticket page)
    post(client, agent, "ticket_note", warned, {"text": "已联系买家，请寄回"})
    # then the first reply's warning has left the bell; the resolution's is still due
    assert bell(client, agent) == 1
    [left] = unread(agent, SLA)
    assert left.params["which"] == "resolution"
    # and the minutely check does not bring the answered reply back
    assert notifications_due() == 0
    assert bell(client, agent) == 1


def test_waiting_for_the_buyer_takes_every_warning_out(client, agent, warned):
    post(client, agent, "ticket_await_buyer", warned, {"text": "请买家补拍照片"})
    assert bell(client, agent) == 0
    assert unread(agent, SLA) == []
    # and while the clock stands nothing is warned of again
    assert notifications_due() == 0


def test_waiting_for_the_return_parcel_takes_every_warning_out(client, agent, warned):
    post(
        client,
        agent,
        "ticket_transition",
        warned,
        {"to_status": Ticket.Status.AWAITING_RETURN, "tracking_no": "SF1234567890"},
    )
    warned.refresh_from_db()
    assert warned.paused_at is not None
    assert bell(client, agent) == 0


def test_cancelling_takes_every_warning_out(client, agent, warned):
    post(
        client,
        agent,
        "ticket_transition",
        warned,
        {"to_status": Ticket.Status.CANCELLED, "note": "买家撤销申请"},
    )
    assert bell(client, agent) == 0


def test_a_clock_that_runs_again_is_warned_of_again(client, agent, warned):
    # given the warnings left the bell when the ticket began to wait for the buyer
    post(client, agent, "ticket_await_buyer", warned, {"text": "请买家补拍照片"})
    assert bell(client, agent) == 0
    # when the buyer answers and the (moved) resolution due time comes near again
    post(client, agent, "ticket_buyer_answered", warned, {"text": "照片已收到"})
    due_soon(warned, resolution=True, minutes=20)
    # then the new due time is warned of: only the resolution (the reply was made)
    assert notifications_due() == 1
    assert bell(client, agent) == 1


def test_what_answers_nobody_leaves_the_reply_warning(client, agent, supervisor, warned):
    # trying to get around it: escalating the ticket and handing it to a colleague are no
    # reply to the buyer (``_responded``) and stop no clock, so the warnings stay
    post(client, agent, "ticket_escalate", warned, {"reason": "买家要求全额退款"})
    post(client, supervisor, "ticket_assign", warned, {"assignee": str(agent.pk)})
    assert len(unread(agent, SLA)) == 2
    # and another ticket's reply does not take this ticket's warnings out either
    other = make_ticket(make_order(warned.shop), agent, assignee=agent)
    post(client, agent, "ticket_note", other, {"text": "已回复"})
    assert len(unread(agent, SLA)) == 2


# --- an intervention's evidence deadline ---------------------------------------------------
def test_closing_an_intervention_takes_its_deadline_warning_out_of_every_bell(
    client, agent, supervisor, order_a, settings
):
    # given a case near its deadline, warned of to the supervisor and the ticket's agent
    settings.DESK_INTERVENTION_WARNING_HOURS = 24
    ticket = make_ticket(order_a, agent, assignee=agent)
    Ticket.objects.filter(pk=ticket.pk).update(first_responded_at=timezone.now())
    case = intervention_register(
        actor=agent,
        order=order_a,
        ticket=ticket,
        case_no="C-301",
        reason="买家申请小二介入",
        deadline=timezone.now() + timedelta(hours=5),
    )
    other = intervention_register(
        actor=agent,
        order=make_order(order_a.shop),
        case_no="C-302",
        reason="买家申请小二介入",
        deadline=timezone.now() + timedelta(hours=6),
    )
    assert notifications_due() == 3
    assert (bell(client, supervisor), bell(client, agent)) == (2, 1)
    url = reverse("registers:intervention_update", args=[case.pk])
    # when an outcome still pending is saved, the case is open: the warning stays
    client.force_login(agent)
    client.post(url, {"evidence": "聊天记录截图", "outcome": "pending"})
    assert (bell(client, supervisor), bell(client, agent)) == (2, 1)
    # when the platform decides and the agent records it
    client.force_login(agent)
    assert client.post(url, {"evidence": "聊天记录截图", "outcome": "won"}).status_code == 302
    # then that case's warning has left both bells; the other case's stays
    assert (bell(client, supervisor), bell(client, agent)) == (1, 0)
    [left] = unread(supervisor, Notification.Kind.INTERVENTION_DEADLINE)
    assert left.params["case"] == other.case_no
    # and the closed case is not warned of again
    assert notifications_due() == 0


# --- a failed sheet ------------------------------------------------------------------------
def test_a_failed_sheet_leaves_the_bell_when_it_is_rebuilt(
    client, supervisor, finance, monkeypatch, settings, django_capture_on_commit_callbacks
):
    # given the finance sheet of a day failed for good, and another day's too
    settings.FINANCE_SHEET_MAX_ATTEMPTS = 1
    day, other_day = date(2026, 11, 24), date(2026, 11, 23)
    failing = monkeypatch.setattr  # the builder fails while this patch holds
    failing(FinanceSheetBuilder, "write", lambda *a: 1 / 0)
    for business_date in (other_day, day):
        with pytest.raises(SheetBuildFailed):
            sheet_build(kind="finance", business_date=business_date)
    assert (bell(client, finance), bell(client, supervisor)) == (2, 2)
    monkeypatch.undo()
    # when a supervisor rebuilds the day's sheet from its page and the worker builds it
    sheet = Sheet.objects.get(kind="finance", business_date=day)
    queued = []
    monkeypatch.setattr(
        "finance_exports.tasks.build_sheet.apply_async",
        lambda args=(), kwargs=None, **options: queued.append(tuple(args)),
    )
    client.force_login(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("finance_exports:sheet_rebuild", args=[sheet.pk]))
    # a rebuild started is no rebuild done: the warning stays until the sheet is built
    assert (bell(client, finance), bell(client, supervisor)) == (2, 2)
    build_sheet.apply(args=queued[0])
    # then that sheet's failure has left every bell; the other day's stays
    sheet.refresh_from_db()
    assert sheet.status == Sheet.Status.READY
    assert (bell(client, finance), bell(client, supervisor)) == (1, 1)
    [left] = unread(finance, Notification.Kind.SHEET_FAILED)
    assert left.params["date"] == other_day.isoformat()
