"""Database-level guards that Django's constraints cannot express.

``refuse_changes`` puts append-only triggers on tables: UPDATE, DELETE and TRUNCATE are refused
(``refuse_emptying``: TRUNCATE on PostgreSQL; SQLite has none, and its DELETE trigger refuses
``DELETE FROM t``). The tickets app guards its own tables here (migrations 0002, 0014, 0020); an
app that builds on tickets guards its tables from its own migrations with the same functions
(``finance_exports`` 0003-0007), so this module names no other app's table.
"""

from contextlib import contextmanager

# The tickets app's append-only tables (migration 0002).
APPEND_ONLY_TABLES = (
    "tickets_ledgerentry",
    "tickets_ledgerapproval",
    "tickets_ticketevent",
    "tickets_personaldataaccess",
    "tickets_reviewcontact",
)
# Append-only tables added later (migration 0014): an exchange's price-difference payments
# and the changes agents make to an order.
LATER_APPEND_ONLY_TABLES = ("tickets_exchangecharge", "tickets_orderchange")

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
    """Refuses UPDATE, DELETE and TRUNCATE on ``tables`` (table names) in the database itself.

    PostgreSQL: a row trigger for UPDATE and DELETE, and ``refuse_emptying``'s statement
    trigger for TRUNCATE, which no row trigger sees. SQLite: a trigger for UPDATE and
    ``refuse_emptying``'s for DELETE. The test suite's flush empties every table; it lifts
    these guards for its own transaction only (``emptying_statements``).
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
    refuse_emptying(schema_editor, tables)


def allow_changes(schema_editor, tables) -> None:
    """Removes the triggers ``refuse_changes`` made (those that exist)."""
    vendor = schema_editor.connection.vendor
    for table in tables:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only;")
    allow_emptying(schema_editor, tables)


# --- TRUNCATE (and SQLite's DELETE) on the append-only tables (issue 12 section 6) ----------
def _sqlite_no_delete(table: str) -> str:
    return (
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'table {table} is append-only: DELETE refused'); END;"
    )


def refuse_emptying(schema_editor, tables) -> None:
    """Refuses emptying ``tables`` (table names) at once, as UPDATE and DELETE are refused.

    PostgreSQL: ``TRUNCATE`` skips row triggers, so a ``BEFORE TRUNCATE ... FOR EACH
    STATEMENT`` trigger ``{table}_no_truncate`` calls the same ``desk_refuse_change()``
    (``integrity_constraint_violation``, "table ... is append-only: TRUNCATE refused").
    SQLite has no TRUNCATE; ``DELETE FROM t`` is its way to empty a table, and a
    ``{table}_no_delete`` trigger refuses every DELETE (the row trigger PostgreSQL has).
    Safe to run again: an existing guard is replaced. Rule: issue 12 section 6.
    """
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(_PG_FUNCTION, params=None)
        for table in tables:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};")
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION desk_refuse_change();"
            )
    elif vendor == "sqlite":
        for table in tables:
            schema_editor.execute(_sqlite_no_delete(table))


def allow_emptying(schema_editor, tables) -> None:
    """Removes the triggers ``refuse_emptying`` made (those that exist)."""
    vendor = schema_editor.connection.vendor
    for table in tables:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete;")


# Every TRUNCATE guard (a statement trigger calling desk_refuse_change(); tgtype bit 5 is
# TRUNCATE), disabled or enabled again; nothing when the function does not exist yet.
_PG_TRUNCATE_GUARDS_SWITCH = """
DO $$
DECLARE guard record;
BEGIN
    FOR guard IN SELECT tgrelid::regclass AS tab, tgname FROM pg_trigger
            WHERE tgfoid = to_regproc('desk_refuse_change')::oid AND tgtype & 32 <> 0 LOOP
        EXECUTE format('ALTER TABLE %s {switch} TRIGGER %I', guard.tab, guard.tgname);
    END LOOP;
