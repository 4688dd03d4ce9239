"""The ten-day invoice batch (1st, 11th, 21st): what it claims and the .xlsx finance gets."""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from finance_exports.builders import get_builder, register
from finance_exports.builders.invoices import InvoiceBatchBuilder
from finance_exports.models import InvoiceBatchLine, Sheet
from finance_exports.services import SheetNotDue, sheet_build, sheets_catch_up
from tests.factories import make_order
from tickets.models import AppendOnlyError, InvoiceRequest
from tickets.services import DeskError
from tickets.services.invoices import invoice_decline, invoice_request_register

from .helpers import at, file_bytes, table, workbook

B1, B11, B21 = date(2026, 11, 1), date(2026, 11, 11), date(2026, 11, 21)
INV = InvoiceRequest.Status


@pytest.fixture(autouse=True)
def invoice_builder():
    register(InvoiceBatchBuilder)


def request_at(clock, moment, actor, order, title, amount, tax_no=""):
    """A request through the real service, recorded at ``moment`` (``created_at`` is stamped
    by a default the test clock does not reach, so it is set to the clock's time)."""
    clock.set(moment)
    invoice = invoice_request_register(
        actor=actor, order=order, title=title, amount=amount, tax_no=tax_no
    )
    InvoiceRequest.objects.filter(pk=invoice.pk).update(created_at=timezone.now())
    invoice.refresh_from_db()
    return invoice


