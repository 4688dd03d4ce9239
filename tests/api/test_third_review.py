"""Issue 16, the third hostile review: faults found by a fresh reviewer, each tried through
the door the ERP uses (HTTP with a token) and on the way around it."""

import io
import threading

import pytest
from django.db import connection, connections

from api.scopes import Scope
from tickets.imports.run import Upload, import_files
from tickets.models import Order, RefundRequest, Ticket

from .conftest import ApiClient, issue
from .records import as_files, order, refund, refunds_file

ORDERS, REFUNDS = "/api/v1/orders/batches/", "/api/v1/refunds/batches/"
NO_1, NO_2 = "3515012345678901200", "3515012345678901300"
R_1 = "150012345678901"

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite takes one writer at a time anyway"
)


def at_once(count: int, send) -> list:
    """``send()`` in ``count`` threads released together; their answers (or exceptions)."""
    answers, barrier = [], threading.Barrier(count)

    def run():
        barrier.wait()
        try:
            answers.append(send())
        except Exception as exc:  # the test asserts there is none
            answers.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


# --- 1, 2: the same new records in two batches at once -------------------------------------
@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_same_new_refund_three_times_at_once_opens_one_ticket_and_no_500(
    root, erp_user, shop_a
):
    token = issue(root, erp_user, [Scope.ORDERS_WRITE, Scope.REFUNDS_WRITE], shops=[shop_a])
    client = ApiClient(token)
    assert client.post_json(ORDERS, {"shop": "shop-a", "orders": [order(NO_1)]}).status_code == 200
    batch = {"shop": "shop-a", "refunds": [refund(R_1, NO_1)]}
    answers = at_once(3, lambda: ApiClient(token).post_json(REFUNDS, batch))
    assert sorted(a.status_code for a in answers) == [200, 200, 200], answers
    counts = sorted(str(a.json()["counts"]["refunds"]) for a in answers)
    assert counts == ["{'opened': 1}", "{'unchanged': 1}", "{'unchanged': 1}"]
    assert RefundRequest.objects.count() == 1 and Ticket.objects.count() == 1


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_same_new_refund_by_file_and_by_api_at_once_opens_one_ticket(root, erp_user, shop_a):
    token = issue(root, erp_user, [Scope.ORDERS_WRITE, Scope.REFUNDS_WRITE], shops=[shop_a])
    assert (
        ApiClient(token).post_json(ORDERS, {"shop": "shop-a", "orders": [order(NO_1)]}).status_code
        == 200
    )
    records = [refund(R_1, NO_1)]
    turn = iter(range(2))

    def send():
        if next(turn) == 0:
            return ApiClient(token).post_json(REFUNDS, {"shop": "shop-a", "refunds": records})
        return import_files(
            shop=shop_a,
            uploads=[Upload("refunds", "退款.csv", io.BytesIO(refunds_file(records)))],
            actor=erp_user,
        )

    answers = at_once(2, send)
    assert not [a for a in answers if isinstance(a, Exception)], answers
    report = next(a for a in answers if not hasattr(a, "status_code"))
    response = next(a for a in answers if hasattr(a, "status_code"))
    assert report.applied, report.errors
    assert response.status_code == 200, response.json()
    assert RefundRequest.objects.count() == 1 and Ticket.objects.count() == 1


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_batches_with_the_same_new_orders_at_once_both_succeed(root, erp_user, shop_a):
    token = issue(root, erp_user, [Scope.ORDERS_WRITE], shops=[shop_a])
    batch = {"shop": "shop-a", "orders": [order(NO_1), order(NO_2)]}
    answers = at_once(2, lambda: ApiClient(token).post_json(ORDERS, batch))
    assert [a.status_code for a in answers] == [200, 200], [a.content for a in answers]
    created = sorted(a.json()["counts"]["orders"].get("created", 0) for a in answers)
    assert created == [0, 2]
    assert Order.objects.filter(shop=shop_a).count() == 2
    assert "duplicate key" not in "".join(a.content.decode() for a in answers)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_same_new_orders_by_file_and_by_api_at_once_both_succeed(root, erp_user, shop_a):
    token = issue(root, erp_user, [Scope.ORDERS_WRITE], shops=[shop_a])
    records = [order(NO_1), order(NO_2)]
    orders_csv, items_csv = as_files(records)
    turn = iter(range(2))

    def send():
        if next(turn) == 0:
            return ApiClient(token).post_json(ORDERS, {"shop": "shop-a", "orders": records})
        return import_files(
            shop=shop_a,
            uploads=[
                Upload("orders", "o.csv", io.BytesIO(orders_csv)),
                Upload("items", "i.csv", io.BytesIO(items_csv)),
            ],
        )

    answers = at_once(2, send)
    report = next(a for a in answers if not hasattr(a, "status_code"))
    response = next(a for a in answers if hasattr(a, "status_code"))
    assert report.applied, report.errors
    assert response.status_code == 200, response.json()
    assert Order.objects.filter(shop=shop_a).count() == 2


