"""Server time of the ticket list and the order search on a large PostgreSQL database.

Fill the database first (see bench/README.md), then:

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/aftersales_bench \
        .venv/bin/python bench/ticket_list.py [--runs 40]

Each page is requested in-process through Django's test client (middleware, view, queries,
template: everything the server does, no network), after two warm-up requests, as the demo
``agent`` and as the ``supervisor``; each searches for a ticket, order and buyer of its own
shops (``sample_ticket``). Prints the median and 95th percentile per page, and the number of
SQL queries each page ran.
"""

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from bench.measuring import backend_pid, page_times, yardstick_line  # noqa: E402
from tickets.models import Order, Ticket, User  # noqa: E402
from tickets.selectors import visible_tickets  # noqa: E402


def sample_ticket(user: User) -> Ticket | None:
    """The newest ticket ``user`` may see that has a return tracking number (so every search
    below has something to find), or None. Chosen among the user's own shops: the newest
    ticket of the whole table may be in a shop the agent does not serve, and its pages are
    then a correct 404 (issue 14)."""
    return (
        visible_tickets(user)
        .exclude(return_tracking_no="")
        .select_related("order")
        .order_by("-id")
        .first()
    )


def pages_for(sample: Ticket) -> tuple[dict[str, str], str, str, str]:
    """The pages measured, by name, with their URLs built from ``sample`` (a ticket the
    measured user may see), and the nickname, its part and its start that they search."""
    order = sample.order
    shop_id = sample.shop_id
    nick = order.buyer_nick
    # Part of a nickname: three characters from its middle (the trigram index), and its first
    # two (a prefix, below the trigram length); the whole of it in another case.
    nick_part = nick[1:4] if len(nick) > 4 else nick
    nick_start = nick[:2]
    nick_other_case = nick.swapcase() if nick.swapcase() != nick else nick.upper()
    buyer = urlencode({"nick": nick})
    pages = {
        "ticket list, default (open, by due time)": "/tickets/",
        "ticket list, status=closed & kind=exchange": "/tickets/?status=closed&kind=exchange",
        "ticket list, shop & reason=quality": f"/tickets/?shop={shop_id}&reason=quality",
        "ticket list, overdue only": "/tickets/?overdue=true",
        "ticket list, page 5 (open)": "/tickets/?page=5",
        "ticket list, search order no.": f"/tickets/?q={order.order_no}&status=",
        "ticket list, search nickname": f"/tickets/?{urlencode({'q': nick})}&status=",
        "ticket list, search return no.": f"/tickets/?q={sample.return_tracking_no}&status=",
        "order search, order no.": f"/orders/?q={order.order_no}",
        "order search, nickname": f"/orders/?{urlencode({'q': nick})}",
        "order search, phone last 4": f"/orders/?q={order.receiver_phone_tail}",
        "top bar, ticket number (T…)": f"/orders/?q={sample.number}",
        "top bar, ticket number short (t…)": f"/orders/?q=t{sample.pk}",
        "top bar, return tracking no.": f"/orders/?q={sample.return_tracking_no.lower()}",
        "top bar, nickname other case": f"/orders/?{urlencode({'q': nick_other_case})}",
        "top bar, nickname part (3 chars)": f"/orders/?{urlencode({'q': nick_part})}",
        "top bar, nickname start (2 chars)": f"/orders/?{urlencode({'q': nick_start})}",
        "ticket list, search ticket number": f"/tickets/?q={sample.number}&status=",
        "ticket list, search nickname part": f"/tickets/?{urlencode({'q': nick_part})}&status=",
        "ticket list, search nickname (open)": f"/tickets/?{urlencode({'q': nick})}",
        "ticket list, search nickname part (open)": f"/tickets/?{urlencode({'q': nick_part})}",
        "ticket list, all statuses (by due time)": "/tickets/?status=",
        "ticket list, all statuses, recently updated": "/tickets/?status=&sort=-updated",
        "ticket list, all statuses, page 5": "/tickets/?status=&page=5",
        # Short terms: the nickname's first two characters, a short ticket number that is
        # also a prefix no nickname has (walking every order took 1.3-2.6 s, hostile review
        # of issue 11), and one letter.
        "ticket list, search nickname start (2 chars)": (
            f"/tickets/?{urlencode({'q': nick_start})}&status="
        ),
        "ticket list, search short ticket number (T1)": "/tickets/?q=T1&status=",
        "ticket list, search one letter": "/tickets/?q=a&status=",
        "buyer page": f"/buyers/?{buyer}",
        "ticket page": f"/tickets/{sample.pk}/",
        "dashboard": "/",
    }
    return pages, nick, nick_part, nick_start


def first_in_line() -> None:
    """Raises this process and the PostgreSQL backend serving it to nice -20, so the other
    processes of a shared machine (test suites, a seed) wait for them rather than the other
    way round: the figures then come near a quiet machine's (the two share the cores' caches
    still). Needs root; the backend is the one this process's connection holds."""
    for pid in (os.getpid(), backend_pid(connection)):
        os.setpriority(os.PRIO_PROCESS, pid, -20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument(
        "--only", action="append", default=[], help="pages whose name holds this (repeatable)"
    )
    parser.add_argument(
        "--first-in-line",
        action="store_true",
        help="run this process and its PostgreSQL backend at nice -20 (root): on a machine "
        "others keep busy they then get a core whenever they want one",
    )
    args = parser.parse_args()
    print(yardstick_line())
    settings.ALLOWED_HOSTS.append("testserver")
    if connection.vendor != "postgresql":
        sys.exit("Run this against PostgreSQL (DATABASE_URL=postgres://...).")

    if args.first_in_line:
        first_in_line()
    tickets = Ticket.objects.count()
    orders = Order.objects.count()
    print(f"database: {orders:,} orders, {tickets:,} tickets\n")

    for username in ("agent", "supervisor"):
        user = User.objects.get(username=username)
        sample = sample_ticket(user)
        if sample is None:
            sys.exit(f"{username} sees no ticket with a return tracking number: seed first")
        pages, nick, nick_part, nick_start = pages_for(sample)
        client = Client()
        client.force_login(user)
        print(f"as {username}:")
        print(f"  {'page':48} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
        print(f"  (ticket {sample.number}; nickname {nick!r}: part {nick_part!r}, ", end="")
        print(f"start {nick_start!r})")
        for name, url in pages.items():
            if args.only and not any(part in name for part in args.only):
                continue
            median, p95, queries = page_times(client, url, args.runs)
            print(f"  {name:48} {median:10.1f} {p95:8.1f} {queries:8d}")
        print()


if __name__ == "__main__":
    main()
