"""The price differences buyers pay on exchanges (补差价) on the 4 pm finance sheet: claimed
like the ledger (one sheet each, the first after they were recorded), and reported as money
received, apart from the payouts."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from finance_exports.models import FinanceSheetCharge, Sheet
from finance_exports.services import sheet_build
from tests.factories import make_order, make_sku, make_ticket
from tickets.models import AppendOnlyError, LedgerEntry
from tickets.services.exchanges import (
    ReplacementRequest,
    exchange_charge_record,
    exchange_charge_reverse,
    exchange_set_replacements,
)

from .helpers import at, record, table, workbook

DAY = date(2026, 11, 24)
RECEIVED = "补差价收入"


def build(day=DAY, **kwargs):
    kwargs.setdefault("now", at(day, "16:00:00") + timedelta(minutes=1))
    return sheet_build(kind=Sheet.Kind.FINANCE, business_date=day, **kwargs)


def claimed_charges(sheet) -> set[int]:
    return set(sheet.charge_claims.values_list("charge_id", flat=True))


@pytest.fixture
def dearer_exchange(agent, shop_a):
    """An exchange of a 169 yuan hoodie for a 199 yuan premium one: the buyer owes 30."""
    order = make_order(shop_a, items=((Decimal("169.00"), 1),), buyer_nick="换码的买家")
    ticket = make_ticket(order, agent)
    product = order.items.select_related("sku__product").get().sku.product
    premium = make_sku(price=Decimal("199.00"), colour="黑色", size="XL+", product=product)
    exchange_set_replacements(
        actor=agent,
        ticket=ticket,
        requests=[ReplacementRequest(ticket.items.get().pk, premium, 1)],
    )
    return ticket


def charge(agent, ticket, amount="30.00", **kwargs):
    return exchange_charge_record(actor=agent, ticket=ticket, amount=amount, **kwargs)


def summary_cells(sheet) -> list[tuple]:
    return [row for row in workbook(sheet)["汇总"].iter_rows(values_only=True) if row[0]]


def received_section(sheet) -> dict:
    """The 汇总 lines under the 补差价收入 heading, keyed by their label."""
    rows = summary_cells(sheet)
    start = next(i for i, row in enumerate(rows) if str(row[0]).startswith("补差价收入（"))
    return {row[0]: row[1:3] for row in rows[start + 1 :]}


# --- which sheet a charge goes on ---------------------------------------------------------
def test_a_charge_before_the_cut_off_is_on_todays_sheet_with_its_amount_and_shop(
    clock, agent, dearer_exchange, shop_a
):
    clock.set(at(DAY, "11:30:00"))
    paid = charge(agent, dearer_exchange, reference="4412345678901234567", note="补差价链接")

    sheet = build()

    assert claimed_charges(sheet) == {paid.pk}
    [row] = table(workbook(sheet)[RECEIVED], 1)
    assert row["记录号"] == paid.pk
    assert row["店铺"] == shop_a.name
    assert row["售后单号"] == dearer_exchange.number
    assert row["订单编号"] == dearer_exchange.order.order_no
    assert row["补差价订单号"] == "4412345678901234567"
    assert row["金额"] == Decimal("30.00")
    assert row["登记人"] == str(agent)
    assert row["登记时间"].strftime("%Y-%m-%d %H:%M:%S") == "2026-11-24 11:30:00"
    assert row["备注"] == "补差价链接"
    assert row["冲销原记录号"] is None
    assert sheet.totals["received"] == {
        "by_shop": [{"shop": shop_a.name, "count": 1, "amount": "30.00"}],
        "count": 1,
        "total": "30.00",
    }


def test_a_reversal_counts_negative_on_the_sheet_it_lands_on(clock, agent, dearer_exchange):
    clock.set(at(DAY, "10:00:00"))
    paid = charge(agent, dearer_exchange)
    first = build(DAY)
    clock.set(at(DAY + timedelta(days=1), "09:00:00"))
    reversal = exchange_charge_reverse(actor=agent, charge=paid, reason="买家没付，登记错了")

    second = build(DAY + timedelta(days=1))

    assert claimed_charges(first) == {paid.pk}
    assert claimed_charges(second) == {reversal.pk}
    [row] = table(workbook(second)[RECEIVED], 1)
    assert row["金额"] == Decimal("-30.00")
    assert row["冲销原记录号"] == paid.pk
    assert row["备注"] == "买家没付，登记错了"
    assert second.totals["received"]["total"] == "-30.00"
    assert received_section(second)["补差价收入合计"] == (1, Decimal("-30.00"))


def test_a_charge_and_its_reversal_on_one_sheet_add_up_to_nothing(clock, agent, dearer_exchange):
    clock.set(at(DAY, "10:00:00"))
    paid = charge(agent, dearer_exchange)
    exchange_charge_reverse(actor=agent, charge=paid, reason="重复登记")
    sheet = build()
    amounts = [r["金额"] for r in table(workbook(sheet)[RECEIVED], 1)]
    assert amounts == [Decimal("30.00"), Decimal("-30.00")]
    assert sheet.totals["received"]["count"] == 2
    assert sheet.totals["received"]["total"] == "0.00"


def test_a_charge_after_the_cut_off_is_on_tomorrows_sheet_not_todays(clock, agent, dearer_exchange):
    clock.set(at(DAY, "15:59:59.999999"))
    before = charge(agent, dearer_exchange, amount="10.00")
    clock.set(at(DAY, "16:00:00"))
    on_the_dot = charge(agent, dearer_exchange, amount="5.00")
    clock.set(at(DAY, "16:30:00"))
    after = charge(agent, dearer_exchange, amount="15.00")

    today = build(DAY)
    tomorrow = build(DAY + timedelta(days=1))

    assert claimed_charges(today) == {before.pk}
    assert claimed_charges(tomorrow) == {on_the_dot.pk, after.pk}


def test_a_back_dated_charge_goes_on_the_next_sheet(clock, agent, dearer_exchange):
    clock.set(at(DAY, "16:30:00"))
    first = build(DAY)
    # committed after the sheet was built, but recorded as of the morning
    clock.set(at(DAY, "09:00:00"))
    late = charge(agent, dearer_exchange)
    second = build(DAY + timedelta(days=1))
    assert claimed_charges(first) == set()
    assert claimed_charges(second) == {late.pk}


def test_building_again_never_claims_twice(clock, agent, dearer_exchange):
    clock.set(at(DAY, "10:00:00"))
    paid = charge(agent, dearer_exchange)
    first = build(DAY)
    again = build(DAY, now=at(DAY, "18:00:00"))
    tomorrow = build(DAY + timedelta(days=1))

    assert again.pk == first.pk
    assert FinanceSheetCharge.objects.filter(charge=paid).count() == 1
    assert claimed_charges(tomorrow) == set()
    assert table(workbook(tomorrow)[RECEIVED], 1) == []
    # the database itself refuses a second claim, and any change of a claim
    claim = first.charge_claims.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        FinanceSheetCharge.objects.create(sheet=tomorrow, charge=paid)
    with pytest.raises(AppendOnlyError):
        claim.delete()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE finance_exports_financesheetcharge SET sheet_id = %s WHERE id = %s",
            [tomorrow.pk, claim.pk],
        )


# --- the workbook and the page ----------------------------------------------------------
def test_the_summary_shows_money_received_apart_from_the_payouts(
    clock, agent, supervisor, dearer_exchange, rich_order, shop_a, shop_b
):
    other = make_order(shop_b, items=((Decimal("100.00"), 1),))
    other_exchange = make_ticket(other, supervisor)
    exchange_set_replacements(
        actor=supervisor,
        ticket=other_exchange,
        requests=[
            ReplacementRequest(other_exchange.items.get().pk, make_sku(price=Decimal("120")), 1)
        ],
    )
    clock.set(at(DAY, "09:00:00"))
    record(agent, rich_order, "12.00")
    record(agent, rich_order, "50.00", LedgerEntry.Kind.REFUND)
    charge(agent, dearer_exchange, amount="30.00")
    charge(supervisor, other_exchange, amount="20.00")

    sheet = build()

    # the payouts are what they were: the money received is not in them
    assert sheet.total_amount == Decimal("62.00")
    assert sheet.row_count == 2
    rows = summary_cells(sheet)
    labels = [row[0] for row in rows]
    assert rows[labels.index("合计")][1:3] == (2, Decimal("62.00"))
    # and it has its own lines, after the payouts' total, per shop and in all
    assert labels.index("合计") < labels.index("补差价收入合计")
    received = received_section(sheet)
    assert received == {
        shop_a.name: (1, Decimal("30.00")),
        shop_b.name: (1, Decimal("20.00")),
        "补差价收入合计": (2, Decimal("50.00")),
    }
    # money cells are numbers formatted like the rest
    book = workbook(sheet)
    summary = book["汇总"]
    total_row = next(r for r in summary.iter_rows() if r[0].value == "补差价收入合计")
    assert total_row[2].data_type == "n" and total_row[2].number_format == "¥#,##0.00"
    detail = book[RECEIVED]
    assert book.sheetnames == ["汇总", "明细", RECEIVED]
    assert [c.value for c in detail[1]] == [
        "记录号", "店铺", "售后单号", "订单编号", "补差价订单号", "金额", "登记人", "登记时间",
        "备注", "冲销原记录号",
    ]  # fmt: skip
    assert detail["F2"].data_type == "n" and detail["F2"].number_format == "¥#,##0.00"
    assert detail["H2"].is_date
    assert detail.freeze_panes == "A2"
    assert detail.auto_filter.ref == "A1:J3"


def test_an_empty_day_says_nothing_was_received(clock, db):
    sheet = build()
    assert received_section(sheet) == {"补差价收入合计": (0, Decimal("0.00"))}
    assert table(workbook(sheet)[RECEIVED], 1) == []


def test_a_note_someone_typed_is_never_a_formula(clock, agent, dearer_exchange):
    clock.set(at(DAY, "09:00:00"))
    charge(agent, dearer_exchange, reference="=1+1", note='=HYPERLINK("http://x","点我")')
    book = workbook(build())
    detail = book[RECEIVED]
    assert all(c.data_type != "f" for row in detail.iter_rows() for c in row)
    assert detail["E2"].value == "=1+1" and detail["E2"].data_type == "s"
    assert detail["I2"].value.startswith("=HYPERLINK") and detail["I2"].quotePrefix


def test_the_page_shows_the_money_received(client, finance, clock, agent, dearer_exchange, shop_a):
    clock.set(at(DAY, "09:00:00"))
    record(agent, dearer_exchange.order, "8.00")
    charge(agent, dearer_exchange, amount="30.00")
    sheet = build()
    client.force_login(finance)

    page = client.get(reverse("finance_exports:sheet_detail", args=[sheet.pk]))

    assert page.status_code == 200
    assert page.context["received"] == {
        "count": 1,
        "total": Decimal("30.00"),
        "by_shop": [{"shop": shop_a.name, "count": 1, "amount": Decimal("30.00")}],
    }
    html = page.content.decode()
    section = html[html.index('id="received"') :]
    assert "补差价收入合计" in section and "¥30.00" in section
    # the sheet's total (money paid out) is still only the ledger's
    assert "¥30.00" not in html[: html.index('id="received-total"')]
    assert sheet.total_amount == Decimal("8.00")


def test_a_sheet_built_before_charges_were_on_it_still_shows(client, finance, clock, db):
    sheet = build()
    Sheet.objects.filter(pk=sheet.pk).update(totals={})  # as sheets built before this change
    client.force_login(finance)
    page = client.get(reverse("finance_exports:sheet_detail", args=[sheet.pk]))
    assert page.status_code == 200
    assert page.context["received"]["total"] == Decimal("0.00")
