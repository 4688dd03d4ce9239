"""A shop's business hours are whole minutes and at least an hour long (hostile review of issue
13): the admin accepted 09:00:10-09:00:50, which the service-level clock read as 09:00-09:00 and
every page of the shop (and the supervisor's statistics, for every shop) answered 500; and
23:59:30-00:00 was a one-minute day that put a resolution twelve years away. The admin's form,
the model, the database constraint and ``BusinessHours`` now hold one rule, and hours stored
before it held fall back to the desk's default hours instead of breaking a page."""

from datetime import time
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from tests.factories import make_order, make_ticket
from tickets.business_hours import BusinessHours
from tickets.models import Shop, Ticket

pytestmark = pytest.mark.django_db
BEIJING = ZoneInfo("Asia/Shanghai")

SHOP_FORM = {
    "code": "hours",
    "name": "营业时间测试店",
    "kind": "c_store",
    "location": "wuhan",
    "is_active": "on",
    "return_address": "",
}


def store_past_the_rule(shop: Shop, opens: time, closes: time) -> None:
    """Writes hours the desk now refuses, as a database from before the rule may hold them:
    the constraint is lifted for this test's transaction (PostgreSQL rolls the DROP back;
    SQLite ignores CHECK constraints while the pragma is on)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE tickets_shop DROP CONSTRAINT shop_service_hours_valid")
        else:
            cursor.execute("PRAGMA ignore_check_constraints = ON")
        Shop.objects.filter(pk=shop.pk).update(service_opens_at=opens, service_closes_at=closes)
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA ignore_check_constraints = OFF")
    shop.refresh_from_db()


# --- the admin's form ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("opens", "closes", "says"),
    [
        ("09:00:10", "09:00:50", "请按 HH:MM 填写整分钟的时间"),
        ("23:59:30", "00:00", "请按 HH:MM 填写整分钟的时间"),
        ("09:00", "09:30", "下班时间至少要比上班时间晚 60 分钟"),
        ("23:59", "00:00", "下班时间至少要比上班时间晚 60 分钟"),
        ("18:00", "09:00", "下班时间必须晚于上班时间"),
        ("09:00", "", "要么都填，要么都留空"),
    ],
)
def test_the_admin_refuses_hours_the_clock_cannot_run_in(admin_client, opens, closes, says):
    data = {**SHOP_FORM, "service_opens_at": opens, "service_closes_at": closes}
    response = admin_client.post(reverse("admin:tickets_shop_add"), data)
    assert response.status_code == 200
    assert says in response.content.decode()
    assert not Shop.objects.filter(code="hours").exists()


def test_the_admin_keeps_whole_minute_hours_and_shows_them(admin_client):
    data = {**SHOP_FORM, "service_opens_at": "23:00", "service_closes_at": "00:00"}
    assert admin_client.post(reverse("admin:tickets_shop_add"), data).status_code == 302
    shop = Shop.objects.get(code="hours")
    assert (shop.service_opens_at, shop.service_closes_at) == (time(23), time(0))
    assert shop.business_hours.label() == "23:00-24:00"
    page = admin_client.get(reverse("admin:tickets_shop_change", args=[shop.pk])).content.decode()
    assert 'value="23:00"' in page and 'value="00:00"' in page  # HH:MM, no seconds
    listing = admin_client.get(reverse("admin:tickets_shop_changelist")).content.decode()
    assert "23:00-24:00" in listing


def test_the_admin_says_it_in_english(admin_client, settings):
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    data = {**SHOP_FORM, "service_opens_at": "09:00", "service_closes_at": "09:20"}
    page = admin_client.post(reverse("admin:tickets_shop_add"), data).content.decode()
    assert "at least 60 minutes after" in page
    assert "上班时间太短" not in page


# --- the model and the database ----------------------------------------------------------
@pytest.mark.parametrize(
    ("opens", "closes"),
    [
        (time(9, 0, 10), time(9, 0, 50)),
        (time(9), time(18, 0, 0, 500_000)),
        (time(23, 59, 30), time(0)),
        (time(23, 1), time(0)),
        (time(9), time(9, 59)),
    ],
)
def test_the_database_refuses_what_the_form_refuses(shop_a, opens, closes):
    shop_a.service_opens_at, shop_a.service_closes_at = opens, closes
    with pytest.raises(ValidationError) as refused:
        shop_a.full_clean()
    assert set(refused.value.message_dict) <= {"service_opens_at", "service_closes_at"}
    with pytest.raises(IntegrityError), transaction.atomic():
        Shop.objects.filter(pk=shop_a.pk).update(service_opens_at=opens, service_closes_at=closes)


@pytest.mark.parametrize(
    ("opens", "closes", "label"),
    [
        (time(23), time(0), "23:00-24:00"),
        (time(0), time(0), "00:00-24:00"),
        (time(9), time(10), "09:00-10:00"),
        (time(8, 30), time(21, 45), "08:30-21:45"),
    ],
)
def test_the_database_keeps_what_the_form_keeps(shop_a, opens, closes, label):
    shop_a.service_opens_at, shop_a.service_closes_at = opens, closes
    shop_a.full_clean()
    shop_a.save()
    shop_a.refresh_from_db()
    assert shop_a.business_hours.label() == label


def test_business_hours_refuse_seconds_and_short_days():
    with pytest.raises(ValueError, match="whole minutes"):
        BusinessHours.from_times(time(9, 0, 10), time(9, 0, 50), BEIJING)
    with pytest.raises(ValueError, match="at least 60 minutes"):
        BusinessHours.from_times(time(23, 59), time(0), BEIJING)
    with pytest.raises(ValueError):
        BusinessHours(540, 599, BEIJING)
    assert BusinessHours.from_times(time(23), time(0), BEIJING).label() == "23:00-24:00"


# --- hours stored before the rule: the default hours, never a 500 -------------------------
@pytest.fixture
def odd_shop(shop_a):
    store_past_the_rule(shop_a, time(9, 0, 10), time(9, 0, 50))
    return shop_a


def test_a_shop_with_stored_odd_hours_works_on_the_default_hours(
    client, agent, supervisor, odd_shop
):
    # given a ticket of a shop whose stored hours the clock cannot run in
    ticket = make_ticket(make_order(odd_shop), agent, kind=Ticket.Kind.RETURN)
    assert odd_shop.business_hours.label() == "00:00-24:00"  # the tests' default hours
    client.force_login(agent)
    # when the agent opens it and waits for the buyer
    page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk]))
    assert page.status_code == 200
    assert "00:00-24:00" in page.content.decode()
    answer = client.post(reverse("tickets:ticket_await_buyer", args=[ticket.pk]), {"text": "问"})
    assert answer.status_code == 302
    ticket.refresh_from_db()
    assert ticket.awaiting_buyer
    # and the supervisor's statistics, which read every shop's hours, still answer
    client.force_login(supervisor)
    assert client.get(reverse("registers:statistics")).status_code == 200


def test_the_admin_says_which_stored_hours_are_not_used(admin_client, odd_shop):
    page = admin_client.get(reverse("admin:tickets_shop_change", args=[odd_shop.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "客服时间 09:00:10-09:00:50 无效" in text and "暂按默认时间 00:00-24:00 计时" in text
    listing = admin_client.get(reverse("admin:tickets_shop_changelist")).content.decode()
    assert "所填时间无效，按默认 00:00-24:00 计时" in listing
    # saved as HH:MM, the shop's own hours hold again
    data = {
        **SHOP_FORM,
        "code": odd_shop.code,
        "name": odd_shop.name,
        "service_opens_at": "09:00",
        "service_closes_at": "18:00",
    }
    assert (
        admin_client.post(reverse("admin:tickets_shop_change", args=[odd_shop.pk]), data)
    ).status_code == 302
    odd_shop.refresh_from_db()
    assert odd_shop.business_hours_problem == ""
    assert odd_shop.business_hours.label() == "09:00-18:00"
