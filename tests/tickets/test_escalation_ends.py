"""Hostile review of issue 13: an escalation ends when its ticket ends (every door that
finishes or cancels a ticket), escalating is no first response, the supervisors' "act on
this" notifications are read once it is handled and nobody is told of their own action, and
every button of the inbox comes back to the page it was on. Through the pages."""

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

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
from tests.tickets.registers_helpers import make_sku
from tickets.imports.run import Upload, import_files
from tickets.models import (
    Escalation,
    LedgerApproval,
    LedgerEntry,
    Notification,
    Ticket,
    TicketEvent,
)
from tickets.roles import Role
from tickets.services.handover import handover_add
from tickets.services.ledger import submission_key_issue
from tickets.services.quality import quality_problem_register
from tickets.services.tickets import promise_add

pytestmark = pytest.mark.django_db

S = Ticket.Status
FINISHED = Escalation.Decision.TICKET_FINISHED
EVIL = "https://evil.example/"


def bell_count(client) -> int:
    """The unread count the top bar's bell shows on the dashboard (0 when it shows none)."""
    html = client.get(reverse("tickets:dashboard")).content.decode()
    found = re.search(r'<span class="bell-count"[^>]*>(\d+)</span>', html)
    return int(found.group(1)) if found else 0


def escalate(client, user, ticket, reason="买家不接受补偿方案，要求全额退款"):
    client.force_login(user)
    response = client.post(reverse("tickets:ticket_escalate", args=[ticket.pk]), {"reason": reason})
    assert response.status_code == 302
    return Escalation.objects.get(ticket=ticket, decided_at__isnull=True)


def assert_ended(ticket, escalation, by):
    """The escalation closed with its ticket, in the same transaction as the status."""
    ticket.refresh_from_db()
    escalation.refresh_from_db()
    assert not ticket.is_open and not ticket.escalated
    assert (escalation.decision, escalation.decided_by) == (FINISHED, by)
    assert escalation.decided_at == ticket.closed_at
    assert ticket.events.filter(
        kind=TicketEvent.Kind.ESCALATED, message__contains="升级自动关闭"
    ).exists()


@pytest.fixture
def second_supervisor(shop_a):
    return make_user("boss-2", Role.SUPERVISOR, shops=[shop_a])


# --- 7. every door that finishes a ticket closes its escalation -------------------------------
def test_cancelling_on_the_ticket_page_ends_the_escalation(
    client, agent, supervisor, second_supervisor, order_a
):
    ticket = make_ticket(order_a, agent, assignee=agent)
    escalation = escalate(client, agent, ticket)
    client.force_login(supervisor)
    assert bell_count(client) == 1
    assert (
        f'id="escalation-{escalation.pk}"' in client.get(reverse("tickets:inbox")).content.decode()
    )
    # when the agent cancels the ticket
    client.force_login(agent)
    client.post(
        reverse("tickets:ticket_transition", args=[ticket.pk]),
        {"to_status": S.CANCELLED, "note": "买家撤销"},
    )
    # then the escalation is closed, and no supervisor sees it nor has it in the bell
    assert_ended(ticket, escalation, agent)
    for boss in (supervisor, second_supervisor):
        client.force_login(boss)
        assert bell_count(client) == 0
        inbox = client.get(reverse("tickets:inbox")).content.decode()
        assert f'id="escalation-{escalation.pk}"' not in inbox
    # and deciding it afterwards by hand is refused with the reason
    client.force_login(supervisor)
    page = client.post(
        reverse("tickets:escalation_decide", args=[escalation.pk]),
        {"decision": "exception", "note": "同意"},
        follow=True,
    ).content.decode()
    assert "已自动关闭" in page
    escalation.refresh_from_db()
    assert escalation.decision == FINISHED
    # and the ticket page shows the closing without a decider's "None"
    detail = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    assert "售后单已完结，自动关闭" in detail


def test_closing_on_the_ticket_page_ends_the_escalation(client, agent, order_a):
    ticket = make_ticket(order_a, agent, kind=Ticket.Kind.REFUND_ONLY, status=S.REFUNDED)
    escalation = escalate(client, agent, ticket)
    client.post(reverse("tickets:ticket_transition", args=[ticket.pk]), {"to_status": S.CLOSED})
    assert_ended(ticket, escalation, agent)


