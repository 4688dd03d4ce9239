"""Splitting compensation is no way round its approval (issue 13 second review, finding 2): an
entry waits for a supervisor when the ticket's compensation so far (neither reversed nor
rejected: counted, approved and still waiting alike) plus this entry is above
``DESK_COMPENSATION_APPROVAL_THRESHOLD``. Through the ticket page's money form, the
approvals page and the reversal form; two entries at once on PostgreSQL."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from tests.factories import make_order, make_shop, make_ticket, make_user
from tickets.models import LedgerEntry, Notification, Ticket
from tickets.roles import Role
from tickets.selectors import unread_notification_count
from tickets.services.ledger import ledger_record, submission_key_issue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def limit(settings):
    settings.DESK_COMPENSATION_APPROVAL_THRESHOLD = Decimal("50")


@pytest.fixture
def ticket(agent, shop_a):
    order = make_order(shop_a, items=((Decimal("500.00"), 1),))
    return make_ticket(order, agent, kind=Ticket.Kind.COMPENSATION, reason=Ticket.Reason.QUALITY)


def record(client, user, ticket, amount, kind="compensation") -> LedgerEntry:
    """``user`` records money on ``ticket`` through the ticket page's form; the entry made."""
    client.force_login(user)
    before = set(LedgerEntry.objects.values_list("pk", flat=True))
    response = client.post(
        reverse("tickets:ledger_record", args=[ticket.pk]),
        {
            "kind": kind,
            "amount": amount,
            "payment_method": LedgerEntry.PaymentMethod.ALIPAY_TRANSFER,
            "note": "",
            "submission": submission_key_issue(user),
        },
    )
    assert response.status_code == 302
    [entry] = LedgerEntry.objects.exclude(pk__in=before)
    return entry


def waits(entries) -> list[bool]:
    return [LedgerEntry.objects.get(pk=e.pk).requires_approval for e in entries]


def test_four_entries_of_the_limit_on_one_ticket_wait_for_a_supervisor(
    client, agent, supervisor, ticket
):
    # given the limit is 50: one entry of 50.00 is within it
    first = record(client, agent, ticket, "50.00")
    assert not first.requires_approval
    # when three more of 50.00 are recorded on the same ticket
    more = [record(client, agent, ticket, "50.00") for _ in range(3)]
    # then each of them takes the ticket above the limit and waits for a supervisor
    assert waits(more) == [True, True, True]
    # the agent is told on the page, the timeline says so, and the inbox and bell ask for it
    client.force_login(agent)
    page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    assert page.count("待主管审批") >= 3
    assert unread_notification_count(supervisor) == 3
    client.force_login(supervisor)
    inbox = client.get(reverse("tickets:inbox")).content.decode()
    for entry in more:
        assert reverse("tickets:approval_decide", args=[entry.pk]) in inbox
    # and the money waiting does not count until it is approved
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.COMPENSATED  # by the first, counted entry


def test_the_form_says_an_entry_waits(client, agent, ticket):
    record(client, agent, ticket, "30.00")
    client.force_login(agent)
    response = client.post(
        reverse("tickets:ledger_record", args=[ticket.pk]),
        {
            "kind": "compensation",
            "amount": "30.00",
            "payment_method": LedgerEntry.PaymentMethod.ALIPAY_TRANSFER,
            "note": "",
            "submission": submission_key_issue(agent),
        },
        follow=True,
    )
    assert "超过审批额度，主管批准后生效" in response.content.decode()


def test_waiting_and_approved_entries_count_rejected_and_reversed_ones_do_not(
    client, agent, supervisor, ticket
):
    # a reversed entry leaves nothing on the ticket
    reversed_one = record(client, agent, ticket, "40.00")
    client.force_login(agent)
    client.post(
        reverse("tickets:ledger_reverse", args=[ticket.pk, reversed_one.pk]),
        {"reason": "金额登记错了", "submission": submission_key_issue(agent)},
    )
    assert LedgerEntry.objects.filter(reverses=reversed_one).exists()
    assert not record(client, agent, ticket, "40.00").requires_approval  # 40 so far
    # a rejected entry leaves nothing either
    rejected = record(client, agent, ticket, "60.00")
    assert rejected.requires_approval
    client.force_login(supervisor)
    client.post(
        reverse("tickets:approval_decide", args=[rejected.pk]),
        {"approved": "0", "reason": "先和买家再谈"},
    )
    assert not LedgerEntry.objects.get(pk=rejected.pk).approval.approved
    assert not record(client, agent, ticket, "10.00").requires_approval  # 50 so far
    # an approved one counts: anything more now waits
    approved = record(client, agent, ticket, "20.00")
    assert approved.requires_approval
    client.force_login(supervisor)
    client.post(reverse("tickets:approval_decide", args=[approved.pk]), {"approved": "1"})
    assert LedgerEntry.objects.get(pk=approved.pk).approval.approved
    assert record(client, agent, ticket, "0.01").requires_approval


def test_other_money_and_other_tickets_do_not_count(client, agent, ticket, shop_a):
    # postage and refunds are no compensation
    record(client, agent, ticket, "45.00", kind="postage")
    assert not record(client, agent, ticket, "50.00").requires_approval
    # another ticket's compensation is that ticket's
    other = make_ticket(
        make_order(shop_a, items=((Decimal("500.00"), 1),)),
        agent,
        kind=Ticket.Kind.COMPENSATION,
        reason=Ticket.Reason.QUALITY,
    )
    assert not record(client, agent, other, "50.00").requires_approval
    # one entry above the limit waits, as it always did
    assert record(client, agent, other, "50.01").requires_approval


def test_a_second_ticket_of_the_same_order_is_no_way_round_the_limit(client, agent, ticket):
    """The limit is the order's: compensation on two tickets of one order adds up."""
    second = make_ticket(
        ticket.order, agent, kind=Ticket.Kind.COMPENSATION, reason=Ticket.Reason.QUALITY
    )
    assert not record(client, agent, ticket, "30.00").requires_approval
    assert record(client, agent, second, "30.00").requires_approval


def test_the_chat_and_the_bell_hear_a_split_entry_as_any_other(client, agent, supervisor, ticket):
    record(client, agent, ticket, "25.00")
    entry = record(client, agent, ticket, "26.00")
    [asked] = Notification.objects.filter(
        recipient=supervisor, kind=Notification.Kind.APPROVAL_NEEDED
    )
    assert asked.params["amount"] == "26.00" and asked.url.endswith(f"#entry-{entry.pk}")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_two_entries_at_once_cannot_both_slip_under():
    # given a ticket with nothing compensated, and two agents recording 30.00 at once
    shop = make_shop("split-shop")
    agents = [make_user(role=Role.AGENT, shops=[shop]) for _ in range(2)]
    order = make_order(shop, items=((Decimal("500.00"), 1),))
    ticket = make_ticket(
        order, agents[0], kind=Ticket.Kind.COMPENSATION, reason=Ticket.Reason.QUALITY
    )
    barrier = threading.Barrier(2)
    errors = []

    def worker(index):
        try:
            barrier.wait(timeout=10)
            ledger_record(
                actor=agents[index],
                order=order,
                ticket=ticket,
                kind="compensation",
                amount="30.00",
                payment_method="alipay_transfer",
            )
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then both are recorded, and the second one judged sees the first: exactly one waits
    assert errors == []
    entries = LedgerEntry.objects.filter(ticket=ticket, kind="compensation")
    assert sorted(e.requires_approval for e in entries) == [False, True]
