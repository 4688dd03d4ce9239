"""Orders and items in through the API (issue 16) with exactly the semantics of the CSV order
import: the same records through either door give the same rows; the same batch twice changes
nothing; one bad record and nothing is imported, each bad record named; idempotent by the
client's key; another shop's code is refused."""

import io
import threading

import pytest
from django.db import connection, connections

from api.models import ApiBatch, ApiCall
from tests.factories import make_order
from tickets.imports.run import Upload, import_files
from tickets.models import Order, OrderItem

from .records import as_files, order

pytestmark = pytest.mark.django_db
URL = "/api/v1/orders/batches/"
NO_1, NO_2, NO_3 = "3515012345678901200", "3515012345678901300", "1899001122334455600"


def snapshot(shop):
    orders = list(Order.objects.filter(shop=shop).order_by("order_no").values())
    items = list(
        OrderItem.objects.filter(order__shop=shop)
        .order_by("order__order_no", "sub_order_no")
        .values()
    )
    return orders, items


def comparable(shop):
    """What the import wrote, without the row ids, shop and timestamps."""
    orders, items = snapshot(shop)
    skip = {"id", "shop_id", "updated_at", "order_id"}
    return (
        [{k: v for k, v in row.items() if k not in skip} for row in orders],
        [{k: v for k, v in row.items() if k not in skip} for row in items],
    )


def test_the_same_records_through_the_api_and_the_csv_import_give_the_same_rows(
    api, shop_a, shop_b
):
    records = [
        order(NO_1),
        order(NO_2, status="交易成功", paid_amount="¥1,188.50", goods_amount="1,200元"),
        order(NO_3, status="等待买家付款", paid_at="", shipped_at="", tracking_no="", items=[]),
    ]
    # when the ERP sends them to shop A
    response = api.post_json(URL, {"shop": "shop-a", "orders": records})
    # and the same records come as export files for shop B
    orders_csv, items_csv = as_files(records)
    report = import_files(
        shop=shop_b,
        uploads=[
            Upload("orders", "orders.csv", io.BytesIO(orders_csv)),
            Upload("items", "items.csv", io.BytesIO(items_csv)),
        ],
    )
    # then both doors wrote the same orders and items
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["applied"] is True and body["replayed"] is False
    assert body["counts"]["orders"] == {"created": 3} and body["counts"]["items"] == {"created": 4}
    assert report.applied and report.counted("orders") == {"created": 3}
    assert comparable(shop_a) == comparable(shop_b)
    assert Order.objects.get(shop=shop_a, order_no=NO_2).paid_amount == 1188.50
    # and the call is on the record with how many records it carried
    call = ApiCall.objects.get(endpoint="orders.batch")
    assert (call.status_code, call.records) == (200, 7)


def test_the_same_batch_twice_changes_nothing(api, shop_a):
    batch = {"shop": "shop-a", "orders": [order(NO_1), order(NO_2)]}
    assert api.post_json(URL, batch).status_code == 200
    before = snapshot(shop_a)
    # when the ERP sends it again (a retry, no key)
    again = api.post_json(URL, batch)
    # then every order and item is left alone, updated_at included
    assert again.status_code == 200
    assert again.json()["counts"] == {
        "orders": {"unchanged": 2},
        "items": {"unchanged": 4},
        "refunds": {},
    }
    assert snapshot(shop_a) == before


def test_with_an_idempotency_key_the_second_batch_does_not_even_run(api, shop_a):
    batch = {"shop": "shop-a", "orders": [order(NO_1)]}
    first = api.post_json(URL, batch, HTTP_IDEMPOTENCY_KEY="erp-2026-03-01-0001")
    before = snapshot(shop_a)
    # the same batch, its keys in another order, with the same key
    shuffled = {"orders": [dict(reversed(order(NO_1).items()))], "shop": "shop-a"}
    second = api.post_json(URL, shuffled, HTTP_IDEMPOTENCY_KEY="erp-2026-03-01-0001")
    assert second.status_code == 200
    assert second.json() == {**first.json(), "replayed": True}
    assert snapshot(shop_a) == before and ApiBatch.objects.count() == 1
    # another batch under a used key is a conflict, and imports nothing
    other = api.post_json(
        URL, {"shop": "shop-a", "orders": [order(NO_2)]}, HTTP_IDEMPOTENCY_KEY="erp-2026-03-01-0001"
    )
    assert other.status_code == 409 and other.json()["error"]["code"] == "conflict"
    assert not Order.objects.filter(order_no=NO_2).exists()


