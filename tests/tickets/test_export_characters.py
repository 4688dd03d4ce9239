"""The agents' downloads with characters a spreadsheet cannot hold (issue 12, section 2): the
ticket list's export and every statistics table open in openpyxl, each text as typed but for
the characters XML 1.0 cannot hold."""

import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from aftersales.spreadsheets import NOT_IN_XML
from tests.factories import make_entry, make_order, make_ticket, make_user
from tickets.models import LedgerEntry, OrderItem, Shop, Ticket, User
from tickets.roles import Role

pytestmark = pytest.mark.django_db

# What XML 1.0 cannot hold and a database can (PostgreSQL refuses NUL).
FORBIDDEN = "\x01\x08\x0b\x0c\x0e\x1f\ufffe\uffff"


def dirty(text: str) -> str:
    return f"{text[:1]}{FORBIDDEN}{text[1:]}"


def opened(response) -> str:
    """The download read back by openpyxl in full; fails when it does not open or still holds
    a character XML cannot."""
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    text = "\n".join(
        str(value)
        for worksheet in book.worksheets
        for row in worksheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    )
    assert not NOT_IN_XML.search(text)
    return text


@pytest.fixture
def dirty_desk(shop_a, agent, supervisor):
    """A shop, an agent and an order whose texts (from the admin and the seller centre's
    export) carry the characters, and a ticket assigned to the agent with its money."""
    Shop.objects.filter(pk=shop_a.pk).update(name=dirty("测试店铺甲"))
    User.objects.filter(pk=agent.pk).update(last_name=dirty("王"), first_name=dirty("小二"))
    order = make_order(shop_a, buyer_nick=dirty("小鱼爱吃猫"))
    OrderItem.objects.filter(order=order).update(title=dirty("纯棉宽松T恤"))
    ticket = make_ticket(order, agent, kind=Ticket.Kind.RETURN, assignee=agent)
    Ticket.objects.filter(pk=ticket.pk).update(return_tracking_no=dirty("YT7001"))
    make_entry(order, agent, "5.00", kind=LedgerEntry.Kind.COMPENSATION)
    return ticket


def test_the_ticket_list_export_opens(client, agent, dirty_desk):
    client.force_login(agent)
    text = opened(client.get(reverse("tickets:ticket_export"), {"status": ""}))
    for shown in (dirty_desk.number, "测试店铺甲", "王小二", "YT7001", "小***猫"):
        assert shown in text


@pytest.mark.parametrize(
    ("table", "shown"),
    [("agents", ["王小二"]), ("products", ["纯棉宽松T恤"]), ("days", ["新建售后单"])],
)
def test_every_statistics_table_opens(client, supervisor, dirty_desk, table, shown):
    client.force_login(supervisor)
    today = timezone.localdate().isoformat()
    response = client.get(
        reverse("registers:statistics_export", args=[table]), {"start": today, "end": today}
    )
    text = opened(response)
    for value in shown:
        assert value in text


def test_a_name_made_only_of_the_characters_still_gives_a_file_that_opens(
    client, supervisor, shop_a
):
    agent = make_user("ghost", Role.AGENT, shops=[shop_a], last_name=FORBIDDEN)
    make_ticket(make_order(shop_a), agent, assignee=agent, resolved_at=timezone.now())
    client.force_login(supervisor)
    today = timezone.localdate().isoformat()
    response = client.get(
        reverse("registers:statistics_export", args=["agents"]), {"start": today, "end": today}
    )
    opened(response)
