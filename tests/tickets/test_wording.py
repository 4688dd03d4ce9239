"""English wording the hostile review of issue 13 found wrong: "售后单" is translated as the plural
("Tickets", right for the list and the menu), so one ticket's page was headed "Tickets
T00000473" and one ticket's field or column read "Tickets"; the escalation history panel was
titled with the button's verb ("Escalate"). Where one ticket is meant, the word carries the
context "singular"."""

import re

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import translation

from finance_exports.models import ExchangeLine
from tests.factories import make_order, make_ticket
from tickets.models import (
    Escalation,
    LedgerApproval,
    Notification,
    QuickReply,
    SavedView,
    Ticket,
    TicketEvent,
)
from tickets.services.tickets import ticket_escalate

pytestmark = pytest.mark.django_db


@pytest.fixture
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def heading(html: str) -> str:
    inner = re.search(r"<h1>(.*?)</h1>", html, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", inner).split())


def test_one_tickets_page_is_headed_in_the_singular(english, agent, shop_a):
    ticket = make_ticket(make_order(shop_a), agent)
    english.force_login(agent)
    html = english.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    assert heading(html) == f"Ticket {ticket.number}"
    # the list and the menu are about many
    listing = english.get(reverse("tickets:ticket_list")).content.decode()
    assert heading(listing) == "Tickets"
    assert ">Tickets</a>" in listing


def test_the_escalation_history_is_titled_with_a_noun(english, agent, shop_a):
    ticket = make_ticket(make_order(shop_a), agent)
    ticket_escalate(actor=agent, ticket=ticket, reason="买家不接受补偿")
    english.force_login(agent)
    html = english.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    panel = html[html.index('id="escalations"') :]
    assert re.search(r"<h2[^>]*>Escalations</h2>", panel)
    assert ">Escalate</h2>" not in html


@pytest.mark.parametrize(
    ("model", "field"),
    [
        (TicketEvent, "ticket"),
        (Escalation, "ticket"),
        (Notification, "ticket"),
        (ExchangeLine, "ticket"),
    ],
)
def test_a_field_holding_one_ticket_is_named_in_the_singular(model, field):
    with translation.override("en"):
        assert str(model._meta.get_field(field).verbose_name) == "Ticket"


@pytest.mark.parametrize(
    ("model", "one", "many"),
    [
        (Ticket, "Ticket", "Tickets"),
        (Escalation, "Escalation", "Escalations"),
        (Notification, "Notification", "Notifications"),
        (QuickReply, "Quick reply", "Quick replies"),
        (SavedView, "Saved view", "Saved views"),
        (LedgerApproval, "Compensation approval", "Approvals"),
    ],
)
def test_a_model_is_one_thing_and_its_plural_many(model, one, many):
    with translation.override("en"):
        assert (str(model._meta.verbose_name), str(model._meta.verbose_name_plural)) == (one, many)


def test_the_admin_adds_one_ticket_item_in_the_singular(admin_client, settings):
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert QuickReply in admin.site._registry
    page = admin_client.get(reverse("admin:tickets_quickreply_add")).content.decode()
    assert "Add Quick reply" in page or "Add quick reply" in page
    assert "Add Quick replies" not in page
