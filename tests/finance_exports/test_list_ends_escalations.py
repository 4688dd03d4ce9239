"""Hostile review of issue 13, the exchange list's part: shipping a line (which closes its
ticket) ends the ticket's escalation, and signing from the inbox comes back to the inbox.
Through the pages."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from finance_exports.builders import get_builder
from finance_exports.models import Sheet
from finance_exports.services import exchange_list_approve, sheet_build
from tests.factories import make_order
from tickets.models import Escalation, Order, Ticket, TicketEvent

from .helpers import queued_exchange

pytestmark = pytest.mark.django_db

S = Ticket.Status


@pytest.fixture(autouse=True)
def midnight_cut_off(settings):
    settings.FINANCE_SHEET_TIMES = {**settings.FINANCE_SHEET_TIMES, "exchanges": (0, 0)}


@pytest.fixture
def exchange_list(agent, shop_a):
    order = make_order(shop_a, status=Order.Status.SUCCESS, phone="13712345678")
    ticket = queued_exchange(agent, order)
    day = timezone.localdate() + timedelta(days=1)
    now = get_builder("exchanges").cutoff(day) + timedelta(minutes=1)
    return sheet_build(kind="exchanges", business_date=day, now=now), ticket


def url(name, *args):
    return reverse(f"finance_exports:{name}", args=args)


def test_shipping_a_line_ends_its_tickets_escalation(client, agent, supervisor, exchange_list):
    sheet, ticket = exchange_list
    client.force_login(agent)
    client.post(reverse("tickets:ticket_escalate", args=[ticket.pk]), {"reason": "买家催发货"})
    escalation = Escalation.objects.get(ticket=ticket)
    exchange_list_approve(actor=supervisor, sheet=sheet)
    client.force_login(supervisor)
    line = sheet.exchange_lines.get()
    client.post(url("exchange_line_ship", sheet.pk, line.pk), {"tracking_no": "SF1234567890"})
    ticket.refresh_from_db()
    escalation.refresh_from_db()
    assert ticket.status == S.CLOSED and not ticket.escalated
    assert escalation.decision == Escalation.Decision.TICKET_FINISHED
    assert escalation.decided_by == supervisor and escalation.decided_at == ticket.closed_at
    assert ticket.events.filter(kind=TicketEvent.Kind.ESCALATED).count() == 2
    inbox = client.get(reverse("tickets:inbox")).content.decode()
    assert f'id="escalation-{escalation.pk}"' not in inbox


def test_signing_from_the_inbox_comes_back_to_it(client, supervisor, exchange_list):
    sheet, _ticket = exchange_list
    client.force_login(supervisor)
    inbox = client.get(reverse("tickets:inbox")).content.decode()
    link = url("sheet_detail", sheet.pk) + "?next=inbox"
    assert f'href="{link}"' in inbox
    page = client.get(link).content.decode()
    assert '<input type="hidden" name="next" value="inbox">' in page
    response = client.post(url("exchange_approve", sheet.pk), {"next": "inbox"})
    assert response.status_code == 302 and response.url == reverse("tickets:inbox")
    sheet.refresh_from_db()
    assert sheet.status == Sheet.Status.APPROVED
    assert (
        url("sheet_detail", sheet.pk) not in client.get(reverse("tickets:inbox")).content.decode()
    )


@pytest.mark.parametrize("hostile", ["https://evil.example/", "//evil.example/", "/admin/"])
def test_a_hostile_next_on_the_list_is_ignored(client, supervisor, exchange_list, hostile):
    sheet, _ticket = exchange_list
    client.force_login(supervisor)
    page = client.get(url("sheet_detail", sheet.pk) + f"?next={hostile}").content.decode()
    approve_form = page.split(url("exchange_approve", sheet.pk), 1)[1].split("</form>", 1)[0]
    assert 'name="next"' not in approve_form
    response = client.post(url("exchange_approve", sheet.pk), {"next": hostile})
    assert response.status_code == 302 and response.url == sheet.get_absolute_url()
    sheet.refresh_from_db()
    assert sheet.status == Sheet.Status.APPROVED
