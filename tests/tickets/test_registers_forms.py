"""Every register form, posted through its page the way a browser does: a valid form writes
the row it says (and the page it leads to opens), an id of another shop is refused and writes
nothing, and money that is not money is a message on the form, never a 500."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_user
from tests.tickets.registers_helpers import make_sku, open_ticket, page_messages
from tickets.models import (
    Courier,
    CourierLossReport,
    HandoverNote,
    InvoiceRequest,
    LedgerEntry,
    PlatformIntervention,
    ProductFeedback,
    QualityProblem,
    Review,
    ReviewContact,
    VipCustomer,
    VipFollowUp,
    WrongShipment,
)
from tickets.roles import Role
from tickets.services.courier_losses import courier_loss_create, courier_loss_transition
from tickets.services.handover import handover_add
from tickets.services.interventions import intervention_register
from tickets.services.invoices import invoice_request_register
from tickets.services.reviews import review_compensate, review_register
from tickets.services.vips import vip_add, vip_follow_ups_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client, agent):
    client.force_login(agent)
    return client


def _local_minute(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _post(client, name, data, *args):
    return client.post(reverse(f"registers:{name}", args=args), data, follow=True)


def _landed(response, name, *args) -> None:
    """The POST went to the page of ``name`` and that page opened."""
    assert response.status_code == 200
    assert response.redirect_chain, "the form was shown again instead of saved"
    assert response.redirect_chain[-1][0].startswith(reverse(f"registers:{name}", args=args))


# --- create forms: a valid POST writes the row -----------------------------------------
def test_loss_form_writes_the_report(desk, agent, order_a):
    ticket = open_ticket(agent, order_a)
    response = _post(
        desk,
        "loss_new",
        {
            "order_no": order_a.order_no,
            "ticket_no": ticket.number,
            "courier": Courier.objects.get(code="yto").pk,
            "tracking_no": "yt 9001",
            "damage": "damaged",
            "items_description": "连衣裙 M",
            "items_value": "¥99.00",
            "shop_action": "reship",
            "claimed_amount": "80.5",
            "note": "外箱压坏",
        },
    )
    report = CourierLossReport.objects.get()
    _landed(response, "loss_detail", report.pk)
    assert (report.shop, report.order, report.ticket, report.courier.code) == (
        order_a.shop,
        order_a,
        ticket,
        "yto",
    )
    assert (report.tracking_no, report.damage, report.shop_action) == (
        "YT9001",
        "damaged",
        "reship",
    )
    assert (report.items_value, report.claimed_amount) == (Decimal("99.00"), Decimal("80.50"))
    assert (report.status, report.created_by, report.note) == ("drafted", agent, "外箱压坏")


def test_quality_form_writes_the_problem(desk, agent, shop_a, order_a):
    # given a real SKU (every SKU answered 500 here once)
    sku = make_sku("QX-RED-M", batch="2026-03")
    ticket = open_ticket(agent, order_a)
    # when the agent registers a complaint about it
    response = _post(
        desk,
        "quality_new",
        {
            "shop": shop_a.pk,
            "sku": " QX-RED-M ",
            "batch": "",
            "problem_type": "stitching",
            "order_no": order_a.order_no,
            "ticket_no": ticket.number,
            "description": "袖口开线",
        },
    )
    # then the row, with the SKU's batch, and its page opens
    problem = QualityProblem.objects.get()
    _landed(response, "quality_detail", problem.pk)
    assert (problem.shop, problem.sku, problem.batch, problem.problem_type) == (
        shop_a,
        sku,
        "2026-03",
        "stitching",
    )
    assert (problem.order, problem.ticket, problem.description, problem.reported_by) == (
        order_a,
        ticket,
        "袖口开线",
        agent,
    )


def test_quality_form_raises_the_production_alert(desk, shop_a, settings):
    settings.DESK_QUALITY_ALERT_COUNT = 2
    make_sku("QX-ALERT", batch="B9")
    data = {"shop": shop_a.pk, "sku": "QX-ALERT", "problem_type": "fabric"}
    _post(desk, "quality_new", data)
    response = _post(desk, "quality_new", data)
    assert QualityProblem.objects.count() == 2
    assert any("已提醒主管反馈生产" in m for m in page_messages(response))


def test_quality_form_names_an_unknown_sku(desk, shop_a):
    response = _post(
        desk, "quality_new", {"shop": shop_a.pk, "sku": "NO-SUCH", "problem_type": "smell"}
    )
    assert response.status_code == 200
    assert "没有这个商家编码" in response.content.decode()
    assert not QualityProblem.objects.exists()


def test_feedback_form_writes_the_feedback(desk, agent, order_a):
    sku = make_sku("FB&1 #2")  # a code that needs quoting in the list's URL
    response = _post(
        desk,
        "feedback_new",
        {"sku": sku.code, "topic": "size", "text": "偏小一码", "order_no": order_a.order_no},
    )
    row = ProductFeedback.objects.get()
    _landed(response, "feedback_list")
    assert (row.sku, row.topic, row.text, row.order, row.recorded_by) == (
        sku,
        "size",
        "偏小一码",
        order_a,
        agent,
    )
    assert "偏小一码" in response.content.decode()


def test_wrong_shipment_form_writes_the_row(desk, agent, order_a):
    ticket = open_ticket(agent, order_a)
    response = _post(
        desk,
        "wrong_new",
        {
            "order_no": order_a.order_no,
            "ticket_no": ticket.number,
            "kind": "wrong",
            "ordered_description": "红色 M",
            "sent_description": "蓝色 M",
            "packed_by": "小王",
            "listing_to_check": "on",
        },
    )
    row = WrongShipment.objects.get()
    _landed(response, "wrong_detail", row.pk)
    assert (row.shop, row.order, row.ticket, row.kind) == (order_a.shop, order_a, ticket, "wrong")
    assert (row.ordered_description, row.sent_description, row.packed_by) == (
        "红色 M",
        "蓝色 M",
        "小王",
    )
    assert row.listing_to_check and row.recorded_by == agent


def test_intervention_form_writes_the_case(desk, agent, order_a):
    deadline = timezone.localtime().replace(second=0, microsecond=0) + timedelta(days=2)
    response = _post(
        desk,
        "intervention_new",
        {
            "order_no": order_a.order_no,
            "case_no": "KF 2026 001",
            "reason": "买家申请退款，卖家未处理",
            "deadline": _local_minute(deadline),
            "evidence": "聊天记录截图",
        },
    )
    case = PlatformIntervention.objects.get()
    _landed(response, "intervention_detail", case.pk)
    assert (case.shop, case.order, case.case_no, case.reason) == (
        order_a.shop,
        order_a,
        "KF2026001",
        "买家申请退款，卖家未处理",
    )
    assert (case.deadline, case.evidence, case.outcome) == (deadline, "聊天记录截图", "pending")


def test_invoice_form_writes_the_request(desk, agent, order_a):
    response = _post(
        desk,
        "invoice_new",
        {"order_no": order_a.order_no, "title": "某某公司", "tax_no": "9142 01ab", "amount": "99"},
    )
    invoice = InvoiceRequest.objects.get()
    _landed(response, "invoice_detail", invoice.pk)
    assert (invoice.shop, invoice.order, invoice.title, invoice.tax_no) == (
        order_a.shop,
        order_a,
        "某某公司",
        "914201AB",
    )
    assert (invoice.amount, invoice.status, invoice.recorded_by) == (
        Decimal("99.00"),
        "requested",
        agent,
    )


def test_review_form_writes_the_review(desk, agent, order_a):
    made = timezone.localtime().replace(second=0, microsecond=0) - timedelta(hours=3)
    response = _post(
        desk,
        "review_new",
        {
            "order_no": order_a.order_no,
            "rating": "negative",
            "made_at": _local_minute(made),
            "text": "发货太慢",
        },
    )
    review = Review.objects.get()
    _landed(response, "review_detail", review.pk)
    assert (review.shop, review.order, review.rating, review.made_at, review.text) == (
        order_a.shop,
        order_a,
        "negative",
        made,
        "发货太慢",
    )
    assert (review.outcome, review.recorded_by, review.assignee) == ("pending", agent, None)


def test_handover_form_writes_the_item(desk, agent, shop_a, order_a):
    ticket = open_ticket(agent, order_a)
    response = _post(
        desk,
        "handover_new",
        {
            "shop": shop_a.pk,
            "shift_date": "2026-03-09",
            "ticket_no": ticket.number,
            "note": "买家等回电",
        },
    )
    item = HandoverNote.objects.get()
    _landed(response, "handover_list")
    assert (item.shop, item.ticket, item.order, item.shift_date) == (
        shop_a,
        ticket,
        order_a,
        date(2026, 3, 9),
    )
    assert (item.note, item.created_by, item.handled_at) == ("买家等回电", agent, None)


def test_vip_form_is_a_supervisors_and_writes_the_vip(client, agent, shop_a):
    # an agent may not add VIPs (tickets/roles.py: vipcustomer is view-only for agents)
    client.force_login(agent)
    assert client.get(reverse("registers:vip_new")).status_code == 403
    # the shop's supervisor may
    boss = make_user("boss-a", Role.SUPERVISOR, shops=[shop_a])
    client.force_login(boss)
    response = _post(
        client, "vip_new", {"shop": shop_a.pk, "buyer_nick": " 老顾客 ", "notes": "喜欢新款"}
    )
    vip = VipCustomer.objects.get()
    _landed(response, "vip_detail", vip.pk)
    assert (vip.shop, vip.buyer_nick, vip.notes, vip.is_active) == (
        shop_a,
        "老顾客",
        "喜欢新款",
        True,
    )


# --- row actions: a valid POST does what it says --------------------------------------
def test_follow_up_is_recorded_through_its_page(desk, agent, supervisor, shop_a):
    vip = vip_add(actor=supervisor, shop=shop_a, buyer_nick="老顾客")
    # A VIP since before this month (one added on a month's last day waits for the next).
    VipCustomer.objects.filter(pk=vip.pk).update(created_at=timezone.now() - timedelta(days=40))
    vip_follow_ups_plan(actor=supervisor, month=timezone.localdate())
    follow_up = VipFollowUp.objects.get()
    response = _post(
        desk, "follow_up_record", {"done": "on", "notes": "满意，想要新款"}, follow_up.pk
    )
    _landed(response, "vip_detail", vip.pk)
    follow_up.refresh_from_db()
    assert (follow_up.done, follow_up.notes, follow_up.done_by) == (True, "满意，想要新款", agent)
    assert follow_up.done_at is not None


def test_loss_moves_through_its_pages(client, agent, shop_a, order_a):
    report = courier_loss_create(
        actor=agent,
        order=order_a,
        courier=Courier.objects.get(code="yto"),
        tracking_no="YT1",
        damage="lost",
        items_description="外套",
        items_value="99",
        shop_action="refund",
        claimed_amount="80",
    )
    client.force_login(agent)
    for step in ("handed", "accepted"):
        response = _post(client, "loss_transition", {"to_status": step, "note": "已交"}, report.pk)
        _landed(response, "loss_detail", report.pk)
        report.refresh_from_db()
        assert report.status == step
    assert report.handed_at and report.decided_at and "已交" in report.note
    # the agent may not settle; finance of the shop may
    _post(client, "loss_transition", {"to_status": "settled", "received_amount": "60"}, report.pk)
    report.refresh_from_db()
    assert report.status == "accepted"
    client.force_login(make_user("money-a", Role.FINANCE, shops=[shop_a]))
    response = _post(
        client, "loss_transition", {"to_status": "settled", "received_amount": "60.50"}, report.pk
    )
    _landed(response, "loss_detail", report.pk)
    report.refresh_from_db()
    assert (report.status, report.received_amount) == ("settled", Decimal("60.50"))


def test_invoice_is_declined_through_its_page(desk, agent, order_a):
    invoice = invoice_request_register(actor=agent, order=order_a, title="某公司", amount="9")
    response = _post(desk, "invoice_decline", {"reason": "集市店不提供发票"}, invoice.pk)
    _landed(response, "invoice_detail", invoice.pk)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.decline_reason) == ("declined", "集市店不提供发票")


def test_invoice_is_issued_and_posted_through_its_page(client, agent, shop_a, order_a):
    invoice = invoice_request_register(actor=agent, order=order_a, title="某公司", amount="9")
    client.force_login(make_user("money-a", Role.FINANCE, shops=[shop_a]))
    _post(client, "invoice_issue", {"invoice_no": "0001"}, invoice.pk)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.invoice_no) == ("issued", "0001")
    response = _post(client, "invoice_issue", {"posting_tracking_no": "sf 12"}, invoice.pk)
    _landed(response, "invoice_detail", invoice.pk)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.invoice_no, invoice.posting_tracking_no) == (
        "posted",
        "0001",
        "SF12",
    )


def test_intervention_is_updated_through_its_page(desk, agent, order_a):
    case = intervention_register(actor=agent, order=order_a, case_no="C1", reason="未收到货")
    response = _post(
        desk, "intervention_update", {"evidence": "物流签收截图", "outcome": "won"}, case.pk
    )
    _landed(response, "intervention_detail", case.pk)
    case.refresh_from_db()
    assert (case.evidence, case.outcome) == ("物流签收截图", "won")
    assert case.closed_at is not None


def test_handover_item_is_handled_through_its_page(desk, agent, shop_a):
    item = handover_add(actor=agent, shop=shop_a, note="回电")
    response = _post(desk, "handover_handled", {"note": "已回电"}, item.pk)
    _landed(response, "handover_list")
    item.refresh_from_db()
    assert (item.handled_by, item.handled_note) == (agent, "已回电")


def test_review_is_contacted_compensated_and_closed_through_its_page(desk, agent, order_a):
    review = review_register(
        actor=agent,
        order=order_a,
        rating="negative",
        made_at=timezone.now() - timedelta(hours=1),
        assign=False,
    )
    # contact
    response = _post(desk, "review_contact", {"channel": "phone", "result": "答应改"}, review.pk)
    _landed(response, "review_detail", review.pk)
    contact = ReviewContact.objects.get()
    assert (contact.review, contact.agent, contact.channel, contact.result) == (
        review,
        agent,
        "phone",
        "答应改",
    )
    # compensate, with the key the page issued
    key = response.context["compensate_form"].initial["submission"]
    response = _post(
        desk,
        "review_compensate",
        {"amount": "10", "payment_method": "red_packet", "note": "旺旺红包", "submission": key},
        review.pk,
    )
    _landed(response, "review_detail", review.pk)
    entry = LedgerEntry.objects.get()
    assert (entry.order, entry.kind, entry.amount, entry.payment_method) == (
        order_a,
        "compensation",
        Decimal("10.00"),
        "red_packet",
    )
    assert entry.note == f"[中差评#{review.pk}] 旺旺红包"
    # close
    response = _post(
        desk, "review_close", {"outcome": "revised", "buyer_notes": "脾气急"}, review.pk
    )
    _landed(response, "review_detail", review.pk)
    review.refresh_from_db()
    assert (review.outcome, review.buyer_notes, review.assignee) == ("revised", "脾气急", agent)
    assert review.revised_at is not None


# --- another shop's ids in a create form -----------------------------------------------
@pytest.fixture
def shop_b_rows(shop_b, order_b, supervisor):
    return {"ticket": open_ticket(supervisor, order_b), "sku": make_sku("SKU-ANY")}


def _refused_cases():
    """(form, the model it writes, the fields, which of them name shop B)."""
    courier = {"damage": "lost", "items_description": "x", "items_value": "9"}
    loss = {**courier, "shop_action": "refund", "claimed_amount": "9", "tracking_no": "YT77"}
    return [
        ("loss_new", CourierLossReport, {**loss, "order_no": "B"}),
        ("loss_new", CourierLossReport, {**loss, "order_no": "A", "ticket_no": "B"}),
        ("quality_new", QualityProblem, {"shop": "B", "sku": "SKU-ANY", "problem_type": "smell"}),
        (
            "quality_new",
            QualityProblem,
            {"shop": "A", "sku": "SKU-ANY", "problem_type": "smell", "order_no": "B"},
        ),
        (
            "feedback_new",
            ProductFeedback,
            {"sku": "SKU-ANY", "topic": "size", "text": "x", "order_no": "B"},
        ),
        ("wrong_new", WrongShipment, {"order_no": "B", "kind": "wrong", "sent_description": "x"}),
        (
            "wrong_new",
            WrongShipment,
            {"order_no": "A", "ticket_no": "B", "kind": "wrong", "sent_description": "x"},
        ),
        (
            "intervention_new",
            PlatformIntervention,
            {"order_no": "B", "case_no": "K", "reason": "x"},
        ),
        (
            "intervention_new",
            PlatformIntervention,
            {"order_no": "A", "ticket_no": "B", "case_no": "K", "reason": "x"},
        ),
        ("invoice_new", InvoiceRequest, {"order_no": "B", "title": "x", "amount": "5"}),
        ("review_new", Review, {"order_no": "B", "rating": "neutral", "made_at": "NOW"}),
        ("handover_new", HandoverNote, {"shop": "B", "shift_date": "2026-03-09", "note": "x"}),
        (
            "handover_new",
            HandoverNote,
            {"shop": "A", "shift_date": "2026-03-09", "note": "x", "ticket_no": "B"},
        ),
        ("vip_new", VipCustomer, {"shop": "B", "buyer_nick": "B店顾客"}),
    ]


@pytest.mark.parametrize(
    ("name", "model", "fields"),
    _refused_cases(),
    ids=[f"{case[0]}-{'-'.join(sorted(case[2]))}" for case in _refused_cases()],
)
def test_another_shops_ids_in_a_create_form_write_nothing(
    client, shop_a, order_a, shop_b, order_b, shop_b_rows, name, model, fields
):
    # given a supervisor of shop A only (every permission a form needs, not shop B)
    client.force_login(make_user("boss-a", Role.SUPERVISOR, shops=[shop_a]))
    names = {
        ("order_no", "A"): order_a.order_no,
        ("order_no", "B"): order_b.order_no,
        ("ticket_no", "B"): shop_b_rows["ticket"].number,
        ("shop", "A"): shop_a.pk,
        ("shop", "B"): shop_b.pk,
        ("made_at", "NOW"): _local_minute(timezone.now()),
    }
    data = {key: names.get((key, value), value) for key, value in fields.items()}
    if name == "loss_new":
        data["courier"] = Courier.objects.get(code="yto").pk
    before = model.objects.count()
    # when they post a form naming shop B's order, ticket or shop
    response = client.post(reverse(f"registers:{name}"), data)
    # then the form answers with an error (or "not found") and nothing is written
    assert response.status_code in (200, 404)
    if response.status_code == 200:
        assert response.context["form"].errors
    assert model.objects.count() == before


# --- money that is not money ----------------------------------------------------------
NOT_MONEY = ["1e28", "1,2,3"]


@pytest.mark.parametrize("raw", NOT_MONEY)
@pytest.mark.parametrize("field", ["items_value", "claimed_amount"])
def test_loss_form_answers_bad_money_with_a_message(desk, order_a, raw, field):
    data = {
        "order_no": order_a.order_no,
        "courier": Courier.objects.get(code="yto").pk,
        "tracking_no": "YT5",
        "damage": "lost",
        "items_description": "x",
        "items_value": "50",
        "shop_action": "refund",
        "claimed_amount": "50",
        field: raw,
    }
    response = desk.post(reverse("registers:loss_new"), data)
    assert response.status_code == 200
    assert "不是有效的金额" in " ".join(response.context["form"].errors[field])
    assert not CourierLossReport.objects.exists()


@pytest.mark.parametrize("raw", NOT_MONEY)
def test_invoice_form_answers_bad_money_with_a_message(desk, order_a, raw):
    response = desk.post(
        reverse("registers:invoice_new"),
        {"order_no": order_a.order_no, "title": "x", "amount": raw},
    )
    assert response.status_code == 200
    assert "不是有效的金额" in " ".join(response.context["form"].errors["amount"])
    assert not InvoiceRequest.objects.exists()


@pytest.mark.parametrize("raw", NOT_MONEY)
def test_loss_settlement_answers_bad_money_with_a_message(client, agent, shop_a, order_a, raw):
    report = courier_loss_create(
        actor=agent,
        order=order_a,
        courier=Courier.objects.get(code="yto"),
        tracking_no="YT2",
        damage="lost",
        items_description="x",
        items_value="50",
        shop_action="refund",
        claimed_amount="50",
    )
    for step in ("handed", "accepted"):
        report = courier_loss_transition(actor=agent, report=report, to_status=step)
    client.force_login(make_user("money-a", Role.FINANCE, shops=[shop_a]))
    response = _post(
        client, "loss_transition", {"to_status": "settled", "received_amount": raw}, report.pk
    )
    _landed(response, "loss_detail", report.pk)
    assert any("不是有效的金额" in m for m in page_messages(response))
    report.refresh_from_db()
    assert (report.status, report.received_amount) == ("accepted", None)


@pytest.mark.parametrize("raw", NOT_MONEY)
def test_review_compensation_answers_bad_money_with_a_message(desk, agent, order_a, raw):
    review = review_register(actor=agent, order=order_a, rating="negative", made_at=timezone.now())
    page = desk.get(reverse("registers:review_detail", args=[review.pk]))
    key = page.context["compensate_form"].initial["submission"]
    response = _post(
        desk,
        "review_compensate",
        {"amount": raw, "payment_method": "red_packet", "submission": key},
        review.pk,
    )
    _landed(response, "review_detail", review.pk)
    assert any("不是有效的金额" in m for m in page_messages(response))
    assert not LedgerEntry.objects.exists()


def test_review_page_offers_only_what_is_left_of_the_standard(desk, agent, order_a):
    review = review_register(actor=agent, order=order_a, rating="negative", made_at=timezone.now())
    review_compensate(actor=agent, review=review, amount="4", payment_method="red_packet")
    page = desk.get(reverse("registers:review_detail", args=[review.pk]))
    assert page.context["room"] == Decimal("6.00")
    assert page.context["compensate_form"].initial["amount"] == Decimal("6.00")
