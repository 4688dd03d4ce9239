"""Many days of random money: entries around the cut-off, back-dated, committed while a sheet is
being built, approved late; beat runs missed and run twice. Whatever happens, every entry that
counts is on exactly one sheet - the one it belongs on - and the sheets add up to the ledger."""

import random
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest

from finance_exports.builders.finance import FinanceSheetBuilder
from finance_exports.models import FinanceSheetEntry, Sheet
from finance_exports.services import sheet_build, sheets_catch_up
from tests.factories import make_order
from tickets.models import LedgerEntry
from tickets.money import counted, counted_total
from tickets.services.ledger import compensation_decide, ledger_reverse

from .helpers import at, detail_rows, record

K = LedgerEntry.Kind
FIRST_DAY = date(2026, 10, 1)
AROUND_CUT_OFF = ["15:59:59", "15:59:59.999999", "16:00:00", "16:00:00.000001", "16:00:01"]


class Simulation:
    """Drives the desk through random days and keeps, in commit order, a log the expected
    outcome is computed from independently of the code under test."""

    def __init__(self, rng, clock, agent, supervisor, orders):
        self.rng, self.clock = rng, clock
        self.agent, self.supervisor, self.orders = agent, supervisor, orders
        self.log: list[tuple] = []
        self.pending: list[LedgerEntry] = []  # compensation waiting for a supervisor
        self.reversible: list[LedgerEntry] = []
        self.during_build: list = []  # callbacks run while the next sheet is being written
        self.seen = Counter()  # what the random days covered, checked at the end

    # -- things that happen at the desk -------------------------------------------------
    def record_money(self, when):
        self.clock.set(when)
        kind = self.rng.choice([K.POSTAGE, K.POSTAGE, K.REFUND, K.COMPENSATION])
        amount = Decimal(self.rng.randint(100, 12000)) / 100
        entry = record(self.agent, self.rng.choice(self.orders), amount, kind)
        self.log.append(("entry", entry.pk, entry.recorded_at, entry.requires_approval))
        (self.pending if entry.requires_approval else self.reversible).append(entry)

    def decide(self, when):
        if not self.pending:
            return
        self.clock.set(when)
        entry = self.pending.pop(self.rng.randrange(len(self.pending)))
        approved = self.rng.random() < 0.7
        compensation_decide(actor=self.supervisor, entry=entry, approved=approved, reason="不同意")
        self.log.append(("decided", entry.pk, approved))
        self.seen["approved" if approved else "rejected"] += 1
        if approved:
            self.reversible.append(entry)

    def reverse(self, when):
        if not self.reversible:
            return
        self.clock.set(when)
        original = self.reversible.pop(self.rng.randrange(len(self.reversible)))
        reversal = ledger_reverse(actor=self.agent, entry=original, reason="更正")
        self.log.append(("reversal", reversal.pk, reversal.recorded_at, original.pk))
        self.seen["reversals"] += 1

    def beat(self, when):
        self.clock.set(when)
        sheets_catch_up(kinds=["finance"], now=when)

    # -- the simulated days -------------------------------------------------------------
    def day(self, today: date, *, beat_is_up: bool):
        events = []
        for _ in range(self.rng.randint(4, 10)):
            moment = at(today, f"{self.rng.randint(8, 21):02d}:{self.rng.randint(0, 59):02d}:00")
            events.append((moment, self.record_money))
        for moment in self.rng.sample(AROUND_CUT_OFF, 2):
            events.append((at(today, moment), self.record_money))
            self.seen["around the cut-off"] += 1
        events.append((at(today, f"{self.rng.randint(9, 20):02d}:30:00"), self.decide))
        events.append((at(today, f"{self.rng.randint(9, 20):02d}:45:00"), self.reverse))
        if beat_is_up:
            delay = timedelta(seconds=self.rng.randint(0, 240))
            events.append((at(today, "16:00:00") + delay, self.beat))
            if self.rng.random() < 0.3:  # a second beat, or someone runs it by hand
                events.append((at(today, "16:10:00"), self.beat))
                events.append((at(today, "16:11:00"), self.build_by_hand))
                self.seen["duplicate runs"] += 1
            if self.rng.random() < 0.4:  # money committed while the sheet is being written
                self.during_build.append(self.record_during_build)
        else:
            self.seen["missed runs"] += 1
            if self.rng.random() < 0.5:  # the desk comes back the next morning
                events.append((at(today + timedelta(days=1), "08:05:00"), self.beat))
        for moment, happen in sorted(events, key=lambda event: event[0]):
            happen(moment)
        if self.rng.random() < 0.3:  # back-dated: recorded as of earlier, committed now
            self.record_money(at(today, f"{self.rng.randint(8, 15):02d}:00:00"))
            self.seen["back-dated"] += 1

    def build_by_hand(self, when):
        self.clock.set(when)
        sheet_build(kind="finance", business_date=when.date(), now=when)

    def record_during_build(self):
        now = self.clock.now
        back = at(now.date(), "15:30:00") if self.rng.random() < 0.5 else now
        self.record_money(back)
        self.clock.set(now)
        self.seen["during a build"] += 1

    # -- the expected outcome -------------------------------------------------------------
    def expected_claims(self) -> dict[int, set[int]]:
        """Replays the log: an entry starts counting when recorded (or when approved); a
        reversal counts when its original does; a sheet claims whatever counts, is unclaimed
        and was recorded before its cut-off."""
        counts_when_decided: dict[int, list[tuple[int, object]]] = {}
        status: dict[int, str] = {}  # "counts" / "waits" / "never"
        unclaimed: dict[int, object] = {}
        expected: dict[int, set[int]] = {}
        for event in self.log:
            if event[0] == "entry":
                _, pk, recorded_at, needs_approval = event
                if needs_approval:
                    status[pk] = "waits"
                    counts_when_decided.setdefault(pk, []).append((pk, recorded_at))
                else:
                    status[pk] = "counts"
                    unclaimed[pk] = recorded_at
            elif event[0] == "reversal":
                _, pk, recorded_at, original = event
                status[pk] = status[original]
                if status[original] == "counts":
                    unclaimed[pk] = recorded_at
                elif status[original] == "waits":
                    counts_when_decided.setdefault(original, []).append((pk, recorded_at))
            elif event[0] == "decided":
                _, pk, approved = event
                for waiting, recorded_at in counts_when_decided.pop(pk, []):
                    status[waiting] = "counts" if approved else "never"
                    if approved:
                        unclaimed[waiting] = recorded_at
            elif event[0] == "sheet":
                _, sheet_pk, cutoff = event
                expected[sheet_pk] = {pk for pk, at_ in unclaimed.items() if at_ < cutoff}
                for pk in expected[sheet_pk]:
                    del unclaimed[pk]
        return expected


