"""Writing new rows fast: PostgreSQL's COPY, or ``bulk_create`` where there is no COPY.

An import creates up to hundreds of thousands of orders and items, the demo data (``seed_demo``)
millions of rows in every table. Building an INSERT through the ORM costs more than the
database's own work (every value is prepared field by field, every row becomes a model
instance); COPY streams the rows as they are. Rows come as dicts of column attribute names to
Python values (Decimal, aware datetime, str, int, bool, None), which psycopg adapts itself.
Both the order import and ``tickets.demo`` write through ``insert_rows``: one COPY writer.
"""

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter

from django.db import IntegrityError, connection, transaction
from django.db.models import AutoField, Model

from tickets.db import checks_keep_plans, guard_checked_at_once, guard_violations_sql

# After this many new rows in a table, PostgreSQL's statistics about it are refreshed.
ANALYZE_EVERY_ROWS = 20_000
# Rows per INSERT where there is no COPY (SQLite): model instances for one batch at a time.
BULK_CREATE_BATCH = 1000


def row_defaults(model: type[Model]) -> dict:
    """Every column's default (callables called once), to complete a partial row."""
    return {
        field.attname: field.get_default()
        for field in model._meta.concrete_fields
        if not isinstance(field, AutoField)
    }


def _columns(model: type[Model], with_pk: bool) -> list:
    return [
        f
        for f in model._meta.concrete_fields
        if with_pk or not (isinstance(f, AutoField) and f.primary_key)
    ]


def insert_rows(model: type[Model], rows: Iterable[dict], *, with_pk: bool = False) -> int:
    """Inserts ``rows`` into ``model``'s table, in the current transaction; returns how many.

    ``rows``: dicts (a list or any iterable, read once, as it comes: a generator keeps memory
    flat however many rows there are) holding every non-auto column by attribute name
    (``shop_id``, not ``shop``); other keys are ignored. ``with_pk``: the rows carry their
    primary key too (ids taken with ``reserve_ids``, so other rows can point at them before
    they are written); without it the database numbers them.

    PostgreSQL: one ``COPY ... FROM STDIN`` in the binary format, each value sent as its
    column's type (so a value must be of that type's Python class: Decimal or int for a
    numeric column, not a str); row triggers (append-only and shop-of-order guards) and
    constraints check every row as for an INSERT, and a refused row raises Django's
    ``IntegrityError``/``DataError`` like any query. Binary because the text format cost
    2.5 times as much on both sides: psycopg printing every time and amount, the server
    parsing them back (50,000 demo orders: 0.5 s of Python and 1.6 s in all, against
    0.2 s and 0.6 s). Elsewhere (SQLite): ``bulk_create`` in batches of
    ``BULK_CREATE_BATCH``.
    """
    fields = _columns(model, with_pk)
    attnames = [f.attname for f in fields]
    values = itemgetter(*attnames)  # a row's values in column order, read in C
    count = 0
    if connection.vendor != "postgresql":
        rows = iter(rows)
        while batch := list(islice(rows, BULK_CREATE_BATCH)):
            model.objects.bulk_create([model(**{n: row[n] for n in attnames}) for row in batch])
            count += len(batch)
        return count
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    # The psycopg cursor under Django's wrapper: COPY runs in the open transaction, and its
    # errors become Django's (IntegrityError, DataError ...) as any query's do.
    # each row's foreign keys and guards are checked
    with (
        checks_keep_plans(connection),
        connection.wrap_database_errors,
        connection.cursor() as cursor,
    ):
        # The columns' types, as the binary format needs them.
        cursor.execute(f"SELECT {columns} FROM {table} LIMIT 0")  # noqa: S608
        types = [column.type_code for column in cursor.description]
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(values(row))
                count += 1
    return count


