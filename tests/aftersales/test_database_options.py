"""PostgreSQL connections bind parameters on the server and, when asked, keep the statements
they repeat prepared, each run planned for its own values (issue 14; settings.py, README
"Configuration")."""

import os
import subprocess
import sys

import pytest
from django.db import connection

from tickets.models import Ticket

_PRINT_OPTIONS = (
    "import django; django.setup(); from django.conf import settings as s; "
    "o = s.DATABASES['default']['OPTIONS']; "
    "print(o['server_side_binding'], o['prepare_threshold'], 'force_custom_plan' in o['options'])"
)


def _options(**env) -> str:
    # the settings read as a fresh process reads them, whatever this run's environment says
    inherited = {k: v for k, v in os.environ.items() if k != "DATABASE_PREPARE_THRESHOLD"}
    out = subprocess.run(
        [sys.executable, "-c", _PRINT_OPTIONS],
        env={
            **inherited,
            "DJANGO_SETTINGS_MODULE": "aftersales.settings",
            "DATABASE_URL": "postgres://desk@127.0.0.1:5432/desk",
            **env,
        },
        capture_output=True,
        text=True,
    )
    return out.stdout.strip() or out.stderr


def test_the_defaults_and_turning_preparing_on():
    # off by default: a migration changing a column's type breaks a running release's
    # prepared statements (hostile review)
    # and without preparing, PostgreSQL keeps the plans of the per-row foreign-key checks
    # (planned afresh, a finance sheet's claims took twice as long: bench/README)
    assert _options() == "True None False"
    assert _options(DATABASE_PREPARE_THRESHOLD="none") == "True None False"
    assert _options(DATABASE_PREPARE_THRESHOLD="5") == "True 5 True"
    # turned on in the database's URL, the plans are made per run all the same
    on_in_url = _options(DATABASE_URL="postgres://desk@127.0.0.1:5432/desk?prepare_threshold=5")
    assert on_in_url == "True 5 True"
    for value in ("off", "0", "-1"):
        refused = _options(DATABASE_PREPARE_THRESHOLD=value)
        assert "ImproperlyConfigured" in refused and "DATABASE_PREPARE_THRESHOLD" in refused


@pytest.mark.django_db
def test_a_repeated_statement_is_prepared_and_planned_for_its_values(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's prepared statements")
    # given preparing turned on (DATABASE_PREPARE_THRESHOLD=5) for this connection
    connection.ensure_connection()
    monkeypatch.setattr(connection.connection, "prepare_threshold", 5)
    with connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_custom_plan")
    # when the same query runs more often than the threshold on one connection
    for status in [Ticket.Status.OPEN] * 6:
        list(Ticket.objects.filter(status=status).values_list("pk", flat=True)[:1])
    # then the server holds it prepared
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ['%FROM "tickets_ticket" WHERE "tickets_ticket"."status" = $1%'],
        )
        assert cursor.fetchone()[0] == 1


def _plan_cache_mode() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_bulk_write_lets_its_checks_keep_their_plans():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plan cache")
    from django.db import transaction

    from tickets.db import checks_keep_plans

    # given a session that plans every statement afresh (preparing turned on)
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_custom_plan")
    try:
        # outside a transaction nothing changes
        with checks_keep_plans(connection):
            assert _plan_cache_mode() == "force_custom_plan"
        # inside one, the block's checks keep their plans, and the rest of the transaction
        # plans as before (an import's other statements, the sheet's writing)
        with transaction.atomic():
            with checks_keep_plans(connection):
                assert _plan_cache_mode() == "auto"
            assert _plan_cache_mode() == "force_custom_plan"
        assert _plan_cache_mode() == "force_custom_plan"
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET plan_cache_mode")
