"""The registers' pages (issue 5): another shop's ids are a 404 on every URL, a login is needed
everywhere, mutating URLs refuse GET, roles are checked on the server, lists show no phone, and
the main flows work through the pages."""

import re
from datetime import timedelta

import pytest
from django.urls import URLPattern, get_resolver, reverse
from django.utils import timezone

from tests.factories import make_order, make_ticket, make_user
from tests.tickets.registers_helpers import make_sku
from tickets.models import (
    Courier,
    CourierLossReport,
    HandoverNote,
    InvoiceRequest,
    LedgerEntry,
    PlatformIntervention,
    ProductFeedback,
    ProductionAlert,
    QualityProblem,
    Review,
    ReviewContact,
    VipCustomer,
    VipFollowUp,
    WrongShipment,
)
from tickets.roles import Role
from tickets.services.courier_losses import courier_loss_create
from tickets.services.handover import handover_add
from tickets.services.interventions import intervention_register
from tickets.services.invoices import invoice_request_register
from tickets.services.quality import quality_problem_register
from tickets.services.reviews import review_register
from tickets.services.vips import vip_add, vip_follow_ups_plan
from tickets.services.wrong_shipments import wrong_shipment_register

pytestmark = pytest.mark.django_db


def _routes():
    patterns = next(
        p for p in get_resolver().url_patterns if getattr(p, "namespace", None) == "registers"
    )
    return [
        (p.name, sorted(p.pattern.converters))
        for p in patterns.url_patterns
        if isinstance(p, URLPattern)
    ]


ROUTES = _routes()
PK_ROUTES = [name for name, params in ROUTES if params == ["pk"]]
OBJECT_FOR = {
    "loss": "loss",
    "quality": "quality",
    "alert": "alert",
    "wrong": "wrong",
    "intervention": "intervention",
    "invoice": "invoice",
    "review": "review",
    "handover": "handover",
    "vip": "vip",
    "follow": "follow_up",
}
MODELS = (
    CourierLossReport,
    QualityProblem,
    ProductionAlert,
    ProductFeedback,
    WrongShipment,
    PlatformIntervention,
    InvoiceRequest,
    Review,
    ReviewContact,
    HandoverNote,
    VipCustomer,
    VipFollowUp,
    LedgerEntry,
)


def _snapshot():
    return tuple(
        (m.objects.count(), max((o.updated_at for o in m.objects.all()), default=None))
        if hasattr(m, "updated_at")
        else (m.objects.count(),)
        for m in MODELS
    )


@pytest.fixture
def objects_b(shop_b, supervisor, settings):
    """One of everything, in shop B."""
    settings.DESK_QUALITY_ALERT_COUNT = 1
    order = make_order(shop_b)
    ticket = make_ticket(order, supervisor)
    sku = make_sku()
    problem, alert = quality_problem_register(
        actor=supervisor, shop=shop_b, sku=sku, problem_type="fabric", order=order
    )
    vip = vip_add(actor=supervisor, shop=shop_b, buyer_nick="B店老顾客")
    # A VIP since before this month (one added on a month's last day waits for the next).
    VipCustomer.objects.filter(pk=vip.pk).update(created_at=timezone.now() - timedelta(days=40))
    vip_follow_ups_plan(month=timezone.localdate())
    return {
        "loss": courier_loss_create(
            actor=supervisor,
            order=order,
            courier=Courier.objects.get(code="yto"),
            tracking_no="YTB1",
            damage="lost",
            items_description="外套",
            items_value="99",
            shop_action="refund",
            claimed_amount="99",
        ),
        "quality": problem,
        "alert": alert,
        "wrong": wrong_shipment_register(
            actor=supervisor, order=order, kind="wrong", sent_description="红色 M"
        ),
        "intervention": intervention_register(
            actor=supervisor, order=order, case_no="CASE-B", reason="未收到货"
        ),
        "invoice": invoice_request_register(
            actor=supervisor, order=order, title="B公司", amount="50"
        ),
        "review": review_register(
            actor=supervisor, order=order, rating="negative", made_at=timezone.now()
        ),
        "handover": handover_add(actor=supervisor, shop=shop_b, ticket=ticket, note="B"),
        "vip": vip,
        "follow_up": VipFollowUp.objects.get(vip=vip),
    }