def reserve_ids(model: type[Model], count: int) -> int:
    """Takes ``count`` consecutive primary keys for new rows of ``model`` and returns the
    first; the rows are then written with ``insert_rows(..., with_pk=True)``.

    PostgreSQL: the table's own sequence moves past the block at once, so a row created later
    (by the desk, or by another writer meanwhile) never gets one of these ids. Elsewhere
    (SQLite, whose AUTOINCREMENT continues after the largest id written): the ids after the
    largest present, for a single writer such as ``seed_demo``.
    """
    pk = model._meta.pk
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(seq, nextval(seq) + %s - 1) - %s + 1 "
                "FROM CAST(pg_get_serial_sequence(%s, %s) AS regclass) AS seq",
                [max(count, 1), max(count, 1), connection.ops.quote_name(table), pk.column],
            )
        else:
            cursor.execute(
                f"SELECT COALESCE(MAX({connection.ops.quote_name(pk.column)}), 0) + 1 "  # noqa: S608
                f"FROM {connection.ops.quote_name(table)}"
            )
        return cursor.fetchone()[0]


def refresh_statistics(model: type[Model]) -> None:
    """Tells PostgreSQL's planner how many rows the table has now (ANALYZE).

    Within the import's transaction the new rows are invisible to autovacuum, so after a large
    import into a new shop the planner still believes the shop has almost no orders: it looks
    them up through the shop index and filters every row, a cost that grows with each chunk.
    ANALYZE in the same transaction counts its own new rows. It holds a lock that only other
    ANALYZE/VACUUM runs on the table wait for, until the import commits."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


# --- loading into empty tables: indexes, constraints and guards after the rows -------------
# Memory for each index build and foreign-key validation after a load (the server's default,
# 64 MB, sorts a million rows on disk).
REBUILD_MAINTENANCE_WORK_MEM = "256MB"


@dataclass
class DeferredUpkeep:
    """What ``deferred_upkeep`` took off ``tables`` and puts back, as read from the catalogue.

    ``indexes``: (name, ``CREATE INDEX`` statement); ``constraints``: (table, name,
    definition) of unique constraints, then foreign keys, in the order they come back;
    ``triggers``: (table, trigger, function) of the INSERT guards switched off."""

    tables: list[str]
    indexes: list[tuple[str, str]] = field(default_factory=list)
    constraints: list[tuple[str, str, str]] = field(default_factory=list)
    triggers: list[tuple[str, str, str]] = field(default_factory=list)


def _tables_empty(cursor, tables: Sequence[str]) -> bool:
    cursor.execute(
        " UNION ALL ".join(f"(SELECT 1 FROM {t} LIMIT 1)" for t in tables)  # noqa: S608
    )
    return cursor.fetchone() is None


def _read_upkeep(cursor, tables: Sequence[str]) -> DeferredUpkeep:
    names = list(tables)
    upkeep = DeferredUpkeep(tables=names)
    # Secondary indexes: neither the primary key nor one a constraint owns (those come back
    # with their constraint), nor one a foreign key leans on, nor a partial one: PostgreSQL
    # prints a partial index's WHERE in a form that reads back as a differently printed
    # (equivalent) condition, and a partial index costs little upkeep anyway.
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY (CAST(%s AS regclass[])) AND NOT i.indisprimary
          AND i.indpred IS NULL
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY i.indrelid::regclass::text, i.indexrelid::regclass::text
        """,
        [names],
    )
    upkeep.indexes = cursor.fetchall()
    # Unique constraints no foreign key references, then every foreign key of the tables.
    cursor.execute(
        """
        SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c
        WHERE c.conrelid = ANY (CAST(%s AS regclass[]))
          AND (c.contype = 'f' OR c.contype = 'u' AND NOT EXISTS (
                SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid))
        ORDER BY c.contype DESC, c.conrelid::regclass::text, c.conname
        """,
        [names],
    )
    upkeep.constraints = cursor.fetchall()
    # Enabled row triggers that fire on INSERT (tgtype bits: 1 row, 4 insert) and whose rule
    # tickets.db can check for the whole table at once; any other trigger stays on.
    cursor.execute(
        """
        SELECT t.tgrelid::regclass::text, t.tgname, p.proname
        FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
        WHERE t.tgrelid = ANY (CAST(%s AS regclass[])) AND NOT t.tgisinternal
          AND t.tgenabled <> 'D' AND t.tgtype & 5 = 5
        ORDER BY 1, 2
        """,
        [names],
    )
    upkeep.triggers = [
        (table, trigger, function)
        for table, trigger, function in cursor.fetchall()
        if guard_checked_at_once(function)
    ]
    return upkeep