def test_a_move_that_does_not_finish_keeps_the_escalation_open(client, agent, order_a):
    ticket = make_ticket(order_a, agent)
    escalation = escalate(client, agent, ticket)
    client.post(
        reverse("tickets:ticket_transition", args=[ticket.pk]), {"to_status": S.AWAITING_RETURN}
    )
    ticket.refresh_from_db()
    escalation.refresh_from_db()
    assert ticket.status == S.AWAITING_RETURN and ticket.escalated and escalation.is_open


def test_a_refused_finish_leaves_the_escalation_open(client, agent, order_a):
    # a promise not kept and no reason given: the cancel is refused, nothing changes
    ticket = make_ticket(order_a, agent)
    promise_add(actor=agent, ticket=ticket, kind="other", text="明天回电")
    escalation = escalate(client, agent, ticket)
    client.post(reverse("tickets:ticket_transition", args=[ticket.pk]), {"to_status": S.CANCELLED})
    ticket.refresh_from_db()
    escalation.refresh_from_db()
    assert ticket.is_open and ticket.escalated and escalation.is_open


def test_the_bulk_status_change_ends_the_escalations(client, agent, supervisor, shop_a):
    tickets = [make_ticket(make_order(shop_a), agent) for _ in range(2)]
    escalations = [escalate(client, agent, t) for t in tickets]
    client.force_login(agent)
    response = client.post(
        reverse("tickets:ticket_bulk"),
        {
            "ids": [str(t.pk) for t in tickets],
            "action": "move",
            "to_status": S.CANCELLED,
            "text": "买家都撤销了",
            "submission": submission_key_issue(agent),
            "query": "status=unfinished",
        },
    )
    assert response.status_code == 302
    for ticket, escalation in zip(tickets, escalations, strict=True):
        assert_ended(ticket, escalation, agent)
    client.force_login(supervisor)
    assert bell_count(client) == 0


def test_the_refund_import_cancelling_a_ticket_ends_its_escalation(client, agent, shop_a):
    order_no, refund_no = "3515012345678901234", "88001122334455"
    report = import_files(
        shop=shop_a,
        uploads=[
            Upload(
                "orders", "o.csv", io.BytesIO(export_csv(ORDER_HEADERS_56, [order_row(order_no)]))
            ),
            Upload("items", "i.csv", io.BytesIO(export_csv(ITEM_HEADERS, [item_row(order_no)]))),
        ],
    )
    assert report.ok, report.lines()

    def refunds(**fields):
        data = export_csv(REFUND_HEADERS, [refund_row(refund_no, order_no, **fields)])
        upload = Upload("refunds", "退款管理.csv", io.BytesIO(data))
        return import_files(shop=shop_a, uploads=[upload], actor=agent)

    refunds()
    ticket = Ticket.objects.get(order__order_no=order_no)
    escalation = escalate(client, agent, ticket)
    refunds(退款状态="退款关闭")
    ticket.refresh_from_db()
    assert ticket.status == S.CANCELLED
    assert_ended(ticket, escalation, agent)


def test_the_desk_closing_an_escalation_needs_no_decider_but_a_supervisor_does(agent, order_a):
    ticket = make_ticket(order_a, agent)
    now = timezone.now()
    escalation = Escalation.objects.create(ticket=ticket, reason="x", raised_by=agent)
    # the desk's own closing may have nobody (the import, the list)
    Escalation.objects.filter(pk=escalation.pk).update(
        decision=FINISHED, decided_at=now, decided_by=None
    )
    # a supervisor's decision without who is refused by the database
    with pytest.raises(IntegrityError), transaction.atomic():
        Escalation.objects.filter(pk=escalation.pk).update(decision="instruct")


def test_a_supervisor_cannot_choose_the_desks_own_closing(client, agent, supervisor, order_a):
    ticket = make_ticket(order_a, agent)
    escalation = escalate(client, agent, ticket)
    client.force_login(supervisor)
    inbox = client.get(reverse("tickets:inbox")).content.decode()
    assert f'value="{FINISHED}"' not in inbox
    client.post(
        reverse("tickets:escalation_decide", args=[escalation.pk]),
        {"decision": FINISHED, "note": "手工关闭"},
    )
    escalation.refresh_from_db()
    ticket.refresh_from_db()
    assert escalation.is_open and ticket.escalated


