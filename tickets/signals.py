"""Signals the tickets app sends for apps built on it (it never imports them)."""

from django.dispatch import Signal

# What an exchange ticket sends out changed (``ticket``: the Ticket). Sent inside the
# transaction that made the change; the exchange-goods list rewrites its unsigned file.
exchange_goods_changed = Signal()

# The demo data was seeded (``tickets.demo``; ``now``: the demo's last moment, aware; ``seed``:
# its random seed; ``users``: the demo staff by username). A receiver adds its app's part of
# the demo and returns what it wrote as ``{"what": count}``; finance_exports builds the
# sheets.
demo_seeded = Signal()
