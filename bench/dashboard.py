"""Server time of the dashboard (``GET /``) on a large PostgreSQL database, split into the
process's CPU time and the time spent waiting for SQL (issue 14).

Fill the database first (see bench/README.md), then:

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/aftersales_1m \
        .venv/bin/python bench/dashboard.py [--runs 40] [--user agent --user supervisor]

Each user's dashboard is requested in-process through Django's test client (middleware,
view, queries, template; no network) with ``DEBUG`` off, after three warm-up requests. Per
request: the process's CPU time (``time.process_time``: the Python side, steady on a busy
machine where wall time is not), the wall time, and the time spent inside the database
driver's ``execute`` (``connection.execute_wrapper``: PostgreSQL plus the round trip). Prints
min / median / 95th percentile of each, the number of queries and the load average, and with
``--queries`` each query of one request with its time.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from bench.measuring import p95, yardstick_line  # noqa: E402
from tickets.models import Ticket, User  # noqa: E402


class SqlClock:
    """An ``execute_wrapper`` that adds up the time spent in the driver's ``execute`` and
    keeps each statement with its time (ms)."""

    def __init__(self) -> None:
        self.spent = 0.0
        self.log: list[tuple[float, str]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - started
            self.spent += took
            self.log.append((took * 1000, sql))


def spread(values: list[float]) -> str:
    return f"{min(values):6.1f} {statistics.median(values):6.1f} {p95(values):6.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--user", action="append", default=[], help="(repeatable)")
    parser.add_argument("--queries", action="store_true", help="list one request's queries")
    args = parser.parse_args()
    print(yardstick_line())
    if connection.vendor != "postgresql":
        sys.exit("Run this against PostgreSQL (DATABASE_URL=postgres://...).")
    settings.ALLOWED_HOSTS.append("testserver")
    settings.DEBUG = False
    print(f"database: {Ticket.objects.count():,} tickets\n")
    print(f"{'user':11} {'queries':>7}  {'CPU ms min/med/p95':>20}  {'SQL ms':>20}  ", end="")
    print(f"{'wall ms':>20}  load")
    for username in args.user or ["agent", "supervisor"]:
        client = Client()
        client.force_login(User.objects.get(username=username))
        for _ in range(3):
            if client.get("/").status_code != 200:
                sys.exit(f"the dashboard of {username} did not answer 200")
        one = SqlClock()
        with connection.execute_wrapper(one):
            client.get("/")
        cpu, sql, wall = [], [], []
        for _ in range(args.runs):
            clock = SqlClock()
            with connection.execute_wrapper(clock):
                started_cpu, started = time.process_time(), time.perf_counter()
                client.get("/")
                cpu.append((time.process_time() - started_cpu) * 1000)
                wall.append((time.perf_counter() - started) * 1000)
            sql.append(clock.spent * 1000)
        print(
            f"{username:11} {len(one.log):7d}  {spread(cpu)}  {spread(sql)}  {spread(wall)}  ",
            end="",
        )
        print(f"{os.getloadavg()[0]:.1f}")
        if args.queries:
            for took, statement in one.log:
                print(f"    {took:6.1f} ms  {statement[:160]}")


if __name__ == "__main__":
    main()
