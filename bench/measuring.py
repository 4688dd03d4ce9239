"""What the benchmark scripts share: a page's timings through the test client, the 95th
percentile as they all count it, and the PostgreSQL backend behind a connection (its process
id, its CPU time). Imports nothing of the desk, so a script imports it after its own
``django.setup()``."""

import os
import statistics
import time
from collections.abc import Callable
from html import escape
from pathlib import Path

from django.test.utils import CaptureQueriesContext


def p95(values: list[float]) -> float:
    """The 95th percentile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def page_times(
    client,
    url: str,
    runs: int,
    *,
    clock: Callable[[], float] = time.perf_counter,
    warmups: int = 2,
    statuses: tuple[int, ...] = (200, 302),
) -> tuple[float, float, int]:
    """(median ms, p95 ms, queries) of ``runs`` requests of ``url`` timed by ``clock``
    (wall: ``time.perf_counter``; this process's CPU: ``time.process_time``), after
    ``warmups`` requests that must answer one of ``statuses`` (else the script exits). The
    queries are counted on a request of their own: logging each one would be timed too."""
    for _ in range(warmups):
        response = client.get(url)
        if response.status_code not in statuses:
            raise SystemExit(f"{url} answered {response.status_code}")
    from django.db import connection

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    # Read now: the next request's request_started empties the log it reads from.
    queries = len(captured.captured_queries)
    timings = []
    for _ in range(runs):
        started = clock()
        client.get(url)
        timings.append((clock() - started) * 1000)
    return statistics.median(timings), p95(timings), queries


def backend_pid(connection) -> int:
    """The process id of the PostgreSQL backend serving ``connection``."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def backend_cpu_seconds(connection) -> float | None:
    """CPU time of ``connection``'s PostgreSQL backend so far (user + system, from
    /proc/<pid>/stat: the server must run on this machine), or None when it can't be read.
    With the process's own CPU time it measures work on a busy machine, where the wall clock
    counts the other processes' time too."""
    try:
        stat = Path(f"/proc/{backend_pid(connection)}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _yardstick_work() -> int:
    # What a page's Python mostly does: build small dicts, format and escape text, join it.
    cells = []
    for i in range(20_000):
        row = {"id": i, "nick": f"买家<{i}>", "amount": i * 1.25, "status": ("open", "closed")}
        cells.append(f"<td>{escape(row['nick'])}</td><td>{row['amount']:.2f}</td>")
    return len("".join(cells))


def yardstick_ms(rounds: int = 7) -> float:
    """Milliseconds (median of ``rounds``) this machine takes for a fixed piece of pure
    Python (``_yardstick_work``): printed beside each benchmark's figures so that runs on
    different machines can be compared. Machines of the same kind here differed twofold
    between sessions (the same million-ticket seed took 284 s and 596 s of CPU)."""
    timings = []
    for _ in range(rounds):
        started = time.process_time()
        _yardstick_work()
        timings.append((time.process_time() - started) * 1000)
    return statistics.median(timings)


def yardstick_line() -> str:
    """The line a benchmark prints first: the yardstick and the load average."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return f"machine: yardstick {yardstick_ms():.1f} ms (bench/measuring.py), load average {load}"