# --- 3: a new line on the timeline is a change a sync job sees ----------------------------
CHANGES = "/api/v1/tickets/changes/"


@pytest.mark.django_db
def test_notes_promises_and_refund_news_reach_the_changes_endpoint(root, erp_user, shop_a):
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import make_order, make_ticket
    from tickets.services.tickets import promise_add, ticket_note

    token = issue(
        root,
        erp_user,
        [Scope.ORDERS_WRITE, Scope.REFUNDS_WRITE, Scope.TICKETS_READ],
        shops=[shop_a],
    )
    client = ApiClient(token)
    noted, promised, untouched = (make_ticket(make_order(shop_a), erp_user) for _ in range(3))
    assert client.post_json(ORDERS, {"shop": "shop-a", "orders": [order(NO_1)]}).status_code == 200
    assert (
        client.post_json(REFUNDS, {"shop": "shop-a", "refunds": [refund(R_1, NO_1)]}).status_code
        == 200
    )
    refunded = Ticket.objects.get(order__order_no=NO_1)
    # given every ticket last changed an hour ago, and a sync job that read up to now
    Ticket.objects.update(updated_at=timezone.now() - timedelta(hours=1))
    since = timezone.now() - timedelta(seconds=1)
    assert client.get(CHANGES, {"since": since.isoformat()}).json()["results"] == []
    # when an agent notes one, promises on another, and the seller centre's news lands on the
    # third (the buyer raised the amount: a refund-status note, no field of the ticket changed)
    ticket_note(actor=erp_user, ticket=noted, text="已电话联系买家")
    promise_add(actor=erp_user, ticket=promised, kind="postage", text="退回运费报销")
    raised = refund(R_1, NO_1, amount="120.00")
    answer = client.post_json(REFUNDS, {"shop": "shop-a", "refunds": [raised]})
    assert answer.json()["counts"]["refunds"] == {"updated": 1}
    # then the sync job sees those three, oldest change first, and not the untouched one
    seen = [
        row["id"] for row in client.get(CHANGES, {"since": since.isoformat()}).json()["results"]
    ]
    assert seen == [noted.pk, promised.pk, refunded.pk]
    assert untouched.pk not in seen


# --- 4: a field an order record does not send keeps what the desk has ---------------------
@pytest.mark.django_db
def test_a_field_left_out_or_null_keeps_what_is_stored_and_an_empty_text_clears_it(
    root, erp_user, shop_a
):
    client = ApiClient(issue(root, erp_user, [Scope.ORDERS_WRITE], shops=[shop_a]))
    full = [order(NO_1, items=[]), order(NO_2, items=[])]
    assert client.post_json(ORDERS, {"shop": "shop-a", "orders": full}).status_code == 200
    # when the ERP sends the first order without phone, address and receiver, and remark
    # null, beside a second order that clears its phone and receiver with "" (the same batch
    # has the columns, so the old reading took the first order's absence as empty cells)
    left_out = order(NO_1, items=[], remark=None, status="交易成功")
    for name in ("mobile", "address", "receiver_name"):
        del left_out[name]
    cleared = order(NO_2, items=[], mobile="", receiver_name="")
    response = client.post_json(ORDERS, {"shop": "shop-a", "orders": [left_out, cleared]})
    assert response.status_code == 200, response.json()
    kept, wiped = Order.objects.get(order_no=NO_1), Order.objects.get(order_no=NO_2)
    # then what was not sent is kept, what was sent changed
    assert kept.status == Order.Status.SUCCESS
    assert (kept.receiver_phone, kept.receiver_phone_tail) == ("13912345678", "5678")
    assert (kept.receiver_name, kept.receiver_city) == ("张三", "武汉市")
    assert kept.receiver_address.startswith("江汉区") or "解放大道" in kept.receiver_address
    # and "" clears, as an empty cell of the export does
    assert (wiped.receiver_phone, wiped.receiver_name) == ("", "")
    assert wiped.receiver_city == "武汉市"  # its address was sent as it was


