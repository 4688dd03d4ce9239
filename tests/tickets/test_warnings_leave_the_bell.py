"""A deadline's warning leaves the bell once what it warned about is gone (issue 13 review),
through the same ``notifications_handled`` as a decided escalation or approval: a ticket
about to breach its service level once its clock stops, it is answered, resolved, finished or
cancelled; an intervention's evidence deadline once the case is closed; a failed sheet once
that kind and date is built. Each event goes through the door its user uses (the ticket
page's POSTs, the register's POST, the Celery tasks), the bell's number read from the page."""

import io
import re
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from finance_exports.builders.finance import FinanceSheetBuilder
from finance_exports.models import Sheet
from finance_exports.services import SheetBuildFailed, sheet_build
from finance_exports.tasks import build_sheet
from tests.factories import make_order, make_ticket, make_user
from tests.tickets.export_files import (
    ITEM_HEADERS,
    ORDER_HEADERS_56,
    REFUND_HEADERS,
    export_csv,
    item_row,
    order_row,
    refund_row,
)
from tickets.imports.run import Upload, import_files
from tickets.models import Notification, OrderImport, PlatformIntervention, Ticket
from tickets.roles import Role
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


# --- a deadline the refund import moves (issue 13 second review, finding 4) ---------------
def import_refund_from_the_page(client, user, shop, deadline, refund_no="88001122334455"):
    """``user`` uploads a refund export on the import page and confirms it; the worker (the
    Celery task, run when the confirmation commits) applies it. ``deadline``: the case's
    举证超时 (aware), None for none."""
    row = refund_row(
        refund_no,
        IMPORTED_ORDER,
        客服介入状态="客服介入中",
        举证超时=f"{timezone.localtime(deadline):%Y-%m-%d %H:%M:%S}" if deadline else "",
        超时时间="",
        买家退款原因="质量问题",
        商家编码="TS1001",
    )
    client.force_login(user)
    data = SimpleUploadedFile("退款管理.csv", export_csv(REFUND_HEADERS, [row]), "text/csv")
    before = set(OrderImport.objects.values_list("pk", flat=True))
    response = client.post(reverse("imports:home"), {"shop": shop.pk, "refunds_file": data})
    assert response.status_code == 302
    batch = OrderImport.objects.exclude(pk__in=before).get()
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert client.post(reverse("imports:apply", args=[batch.pk])).status_code == 302
    batch.refresh_from_db()
    assert batch.status == OrderImport.Status.APPLIED, batch.report
    return batch


IMPORTED_ORDER = "3515012345678901234"


@pytest.fixture
def imported_case(settings, shop_a, agent, supervisor):
    """A shipped order imported from the seller centre, and its refund under the platform's
    intervention imported from the page, evidence due in five hours: warned of (24 hours
    ahead) to the shop's supervisors by the minutely task."""
    settings.DESK_INTERVENTION_WARNING_HOURS = 24
    report = import_files(
        shop=shop_a,
        uploads=[
            Upload(
                "orders",
                "o.csv",
                io.BytesIO(export_csv(ORDER_HEADERS_56, [order_row(IMPORTED_ORDER)])),
            ),
            Upload(
                "items", "i.csv", io.BytesIO(export_csv(ITEM_HEADERS, [item_row(IMPORTED_ORDER)]))
            ),
        ],
    )
    assert report.ok, report.lines()
    import_refund_from_the_page(Client(), agent, shop_a, timezone.now() + timedelta(hours=5))
    assert notifications_due() >= 1
    return PlatformIntervention.objects.get(case_no="88001122334455")


def test_an_imported_deadline_moved_out_of_reach_leaves_the_bell(
    client, agent, supervisor, shop_a, imported_case
):
    # given the case's warning is in the supervisor's bell, and another case's too
    other = intervention_register(
        actor=agent,
        order=make_order(shop_a),
        case_no="C-777",
        reason="买家申请小二介入",
        deadline=timezone.now() + timedelta(hours=6),
    )
    notifications_due()
    assert bell(client, supervisor) == 2
    # when the next export gives the case three more days
    import_refund_from_the_page(client, agent, shop_a, timezone.now() + timedelta(days=3))
    imported_case.refresh_from_db()
    assert imported_case.deadline > timezone.now() + timedelta(days=2)
    # then its warning has left the bell; the other case's stays
    assert bell(client, supervisor) == 1
    [left] = unread(supervisor, Notification.Kind.INTERVENTION_DEADLINE)
    assert left.params["case"] == other.case_no
    # and the minutely check finds nothing near for it
    assert notifications_due() == 0
    assert bell(client, supervisor) == 1