def _restore_upkeep(cursor, upkeep: DeferredUpkeep) -> None:
    quote = connection.ops.quote_name
    guards: dict[str, list[tuple[str, str]]] = {}
    for table, trigger, function in upkeep.triggers:
        guards.setdefault(table, []).append((trigger, function))
    for table, table_guards in guards.items():
        cursor.execute(
            guard_violations_sql(table, [function for _trigger, function in table_guards])
            + " LIMIT 1"
        )
        refused = cursor.fetchone()
        if refused:
            broken = [
                f"{trigger} ({function})"
                for (trigger, function), breaks in zip(table_guards, refused[1:], strict=True)
                if breaks
            ]
            raise IntegrityError(
                f"{table}: row {refused[0]} breaks the rule of trigger {', '.join(broken)}"
            )
        for trigger, _function in table_guards:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {quote(trigger)}")
    cursor.execute(f"SET LOCAL maintenance_work_mem = '{REBUILD_MAINTENANCE_WORK_MEM}'")
    for _name, statement in upkeep.indexes:
        cursor.execute(statement)
    for table, name, definition in upkeep.constraints:
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
    # Each definition must read back exactly as it was read before the load.
    restored = _read_upkeep(cursor, upkeep.tables)
    changed = set(upkeep.indexes) ^ set(restored.indexes)
    changed |= set(upkeep.constraints) ^ set(restored.constraints)
    changed |= set(upkeep.triggers) ^ set(restored.triggers)
    if changed:
        raise IntegrityError(f"indexes or constraints did not come back as they were: {changed}")


@contextmanager
def deferred_upkeep(models: Sequence[type[Model]]) -> Iterator[bool]:
    """Loads rows into ``models``' tables with their indexes, constraints and guards applied
    once after the load instead of once per row; yields whether it does.

    Only on PostgreSQL and only when every table is empty (read under an exclusive lock on
    all of them, held until the transaction ends): it then reads from the catalogue, and
    drops, each table's secondary indexes, unique constraints and foreign keys, and switches
    off its INSERT guard triggers whose rules ``tickets.db.guard_violations_sql`` can check
    in one query. When the block ends without an error it checks those guards' rules over every
    row (``IntegrityError`` naming the first row refused), switches the triggers on, and
    builds the indexes and adds the constraints again from their own definitions (a foreign
    key is then validated with one join, a unique constraint by its index build). Otherwise
    it yields False and changes nothing: each row is checked as it is written.

    All of it runs in one transaction (a savepoint inside the caller's), so an error, an
    interrupted command or a lost connection rolls back the rows and the schema changes
    together: no other session ever sees the tables without their indexes, constraints or
    guards. Until the caller's transaction ends nothing else can read or write the tables,
    nor the tables their foreign keys point at (dropping a foreign key locks both ends: for
    the demo, shops, users, couriers and SKUs, so every page of a running desk waits).

    Why: at a million rows per table, keeping 19 indexes up to date row by row and the
    deferred per-row foreign-key checks at commit were most of ``seed_demo``'s time
    (bench/README.md, issue 14).
    """
    if connection.vendor != "postgresql":
        yield False
        return
    tables = [model._meta.db_table for model in models]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")
        if not _tables_empty(cursor, tables):
            yield False
            return
        upkeep = _read_upkeep(cursor, tables)
        # Foreign-key checks still pending from earlier in the transaction (rows of the
        # tables the keys point at) run now: PostgreSQL alters no table with pending ones.
        connection.check_constraints()
        quote = connection.ops.quote_name
        for table, name, _definition in reversed(upkeep.constraints):
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        for name, _statement in upkeep.indexes:
            cursor.execute(f"DROP INDEX {name}")
        for table, trigger, _function in upkeep.triggers:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {quote(trigger)}")
        yield True
        _restore_upkeep(cursor, upkeep)
        for table in tables:
            cursor.execute(f"ANALYZE {table}")