@pytest.mark.django_db
def test_a_new_order_without_optional_fields_is_created_with_them_empty(root, erp_user, shop_a):
    client = ApiClient(issue(root, erp_user, [Scope.ORDERS_WRITE], shops=[shop_a]))
    bare = {
        "order_no": NO_1,
        "buyer_nick": "小鱼爱吃猫",
        "status": "买家已付款，等待卖家发货",
        "placed_at": "2026-03-01 10:15:30",
        "mobile": None,
    }
    response = client.post_json(ORDERS, {"shop": "shop-a", "orders": [bare, order(NO_2, items=[])]})
    assert response.status_code == 200, response.json()
    created = Order.objects.get(order_no=NO_1)
    assert (created.receiver_phone, created.receiver_name, created.paid_amount) == ("", "", 0)


@pytest.mark.django_db
def test_a_required_field_left_out_of_one_record_is_still_refused_by_name(api, shop_a):
    record = order(NO_1, items=[])
    del record["buyer_nick"]
    response = api.post_json(ORDERS, {"shop": "shop-a", "orders": [order(NO_2), record]})
    assert response.status_code == 422
    detail = response.json()["error"]["details"][0]
    assert (detail["record"], detail["field"]) == ("orders[1]", "buyer_nick")
    assert not Order.objects.exists()


# --- 5: the buyer's nickname is personal data --------------------------------------------
@pytest.mark.django_db
def test_the_nickname_is_masked_without_personal_data_read_on_every_ticket_endpoint(
    root, erp_user, shop_a
):
    from tests.factories import make_order, make_ticket
    from tickets.models import PersonalDataAccess
    from tickets.privacy import mask_nick

    ticket = make_ticket(make_order(shop_a, buyer_nick="小鱼爱吃猫"), erp_user)
    reader = ApiClient(issue(root, erp_user, [Scope.TICKETS_READ], shops=[shop_a]))
    since = "2000-01-01T00:00:00Z"
    bodies = [
        reader.get("/api/v1/tickets/?status=").content.decode(),
        reader.get(CHANGES, {"since": since}).content.decode(),
        reader.get(f"/api/v1/tickets/{ticket.pk}/").content.decode(),
    ]
    for body in bodies:
        assert "小鱼爱吃猫" not in body
        assert mask_nick("小鱼爱吃猫") == "小鱼***猫" and "小鱼***猫" in body
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.django_db
def test_the_nickname_is_whole_with_personal_data_read_and_the_read_is_recorded(
    root, erp_user, shop_a
):
    from tests.factories import make_order, make_ticket
    from tickets.models import PersonalDataAccess

    ticket = make_ticket(make_order(shop_a, buyer_nick="小鱼爱吃猫"), erp_user)
    reader = ApiClient(
        issue(root, erp_user, [Scope.TICKETS_READ, Scope.PERSONAL_DATA_READ], shops=[shop_a])
    )
    listed = reader.get("/api/v1/tickets/?status=").json()["results"]
    assert [row["buyer_nick"] for row in listed] == ["小鱼爱吃猫"]
    detail = reader.get(f"/api/v1/tickets/{ticket.pk}/").json()
    assert detail["buyer_nick"] == detail["order"]["buyer_nick"] == "小鱼爱吃猫"
    reads = list(PersonalDataAccess.objects.order_by("pk").values_list("user", "order", "fields"))
    assert reads == [
        (erp_user.pk, ticket.order_id, "buyer_nick"),
        (erp_user.pk, ticket.order_id, "receiver_name,receiver_phone,receiver_address,buyer_nick"),
    ]