END $$;
"""


def emptying_statements(connection, statements: list[str]) -> list[str]:
    """``statements`` (SQL that empties tables: Django's flush, a benchmark's reset) between
    the statements that lift the emptying guards and put them back; run the whole list in ONE
    transaction, so no other session ever sees the guards lifted and a failure leaves them in
    place.

    Only the tables' owner can do this (``ALTER TABLE ... DISABLE TRIGGER`` on PostgreSQL,
    ``DROP``/``CREATE TRIGGER`` on SQLite): it is the test suite's flush between transactional
    tests (``tests/conftest.py``) and the benchmarks', never a path of the desk. UPDATE and
    single-row DELETE stay refused on PostgreSQL even then. Returns the new list of SQL
    statements; ``connection`` is a Django connection (read on SQLite to find the guards).
    """
    if connection.vendor == "postgresql":
        return [
            _PG_TRUNCATE_GUARDS_SWITCH.replace("{switch}", "DISABLE"),
            *statements,
            _PG_TRUNCATE_GUARDS_SWITCH.replace("{switch}", "ENABLE"),
        ]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE '%\\_no\\_delete' ESCAPE '\\' ORDER BY name"
            )
            guards = cursor.fetchall()
        return [
            *(f"DROP TRIGGER IF EXISTS {name};" for name, _sql in guards),
            *statements,
            *(f"{sql};" for _name, sql in guards),
        ]
    return list(statements)


def append_only_forward(apps, schema_editor):
    refuse_changes(schema_editor, APPEND_ONLY_TABLES)


def append_only_backward(apps, schema_editor):
    allow_changes(schema_editor, APPEND_ONLY_TABLES)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS desk_refuse_change();")


# --- a row's shop is its order's; a row's ticket is one of its order's tickets -----------
# Tables with both a shop and a ticket: the shop must be the ticket's (migration 0013).
SHOP_OF_TICKET_TABLES = (
    "tickets_ledgerentry",
    "tickets_returnparcel",
    "tickets_courierlossreport",
    "tickets_qualityproblem",
    "tickets_wrongshipment",
    "tickets_platformintervention",
    "tickets_handovernote",
    "tickets_refundrequest",
)
# A row that never moves to another parent once written: table -> the column that stays.
KEEPS_PARENT = {
    "tickets_order": "shop_id",
    "tickets_ticket": "order_id",
    "tickets_orderitem": "order_id",
}

_PG_GUARD_FUNCTIONS = """
CREATE OR REPLACE FUNCTION desk_shop_is_order_shop() RETURNS trigger AS $$
BEGIN
    IF NEW.order_id IS NOT NULL AND NEW.shop_id IS DISTINCT FROM
            (SELECT shop_id FROM tickets_order WHERE id = NEW.order_id) THEN
        RAISE EXCEPTION '%: shop % is not the shop of order %', TG_TABLE_NAME, NEW.shop_id,
            NEW.order_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION desk_ticket_is_of_order() RETURNS trigger AS $$
BEGIN
    IF NEW.ticket_id IS NOT NULL AND NEW.order_id IS NOT NULL AND NEW.order_id IS DISTINCT FROM
            (SELECT order_id FROM tickets_ticket WHERE id = NEW.ticket_id) THEN
        RAISE EXCEPTION '%: ticket % is not a ticket of order %', TG_TABLE_NAME, NEW.ticket_id,
            NEW.order_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION desk_shop_is_ticket_shop() RETURNS trigger AS $$
BEGIN
    IF NEW.ticket_id IS NOT NULL AND NEW.shop_id IS DISTINCT FROM
            (SELECT shop_id FROM tickets_ticket WHERE id = NEW.ticket_id) THEN
        RAISE EXCEPTION '%: shop % is not the shop of ticket %', TG_TABLE_NAME, NEW.shop_id,
            NEW.ticket_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION desk_item_is_of_ticket_order() RETURNS trigger AS $$
BEGIN
    IF (SELECT order_id FROM tickets_orderitem WHERE id = NEW.order_item_id) IS DISTINCT FROM
            (SELECT order_id FROM tickets_ticket WHERE id = NEW.ticket_id) THEN
        RAISE EXCEPTION 'ticket % can only hold items of its own order', NEW.ticket_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION desk_keeps_parent() RETURNS trigger AS $$
