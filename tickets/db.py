"""Database-level guards that Django's constraints cannot express.

``refuse_changes`` puts an append-only trigger on tables: UPDATE is refused (and on PostgreSQL
DELETE too). The tickets app guards its own tables here (migration 0002); an app that builds
on tickets guards its tables from its own migrations with the same two functions
(``finance_exports`` 0003/0004), so this module names no other app's table.
"""

# The tickets app's append-only tables (migration 0002).
APPEND_ONLY_TABLES = (
    "tickets_ledgerentry",
    "tickets_ledgerapproval",
    "tickets_ticketevent",
    "tickets_personaldataaccess",
    "tickets_reviewcontact",
)

# Tables with both a shop and an order: the shop must be the order's (migration 0008).
SHOP_OF_ORDER_TABLES = (
    "tickets_ledgerentry",
    "tickets_ticket",
    "tickets_returnparcel",
    "tickets_courierlossreport",
    "tickets_qualityproblem",
    "tickets_wrongshipment",
    "tickets_platformintervention",
    "tickets_invoicerequest",
    "tickets_review",
    "tickets_handovernote",
    "tickets_refundrequest",
)

# Tables with both an order and a ticket: when both are set, the ticket is one of the order's
# (migration 0010).
TICKET_OF_ORDER_TABLES = (
    "tickets_ledgerentry",
    "tickets_returnparcel",
    "tickets_courierlossreport",
    "tickets_qualityproblem",
    "tickets_wrongshipment",
    "tickets_platformintervention",
    "tickets_handovernote",
    "tickets_refundrequest",
)

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION desk_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""


def refuse_changes(schema_editor, tables) -> None:
    """Refuses UPDATE (and on PostgreSQL DELETE) on ``tables`` in the database itself.

    On SQLite only UPDATE is refused: Django's test flush empties tables with DELETE there,
    while PostgreSQL uses TRUNCATE, which a row trigger does not see.
    """
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(_PG_FUNCTION, params=None)
        for table in tables:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION desk_refuse_change();"
            )
    elif vendor == "sqlite":
        for table in tables:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'table {table} is append-only: UPDATE refused'); END;"
            )


def allow_changes(schema_editor, tables) -> None:
    """Removes the triggers ``refuse_changes`` made (those that exist)."""
    vendor = schema_editor.connection.vendor
    for table in tables:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only;")


def append_only_forward(apps, schema_editor):
    refuse_changes(schema_editor, APPEND_ONLY_TABLES)


def append_only_backward(apps, schema_editor):
    allow_changes(schema_editor, APPEND_ONLY_TABLES)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS desk_refuse_change();")
