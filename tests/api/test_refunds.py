"""Refunds in through the API (issue 16) exactly as the refund import: a refund record opens
the same ticket the CSV refund import opens, moves it where the workflow allows, registers a
platform intervention; all or nothing; only with the scope, only for the token's shops."""

import io

import pytest
from django.db import transaction

from api.scopes import Scope
from tickets.imports.run import Upload, import_files
from tickets.models import PlatformIntervention, RefundRequest, Ticket, TicketEvent

from .conftest import ApiClient, issue
from .records import as_files, order, refund, refunds_file

pytestmark = pytest.mark.django_db
ORDERS, REFUNDS = "/api/v1/orders/batches/", "/api/v1/refunds/batches/"
NO_1, NO_2 = "3515012345678901200", "3515012345678901300"
R_1, R_2 = "150012345678901", "150012345678902"


def tickets_of(shop):
    """The tickets and what the refund import keeps, without ids, shop and times of writing."""
    out = []
    for ticket in Ticket.objects.filter(shop=shop).order_by("order__order_no", "kind"):
        out.append(
            {
                "order": ticket.order.order_no,
                "kind": ticket.kind,
                "reason": ticket.reason,
                "responsibility": ticket.responsibility,
                "status": ticket.status,
                "description": ticket.description,
                "return_tracking_no": ticket.return_tracking_no,
                "clock_started_at": ticket.clock_started_at,
                "opened_by": ticket.opened_by.username,
                "items": sorted(
                    (i.order_item.sub_order_no, i.quantity) for i in ticket.items.all()
                ),
                "timeline": [
                    (e.kind, e.from_status, e.to_status, e.message)
                    for e in ticket.events.order_by("created_at", "id")
                ],
                "refund": RefundRequest.objects.filter(ticket=ticket)
                .values("refund_no", "status", "amount", "needs_return", "reason")
                .first(),
            }
        )
    cases = list(
        PlatformIntervention.objects.filter(shop=shop).values_list("case_no", "deadline", "reason")
    )
    return out, cases


def test_a_refund_record_opens_the_same_ticket_the_csv_refund_import_opens(api, erp_user, shop_a):
    orders = [order(NO_1), order(NO_2)]
    refunds = [
        refund(R_1, NO_1),
        refund(
            R_2,
            NO_2,
            needs_return="否",
            reason="质量问题",
            refund_status="卖家已经同意退款，等待买家退货",
            intervention="客服介入中",
            evidence_deadline="2026-03-08 12:00:00",
        ),
    ]
    # given what the CSV import makes of them, as the same account (then rolled back)
    orders_csv, items_csv = as_files(orders)
    with transaction.atomic():
        import_files(
            shop=shop_a,
            uploads=[
                Upload("orders", "o.csv", io.BytesIO(orders_csv)),
                Upload("items", "i.csv", io.BytesIO(items_csv)),
            ],
        )
        report = import_files(
            shop=shop_a,
            uploads=[Upload("refunds", "退款.csv", io.BytesIO(refunds_file(refunds)))],
            actor=erp_user,
        )
        assert report.applied, report.errors
        through_files = tickets_of(shop_a)
        transaction.set_rollback(True)
    assert not Ticket.objects.exists()
    # when the ERP sends the same records through the API
    assert api.post_json(ORDERS, {"shop": "shop-a", "orders": orders}).status_code == 200
    response = api.post_json(REFUNDS, {"shop": "shop-a", "refunds": refunds})
    assert response.status_code == 200, response.json()
    assert response.json()["counts"]["refunds"] == {"opened": 2, "interventions_created": 1}
    # then the same tickets, timelines, refund requests and interventions
    assert tickets_of(shop_a) == through_files
    assert Ticket.objects.filter(shop=shop_a).count() == 2
    # and the same batch again changes nothing
    again = api.post_json(REFUNDS, {"shop": "shop-a", "refunds": refunds})
    assert again.json()["counts"]["refunds"] == {"unchanged": 2}
    assert TicketEvent.objects.filter(ticket__shop=shop_a).count() == len(
        [e for t in tickets_of(shop_a)[0] for e in t["timeline"]]
    )


def test_a_refund_of_an_order_not_in_the_desk_imports_nothing_and_is_named(api, shop_a):
    api.post_json(ORDERS, {"shop": "shop-a", "orders": [order(NO_1)]})
    response = api.post_json(
        REFUNDS, {"shop": "shop-a", "refunds": [refund(R_1, NO_1), refund(R_2, NO_2)]}
    )
    assert response.status_code == 422
    detail = response.json()["error"]["details"]
    assert [(d["record"], d["field"]) for d in detail] == [("refunds[1]", "order_no")]
    assert "不在工作台里" in detail[0]["message"]
    assert not Ticket.objects.exists() and not RefundRequest.objects.exists()


