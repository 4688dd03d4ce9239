"""bench/load.py runs against a live desk: two simulated agents log in through the login form,
read their samples from the pages, work the whole mix (pages, searches, a note, a status
change, a money entry with the form's one-time key) for a few seconds and report it.

Untimed (QUALITY.md 27): the test holds only that the run took place, counted its requests
and met no error; the figures belong in bench/README.md.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.factories import make_order, make_shop, make_ticket, make_user
from tickets.models import Ticket, TicketEvent
from tickets.roles import Role

LOAD = Path(__file__).resolve().parents[2] / "bench" / "load.py"
PASSWORD = "pw-for-tests-1"
# Every kind of action, the writes more often than at the desk, so a few seconds see them all.
MIX = "note=3,status change=3,money entry=3,ticket page=3"


@pytest.mark.django_db(transaction=True)
def test_two_agents_work_the_desk_for_a_few_seconds(live_server):
    if connection.vendor != "postgresql":
        # The live server's threads share the in-memory SQLite test database's one connection,
        # so two agents at once lock it; the benchmark is for PostgreSQL anyway.
        pytest.skip("bench/load.py is tested on PostgreSQL (CI's first run)")
    # given: an agent of one shop and a supervisor, open tickets of two kinds to work on
    shop = make_shop("load-a")
    agent = make_user("load-agent", Role.AGENT, shops=[shop], password=PASSWORD)
    supervisor = make_user("load-boss", Role.SUPERVISOR, all_shops=True, password=PASSWORD)
    for index in range(3):
        order = make_order(shop, buyer_nick=f"小鱼爱吃猫{index}", phone=f"1381234567{index}")
        make_ticket(order, agent, kind=Ticket.Kind.RETURN, reason=Ticket.Reason.QUALITY)
        make_ticket(make_order(shop), agent, kind=Ticket.Kind.EXCHANGE)
    events_before = TicketEvent.objects.count()

    # when
    run = subprocess.run(
        [
            sys.executable,
            str(LOAD),
            f"--base={live_server.url}",
            "--agents=2",
            "--seconds=3",
            "--pace=0.25",
            f"--accounts={agent.username},{supervisor.username}",
            f"--password={PASSWORD}",
            f"--mix={MIX}",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )

    # then
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["requests"] > 0
    assert result["actions"] > 0
    assert result["errors"] == 0, result["error_examples"]
    assert sum(page["writes"] for page in result["pages"]) > 0
    assert TicketEvent.objects.count() > events_before  # the writes reached the tickets