def test_an_imported_deadline_moved_within_reach_is_warned_of_anew(
    client, agent, supervisor, shop_a, imported_case
):
    # when the next export moves the deadline by an hour, still within the warning's reach
    new_deadline = timezone.now() + timedelta(hours=6)
    import_refund_from_the_page(client, agent, shop_a, new_deadline)
    # then the old deadline's warning is gone, and the next run warns of the new one
    assert bell(client, supervisor) == 0
    assert notifications_due() == 1
    [warning] = unread(supervisor, Notification.Kind.INTERVENTION_DEADLINE)
    imported_case.refresh_from_db()
    assert warning.params["deadline"] == imported_case.deadline.isoformat()


def test_an_import_that_leaves_the_deadline_keeps_the_warning(
    client, agent, supervisor, shop_a, imported_case
):
    # trying to get around it: the same export again, or one without a deadline's change,
    # takes nothing out of the bell
    deadline = timezone.localtime(imported_case.deadline)
    import_refund_from_the_page(client, agent, shop_a, deadline)
    assert bell(client, supervisor) == 1
    # an export with no deadline at all: nothing is due any more, the warning leaves
    import_refund_from_the_page(client, agent, shop_a, None)
    imported_case.refresh_from_db()
    assert imported_case.deadline is None
    assert bell(client, supervisor) == 0


# --- a ticket handed to someone else (issue 13 second review, finding 5) ------------------
def test_assigning_to_a_colleague_moves_the_warnings_with_the_ticket(
    client, agent, supervisor, shop_a, warned
):
    colleague = make_user("agent-a2", Role.AGENT, shops=[shop_a])
    other = make_ticket(make_order(shop_a), agent, kind=Ticket.Kind.RETURN, assignee=agent)
    Ticket.objects.filter(pk=other.pk).update(first_responded_at=None)
    due_soon(other, first=True)
    assert notifications_due() == 1
    assert bell(client, agent) == 3
    # when the supervisor hands the warned ticket to a colleague from its page
    post(client, supervisor, "ticket_assign", warned, {"assignee": str(colleague.pk)})
    # then its warnings leave the agent's bell; the agent's other ticket's warning stays
    assert bell(client, agent) == 1
    [left] = unread(agent, SLA)
    assert left.ticket_id == other.pk
    # and the next run tells the colleague, not the agent again
    assert notifications_due() == 2
    assert len(unread(colleague, SLA)) == 2 and len(unread(agent, SLA)) == 1
    assert (bell(client, colleague), bell(client, agent)) == (3, 1)  # and "assigned to you"


def test_taking_an_unassigned_ticket_takes_the_supervisors_warnings_out(
    client, agent, supervisor, shop_a, settings
):
    settings.DESK_SLA_WARNING_MINUTES = 30
    queued = make_ticket(make_order(shop_a), agent, kind=Ticket.Kind.RETURN)
    Ticket.objects.filter(pk=queued.pk).update(first_responded_at=None, assignee=None)
    due_soon(queued, first=True, resolution=True)
    assert notifications_due() == 2
    assert bell(client, supervisor) == 2
    # when the agent takes it from its page
    post(client, agent, "ticket_assign", queued, {"assignee": "me"})
    # then the supervisor's warnings have left; the agent is warned on the next run
    assert bell(client, supervisor) == 0
    assert notifications_due() == 2
    assert (bell(client, agent), bell(client, supervisor)) == (2, 0)


def test_bulk_assigning_moves_the_warnings_too(client, agent, supervisor, shop_a, warned):
    colleague = make_user("agent-a2", Role.AGENT, shops=[shop_a])
    client.force_login(supervisor)
    response = client.post(
        reverse("tickets:ticket_bulk"),
        {"ids": [warned.pk], "action": "assign", "assignee": str(colleague.pk)},
    )
    assert response.status_code == 302
    assert Ticket.objects.get(pk=warned.pk).assignee == colleague
    assert bell(client, agent) == 0
    assert notifications_due() == 2
    assert len(unread(colleague, SLA)) == 2


def test_an_escalations_take_over_moves_the_warnings_to_the_supervisor(
    client, agent, supervisor, warned
):
    post(client, agent, "ticket_escalate", warned, {"reason": "买家要求全额退款"})
    assert bell(client, agent) == 2
    escalation = warned.escalations.get()
    client.force_login(supervisor)
    client.post(
        reverse("tickets:escalation_decide", args=[escalation.pk]), {"decision": "take_over"}
    )
    assert Ticket.objects.get(pk=warned.pk).assignee == supervisor
    # the agent's service-level warnings are gone (the decision's notification is new)
    assert unread(agent, SLA) == []
    notifications_due()
    assert len(unread(supervisor, SLA)) == 2


def test_handing_back_to_the_queue_moves_the_warnings_to_the_supervisors(
    client, agent, supervisor, warned
):
    # trying to get around it: nobody's ticket is the supervisors' to watch
    post(client, agent, "ticket_assign", warned, {"assignee": ""})
    assert bell(client, agent) == 0
    assert notifications_due() == 2
    assert len(unread(supervisor, SLA)) == 2