def _url(name, objects):
    params = dict(ROUTES)[name]
    if not params:
        return reverse(f"registers:{name}")
    if params == ["table"]:
        return reverse(f"registers:{name}", kwargs={"table": "days"})
    kwargs = {"pk": objects[OBJECT_FOR[name.split("_")[0]]].pk}
    if "entry_pk" in params:
        kwargs["entry_pk"] = 1  # a row under the object: the walk only needs the route
    return reverse(f"registers:{name}", kwargs=kwargs)


POST_DATA = {
    "to_status": "handed",
    "received_amount": "1",
    "reason": "x",
    "invoice_no": "1",
    "evidence": "x",
    "outcome": "won",
    "assignee": "me",
    "channel": "phone",
    "amount": "1",
    "payment_method": "red_packet",
    "done": "on",
    "notes": "x",
    "note": "x",
}


@pytest.mark.parametrize("name", PK_ROUTES)
def test_another_shops_ids_are_404_on_every_url(client, shop_a, objects_b, name):
    # given a supervisor of shop A only (every permission, not shop B)
    client.force_login(make_user("boss-a", Role.SUPERVISOR, shops=[shop_a]))
    url = _url(name, objects_b)
    before = _snapshot()
    # when they GET and POST shop B's ids
    answers = {client.get(url).status_code, client.post(url, POST_DATA).status_code}
    # then "not found" (or "wrong method"), and nothing changed
    assert answers <= {404, 405}, (url, answers)
    assert 404 in answers
    assert _snapshot() == before


def test_every_registers_url_needs_a_login(client, objects_b):
    for name, _params in ROUTES:
        response = client.get(_url(name, objects_b))
        assert response.status_code == 302 and "/login/" in response["Location"], name


MUTATING = [
    "loss_transition",
    "alert_sent",
    "intervention_update",
    "invoice_decline",
    "invoice_issue",
    "review_assign",
    "review_contact",
    "review_compensate",
    "review_compensation_reverse",
    "review_close",
    "handover_handled",
    "vip_plan",
    "follow_up_record",
]


@pytest.mark.parametrize("name", MUTATING)
def test_mutating_urls_refuse_get(client, supervisor, objects_b, name):
    client.force_login(supervisor)
    before = _snapshot()
    assert client.get(_url(name, objects_b)).status_code == 405
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("role", "name", "method"),
    [
        (Role.FINANCE, "loss_new", "get"),
        (Role.FINANCE, "review_new", "get"),
        (Role.FINANCE, "review_contact", "post"),
        (Role.FINANCE, "handover_list", "get"),
        (Role.FINANCE, "quality_new", "post"),
        (Role.AGENT, "alert_sent", "post"),
        (Role.AGENT, "vip_new", "get"),
    ],
)
def test_wrong_role_is_403_and_changes_nothing(client, shop_b, objects_b, role, name, method):
    client.force_login(make_user(role=role, shops=[shop_b]))
    before = _snapshot()
    response = getattr(client, method)(_url(name, objects_b), POST_DATA)
    assert response.status_code == 403
    assert _snapshot() == before


def test_every_list_and_detail_opens_for_the_shops_supervisor(client, supervisor, objects_b):
    client.force_login(supervisor)
    for name, _params in ROUTES:
        if name in MUTATING:
            continue
        response = client.get(_url(name, objects_b))
        assert response.status_code == 200, name
        if not response.streaming:  # the statistics download is checked in test_statistics
            assert not re.search(r"1\d{10}", response.content.decode()), name


