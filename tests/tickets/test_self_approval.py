"""Nobody approves the compensation they recorded (issue 13 review): whoever recorded an entry
above the approval limit never approves or rejects it, whatever their role; another supervisor
does. Refused at every door (the inbox's button, the approvals page, the dashboard, a POST
made by hand, the admin; the API has no door that decides), with the reason in the user's
language; the inbox and the approvals page show the author "waiting for another supervisor"
without the buttons."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from tests.factories import make_order, make_ticket, make_user
from tickets.models import LedgerApproval, LedgerEntry, Notification, Ticket
from tickets.roles import Role
from tickets.selectors import unread_notification_count

pytestmark = pytest.mark.django_db

REFUSED_ZH = "这笔赔偿是你登记的，不能自己审批，需由另一位主管审批。"
REFUSED_EN = "You recorded this compensation and cannot decide it yourself"


@pytest.fixture(autouse=True)
def limit(settings):
    settings.DESK_COMPENSATION_APPROVAL_THRESHOLD = Decimal("50")


@pytest.fixture
def colleague(shop_a):
    return make_user("boss-2", Role.SUPERVISOR, shops=[shop_a])


def record_from_the_ticket_page(client, user, shop, amount="80"):
    """``user`` records compensation above the limit through the ticket page's form."""
    order = make_order(shop, items=((Decimal("300.00"), 1),))
    ticket = make_ticket(order, user, kind=Ticket.Kind.COMPENSATION, reason=Ticket.Reason.QUALITY)
    client.force_login(user)
    page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    submission = page.split('name="submission" value="')[1].split('"')[0]
    client.post(
        reverse("tickets:ledger_record", args=[ticket.pk]),
        {
            "kind": "compensation",
            "amount": amount,
            "payment_method": LedgerEntry.PaymentMethod.ALIPAY_TRANSFER,
            "note": "",
            "submission": submission,
        },
    )
    entry = LedgerEntry.objects.get(ticket=ticket, kind="compensation")
    assert entry.requires_approval and entry.recorded_by == user
    return entry


def decide_url(entry):
    return reverse("tickets:approval_decide", args=[entry.pk])


def test_a_supervisor_cannot_approve_or_reject_their_own_compensation(
    client, supervisor, colleague, shop_a
):
    # given a supervisor records compensation above the limit on a ticket
    entry = record_from_the_ticket_page(client, supervisor, shop_a)
    # then their inbox shows it waiting for another supervisor, without the button
    inbox = client.get(reverse("tickets:inbox")).content.decode()
    assert "等待另一位主管审批" in inbox
    assert decide_url(entry) not in inbox
    dashboard = client.get(reverse("tickets:dashboard")).content.decode()
    assert "等待另一位主管审批" in dashboard and decide_url(entry) not in dashboard
    # and the approvals page shows it without the form
    approvals = client.get(reverse("tickets:approval_list")).content.decode()
    assert f'id="entry-{entry.pk}"' in approvals
    assert decide_url(entry) not in approvals and "等待另一位主管审批" in approvals
    # and nobody's bell but the colleague's asks for it
    assert unread_notification_count(supervisor) == 0
    assert unread_notification_count(colleague) == 1

    # when they post the decision by hand anyway, from each page it could come from
    for data in (
        {"approved": "1", "next": "inbox"},
        {"approved": "1", "next": "dashboard"},
        {"approved": "1"},
        {"approved": "0", "reason": "金额太高"},
    ):
        response = client.post(decide_url(entry), data, follow=True)
        # then it is refused, and says why in Chinese
        assert REFUSED_ZH in response.content.decode()
    assert not LedgerApproval.objects.filter(entry=entry).exists()

    # and in English for a supervisor working in English
    client.cookies["django_language"] = "en"
    response = client.post(decide_url(entry), {"approved": "1"}, follow=True)
    assert REFUSED_EN in response.content.decode()
    assert "Waiting for another supervisor" in client.get(reverse("tickets:inbox")).content.decode()
    assert not LedgerApproval.objects.filter(entry=entry).exists()

    # when another supervisor decides it from their inbox
    client.cookies["django_language"] = "zh-hans"
    client.force_login(colleague)
    assert decide_url(entry) in client.get(reverse("tickets:inbox")).content.decode()
    client.post(decide_url(entry), {"approved": "1", "next": "inbox"})
    # then it is approved, by the colleague, and leaves the colleague's bell
    decision = LedgerApproval.objects.get(entry=entry)
    assert decision.approved and decision.decided_by == colleague
    assert unread_notification_count(colleague) == 0
    assert Notification.objects.filter(recipient=supervisor, kind="approval_decided").count() == 1


def test_a_role_gained_after_recording_does_not_open_the_door(client, agent, shop_a, colleague):
    # trying to get around it: an agent records compensation, is then made a supervisor and
    # decides it; the rule is who recorded it, not the role they hold now
    entry = record_from_the_ticket_page(client, agent, shop_a)
    agent.groups.add(Group.objects.get(name=Role.SUPERVISOR.value))
    client.force_login(agent)
    assert "等待另一位主管审批" in client.get(reverse("tickets:inbox")).content.decode()
    response = client.post(decide_url(entry), {"approved": "0", "reason": "x"}, follow=True)
    assert REFUSED_ZH in response.content.decode()
    assert not LedgerApproval.objects.exists()


def test_a_superuser_is_refused_too_and_the_admin_decides_nothing(client, shop_a, colleague):
    # trying to get around it: a superuser supervisor (the admin's every permission) who
    # recorded the entry
    boss = make_user("root-boss", Role.SUPERVISOR, all_shops=True, is_staff=True)
    boss.is_superuser = True
    boss.save()
    entry = record_from_the_ticket_page(client, boss, shop_a)
    response = client.post(decide_url(entry), {"approved": "1"}, follow=True)
    assert REFUSED_ZH in response.content.decode()
    # the admin has no way to write an approval, nor to change or delete the entry
    assert client.get(reverse("admin:tickets_ledgerapproval_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:tickets_ledgerapproval_add"),
            {"entry": entry.pk, "approved": "on", "decided_by": boss.pk},
        ).status_code
        == 403
    )
    change = reverse("admin:tickets_ledgerentry_change", args=[entry.pk])
    client.post(change, {"requires_approval": ""})
    entry.refresh_from_db()
    assert entry.requires_approval
    assert not LedgerApproval.objects.exists()


def test_the_api_has_no_door_that_decides(client, supervisor, shop_a):
    entry = record_from_the_ticket_page(client, supervisor, shop_a)
    # the ledger endpoint reads only: a POST with the desk's session is no approval
    response = client.post(
        reverse("api:ledger"),
        {"id": entry.pk, "approval": "approved"},
        content_type="application/json",
    )
    assert response.status_code in (401, 403, 405)
    assert not LedgerApproval.objects.exists()