@pytest.mark.parametrize("seed", [7, 2026, 41])
def test_every_entry_is_on_exactly_the_sheet_it_belongs_on(
    seed, clock, agent, supervisor, shop_a, shop_b, monkeypatch
):
    # given: the sheet's claim and write steps report to the simulation's log
    rng = random.Random(seed)
    orders = [make_order(shop, items=((Decimal("100000.00"), 1),)) for shop in (shop_a, shop_b)]
    simulation = Simulation(rng, clock, agent, supervisor, orders)
    claim, write = FinanceSheetBuilder.claim, FinanceSheetBuilder.write

    def logged_claim(builder, sheet):
        claimed = claim(builder, sheet)
        simulation.log.append(("sheet", sheet.pk, sheet.cutoff_at))
        return claimed

    def write_with_traffic(builder, sheet, book):
        while simulation.during_build:
            simulation.during_build.pop()()
        return write(builder, sheet, book)

    monkeypatch.setattr(FinanceSheetBuilder, "claim", logged_claim)
    monkeypatch.setattr(FinanceSheetBuilder, "write", write_with_traffic)

    # when: four weeks of random days, beat down on some of them
    for offset in range(28):
        simulation.day(FIRST_DAY + timedelta(days=offset), beat_is_up=rng.random() > 0.25)
    simulation.decide(at(FIRST_DAY + timedelta(days=28), "09:00:00"))
    simulation.beat(at(FIRST_DAY + timedelta(days=40), "16:30:00"))  # everything is due by now

    # then: each sheet claimed exactly what it should have
    expected = simulation.expected_claims()
    sheets = list(Sheet.objects.filter(kind="finance").order_by("business_date"))
    assert {sheet.pk for sheet in sheets} == set(expected)
    for sheet in sheets:
        actual = set(sheet.ledger_claims.values_list("entry_id", flat=True))
        assert actual == expected[sheet.pk], sheet
        assert sheet.status == Sheet.Status.READY
        # every entry on it was recorded before its cut-off
        assert all(
            e.recorded_at < sheet.cutoff_at for e in LedgerEntry.objects.filter(pk__in=actual)
        )

    # and the files: no entry on two sheets, every entry that counts on one
    ids_in_files: list[int] = []
    for sheet in sheets:
        rows = detail_rows(sheet)
        ids_in_files += [row["流水号"] for row in rows]
        assert sum((Decimal(str(row["金额"])) for row in rows), Decimal("0")) == sheet.total_amount
    assert len(ids_in_files) == len(set(ids_in_files))
    counting = set(counted(LedgerEntry.objects.all()).values_list("pk", flat=True))
    assert set(ids_in_files) == counting
    assert FinanceSheetEntry.objects.count() == len(counting)
    ledger_total = counted_total(LedgerEntry.objects.all())
    assert sum((sheet.total_amount for sheet in sheets), Decimal("0")) == ledger_total
    # the missed days were caught up, each dated for its own day
    assert len({sheet.business_date for sheet in sheets}) == len(sheets)
    # and the random days did cover every case this test is about
    assert set(simulation.seen) == {
        "around the cut-off", "duplicate runs", "missed runs", "back-dated", "during a build",
        "approved", "rejected", "reversals",
    }, simulation.seen  # fmt: skip
