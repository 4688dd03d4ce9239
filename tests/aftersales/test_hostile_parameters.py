"""The cases issue 12 (section 1) names, each once, through the page the user uses: each was a
server error on PostgreSQL (``make test`` runs them on SQLite too). The whole kind is walked
by ``test_url_walk.py``."""

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import make_ticket
from tests.url_walk import form_classes
from tickets.forms import DeskDateField, DeskDateTimeField
from tickets.models import CourierLossReport, ReturnParcel, Ticket
from tickets.services import DeskError
from tickets.services.courier_losses import courier_loss_create
from tickets.services.parcels import parcel_unpack
from tickets.services.tickets import ticket_set_return_tracking

pytestmark = pytest.mark.django_db

HUGE_PAGE = "9223372036854775807"
OUT_OF_RANGE = "日期须在 2000-01-01 到 2099-12-31 之间。"
NUL_REFUSED = "提交的内容里有无法处理的控制字符（NUL）"


def test_a_nul_in_the_order_search_is_refused_with_a_message(client, agent, order_a):
    client.force_login(agent)
    response = client.get("/orders/?q=abc%00def")
    assert response.status_code == 400
    assert NUL_REFUSED in response.content.decode()


def test_a_nul_in_a_scanned_tracking_number_is_refused_with_a_message(client, agent, order_a):
    client.force_login(agent)
    response = client.get("/parcels/unpack/?tracking_no=YT12%0034")
    assert response.status_code == 400
    assert NUL_REFUSED in response.content.decode()
    assert not ReturnParcel.objects.exists()


def test_what_a_scanner_sends_around_a_number_is_not_part_of_it(client, agent, order_a):
    """STX/ETX, the group separator and ESC are scanner noise: the scan finds the ticket."""
    ticket = make_ticket(order_a, agent, kind=Ticket.Kind.RETURN)
    ticket_set_return_tracking(actor=agent, ticket=ticket, tracking_no="YT1234567890")
    client.force_login(agent)
    response = client.get("/parcels/unpack/", {"tracking_no": "\x02YT1234\x1d567890\x03\x1b"})
    assert response.status_code == 200
    assert response.context["lookup"]["tracking_no"] == "YT1234567890"
    assert response.context["lookup"]["ticket"] == ticket


def test_a_huge_page_number_on_the_ticket_list_shows_a_page(client, agent, order_a):
    make_ticket(order_a, agent)
    client.force_login(agent)
    response = client.get("/tickets/", {"page": HUGE_PAGE})
    assert response.status_code == 200
    assert response.context["page"] == 1


@pytest.mark.parametrize(
    "url", ["/registers/losses/", "/registers/reviews/", "/registers/handover/", "/finance/"]
)
def test_a_huge_page_number_on_a_register_list_shows_a_page(client, supervisor, url):
    client.force_login(supervisor)
    for page in (HUGE_PAGE, "9" * 30, "-1", "１２"):
        response = client.get(url, {"page": page})
        assert response.status_code == 200, (url, page)


@pytest.mark.parametrize("length", [41, 50, 60])
def test_a_tracking_number_longer_than_the_column_is_a_form_error(client, agent, length):
    client.force_login(agent)
    response = client.post(
        reverse("tickets:parcel_unpack"), {"tracking_no": "Y" * length, "condition": "intact"}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["tracking_no"] == [f"“退回运单号”最多 40 个字符（现在 {length} 个）"]
    assert not ReturnParcel.objects.exists()


def test_a_tracking_number_that_grows_when_normalised_is_refused_by_every_door(
    agent, supervisor, order_a
):
    """NFKC writes one character as many ('ﷺ' is 18 letters): 3 of them fit the form's 40
    but not the column, so the services check the number they store."""
    grows = "ﷺ" * 3
    with pytest.raises(DeskError, match="运单号最多 40 个字符"):
        parcel_unpack(actor=agent, tracking_no=grows, condition="intact")
    ticket = make_ticket(order_a, agent, kind=Ticket.Kind.RETURN)
    with pytest.raises(DeskError, match="运单号最多 40 个字符"):
        ticket_set_return_tracking(actor=agent, ticket=ticket, tracking_no=grows)
    with pytest.raises(DeskError, match="运单号最多 40 个字符"):
        courier_loss_create(
            actor=supervisor,
            order=order_a,
            courier=order_a.courier or _courier(),
            tracking_no=grows,
            damage="lost",
            items_description="卫衣",
            items_value="10",
            shop_action="reship",
            claimed_amount="10",
        )
    assert not ReturnParcel.objects.exists() and not CourierLossReport.objects.exists()


@pytest.mark.parametrize("digits", ["9" * 19, "9" * 25, "9223372036854775808"])
def test_an_id_beyond_64_bits_is_not_found(client, supervisor, order_a, digits):
    client.force_login(supervisor)
    for url in (f"/tickets/{digits}/", f"/orders/{digits}/", f"/registers/losses/{digits}/"):
        assert client.get(url).status_code == 404, url
        assert client.post(url + "note/" if "tickets" in url else url).status_code == 404


def _courier():
    from tickets.models import Courier

    return Courier.objects.order_by("pk").first()


def test_every_date_of_every_form_refuses_the_ends_of_the_calendar():
    """The kind: every date and date-time field of every form of the desk is the desk's
    bounded one, and the calendar's first and last days are refused with a message."""
    checked = 0
    for form_class in form_classes():
        for name, field in form_class.base_fields.items():
            if isinstance(field, forms.DateTimeField):
                assert isinstance(field, DeskDateTimeField), (form_class, name)
                values = ["0001-01-01T00:00", "9999-12-31T23:59"]
            elif isinstance(field, forms.DateField):
                assert isinstance(field, DeskDateField), (form_class, name)
                values = ["0001-01-01", "9999-12-31", "0001-01", "9999-12"]
            else:
                continue
            refused = []
            for value in values:
                with pytest.raises(ValidationError) as caught:
                    field.clean(value)
                refused += caught.value.messages
            assert OUT_OF_RANGE in refused, (form_class, name)
            checked += 1
    assert checked >= 8


def test_a_handover_on_the_last_day_of_the_calendar_is_a_form_error(client, supervisor, shop_a):
    client.force_login(supervisor)
    response = client.post(
        reverse("registers:handover_new"),
        {"shop": shop_a.pk, "shift_date": "9999-12-31", "note": "交接"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["shift_date"] == [
        "日期须在 2000-01-01 到 2099-12-31 之间。"
    ]
    assert client.get(reverse("registers:handover_list")).status_code == 200


def test_a_review_made_in_the_year_one_is_a_form_error(client, supervisor, order_a):
    client.force_login(supervisor)
    response = client.post(
        reverse("registers:review_new"),
        {"order_no": order_a.order_no, "rating": "negative", "made_at": "0001-01-01T00:00"},
    )
    assert response.status_code == 200
    assert "made_at" in response.context["form"].errors


def test_statistics_for_the_last_year_of_the_calendar_show_the_default_range(client, supervisor):
    client.force_login(supervisor)
    response = client.get(
        reverse("registers:statistics"), {"start": "9999-01-01", "end": "9999-12-31"}
    )
    assert response.status_code == 200
    export = client.get(
        reverse("registers:statistics_export", args=["agents"]),
        {"start": "9999-01-01", "end": "9999-12-31"},
    )
    assert export.status_code == 200