BEGIN
    IF to_jsonb(NEW) ->> TG_ARGV[0] IS DISTINCT FROM to_jsonb(OLD) ->> TG_ARGV[0] THEN
        RAISE EXCEPTION '%: % never changes (row %)', TG_TABLE_NAME, TG_ARGV[0], OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION desk_order_keeps_shop() RETURNS trigger AS $$
BEGIN
    IF NEW.shop_id IS DISTINCT FROM OLD.shop_id THEN
        RAISE EXCEPTION 'an order never moves to another shop (order %)', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

# (trigger name suffix, tables, columns watched on UPDATE, SQLite condition, words)
_ROW_GUARDS = {
    "shop_is_order_shop": (
        SHOP_OF_ORDER_TABLES,
        "shop_id, order_id",
        "NEW.order_id IS NOT NULL AND NEW.shop_id IS NOT "
        "(SELECT shop_id FROM tickets_order WHERE id = NEW.order_id)",
        "the shop is not the shop of the order",
    ),
    "ticket_is_of_order": (
        TICKET_OF_ORDER_TABLES,
        "ticket_id, order_id",
        "NEW.ticket_id IS NOT NULL AND NEW.order_id IS NOT NULL AND NEW.order_id IS NOT "
        "(SELECT order_id FROM tickets_ticket WHERE id = NEW.ticket_id)",
        "the ticket is not a ticket of the order",
    ),
}
_ROW_GUARDS["shop_is_ticket_shop"] = (
    SHOP_OF_TICKET_TABLES,
    "shop_id, ticket_id",
    "NEW.ticket_id IS NOT NULL AND NEW.shop_id IS NOT "
    "(SELECT shop_id FROM tickets_ticket WHERE id = NEW.ticket_id)",
    "the shop is not the shop of the ticket",
)
_ROW_GUARDS["item_is_of_ticket_order"] = (
    ("tickets_ticketitem",),
    "ticket_id, order_item_id",
    "(SELECT order_id FROM tickets_orderitem WHERE id = NEW.order_item_id) IS NOT "
    "(SELECT order_id FROM tickets_ticket WHERE id = NEW.ticket_id)",
    "a ticket holds only items of its own order",
)


def _sqlite_keeps(table: str, column: str) -> str:
    return (
        f"CREATE TRIGGER IF NOT EXISTS {table}_keeps_{column} BEFORE UPDATE OF {column} ON "
        f"{table} FOR EACH ROW WHEN NEW.{column} IS NOT OLD.{column} "
        f"BEGIN SELECT RAISE(ABORT, '{table}: {column} never changes'); END;"
    )


def keeps_parent_install(schema_editor) -> None:
    """A ticket stays on its order and an order item in its order (``KEEPS_PARENT``; an
    order's shop is kept by the ``shop_is_order_shop`` guard)."""
    vendor = schema_editor.connection.vendor
    for table, column in KEEPS_PARENT.items():
        if table == "tickets_order":
            continue
        if vendor == "postgresql":
            schema_editor.execute(_PG_GUARD_FUNCTIONS, params=None)
            schema_editor.execute(
                f"CREATE TRIGGER {table}_keeps_{column} BEFORE UPDATE OF {column} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION desk_keeps_parent('{column}');"
            )
        elif vendor == "sqlite":
            schema_editor.execute(_sqlite_keeps(table, column))


def keeps_parent_remove(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for table, column in KEEPS_PARENT.items():
        if table == "tickets_order":
            continue
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_keeps_{column} ON {table};")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_keeps_{column};")


_SQLITE_ORDER_KEEPS_SHOP = (
    "CREATE TRIGGER IF NOT EXISTS tickets_order_keeps_shop BEFORE UPDATE OF shop_id ON "
    "tickets_order FOR EACH ROW WHEN NEW.shop_id IS NOT OLD.shop_id "
    "BEGIN SELECT RAISE(ABORT, 'an order never moves to another shop'); END;"
)


def _sqlite_row_guard(name: str, table: str) -> list[str]:
    _tables, columns, condition, words = _ROW_GUARDS[name]
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_{name}_{suffix} BEFORE {event} ON {table} "
        f"FOR EACH ROW WHEN {condition} BEGIN SELECT RAISE(ABORT, '{table}: {words}'); END;"
        for event, suffix in (("INSERT", "ins"), (f"UPDATE OF {columns}", "upd"))
    ]


