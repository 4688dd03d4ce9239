"""Issue 11 review: postage on the unpacking screen is money paid out, so the screen never
types it in for the agent. The amount starts empty, the rate card's price is only suggested
(placeholder, a button that fills it in), and not even that when the buyer pays the postage;
postage goes only on a parcel that matched a ticket, where the ticket shows it."""

import pytest
from django.urls import reverse

from tests.factories import make_order, make_ticket
from tests.html_forms import form_defaults
from tickets.models import LedgerEntry, ReturnParcel, Ticket
from tickets.services.ledger import submission_key_issue

pytestmark = pytest.mark.django_db
S = Ticket.Status
UNPACK = reverse("tickets:parcel_unpack")


def scan(client, tracking_no):
    response = client.get(UNPACK + f"?tracking_no={tracking_no}")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("responsibility", "province", "suggested"),
    [
        (Ticket.Responsibility.SELLER, "新疆维吾尔自治区", "15.00"),  # the shop pays: suggested
        (Ticket.Responsibility.BUYER, "新疆维吾尔自治区", None),  # 运费由买家承担
    ],
)
def test_saving_the_scanned_parcel_as_shown_records_no_money(
    client, agent, shop_a, responsibility, province, suggested
):
    # given a return on its way back from a buyer in Xinjiang (15 yuan on the rate card)
    order = make_order(shop_a, receiver_province=province, receiver_city="乌鲁木齐市")
    ticket = make_ticket(
        order,
        agent,
        kind=Ticket.Kind.RETURN,
        status=S.AWAITING_RETURN,
        responsibility=responsibility,
        return_tracking_no="YT300",
    )
    client.force_login(agent)
    # when the agent scans it and presses Enter on the form as it is rendered
    html = scan(client, "YT300")
    data = form_defaults(html, UNPACK)
    assert data["postage-amount"] == ""
    response = client.post(UNPACK, data, follow=True)
    # then the parcel is registered on the ticket and no money is recorded
    assert response.status_code == 200
    assert ReturnParcel.objects.get().ticket == ticket
    assert not LedgerEntry.objects.exists()
    if suggested:
        # the rate card's price is offered, never filled in
        assert f'placeholder="建议 ¥{suggested}"' in html
        assert f'data-fill-value="{suggested}"' in html and f"填入建议 ¥{suggested}" in html
        assert "运费由买家承担" not in html
    else:
        assert "运费由买家承担，一般不登记" in html
        assert "填入建议" not in html and "data-fill-value" not in html


def test_the_suggested_amount_is_recorded_when_the_agent_takes_it(client, agent, shop_a):
    order = make_order(shop_a, receiver_province="新疆维吾尔自治区", receiver_city="乌鲁木齐市")
    make_ticket(
        order,
        agent,
        kind=Ticket.Kind.RETURN,
        status=S.AWAITING_RETURN,
        responsibility=Ticket.Responsibility.SELLER,
        return_tracking_no="YT301",
    )
    client.force_login(agent)
    data = form_defaults(scan(client, "YT301"), UNPACK)
    data["postage-amount"] = "15.00"  # what the "填入建议" button types
    client.post(UNPACK, data)
    assert LedgerEntry.objects.get().amount == 15


# --- postage only on a parcel that matched a ticket ------------------------------------
def postage_post(client, agent, **values):
    data = form_defaults(scan(client, values.pop("tracking_no")), UNPACK)
    data.update(values)
    return client.post(UNPACK, data, follow=True)


def test_an_unknown_parcel_is_offered_no_postage(client, agent, order_a):
    client.force_login(agent)
    html = scan(client, "YT400")
    assert "匹配不到售后单" in html
    assert 'name="postage-amount"' not in html and "邮费（可选）" not in html
    assert 'name="order_no"' in html


def test_a_hand_made_postage_on_a_parcel_without_a_ticket_is_refused(client, agent, order_a):
    # given an order with no ticket, and a parcel found for it by the order number on the slip
    client.force_login(agent)
    response = postage_post(
        client,
        agent,
        tracking_no="YT401",
        order_no=order_a.order_no,
        **{
            "postage-kind": "postage",
            "postage-amount": "12",
            "postage-payment_method": "alipay_transfer",
            "postage-submission": submission_key_issue(agent),
        },
    )
    # then the parcel is registered on the order (the agent scans on), the postage is not
    parcel = ReturnParcel.objects.get()
    assert (parcel.order, parcel.ticket) == (order_a, None)
    assert not LedgerEntry.objects.exists()
    levels = {str(m): m.level_tag for m in response.context["messages"]}
    refusal = next(text for text in levels if "邮费没有登记" in text)
    assert "包裹没有匹配到售后单" in refusal and levels[refusal] == "warning"


def test_postage_goes_on_the_ticket_the_order_number_finds(client, agent, order_a):
    ticket = make_ticket(order_a, agent, kind=Ticket.Kind.RETURN, status=S.AWAITING_RETURN)
    client.force_login(agent)
    postage_post(
        client,
        agent,
        tracking_no="YT402",
        order_no=order_a.order_no,
        **{
            "postage-kind": "postage",
            "postage-amount": "12",
            "postage-payment_method": "alipay_transfer",
            "postage-submission": submission_key_issue(agent),
        },
    )
    entry = LedgerEntry.objects.get()
    assert (entry.ticket, entry.amount) == (ticket, 12)
    page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    assert "登记邮费 ¥12.00" in page


def test_a_refused_save_still_shows_the_ticket_and_its_postage_field(client, agent, order_a):
    make_ticket(
        order_a,
        agent,
        kind=Ticket.Kind.RETURN,
        status=S.AWAITING_RETURN,
        return_tracking_no="YT403",
    )
    client.force_login(agent)
    data = form_defaults(scan(client, "YT403"), UNPACK)
    data["postage-amount"] = "-3"
    html = client.post(UNPACK, data).content.decode()
    assert not ReturnParcel.objects.exists() and not LedgerEntry.objects.exists()
    assert "匹配到售后单" in html and 'name="postage-amount"' in html and 'value="-3"' in html
