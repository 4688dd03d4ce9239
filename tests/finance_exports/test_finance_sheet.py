"""The 4 pm finance sheet: what it claims, and the .xlsx it hands to finance."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from aftersales.spreadsheets import FORMULA_TRIGGERS, local_naive
from finance_exports.builders import (
    SHEET_SORT_MEMORY,
    get_builder,
    read_in_full,
    ticket_number,
    wall_clock,
)
from finance_exports.models import FinanceSheetEntry, Sheet
from finance_exports.services import SheetNotDue, sheet_build
from tests.factories import make_order, make_ticket, make_user
from tickets.models import AppendOnlyError, LedgerEntry
from tickets.money import counted_total
from tickets.roles import Role
from tickets.services import DeskError
from tickets.services.ledger import compensation_decide, ledger_reverse

from .helpers import at, detail_rows, file_bytes, record, table, workbook

K = LedgerEntry.Kind
DAY = date(2026, 11, 24)


def build(day=DAY, **kwargs):
    kwargs.setdefault("now", at(day, "16:00:00") + timedelta(minutes=1))
    return sheet_build(kind=Sheet.Kind.FINANCE, business_date=day, **kwargs)


def claimed_ids(sheet) -> set[int]:
    return set(sheet.ledger_claims.values_list("entry_id", flat=True))


def test_every_row_and_total_in_the_file_matches_the_ledger(
    clock, agent, supervisor, rich_order, shop_b, settings
):
    # given: a day of money in two shops, with a reversal and compensation needing approval
    other_order = make_order(shop_b, items=((Decimal("800.00"), 1),), buyer_nick="tmall买家")
    ticket = make_ticket(rich_order, agent)
    clock.set(at(DAY, "09:15:00"))
    postage = record(agent, rich_order, "12.00", ticket=ticket, note="退回运费")
    clock.set(at(DAY, "10:00:00"))
    refund = record(agent, rich_order, "99.50", K.REFUND, method="platform_refund")
    clock.set(at(DAY, "11:00:00"))
    reversal = ledger_reverse(actor=agent, entry=postage, reason="登记错了")
    clock.set(at(DAY, "12:00:00"))
    big = record(supervisor, other_order, "80.00", K.COMPENSATION)  # above the threshold
    # approved by another supervisor: nobody approves what they recorded
    colleague = make_user("boss-2", Role.SUPERVISOR, all_shops=True)
    compensation_decide(actor=colleague, entry=big, approved=True)
    waiting = record(supervisor, other_order, "70.00", K.COMPENSATION)  # never decided
    clock.set(at(DAY, "16:30:00"))

    # when
    sheet = build()

    # then: the sheet claims exactly the entries that count
    expected = [postage, refund, reversal, big]
    assert claimed_ids(sheet) == {e.pk for e in expected}
    assert waiting.pk not in claimed_ids(sheet)
    assert sheet.status == Sheet.Status.READY
    assert sheet.total_amount == counted_total(LedgerEntry.objects.exclude(pk=waiting.pk))
    assert sheet.total_amount == Decimal("12.00") + Decimal("99.50") - Decimal("12.00") + Decimal(
        "80.00"
    )
    assert sheet.row_count == 4

    # and the detail sheet has one row per entry, in recording order, signed amounts
    rows = detail_rows(sheet)
    assert [r["流水号"] for r in rows] == [e.pk for e in expected]
    by_id = {r["流水号"]: r for r in rows}
    first = by_id[postage.pk]
    assert first["店铺"] == rich_order.shop.name
    assert first["订单编号"] == rich_order.order_no
    assert first["买家会员名"] == "小鱼爱吃猫"
    assert first["售后单号"] == ticket.number
    assert first["类型"] == "邮费"
    assert first["原因"] == ticket.get_reason_display()
    assert first["支付方式"] == "支付宝转账"
    assert first["登记人"] == str(agent)
    assert first["备注"] == "退回运费"
    assert first["登记时间"].strftime("%Y-%m-%d %H:%M:%S") == "2026-11-24 09:15:00"
    assert by_id[reversal.pk]["金额"] == Decimal("-12.00")
    assert by_id[reversal.pk]["类型"] == "邮费冲销"
    assert by_id[reversal.pk]["冲销原流水号"] == postage.pk
    assert by_id[refund.pk]["支付方式"] == "平台退款"
    assert by_id[big.pk]["店铺"] == shop_b.name
    for row in rows:
        entry = LedgerEntry.objects.get(pk=row["流水号"])
        assert Decimal(str(row["金额"])) == entry.signed_amount
    assert sum(Decimal(str(r["金额"])) for r in rows) == sheet.total_amount


def test_the_summary_sheet_has_totals_per_kind_per_shop_and_grand_total(
    clock, agent, rich_order, shop_b
):
    other = make_order(shop_b, items=((Decimal("500.00"), 1),))
    clock.set(at(DAY, "09:00:00"))
    record(agent, rich_order, "10.00")
    record(agent, rich_order, "15.50")
    record(agent, rich_order, "30.00", K.REFUND)
    record(agent, other, "8.00", K.COMPENSATION)
    sheet = build()

    summary = workbook(sheet)["汇总"]
    cells = {row[0]: row[1:] for row in summary.iter_rows(values_only=True) if row[0]}
    assert cells["邮费"] == (2, Decimal("25.50"))
    assert cells["退款"] == (1, Decimal("30.00"))
    assert cells["赔偿"] == (1, Decimal("8.00"))
    assert cells[rich_order.shop.name] == (3, Decimal("55.50"))
    assert cells[shop_b.name] == (1, Decimal("8.00"))
    assert cells["合计"] == (4, Decimal("63.50"))
    # numbers, so finance can re-add them
    kinds = [cells[k][1] for k in ("邮费", "退款", "赔偿")]
    assert sum(kinds) == cells["合计"][1]
    assert sheet.totals["total"] == "63.50"


def test_the_workbook_is_laid_out_for_finance(clock, agent, rich_order):
    clock.set(at(DAY, "09:00:00"))
    record(agent, rich_order, "1234.50", K.REFUND)
    sheet = build()
    book = workbook(sheet)
    assert book.sheetnames == ["汇总", "明细", "补差价收入"]  # money in: its own sheet
    detail = book["明细"]
    assert [c.value for c in detail[1]] == [
        "流水号", "登记时间", "店铺", "订单编号", "买家会员名", "售后单号", "类型", "原因",
        "金额", "支付方式", "登记人", "备注", "冲销原流水号",
    ]  # fmt: skip
    assert all(c.font.bold for c in detail[1])
    assert detail.freeze_panes == "A2"
    assert detail.auto_filter.ref == "A1:M2"
    assert detail["I2"].number_format == "¥#,##0.00"
    assert detail["I2"].data_type == "n"
    assert detail["B2"].is_date
    assert detail.column_dimensions["D"].width >= 20  # order numbers are 19 digits
    assert detail.column_dimensions["L"].width >= 30  # notes
    # the order number stays text: Excel would round a 19-digit number
    assert detail["D2"].data_type == "s"


@pytest.mark.parametrize(
    "typed", ['=HYPERLINK("http://x","点我")', "+86 138", "-5", "@SUM(A1)", "\tTAB", "\rCR", "\nLF"]
)
def test_text_a_person_typed_is_never_a_formula(clock, agent, shop_a, typed):
    order = make_order(shop_a, buyer_nick=typed, items=((Decimal("100.00"), 1),))
    clock.set(at(DAY, "09:00:00"))
    entry = record(agent, order, "5.00", note=f"{typed} 备注")
    sheet = build()
    detail = workbook(sheet)["明细"]
    for row in detail.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
    nick, note = detail["E2"], detail["L2"]
    # exactly what was typed (XML reads a lone CR back as LF)
    assert nick.value == typed.replace("\r", "\n")
    assert note.value == entry.note
    assert nick.data_type == "s" and note.data_type == "s"
    # Excel shows it as typed and keeps it text even after someone edits the cell
    assert nick.quotePrefix
    assert note.quotePrefix == entry.note.startswith(FORMULA_TRIGGERS)


def test_ticket_number_from_an_id_matches_the_model(agent, order_a):
    ticket = make_ticket(order_a, agent)
    assert ticket_number(ticket.pk) == ticket.number
    assert ticket_number(None) is None


# --- which sheet an entry goes on --------------------------------------------------------
def test_the_cut_off_is_the_due_time_entries_after_it_go_on_the_next_sheet(
    clock, agent, rich_order
):
    clock.set(at(DAY, "15:59:59.999999"))
    before = record(agent, rich_order, "1.00")
    clock.set(at(DAY, "16:00:00"))
    on_the_dot = record(agent, rich_order, "2.00")
    clock.set(at(DAY, "16:00:01"))
    after = record(agent, rich_order, "3.00")

    first = build(DAY)
    second = build(DAY + timedelta(days=1))

    assert claimed_ids(first) == {before.pk}
    assert claimed_ids(second) == {on_the_dot.pk, after.pk}
    assert first.cutoff_at == at(DAY, "16:00:00")


def test_a_back_dated_entry_goes_on_the_next_sheet(clock, agent, rich_order):
    clock.set(at(DAY, "10:00:00"))
    record(agent, rich_order, "1.00")
    first = build(DAY)
    # committed after the sheet was built, but recorded as of the morning
    clock.set(at(DAY, "09:00:00"))
    late = record(agent, rich_order, "7.00")
    second = build(DAY + timedelta(days=1))
    assert late.pk not in claimed_ids(first)
    assert claimed_ids(second) == {late.pk}


def test_compensation_goes_on_the_first_sheet_after_it_is_approved(
    clock, agent, supervisor, rich_order
):
    clock.set(at(DAY, "10:00:00"))
    approved_later = record(agent, rich_order, "90.00", K.COMPENSATION)
    rejected = record(agent, rich_order, "60.00", K.COMPENSATION)
    first = build(DAY)
    clock.set(at(DAY + timedelta(days=1), "09:00:00"))
    compensation_decide(actor=supervisor, entry=approved_later, approved=True)
    compensation_decide(actor=supervisor, entry=rejected, approved=False, reason="买家已同意换货")
    second = build(DAY + timedelta(days=1))
    third = build(DAY + timedelta(days=2))
    assert claimed_ids(first) == set()
    assert claimed_ids(second) == {approved_later.pk}
    assert claimed_ids(third) == set()
    assert not FinanceSheetEntry.objects.filter(entry=rejected).exists()


def test_building_again_returns_the_same_sheet_and_the_same_bytes(clock, agent, rich_order):
    clock.set(at(DAY, "10:00:00"))
    record(agent, rich_order, "10.00")
    first = build()
    content = file_bytes(first)
    clock.set(at(DAY, "15:00:00"))  # a back-dated entry appears before the retry
    record(agent, rich_order, "20.00")
    again = build()
    assert again.pk == first.pk
    assert again.file.name == first.file.name
    assert file_bytes(again) == content
    assert Sheet.objects.filter(kind=Sheet.Kind.FINANCE).count() == 1
    assert FinanceSheetEntry.objects.count() == 1


def test_a_sheet_is_not_built_before_its_cut_off(clock, agent):
    with pytest.raises(SheetNotDue):
        build(DAY, now=at(DAY, "15:59:00"))
    assert not Sheet.objects.exists()


def test_no_sheet_for_a_day_before_the_newest_one(clock, agent):
    build(DAY)
    with pytest.raises(DeskError):
        build(DAY - timedelta(days=3))
    assert Sheet.objects.count() == 1


def test_an_empty_day_still_gets_its_sheet(clock, db):
    sheet = build()
    assert sheet.status == Sheet.Status.READY
    assert sheet.row_count == 0
    assert sheet.total_amount == Decimal("0.00")
    assert detail_rows(sheet) == []
    # the payouts' total, then the money received (补差价), each on its own line
    labels = [row["项目"] for row in table(workbook(sheet)["汇总"], 3)]
    assert labels[-1] == "补差价收入合计" and "合计" in labels


def test_the_claims_checks_keep_their_plans_when_the_session_plans_afresh(
    clock, agent, rich_order, monkeypatch
):
    # given preparing turned on, so the session plans every statement afresh, which made the
    # 200,000 foreign-key checks of a 100,000-entry sheet's claims cost 2.3 s more
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plan cache")
    clock.set(at(DAY, "10:00:00"))
    entry = record(agent, rich_order, "10.00")
    with connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_custom_plan")
    builder = get_builder(Sheet.Kind.FINANCE)
    modes = []
    claim = type(builder).claim

    def claim_seeing_the_mode(self, sheet):
        with connection.cursor() as cursor:
            cursor.execute("SHOW plan_cache_mode")
            modes.append(cursor.fetchone()[0])
        return claim(self, sheet)

    monkeypatch.setattr(type(builder), "claim", claim_seeing_the_mode)
    try:
        # when the sheet is built
        sheet = build()
        # then its claim transaction kept plans, and the claim is made as before
        assert modes == ["auto"]
        assert claimed_ids(sheet) == {entry.pk}
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET plan_cache_mode")


# --- the database holds the rules ---------------------------------------------------------
def test_an_entry_cannot_be_claimed_by_two_sheets(clock, agent, rich_order):
    clock.set(at(DAY, "10:00:00"))
    entry = record(agent, rich_order, "10.00")
    build(DAY)
    second = build(DAY + timedelta(days=1))
    with pytest.raises(IntegrityError), transaction.atomic():
        FinanceSheetEntry.objects.create(sheet=second, entry=entry)


def test_a_claim_is_never_edited_or_deleted(clock, agent, rich_order):
    clock.set(at(DAY, "10:00:00"))
    record(agent, rich_order, "10.00")
    claim = build().ledger_claims.get()
    with pytest.raises(AppendOnlyError):
        claim.delete()
    with pytest.raises(AppendOnlyError):
        FinanceSheetEntry.objects.filter(pk=claim.pk).update(sheet=claim.sheet)


def test_a_ready_sheet_needs_its_file_and_its_claim_in_the_database(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        Sheet.objects.create(kind="finance", business_date=DAY, status="ready", file="x.xlsx")


def test_the_finance_builder_is_registered_and_scheduled():
    builder = get_builder("finance")
    assert builder.scheduled
    assert builder.cutoff(DAY) == at(DAY, "16:00:00")


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin"])
def test_the_detail_times_are_beijing_wall_clock_times_as_python_has_them(
    clock, agent, rich_order, zone
):
    # given entries recorded at many moments, around midnight and in Shanghai's summer-time
    # years (1986-1991) too
    moments = [at(date(1988, 7, 1), "12:00:00"), at(date(1990, 4, 15), "01:30:00")] + [
        at(DAY, "00:00:00") + timedelta(minutes=37 * n, seconds=n, microseconds=n)
        for n in range(40)
    ]
    for moment in moments:
        clock.set(moment)
        record(agent, rich_order, "1.00")
    # when they are read as the detail reads them, in the time zone the writer writes in
    # (the desk's; another one activated, the same one on both sides)
    with timezone.override(zone):
        read = list(
            LedgerEntry.objects.annotate(local=wall_clock("recorded_at"))
            .order_by("recorded_at")
            .values_list("local", "recorded_at")
        )
        # then each is the wall-clock time Python gives (naive on PostgreSQL, aware on
        # SQLite: the writer makes them the same)
        assert len(read) == len(moments)
        for local, recorded_at in read:
            expected = timezone.localtime(recorded_at).replace(tzinfo=None)
            assert local_naive(local, wall_clock=True) == expected
    assert [recorded_at for _local, recorded_at in read] == moments


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner settings")
def test_the_detail_is_read_planned_for_every_row_and_the_transaction_plans_as_before_after(
    clock, agent, rich_order
):
    # given a claimed sheet's entries, read as the detail reads them
    clock.set(at(DAY, "09:15:00"))
    for amount in ("12.00", "3.50"):
        record(agent, rich_order, amount)
    clock.set(at(DAY, "16:30:00"))
    sheet = build()

    def settings_now():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('cursor_tuple_fraction'), current_setting('work_mem')"
            )
            return cursor.fetchone()

    with transaction.atomic():
        before = settings_now()
        during = []
        # when they are read through read_in_full
        rows = [
            (row, during.append(settings_now()))[0]
            for row in read_in_full(
                get_builder("finance").entries(sheet).order_by("pk").values_list("pk").iterator()
            )
        ]
        # then the cursor was planned to read to the end, and the settings are put back
        assert during[0] == ("1", SHEET_SORT_MEMORY)
        assert settings_now() == before
    assert rows == list(get_builder("finance").entries(sheet).order_by("pk").values_list("pk"))
    assert len(rows) == 2