def row_guard_install(schema_editor, name: str) -> None:
    """Puts the row guard ``name`` (``shop_is_order_shop``: a row's shop is its order's shop,
    and an order never changes shop; ``ticket_is_of_order``: a row's ticket belongs to its
    order) on every table it covers, as a trigger the database itself enforces."""
    vendor = schema_editor.connection.vendor
    tables, columns, _condition, _words = _ROW_GUARDS[name]
    if vendor == "postgresql":
        schema_editor.execute(_PG_GUARD_FUNCTIONS, params=None)
        for table in tables:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_{name} BEFORE INSERT OR UPDATE OF {columns} "
                f"ON {table} FOR EACH ROW EXECUTE FUNCTION desk_{name}();"
            )
        if name == "shop_is_order_shop":
            schema_editor.execute(
                "CREATE TRIGGER tickets_order_keeps_shop BEFORE UPDATE OF shop_id "
                "ON tickets_order FOR EACH ROW EXECUTE FUNCTION desk_order_keeps_shop();"
            )
    elif vendor == "sqlite":
        for table in tables:
            for statement in _sqlite_row_guard(name, table):
                schema_editor.execute(statement)
        if name == "shop_is_order_shop":
            schema_editor.execute(_SQLITE_ORDER_KEEPS_SHOP)


