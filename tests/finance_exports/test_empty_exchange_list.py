"""An exchange-goods list with no exchange on it asks for no signature (issue 13 review). The
supervisor's signature lets the warehouse send the listed goods out (DOMAIN.md "The daily
routine" 5); a list with none has nothing to authorise, so it is built "ready" (not "waiting
for a signature"), no inbox or dashboard asks for it, its page offers no signature, and a
signature posted anyway is refused. A list whose last line is taken off becomes the same."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from finance_exports.builders import get_builder
from finance_exports.models import Sheet
from finance_exports.services import exchange_list_approve, sheet_build
from tests.factories import make_order
from tickets.models import Order, Ticket

from .helpers import queued_exchange, workbook

pytestmark = pytest.mark.django_db

S = Ticket.Status


@pytest.fixture(autouse=True)
def midnight_cut_off(settings):
    settings.FINANCE_SHEET_TIMES = {**settings.FINANCE_SHEET_TIMES, "exchanges": (0, 0)}


def build_list(days_ahead=1):
    day = timezone.localdate() + timedelta(days=days_ahead)
    now = get_builder("exchanges").cutoff(day) + timedelta(minutes=1)
    return sheet_build(kind="exchanges", business_date=day, now=now)


def url(name, *args):
    return reverse(f"finance_exports:{name}", args=args)


def asks_for_a_signature(client, supervisor, sheet) -> bool:
    """Whether anything the supervisor opens asks them to sign ``sheet``: the inbox, the
    dashboard, the sheet's page (its button) and the sheets list (its "check and sign")."""
    client.force_login(supervisor)
    when = f"{sheet.business_date:%Y-%m-%d}"
    inbox = client.get(reverse("tickets:inbox")).content.decode()
    dashboard = client.get(reverse("tickets:dashboard")).content.decode()
    detail = client.get(url("sheet_detail", sheet.pk)).content.decode()
    listing = client.get(url("sheet_list")).content.decode()
    return (
        f"换货清单 {when} 待签字" in inbox
        or f"换货清单 {when} 待签字" in dashboard
        or 'id="approve-list"' in detail
        or "核对签字" in listing
    )


def test_a_list_with_no_exchange_is_ready_and_asks_nobody_to_sign(client, supervisor):
    # given no exchange was queued before the cut-off
    sheet = build_list()
    # then the list is ready, with a file that says no signature is needed
    assert (sheet.status, sheet.row_count) == (Sheet.Status.READY, 0)
    assert sheet.has_file
    assert workbook(sheet)["换货清单"]["A2"].value == "没有要发出的换货，不需要签字。"
    # and nothing asks the supervisor to sign it; its page says it needs no signature
    assert not asks_for_a_signature(client, supervisor, sheet)
    detail = client.get(url("sheet_detail", sheet.pk)).content.decode()
    assert "没有要发出的换货，不需要签字" in detail
    assert "不需要签字" in client.get(url("sheet_list")).content.decode()
    # and the inbox's count does not hold it
    assert client.get(reverse("tickets:inbox")).context["inbox"] == []


def test_a_signature_posted_for_an_empty_list_is_refused(client, supervisor):
    sheet = build_list()
    client.force_login(supervisor)
    response = client.post(url("exchange_approve", sheet.pk), {"next": "inbox"}, follow=True)
    assert "这份换货清单没有要发出的换货，不需要签字。" in response.content.decode()
    sheet.refresh_from_db()
    assert (sheet.status, sheet.approved_by) == (Sheet.Status.READY, None)
    # in English too
    client.cookies["django_language"] = "en"
    response = client.post(url("exchange_approve", sheet.pk), follow=True)
    assert "has no goods to send out, so it needs no signature" in response.content.decode()


def test_a_list_whose_last_line_is_taken_off_asks_for_no_signature(
    client, agent, supervisor, shop_a
):
    # given a signed list of one exchange
    ticket = queued_exchange(agent, make_order(shop_a, status=Order.Status.SUCCESS))
    sheet = exchange_list_approve(actor=supervisor, sheet=build_list())
    line = sheet.exchange_lines.get()
    # when the supervisor takes its line off from the page
    client.force_login(supervisor)
    client.post(url("exchange_line_remove", sheet.pk, line.pk), {"reason": "买家不换了"})
    # then the signature is void and nothing is left to sign: the list is ready
    sheet.refresh_from_db()
    assert (sheet.status, sheet.row_count, sheet.approved_by) == (Sheet.Status.READY, 0, None)
    assert workbook(sheet)["换货清单"]["A2"].value == "没有要发出的换货，不需要签字。"
    ticket.refresh_from_db()
    assert ticket.status == S.QUEUED_FOR_EXCHANGE
    assert "清单已没有换货，不需要再签字" in ticket.events.last().message
    assert not asks_for_a_signature(client, supervisor, sheet)
    response = client.post(url("exchange_approve", sheet.pk), follow=True)
    assert "不需要签字" in response.content.decode()
    sheet.refresh_from_db()
    assert sheet.status == Sheet.Status.READY


def test_a_list_built_empty_before_this_rule_is_not_asked_for_either(client, supervisor):
    # trying to get around it: a list left "waiting for a signature" with no line (built
    # before lists with none were made ready) is neither asked for nor signed
    sheet = build_list()
    Sheet.objects.filter(pk=sheet.pk).update(status=Sheet.Status.AWAITING_APPROVAL)
    sheet.refresh_from_db()
    client.force_login(supervisor)
    inbox = client.get(reverse("tickets:inbox")).content.decode()
    assert "待签字" not in inbox
    response = client.post(url("exchange_approve", sheet.pk), follow=True)
    assert "这份换货清单没有要发出的换货，不需要签字。" in response.content.decode()
    sheet.refresh_from_db()
    assert sheet.approved_by is None


def test_a_list_with_exchanges_still_waits_for_its_signature(client, agent, supervisor, shop_a):
    queued_exchange(agent, make_order(shop_a, status=Order.Status.SUCCESS))
    sheet = build_list()
    assert (sheet.status, sheet.row_count) == (Sheet.Status.AWAITING_APPROVAL, 1)
    assert asks_for_a_signature(client, supervisor, sheet)
