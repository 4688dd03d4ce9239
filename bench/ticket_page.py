"""Python CPU and queries of the ticket page (``GET /tickets/<pk>/``) on a large database.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/aftersales_1m \
        .venv/bin/python bench/ticket_page.py [--runs 40] [--ticket PK ...] [--html DIR]

Each ticket is requested in-process through Django's test client (middleware, view, queries,
template: all the server does but the network) with ``settings.DEBUG`` off after setup, as the
demo ``agent`` and ``supervisor``, after three warm-ups. The figure is the process's CPU time
(``time.process_time``) per request: Python only, the database's own time is not in it, and it
does not move with the other processes sharing the machine as wall time does. Prints, per
ticket and user, the median and 95th percentile in ms and the number of SQL queries.

Without ``--ticket`` it picks a few representative tickets of the agent's shops: an open
exchange with replacement lines, a closed one with a ledger entry, a refunded return, a
compensation, a reship (whose money form is priced from the rate card). ``--html DIR`` writes
each page's HTML with the CSRF tokens and one-time form keys blanked out, to compare the page
before and after a change (``diff -r``).
"""

import argparse
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from django.test import Client  # noqa: E402

from bench.measuring import page_times, yardstick_line  # noqa: E402
from tickets.models import Ticket, User  # noqa: E402
from tickets.selectors import visible_tickets  # noqa: E402

# What changes from one request to the next without the page changing: the CSRF token and the
# money forms' signed one-time keys.
_VOLATILE = re.compile(
    r'(name="csrfmiddlewaretoken" value=")[^"]*(")|(name="submission" value=")[^"]*(")'
)


def representative(user: User) -> list[Ticket]:
    """A handful of the newest tickets of kinds whose pages differ, among ``user``'s shops."""
    tickets = visible_tickets(user).order_by("-id")
    closed = [Ticket.Status.CLOSED, Ticket.Status.CANCELLED]
    picks = [
        tickets.filter(kind=Ticket.Kind.EXCHANGE, items__replacements__isnull=False)
        .exclude(status__in=closed)
        .first(),
        tickets.filter(kind=Ticket.Kind.EXCHANGE, status=Ticket.Status.CLOSED)
        .annotate(n=Count("ledger_entries"))
        .filter(n__gt=0)
        .first(),
        tickets.filter(kind=Ticket.Kind.RETURN, status=Ticket.Status.REFUNDED).first(),
        tickets.filter(kind=Ticket.Kind.COMPENSATION).filter(~Q(ledger_entries=None)).first(),
        tickets.filter(kind=Ticket.Kind.RESHIP).exclude(status__in=closed).first(),
    ]
    return [t for t in picks if t is not None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--ticket", type=int, action="append", help="a ticket's pk (repeat)")
    parser.add_argument("--user", action="append", help="demo usernames (default both)")
    parser.add_argument("--html", type=Path, help="write each page's HTML into this folder")
    args = parser.parse_args()
    print(yardstick_line())
    users = [User.objects.get(username=name) for name in args.user or ["agent", "supervisor"]]
    pks = args.ticket or [t.pk for t in representative(users[0])]
    settings.DEBUG = False
    settings.ALLOWED_HOSTS.append("testserver")
    tickets = {t.pk: t for t in Ticket.objects.filter(pk__in=pks)}
    print(f"{'ticket':>30} {'user':>10} {'median':>7} {'p95':>7} {'queries':>7}")
    for user in users:
        client = Client()
        client.force_login(user)
        for pk in pks:
            ticket = tickets[pk]
            url = f"/tickets/{pk}/"
            median, p95, queries = page_times(
                client, url, args.runs, clock=time.process_time, warmups=3, statuses=(200,)
            )
            label = f"{pk} {ticket.kind}/{ticket.status}"
            print(f"{label:>30} {user.username:>10} {median:7.1f} {p95:7.1f} {queries:7d}")
            if args.html:
                args.html.mkdir(parents=True, exist_ok=True)
                html = client.get(url).content.decode()
                html = _VOLATILE.sub(lambda m: f"{m[1] or m[3]}-{m[2] or m[4]}", html)
                (args.html / f"{pk}-{user.username}.html").write_text(html)


if __name__ == "__main__":
    main()