def test_review_flow_through_the_pages(client, agent, order_a, settings):
    settings.DESK_REVIEW_MAX_CONTACTS_PER_DAY = 2
    client.force_login(agent)
    # when the agent registers a review
    made = timezone.localtime() - timedelta(hours=2)
    response = client.post(
        reverse("registers:review_new"),
        {
            "order_no": order_a.order_no,
            "rating": "neutral",
            "made_at": made.strftime("%Y-%m-%dT%H:%M"),
            "text": "<b>慢</b>",
        },
    )
    review = Review.objects.get()
    assert response.status_code == 302
    detail = reverse("registers:review_detail", args=[review.pk])
    page = client.get(detail).content.decode()
    assert "&lt;b&gt;慢&lt;/b&gt;" in page
    # then contacts, until the harassment guard refuses the third in a day
    for _ in range(3):
        client.post(reverse("registers:review_contact", args=[review.pk]), {"channel": "phone"})
    assert review.contacts.count() == 2
    page = client.get(detail).content.decode()
    assert "恶意骚扰" in page
    # compensation through the ledger, once per form key
    key = re.search(r'name="submission" value="([^"]+)"', page).group(1)
    for _ in range(2):
        client.post(
            reverse("registers:review_compensate", args=[review.pk]),
            {"amount": "5", "payment_method": "red_packet", "submission": key},
        )
    assert LedgerEntry.objects.filter(kind="compensation", order=order_a).count() == 1
    client.post(reverse("registers:review_close", args=[review.pk]), {"outcome": "revised"})
    review.refresh_from_db()
    assert review.outcome == "revised" and review.assignee == agent


def test_other_shops_order_number_is_not_found_in_forms(client, agent, order_b):
    client.force_login(agent)
    response = client.post(
        reverse("registers:invoice_new"),
        {"order_no": order_b.order_no, "title": "x", "amount": "5"},
    )
    assert response.status_code == 200
    assert not InvoiceRequest.objects.exists()


def test_tmall_invoice_page_offers_no_decline(client, supervisor, objects_b):
    client.force_login(supervisor)
    page = client.get(_url("invoice_detail", objects_b)).content.decode()
    assert reverse("registers:invoice_decline", args=[objects_b["invoice"].pk]) not in page
    response = client.post(_url("invoice_decline", objects_b), {"reason": "不开"})
    assert response.status_code == 302
    assert InvoiceRequest.objects.get().status == "requested"


def test_loss_print_page_is_a4(client, supervisor, objects_b):
    client.force_login(supervisor)
    html = client.get(_url("loss_print", objects_b)).content.decode()
    assert "YTB1" in html and "registers.css" in html


def test_list_queries_do_not_grow_with_rows(
    client, supervisor, objects_b, shop_b, django_assert_max_num_queries
):
    client.force_login(supervisor)
    for n in range(15):
        order = make_order(shop_b)
        review_register(
            actor=supervisor,
            order=order,
            rating="neutral",
            made_at=timezone.now() - timedelta(minutes=n),
        )
        courier_loss_create(
            actor=supervisor,
            order=order,
            courier=Courier.objects.get(code="zto"),
            tracking_no=f"Z{n}",
            damage="lost",
            items_description="x",
            items_value="9",
            shop_action="reship",
            claimed_amount="9",
        )
    for name in ("review_list", "loss_list", "invoice_list", "handover_list", "quality_list"):
        with django_assert_max_num_queries(12):
            assert client.get(reverse(f"registers:{name}")).status_code == 200


def test_dashboard_shows_alerts_interventions_and_flagged_handover(client, supervisor, objects_b):
    PlatformIntervention.objects.update(deadline=timezone.now() + timedelta(hours=5))
    HandoverNote.objects.update(shift_date=timezone.localdate() - timedelta(days=3))
    client.force_login(supervisor)
    html = client.get(reverse("tickets:dashboard")).content.decode()
    assert reverse("registers:alert_detail", args=[objects_b["alert"].pk]) in html
    assert "CASE-B" in html
    assert "12:00 未处理" in html


def test_agent_dashboard_has_no_alerts(client, agent, shop_a, settings):
    settings.DESK_QUALITY_ALERT_COUNT = 1
    quality_problem_register(actor=agent, shop=shop_a, sku=make_sku(), problem_type="smell")
    client.force_login(agent)
    html = client.get(reverse("tickets:dashboard")).content.decode()
    assert "registers/alerts/" not in html
