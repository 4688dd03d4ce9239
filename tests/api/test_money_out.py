"""Money out (issue 16): the ledger of the token's shops and the finance sheets, read only;
sheets only for a token of every shop whose account may see them; every download recorded."""

from datetime import timedelta

import pytest
from django.utils import timezone

from api.scopes import Scope
from finance_exports.builders import get_builder
from finance_exports.models import SheetDownload
from finance_exports.services import sheet_build
from tests.factories import make_entry, make_order
from tickets.models import LedgerEntry

from .conftest import ApiClient, issue

pytestmark = pytest.mark.django_db
LEDGER, SHEETS = "/api/v1/ledger/", "/api/v1/sheets/"


@pytest.fixture
def entries(erp_user, shop_a, shop_b):
    a = [make_entry(make_order(shop_a), erp_user, f"{n + 1}.00") for n in range(3)]
    refund = make_entry(make_order(shop_a), erp_user, "5.50", kind=LedgerEntry.Kind.REFUND)
    b = make_entry(make_order(shop_b), erp_user, "9.00")
    return {"a": [*a, refund], "b": b}


@pytest.fixture
def money_a(root, erp_user, shop_a):
    return ApiClient(issue(root, erp_user, [Scope.MONEY_READ], shops=[shop_a]))


@pytest.fixture
def finance_api(root, finance_user):
    return ApiClient(issue(root, finance_user, [Scope.MONEY_READ], all_shops=True))


@pytest.fixture
def sheet(entries):
    day = timezone.localdate() + timedelta(days=2)
    now = get_builder("finance").cutoff(day) + timedelta(minutes=1)
    return sheet_build(kind="finance", business_date=day, now=now)


def test_the_ledger_of_the_tokens_shops_in_recorded_order(money_a, entries):
    body = money_a.get(LEDGER + "?page_size=3").json()
    rows = body["results"]
    assert [r["id"] for r in rows] == [e.pk for e in entries["a"][:3]]
    assert rows[0]["amount"] == "1.00" and rows[0]["shop"] == "shop-a"
    rest = money_a.get(body["next"]).json()
    assert [r["id"] for r in rest["results"]] == [entries["a"][3].pk] and rest["next"] is None
    refunds = money_a.get(LEDGER + "?kind=refund").json()["results"]
    assert [r["amount"] for r in refunds] == ["5.50"]
    assert money_a.get(LEDGER + "?shop=shop-b").status_code == 400
    assert money_a.get(LEDGER + "?recorded_from=2026-01-01").status_code == 400


def test_the_ledger_needs_its_scope(api, entries):
    assert api.get(LEDGER).status_code == 403


def test_sheets_are_for_a_token_of_every_shop(money_a, finance_api, sheet, finance_user):
    # a token of some shops reads no sheet: a sheet covers every shop
    assert money_a.get(SHEETS).json()["results"] == []
    assert money_a.get(f"{SHEETS}{sheet.pk}/file/").status_code in (403, 404)
    # finance's token of every shop lists it and downloads its file, recorded as a download
    listed = finance_api.get(SHEETS).json()["results"]
    assert [s["id"] for s in listed] == [sheet.pk]
    assert listed[0]["file"].endswith(f"/api/v1/sheets/{sheet.pk}/file/")
    response = finance_api.get(f"{SHEETS}{sheet.pk}/file/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content)[:2] == b"PK"
    download = SheetDownload.objects.get()
    assert (download.sheet, download.user) == (sheet, finance_user)
    assert finance_api.get(f"{SHEETS}99999/file/").status_code == 404
    assert finance_api.get(SHEETS + "?kind=nonsense").status_code == 400


@pytest.fixture
def exchange_list(erp_user, shop_a):
    """An exchange-goods list with two exchanges on it: its file names each receiver in full."""
    from tests.finance_exports.helpers import queued_exchange

    tickets = [queued_exchange(erp_user, make_order(shop_a)) for _ in range(2)]
    builder = get_builder("exchanges")
    day = timezone.localdate() + timedelta(days=2)
    sheet = sheet_build(kind="exchanges", business_date=day, now=builder.cutoff(day))
    assert sheet.exchange_lines.count() == 2
    return sheet, [t.order for t in tickets]


def test_an_exchange_lists_file_needs_the_personal_data_scope_and_is_recorded(root, exchange_list):
    """The warehouse's file has every receiver's name, phone and address in full: a money
    token reads it only if it may also read personal data, and each order on it is recorded
    as a reveal (a money:read token received them whole, unrecorded)."""
    from tests.factories import make_user
    from tickets.models import PersonalDataAccess
    from tickets.roles import Role

    sheet, orders = exchange_list
    boss = make_user("erp-boss", Role.SUPERVISOR, all_shops=True)
    money_only = ApiClient(issue(root, boss, [Scope.MONEY_READ], all_shops=True))
    response = money_only.get(f"{SHEETS}{sheet.pk}/file/")
    assert response.status_code == 403
    assert "个人信息" in response.json()["error"]["message"]
    assert not SheetDownload.objects.exists() and not PersonalDataAccess.objects.exists()
    # with the scope (and an account that may reveal), the file and one reveal per order
    both = ApiClient(
        issue(root, boss, [Scope.MONEY_READ, Scope.PERSONAL_DATA_READ], all_shops=True)
    )
    response = both.get(f"{SHEETS}{sheet.pk}/file/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:2] == b"PK"
    assert {a.order_id for a in PersonalDataAccess.objects.filter(user=boss)} == {
        o.pk for o in orders
    }
    assert SheetDownload.objects.filter(user=boss).count() == 1


def test_head_records_no_download(finance_api, sheet):
    assert finance_api.head(f"{SHEETS}{sheet.pk}/file/").status_code == 405
    assert not SheetDownload.objects.exists()