# --- 8. escalating is not answering the buyer ------------------------------------------------
def test_escalating_is_no_first_response_and_the_clock_runs(client, agent, order_a):
    ticket = make_ticket(order_a, agent, assignee=agent)
    assert ticket.first_responded_at is None
    escalate(client, agent, ticket)
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None
    # the first-response clock still runs: past its due time the ticket is overdue
    late = ticket.first_response_due + timedelta(minutes=1)
    assert Ticket.objects.overdue(late).filter(pk=ticket.pk).exists()
    # and a note to the buyer's case is the response
    client.post(reverse("tickets:ticket_note", args=[ticket.pk]), {"text": "已联系买家"})
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None


# --- 9. handled work leaves the bell; nobody is told of their own action ---------------------
def test_a_decision_reads_every_supervisors_escalation_notification(
    client, agent, supervisor, second_supervisor, order_a
):
    ticket = make_ticket(order_a, agent, assignee=agent)
    escalation = escalate(client, agent, ticket)
    for boss in (supervisor, second_supervisor):
        client.force_login(boss)
        assert bell_count(client) == 1
    client.force_login(supervisor)
    client.post(
        reverse("tickets:escalation_decide", args=[escalation.pk]),
        {"decision": "instruct", "note": "先补偿优惠券"},
    )
    for boss in (supervisor, second_supervisor):
        client.force_login(boss)
        assert bell_count(client) == 0
    client.force_login(agent)
    assert bell_count(client) == 1  # the decision, for the agent


def test_a_supervisor_who_escalates_is_not_told_of_it(
    client, supervisor, second_supervisor, order_a, agent
):
    ticket = make_ticket(order_a, agent)
    escalate(client, second_supervisor, ticket)
    assert bell_count(client) == 0  # second_supervisor, still logged in
    assert not Notification.objects.filter(recipient=second_supervisor).exists()
    client.force_login(supervisor)
    assert bell_count(client) == 1


def test_an_approval_reads_every_supervisors_approval_notification(
    client, agent, supervisor, second_supervisor, shop_a, settings
):
    settings.DESK_COMPENSATION_APPROVAL_THRESHOLD = Decimal("50")
    order = make_order(shop_a, items=((Decimal("300.00"), 1),))
    tickets = [
        make_ticket(order, agent, kind=Ticket.Kind.COMPENSATION, reason=Ticket.Reason.QUALITY)
        for _ in range(1)
    ]
    ticket = tickets[0]
    client.force_login(agent)

    def record(amount):
        client.post(
            reverse("tickets:ledger_record", args=[ticket.pk]),
            {
                "kind": "compensation",
                "amount": amount,
                "payment_method": LedgerEntry.PaymentMethod.ALIPAY_TRANSFER,
                "note": "",
                "submission": submission_key_issue(agent),
            },
        )

    record("80")
    record("90")
    first, second = LedgerEntry.objects.filter(kind="compensation").order_by("pk")
    for boss in (supervisor, second_supervisor):
        client.force_login(boss)
        assert bell_count(client) == 2
    # when one supervisor refuses the first from the inbox
    client.force_login(supervisor)
    response = client.post(
        reverse("tickets:approval_decide", args=[first.pk]),
        {"approved": "0", "reason": "金额过高", "next": "inbox"},
    )
    assert response.url == reverse("tickets:inbox")
    # then that request is done for both, the other one still waits
    for boss in (supervisor, second_supervisor):
        client.force_login(boss)
        assert bell_count(client) == 1
    client.force_login(second_supervisor)
    client.post(reverse("tickets:approval_decide", args=[second.pk]), {"approved": "1"})
    for boss in (supervisor, second_supervisor):
        client.force_login(boss)
        assert bell_count(client) == 0


