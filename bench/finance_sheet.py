"""The finance sheet over 100,000 ledger entries: time and peak memory, write-only vs normal mode.

    createdb -h 127.0.0.1 -U postgres aftersales_bench_sheets
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/aftersales_bench_sheets DEBUG=1
    .venv/bin/python bench/finance_sheet.py [--entries 100000] [--runs 5]

The first run migrates the database and fills it (deterministic, about a minute); later runs
reuse the data. Each measured build runs in a fresh Python process, so one run's memory does
not colour the next: it is the whole of ``sheet_build`` (claim the entries in one INSERT ...
SELECT, sum them up, stream them into the workbook, move the file into storage), timed with a
wall clock, and the peak RSS growth over the process's RSS before the build (Linux's VmHWM,
reset just before). Between runs the claims and the sheet are removed with TRUNCATE, the claims'
append-only guard lifted for that one transaction (only ever on a benchmark database).

Three modes, the same code, the same rows, cells and styles
(tests/aftersales/test_spreadsheets.py compares their files cell by cell):

- desk: what the desk runs, a write-only workbook whose detail rows are streamed;
- write-only: openpyxl's write-only mode with every cell through openpyxl's own writer;
- normal: openpyxl's normal Workbook, everything held in memory until saved.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from bench.measuring import backend_cpu_seconds, yardstick_line  # noqa: E402
from finance_exports.models import Sheet  # noqa: E402
from tickets.db import emptying_statements  # noqa: E402
from tickets.models import LedgerEntry, Order, Shop, Ticket, User  # noqa: E402

BUSINESS_DATE = date(2026, 11, 24)
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOTES = ["退回运费", "", "", "买家拒收，补偿运费", "=差评补偿", "换货来回运费", "", "漏发配件补偿"]
NICKS = ["小鱼爱吃猫", "tmall_buyer_88", "爱穿裙子的猫", "-冷静-", "@小王", "淘气包2019", "a" * 20]


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


# --- data ------------------------------------------------------------------------------------
def fill(entries: int) -> None:
    call_command("migrate", verbosity=0)
    have = LedgerEntry.objects.count()
    if have >= entries:
        print(f"database already holds {have:,} ledger entries")
        return
    started = time.perf_counter()
    rng = random.Random(4)  # noqa: S311 - repeatable test data, not security
    shops = [
        Shop.objects.get_or_create(
            code=f"bench-{n}",
            defaults={"name": f"基准店铺{n:02d}", "kind": "c_store", "location": "wuhan"},
        )[0]
        for n in range(11)
    ]
    agents = [
        User.objects.get_or_create(
            username=f"bench-agent-{n}", defaults={"last_name": "测试", "first_name": f"{n}号"}
        )[0]
        for n in range(8)
    ]
    placed = datetime(2026, 11, 10, 10, 0, tzinfo=SHANGHAI)
    day_start = datetime(2026, 11, 23, 16, 0, tzinfo=SHANGHAI)
    order_count = max(entries // 3, 1)
    with transaction.atomic():
        orders = Order.objects.bulk_create(
            [
                Order(
                    shop=shops[n % len(shops)],
                    order_no=f"9{n:018d}",
                    buyer_nick=f"{rng.choice(NICKS)}{n}",
                    receiver_name="张三",
                    receiver_phone="13812345678",
                    goods_amount=Decimal("300.00"),
                    total_amount=Decimal("300.00"),
                    paid_amount=Decimal("300.00"),
                    status="success",
                    placed_at=placed,
                    paid_at=placed,
                    shipped_at=placed + timedelta(days=1),
                )
                for n in range(order_count)
            ],
            batch_size=5000,
        )
        tickets = Ticket.objects.bulk_create(
            [
                Ticket(
                    shop_id=order.shop_id,
                    order=order,
                    kind="return",
                    reason=rng.choice(["quality", "not_suitable", "damaged", "logistics"]),
                    responsibility="seller",
                    status="refunded",
                    opened_by=agents[0],
                    first_response_due=placed,
                    resolution_due=placed,
                )
                for order in orders[: order_count // 2]
            ],
            batch_size=5000,
        )
        rows = []
        for n in range(entries - have):
            order = orders[n % len(orders)]
            ticket = tickets[n % len(orders)] if n % len(orders) < len(tickets) else None
            rows.append(
                LedgerEntry(
                    shop_id=order.shop_id,
                    order=order,
                    ticket=ticket,
                    kind=rng.choice(["postage", "postage", "refund", "compensation"]),
                    amount=Decimal(rng.randint(100, 20000)) / 100,
                    payment_method=rng.choice(["alipay_transfer", "platform_refund", "red_packet"]),
                    note=rng.choice(NOTES),
                    recorded_by=rng.choice(agents),
                    recorded_at=day_start + timedelta(seconds=rng.randint(0, 86_000)),
                )
            )
        LedgerEntry.objects.bulk_create(rows, batch_size=5000)
    # What autovacuum would do soon after (the development server runs without it): without
    # statistics the planner takes every new table for empty.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"filled {entries - have:,} ledger entries in {time.perf_counter() - started:.0f} s")


def reset() -> None:
    """Forget the sheet so the next run builds it from scratch (benchmark database only): the
    claims refuse TRUNCATE, so the guard is lifted inside this one transaction."""
    truncate = (
        "TRUNCATE finance_exports_financesheetentry, finance_exports_financesheetcharge, "
        "finance_exports_sheetdownload"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in emptying_statements(connection, [truncate]):
            cursor.execute(statement)
    for sheet in Sheet.objects.filter(kind="finance"):
        if sheet.file:
            sheet.file.delete(save=False)
        sheet.delete()


# --- one measured build (in its own process) ------------------------------------------------
MODES = {
    # what the desk runs: write-only workbook, the detail rows streamed (aftersales.spreadsheets)
    "desk": {},
    # openpyxl write-only mode, every cell through openpyxl's own writer
    "write-only": {"stream_rows": False},
    # openpyxl normal mode: the whole workbook in memory until it is saved
    "normal": {"write_only": False},
}


def _timed(owner, name: str, phases: dict) -> None:
    """Wraps ``owner.name`` to add its wall time to ``phases[name]``."""
    original = getattr(owner, name)

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            phases[name] = phases.get(name, 0) + time.perf_counter() - started

    setattr(owner, name, timed)


def measure(mode: str) -> dict:
    from functools import partial

    import finance_exports.services as services
    from finance_exports.builders.finance import FinanceSheetBuilder

    services.SheetBook = partial(services.SheetBook, **MODES[mode])
    phases: dict[str, float] = {}
    for name in ("claim", "summarize", "write"):
        _timed(FinanceSheetBuilder, name, phases)
    now = datetime.combine(BUSINESS_DATE, datetime.min.time(), tzinfo=SHANGHAI) + timedelta(
        hours=17
    )
    rss_before = _rss_kb("VmRSS")
    db_cpu_before = backend_cpu_seconds(connection)
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM, the peak RSS
    cpu_started = time.process_time()
    started = time.perf_counter()
    sheet = services.sheet_build(kind="finance", business_date=BUSINESS_DATE, now=now)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    db_cpu_after = backend_cpu_seconds(connection)
    peak = _rss_kb("VmHWM")
    # "save" is what is left: saving the workbook, splicing rows, moving it into storage
    phases["save"] = seconds - sum(phases.values())
    return {
        "mode": mode,
        "seconds": round(seconds, 2),
        "cpu_s": round(cpu, 2),
        "db_cpu_s": (round(db_cpu_after - db_cpu_before, 2) if db_cpu_before is not None else None),
        "peak_growth_mb": round((peak - rss_before) / 1024, 1),
        "rows": sheet.row_count,
        "file_mb": round(sheet.file.size / 1024 / 1024, 2),
        "phases": {name: round(value, 2) for name, value in phases.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--one", choices=list(MODES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run this against PostgreSQL (DATABASE_URL=postgres://...).")
    if args.one:
        print(json.dumps(measure(args.one)))
        return
    print(yardstick_line())
    fill(args.entries)
    results: dict[str, list[dict]] = {}
    for mode in args.modes.split(","):
        for run in range(args.runs):
            reset()
            child = subprocess.run(  # noqa: S603 - this script, fixed arguments
                [sys.executable, __file__, "--one", mode],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "LOG_LEVEL": "WARNING"},
            )
            result = json.loads(child.stdout.strip().splitlines()[-1])
            results.setdefault(mode, []).append(result)
            print(
                f"{mode:10} run {run + 1}: {result['seconds']:6.2f} s "
                f"(CPU: Python {result['cpu_s']:.2f} s, PostgreSQL {result['db_cpu_s']} s), "
                f"peak +{result['peak_growth_mb']:6.1f} MB, {result['rows']:,} rows, "
                f"{result['file_mb']} MB file; "
                + ", ".join(f"{name} {value:.1f} s" for name, value in result["phases"].items()),
                flush=True,
            )
    reset()
    print(
        f"\n| mode | rows | wall time, median of {args.runs} runs (min-max) "
        "| CPU, Python + PostgreSQL, median | peak memory growth |"
    )
    print("|---|---|---|---|---|")
    for mode, runs in results.items():
        seconds = sorted(r["seconds"] for r in runs)
        growth = sorted(r["peak_growth_mb"] for r in runs)
        cpu = statistics.median(r["cpu_s"] for r in runs)
        db_cpu = statistics.median(r["db_cpu_s"] or 0 for r in runs)
        print(
            f"| {mode} | {runs[0]['rows']:,} "
            f"| {statistics.median(seconds):.1f} s ({seconds[0]:.1f}-{seconds[-1]:.1f}) "
            f"| {cpu:.1f} + {db_cpu:.1f} s "
            f"| {statistics.median(growth):.0f} MB ({growth[0]:.0f}-{growth[-1]:.0f}) |"
        )


if __name__ == "__main__":
    main()