def row_guard_remove(schema_editor, name: str) -> None:
    vendor = schema_editor.connection.vendor
    tables = _ROW_GUARDS[name][0]
    for table in tables:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_{name} ON {table};")
        elif vendor == "sqlite":
            for suffix in ("ins", "upd"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_{name}_{suffix};")
    if name == "shop_is_order_shop":
        if vendor == "postgresql":
            schema_editor.execute(
                "DROP TRIGGER IF EXISTS tickets_order_keeps_shop ON tickets_order;"
            )
        elif vendor == "sqlite":
            schema_editor.execute("DROP TRIGGER IF EXISTS tickets_order_keeps_shop;")


def guards_ensure(connection) -> None:
    """Puts back any guard trigger of the tickets app that a migration lost. SQLite rebuilds a
    table to change its constraints and the rebuild drops the table's triggers; this runs
    after every migrate, so the rules hold whatever later migrations do. PostgreSQL keeps
    triggers through ALTER TABLE: nothing to do there."""
    if connection.vendor != "sqlite":
        return
    statements = [
        f"CREATE TRIGGER IF NOT EXISTS {table}_append_only BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'table {table} is append-only: UPDATE refused'); END;"
        for table in (*APPEND_ONLY_TABLES, *LATER_APPEND_ONLY_TABLES)
    ]
    statements += [_sqlite_no_delete(t) for t in (*APPEND_ONLY_TABLES, *LATER_APPEND_ONLY_TABLES)]
    for name, (tables, *_rest) in _ROW_GUARDS.items():
        statements += [s for table in tables for s in _sqlite_row_guard(name, table)]
    statements.append(_SQLITE_ORDER_KEEPS_SHOP)
    statements += [
        _sqlite_keeps(table, column)
        for table, column in KEEPS_PARENT.items()
        if table != "tickets_order"
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        present = {row[0] for row in cursor.fetchall()}
        for statement in statements:
            if statement.split(" ON ")[1].split()[0] in present:
                cursor.execute(statement)
        if {"tickets_order", "tickets_buyernick"} <= present:
            for statement in _sqlite_buyer_nicks():
                cursor.execute(statement)


# --- the distinct nicknames (``BuyerNick``, migration 0024) ------------------------------
# Every order written adds its buyer's nickname to ``tickets_buyernick``, whoever writes it.
# PostgreSQL: one statement trigger per INSERT and per UPDATE statement, reading the rows the
# statement wrote (a transition table), so the order import's COPY of 100,000 rows costs one
# INSERT ... SELECT DISTINCT, not 100,000; nicknames in a fixed order, so two loads adding the
# same new nicknames wait for each other rather than deadlock. SQLite: a row trigger.
_PG_BUYER_NICKS = """
CREATE OR REPLACE FUNCTION desk_buyer_nicks_add() RETURNS trigger AS $$
BEGIN
    INSERT INTO tickets_buyernick (nick)
    SELECT DISTINCT buyer_nick FROM written_orders ORDER BY 1
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""
BUYER_NICK_EVENTS = (("INSERT", "insert"), ("UPDATE", "update"))


def _sqlite_buyer_nicks() -> list[str]:
    add = "INSERT OR IGNORE INTO tickets_buyernick (nick) VALUES (NEW.buyer_nick);"
    return [
        f"CREATE TRIGGER IF NOT EXISTS tickets_order_nick_{suffix} AFTER {event} ON "
        f"tickets_order FOR EACH ROW BEGIN {add} END;"
        for event, suffix in (("INSERT", "insert"), ("UPDATE OF buyer_nick", "update"))
    ]


def buyer_nicks_install(schema_editor) -> None:
    """Fills ``tickets_buyernick`` with every order's nickname and puts the triggers on
    ``tickets_order`` that keep it complete (``BuyerNick``)."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(_PG_BUYER_NICKS, params=None)
        for event, suffix in BUYER_NICK_EVENTS:
            schema_editor.execute(
                f"CREATE TRIGGER tickets_order_nick_{suffix} AFTER {event} ON tickets_order "
                f"REFERENCING NEW TABLE AS written_orders FOR EACH STATEMENT "
                f"EXECUTE FUNCTION desk_buyer_nicks_add();"
            )
        schema_editor.execute(
            "INSERT INTO tickets_buyernick (nick) SELECT DISTINCT buyer_nick FROM tickets_order "
            "ON CONFLICT DO NOTHING"
        )
    elif vendor == "sqlite":
        for statement in _sqlite_buyer_nicks():
            schema_editor.execute(statement)
        schema_editor.execute(
            "INSERT OR IGNORE INTO tickets_buyernick (nick) "
            "SELECT DISTINCT buyer_nick FROM tickets_order"
        )


def buyer_nicks_remove(schema_editor) -> None:
    """Takes ``buyer_nicks_install``'s triggers off (the table goes with its model)."""
    vendor = schema_editor.connection.vendor
    for _event, suffix in BUYER_NICK_EVENTS:
        if vendor == "postgresql":
            schema_editor.execute(
                f"DROP TRIGGER IF EXISTS tickets_order_nick_{suffix} ON tickets_order;"
            )
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS tickets_order_nick_{suffix};")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS desk_buyer_nicks_add();")


def sqlite_guards_suspend(schema_editor) -> None:
    """Drops the row guards on SQLite before a migration rebuilds a table they read.

    SQLite changes a table by building a new one and renaming it, and refuses the rename
    while another table's trigger names the old one (``no such table: main.tickets_ticket``).
    ``guards_ensure`` puts every guard back after the migrate; nothing to do on PostgreSQL,
    which alters tables in place."""
    if schema_editor.connection.vendor != "sqlite":
        return
    for name in _ROW_GUARDS:
        row_guard_remove(schema_editor, name)
    keeps_parent_remove(schema_editor)
    for _event, suffix in BUYER_NICK_EVENTS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS tickets_order_nick_{suffix};")


def sqlite_guards_restore(schema_editor) -> None:
    """Puts back what ``sqlite_guards_suspend`` dropped (at the end of the same migration)."""
    guards_ensure(schema_editor.connection)


def _guards_lift(apps, schema_editor) -> None:
    sqlite_guards_suspend(schema_editor)


def _guards_put_back(apps, schema_editor) -> None:
    sqlite_guards_restore(schema_editor)


def sqlite_guards_lifted(*operations) -> list:
    """A migration's ``operations`` that rebuild a table on SQLite, between the steps that lift
    the guards and put them back (``sqlite_guards_suspend`` / ``sqlite_guards_restore``; no-ops
    on PostgreSQL), both ways round when the migration is unapplied:
    ``operations = sqlite_guards_lifted(migrations.AlterField(...), ...)``."""
    from django.db.migrations import RunPython

    return [
        RunPython(_guards_lift, _guards_put_back),
        *operations,
        RunPython(_guards_put_back, _guards_lift),
    ]


# --- the row guards as one query per table (a load with the per-row triggers off) ---------
# Trigger function -> (the joins it needs from ``t``, the table's rows, and the condition on
# which it refuses a row): each function's IF above, read against the parent tables as they
# are now.
_PG_GUARD_RULES = {
    "desk_shop_is_order_shop": (
        ("LEFT JOIN tickets_order o ON o.id = t.order_id",),
        "t.order_id IS NOT NULL AND t.shop_id IS DISTINCT FROM o.shop_id",
    ),
    "desk_ticket_is_of_order": (
        ("LEFT JOIN tickets_ticket k ON k.id = t.ticket_id",),
        "t.ticket_id IS NOT NULL AND t.order_id IS NOT NULL "
        "AND t.order_id IS DISTINCT FROM k.order_id",
    ),
    "desk_shop_is_ticket_shop": (
        ("LEFT JOIN tickets_ticket k ON k.id = t.ticket_id",),
        "t.ticket_id IS NOT NULL AND t.shop_id IS DISTINCT FROM k.shop_id",
    ),
    "desk_item_is_of_ticket_order": (
        (
            "LEFT JOIN tickets_orderitem i ON i.id = t.order_item_id",
            "LEFT JOIN tickets_ticket k ON k.id = t.ticket_id",
        ),
        "i.order_id IS DISTINCT FROM k.order_id",
    ),
}


def guard_checked_at_once(function: str) -> bool:
    """Whether ``guard_violations_sql`` knows the rule of the trigger function ``function``."""
    return function in _PG_GUARD_RULES


def guard_violations_sql(table: str, functions: list[str]) -> str:
    """One SELECT (PostgreSQL) of the rows of ``table`` that any INSERT guard trigger calling
    one of ``functions`` (``desk_shop_is_order_shop`` ...) would have refused: each row's id,
    then one boolean per function, true where that rule refuses it. ``KeyError`` for a
    function ``guard_checked_at_once`` does not know (its trigger must stay on).

    A bulk load into empty tables (``tickets.imports.bulk.deferred_upkeep``) turns the
    per-row guards off and runs this once per table instead: the same rules, one scan of the
    table with a join per parent instead of a lookup per row and rule. ``table`` is a table
    name from the catalogue, not user input."""
    joins: list[str] = []
    conditions = []
    for function in functions:
        needed, condition = _PG_GUARD_RULES[function]
        joins += [join for join in needed if join not in joins]
        conditions.append(f"({condition})")
    return (
        f"SELECT t.id, {', '.join(conditions)} FROM {table} t {' '.join(joins)} "  # noqa: S608
        f"WHERE {' OR '.join(conditions)}"
    )


@contextmanager
def checks_keep_plans(connection, *, check_now: bool = False):
    """While the block runs, the foreign-key checks and guard triggers of a write of many
    rows (a sheet's claims, a COPY) keep their plans: PostgreSQL's ``plan_cache_mode =
    auto`` for the block, the session's mode put back after it, so the rest of the
    transaction plans as before. Those checks run one query per written row; with
    ``DATABASE_PREPARE_THRESHOLD`` set the session plans every query afresh
    (``force_custom_plan``, aftersales/settings.py), which cost a 100,000-entry finance
    sheet 2.3 s more in its commit (bench/README, tenth session).

    ``check_now``: the rows' deferred foreign-key checks are made at the block's end, with
    the plans kept (``SET CONSTRAINTS ALL IMMEDIATE``, then back to deferred: the desk's
    deferrable constraints are all initially deferred); only for rows whose parents exist
    already (a claim), not for a load that writes children before their parents. Does
    nothing outside a transaction, on SQLite, or when the session keeps plans already; a
    failed block leaves the mode to the transaction's rollback."""
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('plan_cache_mode')")
        before = cursor.fetchone()[0]
    if before == "auto":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('plan_cache_mode', 'auto', true)")
    yield
    with connection.cursor() as cursor:
        if check_now:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("SELECT set_config('plan_cache_mode', %s, true)", [before])