def test_a_compensation_reversed_while_it_waits_leaves_the_queue_and_cannot_be_approved(
    client, agent, supervisor, shop_a, settings
):
    # given a compensation above the threshold waiting for a supervisor
    settings.DESK_COMPENSATION_APPROVAL_THRESHOLD = Decimal("50")
    order = make_order(shop_a, items=((Decimal("300.00"), 1),))
    ticket = make_ticket(order, agent, kind=Ticket.Kind.COMPENSATION, reason=Ticket.Reason.QUALITY)
    client.force_login(agent)
    client.post(
        reverse("tickets:ledger_record", args=[ticket.pk]),
        {
            "kind": "compensation",
            "amount": "80",
            "payment_method": LedgerEntry.PaymentMethod.ALIPAY_TRANSFER,
            "note": "",
            "submission": submission_key_issue(agent),
        },
    )
    entry = LedgerEntry.objects.get(kind="compensation")
    client.force_login(supervisor)
    assert bell_count(client) == 1
    assert f"entry-{entry.pk}" in client.get(reverse("tickets:approval_list")).content.decode()
    # when the agent reverses it (recorded by mistake) through the ticket page
    client.force_login(agent)
    response = client.post(
        reverse("tickets:ledger_reverse", args=[ticket.pk, entry.pk]),
        {"reason": "录错了", "submission": submission_key_issue(agent)},
    )
    assert response.status_code == 302
    # then nothing waits: not in the approvals page, the inbox or the bell
    client.force_login(supervisor)
    assert bell_count(client) == 0
    assert f"entry-{entry.pk}" not in client.get(reverse("tickets:approval_list")).content.decode()
    assert "待审批" not in client.get(reverse("tickets:inbox")).content.decode()
    # and a hand-made approval is refused, changing nothing and telling nobody
    response = client.post(
        reverse("tickets:approval_decide", args=[entry.pk]), {"approved": "1"}, follow=True
    )
    assert "这笔赔偿已经冲销，不需要再审批。" in response.content.decode()
    assert not LedgerApproval.objects.filter(entry=entry).exists()
    assert not Notification.objects.filter(kind="approval_decided").exists()
    ticket.refresh_from_db()
    assert ticket.status != Ticket.Status.COMPENSATED


def test_a_supervisor_who_records_and_approves_is_told_nothing(
    client, supervisor, second_supervisor, shop_a, settings
):
    settings.DESK_COMPENSATION_APPROVAL_THRESHOLD = Decimal("50")
    order = make_order(shop_a, items=((Decimal("300.00"), 1),))
    ticket = make_ticket(
        order, supervisor, kind=Ticket.Kind.COMPENSATION, reason=Ticket.Reason.QUALITY
    )
    client.force_login(supervisor)
    client.post(
        reverse("tickets:ledger_record", args=[ticket.pk]),
        {
            "kind": "compensation",
            "amount": "80",
            "payment_method": LedgerEntry.PaymentMethod.ALIPAY_TRANSFER,
            "note": "",
            "submission": submission_key_issue(supervisor),
        },
    )
    entry = LedgerEntry.objects.get(kind="compensation")
    assert bell_count(client) == 0
    client.post(reverse("tickets:approval_decide", args=[entry.pk]), {"approved": "1"})
    assert bell_count(client) == 0
    assert not Notification.objects.filter(recipient=supervisor).exists()


def test_an_alert_told_to_production_leaves_every_supervisors_bell(
    client, agent, supervisor, shop_a, settings
):
    # given a production alert that two supervisors were told of
    settings.DESK_QUALITY_ALERT_COUNT = 1
    other = make_user("supervisor-2", Role.SUPERVISOR, all_shops=True)
    _problem, alert = quality_problem_register(
        actor=agent, shop=shop_a, sku=make_sku(), batch="B1", problem_type="stitching"
    )
    client.force_login(other)
    assert bell_count(client) == 1
    # when one of them marks it sent to production through its page
    client.force_login(supervisor)
    assert bell_count(client) == 1
    response = client.post(reverse("registers:alert_sent", args=[alert.pk]), {})
    assert response.status_code == 302
    # then it is read in both bells, and another alert's notification is not
    assert bell_count(client) == 0
    client.force_login(other)
    assert bell_count(client) == 0
    quality_problem_register(
        actor=agent, shop=shop_a, sku=make_sku(), batch="B2", problem_type="stitching"
    )
    assert bell_count(client) == 1