# --- 6: junk calls write a bounded record -------------------------------------------------
@pytest.mark.django_db
def test_thousands_of_junk_calls_write_a_handful_of_rows(monkeypatch, root, erp_user, shop_a):
    from api.models import ApiCall, ApiToken
    from api.throttling import RefusedTokenThrottle, TokenRateThrottle
    from api.tokens import token_revoke

    rates = {**TokenRateThrottle.THROTTLE_RATES, "api_refused": "30/min"}
    monkeypatch.setattr(RefusedTokenThrottle, "THROTTLE_RATES", rates)
    revoked = issue(root, erp_user, [Scope.TICKETS_READ], shops=[shop_a])
    token_revoke(actor=root, token=ApiToken.objects.get())
    wrong = ApiClient("dsk_" + "B" * 43)
    # when one address sends 3,000 wrong tokens, malformed headers and a revoked token
    answers = [wrong.get("/api/v1/tickets/").status_code for _ in range(2_990)]
    answers += [
        ApiClient().get("/api/v1/tickets/", HTTP_AUTHORIZATION="Bearer a b").status_code,
        *(ApiClient(revoked).get("/api/v1/tickets/").status_code for _ in range(9)),
    ]
    # then 30 were looked up and refused, the rest held back
    assert answers.count(401) == 30 and answers.count(429) == 2_970
    # and the record holds one row per reason
    reasons = list(ApiCall.objects.order_by("id").values_list("reason", flat=True))
    assert reasons == ["unknown", "throttled"]


# --- 7: the limits hold under calls at once ------------------------------------------------
def shared_cache(settings, request):
    """The desk's cache as production counts in it: Redis when the run has one (its own
    prefix), else memory; both count atomically."""
    import os

    url = os.environ.get("REDIS_URL")
    if url:
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": url,
                "KEY_PREFIX": f"h16b-{request.node.name}-{os.getpid()}-{id(request)}",
            }
        }


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_per_token_limit_holds_for_calls_at_once(
    settings, request, monkeypatch, root, erp_user, shop_a
):
    from api.throttling import TokenRateThrottle

    shared_cache(settings, request)
    rates = {**TokenRateThrottle.THROTTLE_RATES, "api": "30/min"}
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", rates)
    # one window for the whole test (conftest holds the clock): an edge would let 30 more in
    token = issue(root, erp_user, [Scope.TICKETS_READ], shops=[shop_a])

    def burst():
        client = ApiClient(token)
        return [client.get("/api/v1/token/").status_code for _ in range(20)]

    statuses = [code for answer in at_once(4, burst) for code in answer]
    assert statuses.count(200) == 30 and statuses.count(429) == 50


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_refused_token_limit_holds_for_calls_at_once(settings, request, monkeypatch):
    from api.throttling import RefusedTokenThrottle

    shared_cache(settings, request)
    rates = {**RefusedTokenThrottle.THROTTLE_RATES, "api_refused": "30/min"}
    monkeypatch.setattr(RefusedTokenThrottle, "THROTTLE_RATES", rates)

    def burst():
        client = ApiClient("dsk_" + "C" * 43)
        return [client.get("/api/v1/tickets/").status_code for _ in range(20)]

    statuses = [code for answer in at_once(4, burst) for code in answer]
    assert statuses.count(401) == 30 and statuses.count(429) == 50


