"""The cost of one status change (``ticket_transition``) on a large database.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/aftersales_1m \
        .venv/bin/python bench/status_change.py [--tickets 100] [--rounds 3]

Each round takes ``--tickets`` exchanges waiting in the queue (排队换货) that no earlier round
took, and moves each onto the exchange-goods list as the 17:00 list's claim does (the desk
itself, ``by_list``), inside one transaction that is rolled back: the database is not changed,
and the rows are on pages no earlier round read, as a real claim finds them. Prints, per round,
the median and 95th percentile wall time of one change in ms, the process's CPU and the
PostgreSQL backend's CPU per change (``/proc``: the server must run on this machine), and the
queries of one change. Needs ``rounds x tickets`` queued exchanges (a million-ticket seed has
about 1,700).
"""

import argparse
import os
import statistics
import sys
import time
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.measuring import backend_cpu_seconds, p95, yardstick_line  # noqa: E402
from tickets.models import Ticket  # noqa: E402
from tickets.services.tickets import ticket_transition  # noqa: E402

S = Ticket.Status


def one_round(tickets: list[Ticket]) -> tuple[list[float], float, float | None, int]:
    """(wall ms per change, process CPU ms per change, backend CPU ms per change, queries of
    the first change) for ``tickets``, rolled back."""
    walls = []
    with transaction.atomic():
        cpu, server = time.process_time(), backend_cpu_seconds(connection)
        for n, ticket in enumerate(tickets):
            counted = CaptureQueriesContext(connection) if n == 0 else nullcontext()
            started = time.perf_counter()
            with counted:
                ticket_transition(
                    actor=None, ticket=ticket, to_status=S.ON_EXCHANGE_LIST, by_list=True
                )
            walls.append((time.perf_counter() - started) * 1000)
            if n == 0:
                queries = len(counted.captured_queries)
        cpu = (time.process_time() - cpu) * 1000 / len(tickets)
        after = backend_cpu_seconds(connection)
        server = None if server is None else (after - server) * 1000 / len(tickets)
        transaction.set_rollback(True)
    return walls, cpu, server, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=100, help="changes per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(yardstick_line())
    queued = list(
        Ticket.objects.filter(kind=Ticket.Kind.EXCHANGE, status=S.QUEUED_FOR_EXCHANGE).order_by(
            "?"
        )[: args.tickets * args.rounds]
    )
    if len(queued) < args.tickets * args.rounds:
        raise SystemExit(f"only {len(queued)} queued exchanges: fewer --tickets or --rounds")
    print(f"load average {os.getloadavg()[0]:.1f}")
    heads = ("round", "median ms", "p95 ms", "CPU ms", "server ms", "queries")
    print(" ".join(f"{h:>{w}}" for h, w in zip(heads, (5, 9, 7, 7, 9, 7), strict=True)))
    for n in range(args.rounds):
        batch = queued[n * args.tickets : (n + 1) * args.tickets]
        walls, cpu, server, queries = one_round(batch)
        server_text = "-" if server is None else f"{server:.1f}"
        print(
            f"{n + 1:>5} {statistics.median(walls):9.1f} {p95(walls):7.1f} {cpu:7.1f} "
            f"{server_text:>9} {queries:7d}"
        )
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
