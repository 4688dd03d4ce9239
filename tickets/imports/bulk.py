"""Writing new rows fast: PostgreSQL's COPY, or ``bulk_create`` where there is no COPY.

An import creates up to hundreds of thousands of orders and items. Building an INSERT through
the ORM costs more than the database's own work (every value is prepared field by field);
COPY streams the rows as they are. Rows come as complete dicts of column attribute names to
Python values (Decimal, aware datetime, str, int, bool, None), which psycopg adapts itself.
"""

from django.db import connection
from django.db.models import AutoField, Model

# After this many new rows in a table, PostgreSQL's statistics about it are refreshed.
ANALYZE_EVERY_ROWS = 20_000


def row_defaults(model: type[Model]) -> dict:
    """Every column's default (callables called once), to complete a partial row."""
    return {
        field.attname: field.get_default()
        for field in model._meta.concrete_fields
        if not isinstance(field, AutoField)
    }


def insert_rows(model: type[Model], rows: list[dict]) -> None:
    """Inserts ``rows`` (each with every non-auto column) into ``model``'s table, in the
    current transaction."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows], batch_size=1000)
        return
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, AutoField)]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    attnames = [f.attname for f in fields]
    # The psycopg cursor under Django's wrapper: COPY runs in the open transaction, and its
    # errors become Django's (IntegrityError, DataError ...) as any query's do.
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([row[name] for name in attnames])


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