# --- 12. every inbox button comes back to the page it was on ---------------------------------
def _forms_next(html: str) -> set[str]:
    table = html.split('<table class="grid inbox">', 1)[1].split("</table>", 1)[0]
    return set(re.findall(r'<input type="hidden" name="next" value="([^"]*)">', table))


@pytest.fixture
def inbox_world(client, agent, supervisor, shop_a, order_a, settings):
    """One of each inbox kind with a button: an escalation, an alert, a late promise and a
    handover item still open after noon."""
    settings.DESK_QUALITY_ALERT_COUNT = 1
    ticket = make_ticket(order_a, agent, assignee=agent)
    escalation = escalate(client, agent, ticket)
    _problem, alert = quality_problem_register(
        actor=agent, shop=shop_a, sku=make_sku(), batch="B1", problem_type="stitching"
    )
    promise = promise_add(
        actor=agent,
        ticket=ticket,
        kind="other",
        text="回电",
        due_on=timezone.localdate() - timedelta(days=2),
    )
    handover = handover_add(
        actor=agent,
        shop=shop_a,
        note="回电",
        shift_date=timezone.localdate() - timedelta(days=2),
    )
    return {"escalation": escalation, "alert": alert, "promise": promise, "handover": handover}


def test_the_inbox_and_the_dashboard_post_their_own_page_back(client, supervisor, inbox_world):
    client.force_login(supervisor)
    inbox = client.get(reverse("tickets:inbox")).content.decode()
    assert _forms_next(inbox) == {"inbox"}
    assert inbox.count('name="next" value="inbox"') >= 4
    dashboard = client.get(reverse("tickets:dashboard")).content.decode()
    assert _forms_next(dashboard) == {"dashboard"}


@pytest.mark.parametrize(
    ("next_value", "back"), [("inbox", "tickets:inbox"), ("dashboard", "tickets:dashboard")]
)
def test_each_inbox_button_comes_back(client, supervisor, inbox_world, next_value, back):
    client.force_login(supervisor)
    w = inbox_world
    posts = [
        (
            reverse("tickets:escalation_decide", args=[w["escalation"].pk]),
            {"decision": "instruct", "note": "先安抚"},
        ),
        (reverse("registers:alert_sent", args=[w["alert"].pk]), {}),
        (
            reverse("tickets:promise_fulfil", args=[w["promise"].ticket_id, w["promise"].pk]),
            {},
        ),
        (reverse("registers:handover_handled", args=[w["handover"].pk]), {"note": ""}),
    ]
    for url, data in posts:
        response = client.post(url, {**data, "next": next_value})
        assert (url, response.status_code, response.url) == (url, 302, reverse(back))
    # and each was done
    w["escalation"].refresh_from_db()
    w["alert"].refresh_from_db()
    w["promise"].refresh_from_db()
    w["handover"].refresh_from_db()
    assert not w["escalation"].is_open and w["alert"].sent_at and w["promise"].fulfilled_at
    assert w["handover"].handled_at


def test_a_hostile_next_is_ignored(client, supervisor, inbox_world):
    client.force_login(supervisor)
    w = inbox_world
    expected = [
        (
            reverse("tickets:escalation_decide", args=[w["escalation"].pk]),
            {"decision": "instruct", "note": "先安抚"},
            reverse("tickets:inbox"),
        ),
        (
            reverse("registers:alert_sent", args=[w["alert"].pk]),
            {},
            reverse("registers:alert_detail", args=[w["alert"].pk]),
        ),
        (
            reverse("tickets:promise_fulfil", args=[w["promise"].ticket_id, w["promise"].pk]),
            {},
            reverse("tickets:ticket_detail", args=[w["promise"].ticket_id]) + "#promises",
        ),
        (
            reverse("registers:handover_handled", args=[w["handover"].pk]),
            {"note": ""},
            reverse("registers:handover_list"),
        ),
    ]
    for url, data, landing in expected:
        for hostile in (EVIL, "//evil.example/", "/admin/"):
            response = client.post(url, {**data, "next": hostile})
            assert response.status_code == 302
            assert response.url == landing, (url, hostile)