def money(value) -> Decimal:
    """A money cell as read back (openpyxl gives a float) as the exact Decimal written."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


def run(*args) -> str:
    out = StringIO()
    call_command("build_sheet", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


@pytest.fixture
def requests(clock, agent, supervisor, shop_a, shop_b):
    order_a = make_order(shop_a, items=((Decimal("500.00"), 1),), buyer_nick="小鱼爱吃猫")
    order_b = make_order(shop_b, items=((Decimal("900.00"), 1),), buyer_nick="天猫买家")
    early = request_at(
        clock,
        at(date(2026, 11, 2), "10:00:00"),
        agent,
        order_a,
        "武汉某某公司",
        "120.50",
        "91420100 X",
    )
    formula = request_at(
        clock, at(date(2026, 11, 5), "11:00:00"), supervisor, order_b, "=1+2", "300.00"
    )
    declined = request_at(clock, at(date(2026, 11, 6), "12:00:00"), agent, order_a, "个人", "50.00")
    invoice_decline(actor=agent, invoice=declined, reason="小店不开票")
    last_minute = request_at(
        clock, at(B11, "08:59:59"), supervisor, order_b, "上海某某公司", "99.99"
    )
    after_cutoff = request_at(clock, at(B11, "09:00:00"), agent, order_a, "晚到公司", "10.00")
    return {
        "first": [early, formula, last_minute],
        "declined": declined,
        "next": after_cutoff,
    }


def test_the_batch_claims_and_lists_every_request_before_the_cut_off(requests, clock):
    clock.set(at(B11, "09:05:00"))
    sheet = sheet_build(kind=Sheet.Kind.INVOICES, business_date=B11)
    assert sheet.status == Sheet.Status.READY
    assert sheet.cutoff_at == at(B11, "09:00:00")

    on_batch = InvoiceRequest.objects.filter(batch_claim__sheet=sheet)
    assert set(on_batch.values_list("pk", flat=True)) == {r.pk for r in requests["first"]}
    assert set(on_batch.values_list("status", flat=True)) == {INV.BATCHED}
    requests["declined"].refresh_from_db()
    requests["next"].refresh_from_db()
    assert requests["declined"].status == INV.DECLINED
    assert requests["next"].status == INV.REQUESTED
    assert not InvoiceBatchLine.objects.filter(
        invoice__in=[requests["declined"], requests["next"]]
    ).exists()

    rows = table(workbook(sheet)["明细"], 1)
    assert len(rows) == sheet.row_count == 3
    db_rows = on_batch.select_related("shop", "order", "recorded_by").order_by(
        "shop__name", "created_at", "pk"
    )
    for row, invoice in zip(rows, db_rows, strict=True):
        assert row["店铺"] == invoice.shop.name
        assert row["订单编号"] == invoice.order.order_no
        assert row["买家会员名"] == invoice.order.buyer_nick
        assert row["发票抬头"] == invoice.title
        assert row["税号"] == (invoice.tax_no or None)
        assert money(row["开票金额"]) == invoice.amount
        assert row["申请时间"] == timezone.localtime(invoice.created_at).replace(tzinfo=None)
        assert row["登记人"] == str(invoice.recorded_by)
    assert "个人" not in [r["发票抬头"] for r in rows]

    summary = table(workbook(sheet)["汇总"], 3)
    total = next(r for r in summary if r["店铺"] == "合计")
    by_shop = {r["店铺"]: r for r in summary if r["店铺"] != "合计"}
    for shop in {i.shop for i in db_rows}:
        mine = [i for i in db_rows if i.shop_id == shop.pk]
        assert by_shop[shop.name]["笔数"] == len(mine)
        assert money(by_shop[shop.name]["金额"]) == sum(i.amount for i in mine)
    assert total["笔数"] == 3
    assert money(total["金额"]) == Decimal("520.49") == sheet.total_amount


def test_user_text_is_never_a_formula(requests, clock):
    clock.set(at(B11, "09:05:00"))
    book = workbook(sheet_build(kind=Sheet.Kind.INVOICES, business_date=B11))
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert "=1+2" in [c.value for c in cells]


def test_each_request_is_on_exactly_one_batch_and_late_ones_go_on_the_next(requests, clock, agent):
    clock.set(at(B11, "09:05:00"))
    first = sheet_build(kind=Sheet.Kind.INVOICES, business_date=B11)
    before = file_bytes(first)
    # building the same batch again: one sheet, the same file, nothing claimed twice
    clock.set(at(B11, "15:00:00"))
    assert run("invoices", "--date", "2026-11-11") == first.file.path
    assert file_bytes(Sheet.objects.get(pk=first.pk)) == before
    assert Sheet.objects.filter(kind=Sheet.Kind.INVOICES).count() == 1
    # a batched request can no longer be declined
    with pytest.raises(DeskError):
        invoice_decline(actor=agent, invoice=requests["first"][0], reason="不开了")

    clock.set(at(B21, "09:30:00"))
    second = Sheet.objects.get(pk=sheets_catch_up(kinds=["invoices"])[0].pk)
    assert second.business_date == B21
    assert list(InvoiceRequest.objects.filter(batch_claim__sheet=second)) == [requests["next"]]
    assert [r["发票抬头"] for r in table(workbook(second)["明细"], 1)] == ["晚到公司"]
    # every non-declined request is on exactly one batch
    for invoice in InvoiceRequest.objects.exclude(status=INV.DECLINED):
        assert invoice.batch_claim.sheet_id in (first.pk, second.pk)
    assert InvoiceRequest.objects.filter(batch_claim__sheet=first).count() == 3
    assert not InvoiceBatchLine.objects.filter(invoice__status=INV.DECLINED).exists()


def test_a_request_is_claimed_once_and_the_claim_never_changes(requests, clock):
    # given a batch with its claims
    clock.set(at(B11, "09:05:00"))
    first = sheet_build(kind=Sheet.Kind.INVOICES, business_date=B11)
    claim = InvoiceBatchLine.objects.filter(sheet=first).first()
    clock.set(at(B21, "09:05:00"))
    second = sheet_build(kind=Sheet.Kind.INVOICES, business_date=B21)
    # then the database refuses a second batch for the same request, and any edit of a claim
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceBatchLine.objects.create(sheet=second, invoice=claim.invoice)
    with pytest.raises(AppendOnlyError):
        claim.delete()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE finance_exports_invoicebatchline SET sheet_id = %s WHERE id = %s",
            [second.pk, claim.pk],
        )


def test_batches_are_dated_the_1st_11th_and_21st(db, clock):
    builder = get_builder(Sheet.Kind.INVOICES)
    assert builder.latest_due(at(B11, "08:59:59")) == B1
    assert builder.latest_due(at(B11, "09:00:00")) == B11
    assert builder.latest_due(at(date(2026, 12, 1), "08:00:00")) == B21
    assert builder.latest_due(at(date(2026, 11, 30), "12:00:00")) == B21
    assert builder.following(B21) == date(2026, 12, 1)
    assert builder.normalise(date(2026, 11, 15)) == B11
    clock.set(at(B11, "08:00:00"))
    with pytest.raises(SheetNotDue):
        sheet_build(kind=Sheet.Kind.INVOICES, business_date=B11)
    with pytest.raises(CommandError, match="2026-11-11"):
        run("invoices", "--date", "2026-11-15")
    with pytest.raises(CommandError, match="--date"):
        run("invoices", "--month", "2026-11")
    assert not Sheet.objects.exists()


def test_catch_up_builds_each_missed_batch_in_order(requests, clock, agent, shop_a):
    clock.set(at(B1, "09:00:00"))
    sheet_build(kind=Sheet.Kind.INVOICES, business_date=B1)  # the batch before any request
    order = make_order(shop_a)
    mid = request_at(clock, at(date(2026, 11, 15), "10:00:00"), agent, order, "月中公司", "20")
    clock.set(at(B21, "12:00:00"))  # beat was down on the 11th
    built = sheets_catch_up(kinds=["invoices"])
    assert [s.business_date for s in built] == [B11, B21]
    claims = InvoiceBatchLine.objects.values_list("invoice_id", flat=True)
    assert set(claims.filter(sheet=built[0])) == {r.pk for r in requests["first"]}
    assert set(claims.filter(sheet=built[1])) == {
        requests["next"].pk,
        mid.pk,
    }


def test_the_invoice_page_names_the_batch_that_claimed_it(requests, clock, client, supervisor):
    clock.set(at(B11, "09:05:00"))
    sheet = sheet_build(kind=Sheet.Kind.INVOICES, business_date=B11)
    client.force_login(supervisor)

    def page(invoice):
        url = reverse("registers:invoice_detail", args=[invoice.pk])
        return client.get(url).content.decode()

    assert str(sheet) in page(requests["first"][0])
    assert str(sheet) not in page(requests["next"])