# --- 8: a refund asked above what the buyer paid -------------------------------------------
@pytest.mark.django_db
def test_a_refund_above_what_was_paid_is_imported_with_a_warning_on_both_doors(
    api, erp_user, shop_a
):
    from django.db import transaction

    orders = {"shop": "shop-a", "orders": [order(NO_1), order(NO_2)]}
    assert api.post_json(ORDERS, orders).status_code == 200
    asked = [refund(R_1, NO_1, amount="99999.00")]
    # the CSV refund import (rolled back) warns on the amount's column
    with transaction.atomic():
        report = import_files(
            shop=shop_a,
            uploads=[Upload("refunds", "退款.csv", io.BytesIO(refunds_file(asked)))],
            actor=erp_user,
        )
        assert report.applied
        assert [(w.line, w.column) for w in report.warnings] == [(2, "买家退款金额")]
        assert "99999.00" in report.warnings[0].message and "188.00" in report.warnings[0].message
        transaction.set_rollback(True)
    # and the API the same, on the record's amount
    response = api.post_json(REFUNDS, {"shop": "shop-a", "refunds": asked})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert [(w["record"], w["field"]) for w in body["warnings"]] == [("refunds[0]", "amount")]
    assert body["warning_count"] == 1
    # a request within what was paid says nothing
    within = api.post_json(
        REFUNDS, {"shop": "shop-a", "refunds": [refund("150012345678909", NO_2, amount="188.00")]}
    )
    assert within.status_code == 200, within.json()
    assert within.json()["warnings"] == []


# --- 9: messages and shapes ------------------------------------------------------------------
@pytest.mark.django_db
def test_refund_errors_are_named_on_the_field_they_are_about(api, shop_a):
    assert api.post_json(ORDERS, {"shop": "shop-a", "orders": [order(NO_1)]}).status_code == 200
    assert (
        api.post_json(REFUNDS, {"shop": "shop-a", "refunds": [refund(R_1, NO_1)]}).status_code
        == 200
    )
    api.post_json(ORDERS, {"shop": "shop-a", "orders": [order(NO_2)]})
    response = api.post_json(
        REFUNDS,
        {
            "shop": "shop-a",
            "refunds": [refund("150012345678905", "3515099999999999900"), refund(R_1, NO_2)],
        },
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert [(d["record"], d["field"]) for d in error["details"]] == [
        ("refunds[0]", "order_no"),
        ("refunds[1]", "refund_no"),
    ]
    assert error["error_count"] == 2


@pytest.mark.django_db
def test_every_error_has_an_error_count_and_english_counts_in_the_singular(api, shop_a):
    unauthenticated = ApiClient("dsk_" + "D" * 43).get("/api/v1/tickets/").json()["error"]
    assert unauthenticated["error_count"] == 0
    not_found = api.get("/api/v1/tickets/999999/").json()["error"]
    assert not_found["error_count"] == 0
    bad = order(NO_1, status="不知道")
    one = api.post_json(ORDERS, {"shop": "shop-a", "orders": [bad]}, HTTP_ACCEPT_LANGUAGE="en")
    assert one.json()["error"]["message"].startswith("This batch has 1 error;")
    two = api.post_json(
        ORDERS,
        {"shop": "shop-a", "orders": [bad, order(NO_2, status="也不知道")]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert two.json()["error"]["message"].startswith("This batch has 2 errors;")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ({"HTTP_CONTENT_ENCODING": "gzip"}, "gzip"),
        ({"CONTENT_TYPE": "application/json; charset=gbk"}, "gbk"),
        ({"CONTENT_TYPE": 'application/json; charset="GB2312"'}, "gb2312"),
    ],
)
def test_a_compressed_or_non_utf8_body_is_a_415_that_says_so(api, shop_a, extra, said):
    import gzip
    import json

    body = json.dumps({"shop": "shop-a", "orders": [order(NO_1)]}, ensure_ascii=False)
    # the test client encodes a text body in the charset the Content-Type names
    data = gzip.compress(body.encode()) if "HTTP_CONTENT_ENCODING" in extra else body
    kwargs = {"content_type": extra.pop("CONTENT_TYPE", "application/json"), **extra}
    response = api.post(ORDERS, data, **kwargs)
    assert response.status_code == 415
    error = response.json()["error"]
    assert error["code"] == "unsupported_media_type" and said in error["message"]
    assert not Order.objects.exists()
    # and UTF-8 said outright, in any spelling, is taken
    ok = api.post(ORDERS, body.encode(), content_type="application/json; charset=UTF-8")
    assert ok.status_code == 200, ok.json()