def test_refunds_need_their_scope(root, erp_user, shop_a):
    orders_only = ApiClient(issue(root, erp_user, [Scope.ORDERS_WRITE], shops=[shop_a]))
    response = orders_only.post_json(REFUNDS, {"shop": "shop-a", "refunds": [refund(R_1, NO_1)]})
    assert response.status_code == 403


def test_a_refund_for_another_shop_is_refused(api, api_b, shop_a):
    api.post_json(ORDERS, {"shop": "shop-a", "orders": [order(NO_1)]})
    # the token of shop B can't name shop A, and in its own shop the order does not exist
    assert (
        api_b.post_json(REFUNDS, {"shop": "shop-a", "refunds": [refund(R_1, NO_1)]}).status_code
        == 400
    )
    response = api_b.post_json(REFUNDS, {"shop": "shop-b", "refunds": [refund(R_1, NO_1)]})
    assert response.status_code == 422 and not Ticket.objects.exists()


def test_an_unknown_refund_field_is_a_400(api):
    response = api.post_json(
        REFUNDS, {"shop": "shop-a", "refunds": [{**refund(R_1, NO_1), "buyer_phone": "1"}]}
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "buyer_phone"


def test_a_case_number_another_shop_holds_is_neither_revealed_nor_blocking(api, api_b, shop_a):
    """Issue 16 review 6: case numbers are unique per shop, so a token learns nothing of
    another shop's cases and cannot block them by registering their numbers first."""
    case = {"intervention": "客服介入中", "evidence_deadline": "2026-03-08 12:00:00"}
    # given shop A registered the number first (the same refund number, its own order)
    api.post_json(ORDERS, {"shop": "shop-a", "orders": [order(NO_1)]})
    response = api.post_json(REFUNDS, {"shop": "shop-a", "refunds": [refund(R_1, NO_1, **case)]})
    assert response.status_code == 200, response.json()
    ours = PlatformIntervention.objects.get(shop=shop_a)
    before = (ours.order_id, ours.ticket_id, ours.deadline, ours.updated_at)
    # when shop B's batch carries it, with a second case of its own
    api_b.post_json(ORDERS, {"shop": "shop-b", "orders": [order(NO_1), order(NO_2)]})
    response = api_b.post_json(
        REFUNDS,
        {
            "shop": "shop-b",
            "refunds": [
                refund(R_1, NO_1, **{**case, "evidence_deadline": "2026-03-09 12:00:00"}),
                refund(R_2, NO_2, **case),
            ],
        },
    )
    # then the whole batch is taken, B's cases are B's, A's is untouched and unnamed
    assert response.status_code == 200, response.json()
    assert response.json()["counts"]["refunds"] == {"opened": 2, "interventions_created": 2}
    assert "另一家" not in response.content.decode()
    theirs = PlatformIntervention.objects.filter(shop__code="shop-b").order_by("case_no")
    assert [(c.case_no, c.order.order_no) for c in theirs] == [(R_1, NO_1), (R_2, NO_2)]
    ours.refresh_from_db()
    assert (ours.order_id, ours.ticket_id, ours.deadline, ours.updated_at) == before
    # and A sending its record again updates its own case only
    response = api.post_json(
        REFUNDS,
        {
            "shop": "shop-a",
            "refunds": [refund(R_1, NO_1, **{**case, "evidence_deadline": "2026-03-10 12:00:00"})],
        },
    )
    assert response.json()["counts"]["refunds"] == {"updated": 1, "interventions_updated": 1}
    assert [c.deadline.day for c in theirs.all()] == [9, 8]


def test_a_refund_number_with_a_leading_zero_is_refused_on_both_doors(api, erp_user, shop_a):
    # given: the order is in the desk
    assert api.post_json(ORDERS, {"shop": "shop-a", "orders": [order(NO_1)]}).status_code == 200
    before = tickets_of(shop_a)
    # when: the refund comes with its number zero-padded, or its order's
    for record, field in (
        (refund("0" + R_1, NO_1), "refund_no"),
        (refund(R_1, "0" + NO_1), "order_no"),
    ):
        response = api.post_json(REFUNDS, {"shop": "shop-a", "refunds": [record]})
        # then: refused and named, as the refund file is
        assert response.status_code == 422
        detail = response.json()["error"]["details"][0]
        assert (detail["record"], detail["field"]) == ("refunds[0]", field)
        assert "以 0 开头" in detail["message"]
        report = import_files(
            shop=shop_a,
            uploads=[Upload("refunds", "refunds.csv", io.BytesIO(refunds_file([record])))],
            actor=erp_user,
        )
        assert not report.applied and "以 0 开头" in report.errors[0].message
    assert tickets_of(shop_a) == before
