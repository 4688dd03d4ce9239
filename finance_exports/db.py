"""finance_exports' append-only tables: what a sheet claimed, and who downloaded which sheet.

The database refuses UPDATE, DELETE and TRUNCATE on each (``tickets.db.refuse_changes`` and
``refuse_emptying``; migrations 0003-0007), as it does on the tickets app's own
(``tickets.db.APPEND_ONLY_TABLES``). A new append-only table belongs here and in its migration.
"""

APPEND_ONLY_TABLES = (
    "finance_exports_financesheetentry",  # a ledger entry claimed by a finance sheet (0003)
    "finance_exports_sheetdownload",  # the download log (0004)
    "finance_exports_invoicebatchline",  # an invoice request claimed by a batch (0005)
    "finance_exports_financesheetcharge",  # a price difference claimed by a sheet (0006)
)
