"""Database-level guards that Django's constraints cannot express."""

APPEND_ONLY_TABLES = (
    "tickets_ledgerentry",
    "tickets_ledgerapproval",
    "tickets_ticketevent",
    "tickets_personaldataaccess",
    "tickets_reviewcontact",
    "finance_exports_sheetdownload",
)

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION desk_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""


def append_only_forward(apps, schema_editor):
    """Refuses UPDATE (and on PostgreSQL DELETE) on append-only tables in the database itself.

    On SQLite only UPDATE is refused: Django's test flush empties tables with DELETE there,
    while PostgreSQL uses TRUNCATE, which a row trigger does not see.
    """
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(_PG_FUNCTION, params=None)
        for table in APPEND_ONLY_TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION desk_refuse_change();"
            )
    elif vendor == "sqlite":
        for table in APPEND_ONLY_TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'table {table} is append-only: UPDATE refused'); END;"
            )


def append_only_backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in APPEND_ONLY_TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only;")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS desk_refuse_change();")
