"""Writing new rows fast: PostgreSQL's COPY, or ``bulk_create`` where there is no COPY.

An import creates up to hundreds of thousands of orders and items, the demo data (``seed_demo``)
millions of rows in every table. Building an INSERT through the ORM costs more than the
database's own work (every value is prepared field by field, every row becomes a model
instance); COPY streams the rows as they are. Rows come as dicts of column attribute names to
Python values (Decimal, aware datetime, str, int, bool, None), which psycopg adapts itself.
Both the order import and ``tickets.demo`` write through ``insert_rows``: one COPY writer.
"""

from collections.abc import Iterable
from itertools import islice

from django.db import connection
from django.db.models import AutoField, Model

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

    PostgreSQL: one ``COPY ... FROM STDIN``; row triggers (append-only and shop-of-order
    guards) and constraints check every row as for an INSERT, and a refused row raises
    Django's ``IntegrityError``/``DataError`` like any query. Elsewhere (SQLite):
    ``bulk_create`` in batches of ``BULK_CREATE_BATCH``.
    """
    fields = _columns(model, with_pk)
    attnames = [f.attname for f in fields]
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
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([row[name] for name in attnames])
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