def test_one_bad_record_imports_nothing_and_is_named(api, shop_a):
    existing = make_order(shop_a, order_no=NO_3)
    before = snapshot(shop_a)
    records = [
        order(NO_1),
        order(NO_2, paid_amount="1e28"),
        order(NO_3, status="买家已付款"),  # fine on its own: the batch still imports nothing
        order("3.515E+18", items=[]),
    ]
    response = api.post_json(URL, {"shop": "shop-a", "orders": records})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "refused" and error["error_count"] == 2
    named = {(d["record"], d["field"]) for d in error["details"]}
    assert named == {("orders[1]", "paid_amount"), ("orders[3]", "order_no")}
    assert "什么都没有导入" in error["message"]
    # nothing changed: NO_1 was not created, NO_3 not touched
    assert snapshot(shop_a) == before
    existing.refresh_from_db()
    # and a refused batch keeps no key: the corrected batch may use it
    records[1]["paid_amount"], records[3]["order_no"] = "188.00", "3515012345678901400"
    fixed = api.post_json(URL, {"shop": "shop-a", "orders": records}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert fixed.status_code == 200


def test_a_bad_item_is_named_by_its_order_and_place(api, shop_a):
    record = order(NO_1)
    record["items"][1]["quantity"] = "两件"
    response = api.post_json(URL, {"shop": "shop-a", "orders": [record]})
    assert response.status_code == 422
    detail = response.json()["error"]["details"][0]
    assert (detail["record"], detail["field"]) == ("orders[0].items[1]", "quantity")
    assert not Order.objects.filter(order_no=NO_1).exists()


def test_status_only_moves_forward_and_closed_is_final(api, shop_a):
    api.post_json(URL, {"shop": "shop-a", "orders": [order(NO_1, status="交易成功")]})
    older = api.post_json(URL, {"shop": "shop-a", "orders": [order(NO_1, status="买家已付款")]})
    assert older.json()["counts"]["orders"] == {"stale": 1}
    assert Order.objects.get(order_no=NO_1).status == Order.Status.SUCCESS
    api.post_json(URL, {"shop": "shop-a", "orders": [order(NO_1, status="交易关闭")]})
    api.post_json(URL, {"shop": "shop-a", "orders": [order(NO_1, status="交易成功")]})
    assert Order.objects.get(order_no=NO_1).status == Order.Status.CLOSED


def test_the_platform_api_status_names_are_read_too(api, shop_a):
    response = api.post_json(
        URL, {"shop": "shop-a", "orders": [order(NO_1, status="WAIT_BUYER_CONFIRM_GOODS")]}
    )
    assert response.status_code == 200
    assert Order.objects.get(order_no=NO_1).status == Order.Status.SHIPPED


def test_a_field_left_out_of_every_record_is_left_as_the_desk_has_it(api, shop_a):
    api.post_json(URL, {"shop": "shop-a", "orders": [order(NO_1)]})
    record = order(NO_1, remark="加急")
    del record["mobile"], record["items"]
    response = api.post_json(URL, {"shop": "shop-a", "orders": [record]})
    assert response.json()["counts"]["orders"] == {"updated": 1}
    saved = Order.objects.get(order_no=NO_1)
    assert saved.receiver_phone == "13912345678" and saved.remark == "加急"
    assert saved.items.count() == 2


def test_numbers_are_read_as_written_never_through_a_float(api, shop_a):
    record = order(NO_1, paid_amount=0.1, goods_amount=198, postage=None)
    record["items"][0]["quantity"] = 1
    response = api.post_json(URL, {"shop": "shop-a", "orders": [record]})
    assert response.status_code == 200, response.json()
    saved = Order.objects.get(order_no=NO_1)
    assert str(saved.paid_amount) == "0.10" and str(saved.postage) == "0.00"


@pytest.mark.parametrize(
    ("batch", "where"),
    [
        ({"shop": "shop-a"}, "orders"),
        ({"shop": "shop-a", "orders": {"order_no": "1"}}, "orders"),
        ({"shop": "shop-a", "orders": ["3515012345678901200"]}, ""),
        ({"shop": "shop-a", "orders": [{**order(NO_1), "colour": "red"}]}, "colour"),
        ({"shop": "shop-a", "orders": [{**order(NO_1), "paid_amount": True}]}, "paid_amount"),
        ({"shop": "shop-a", "orders": [{**order(NO_1), "remark": {"a": 1}}]}, "remark"),
        ({"shop": "shop-a", "orders": [{**order(NO_1), "items": "x"}]}, "items"),
        ({"shop": "shop-a", "orders": [{**order(NO_1), "remark": "长" * 10001}]}, "remark"),
    ],
)
def test_records_not_of_the_documented_shape_are_a_400(api, shop_a, batch, where):
    response = api.post_json(URL, batch)
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid" and any(d["field"] == where for d in error["details"])
    assert not Order.objects.exists()


def test_too_many_records_are_refused(api, settings):
    settings.DESK_API_MAX_RECORDS = 2
    response = api.post_json(URL, {"shop": "shop-a", "orders": [order(NO_1)] * 3})
    assert response.status_code == 400
    assert "最多 2 条" in response.json()["error"]["details"][0]["message"]


@pytest.mark.parametrize("shop", ["shop-b", "no-such-shop", None, 7, ""])
def test_a_shop_outside_the_token_is_refused(api, shop_b, shop):
    response = api.post_json(URL, {"shop": shop, "orders": [order(NO_1)]})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "shop"
    assert not Order.objects.exists()


def test_an_inactive_shop_takes_no_orders(api, shop_a):
    shop_a.is_active = False
    shop_a.save()
    assert api.post_json(URL, {"shop": "shop-a", "orders": [order(NO_1)]}).status_code == 400


def test_the_shop_name_column_is_not_taken(api, shop_a):
    response = api.post_json(URL, {"shop": "shop-a", "orders": [order(NO_1, shop_name="x")]})
    assert response.status_code == 400


@pytest.mark.django_db(transaction=True)
def test_two_batches_with_one_key_at_once_import_once(root, erp_user, shop_a):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite takes one writer at a time anyway")
    from api.scopes import Scope

    from .conftest import ApiClient, issue

    token = issue(root, erp_user, [Scope.ORDERS_WRITE], shops=[shop_a])
    batch = {"shop": "shop-a", "orders": [order(NO_1), order(NO_2)]}
    answers, barrier = [], threading.Barrier(2)

    def send():
        barrier.wait()
        try:
            answers.append(ApiClient(token).post_json(URL, batch, HTTP_IDEMPOTENCY_KEY="same"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bodies = sorted(a.json()["replayed"] for a in answers)
    assert [a.status_code for a in answers] == [200, 200] and bodies == [False, True]
    assert Order.objects.count() == 2 and ApiBatch.objects.count() == 1


def test_characters_no_text_may_hold_are_dropped_as_the_file_reader_drops_them(api, shop_a):
    record = order(NO_1, buyer_nick="小鱼\x07爱吃\x00猫", remark="加急\ufffe", items=[])
    response = api.post_json(URL, {"shop": "shop-a", "orders": [record]})
    assert response.status_code == 200, response.json()
    saved = Order.objects.get(order_no=NO_1)
    assert (saved.buyer_nick, saved.remark) == ("小鱼爱吃猫", "加急")


# --- leading zeros: '0351…' beside '351…' would be two look-alike orders -------------------
LEADING_ZERO = "0" + NO_1  # what a program that pads to 20 digits sends


@pytest.mark.parametrize(
    "written",
    [LEADING_ZERO, f'="{LEADING_ZERO}"', "'" + LEADING_ZERO, "０" + NO_1, "00" + NO_1],
)
def test_an_order_number_with_a_leading_zero_is_refused_on_both_doors(api, shop_a, written):
    # given: the genuine order is already in the desk
    make_order(shop_a, order_no=NO_1)
    before = snapshot(shop_a)
    # when: the API sends the zero-padded look-alike (spreadsheet marks and full-width digits
    # are cleaned first, so they can't hide the zero)
    response = api.post_json(URL, {"shop": "shop-a", "orders": [order(written, items=[])]})
    # then: refused, named, said why; nothing imported
    assert response.status_code == 422
    detail = response.json()["error"]["details"][0]
    assert (detail["record"], detail["field"]) == ("orders[0]", "order_no")
    assert "以 0 开头" in detail["message"]
    # and: the CSV order file with the same record is refused the same way, naming its line
    orders_csv, items_csv = as_files([order(written, items=[])])
    report = import_files(
        shop=shop_a,
        uploads=[
            Upload("orders", "orders.csv", io.BytesIO(orders_csv)),
            Upload("items", "items.csv", io.BytesIO(items_csv)),
        ],
    )
    assert not report.applied
    assert [(p.line, "以 0 开头" in p.message) for p in report.errors] == [(2, True)]
    assert snapshot(shop_a) == before


def test_a_sub_order_number_with_a_leading_zero_is_refused_in_english_too(api, shop_a):
    record = order(NO_1)
    record["items"][0]["sub_order_no"] = "0" + NO_1[:-2] + "01"
    response = api.post_json(URL, {"shop": "shop-a", "orders": [record]}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422
    detail = response.json()["error"]["details"][0]
    assert (detail["record"], detail["field"]) == ("orders[0].items[0]", "sub_order_no")
    assert "starts with 0" in detail["message"]
    assert not Order.objects.filter(order_no=NO_1).exists()


def test_a_zero_inside_or_at_the_end_of_a_number_is_kept(api, shop_a):
    """Trying to get around it the other way: only a leading zero is refused."""
    numbers = ["3015012345678901200", "3515012345678901030"]
    response = api.post_json(URL, {"shop": "shop-a", "orders": [order(n) for n in numbers]})
    assert response.status_code == 200, response.json()
    assert set(Order.objects.values_list("order_no", flat=True)) == set(numbers)
