"""Signals the tickets app sends for apps built on it (it never imports them)."""

from django.dispatch import Signal

# What an exchange ticket sends out changed (``ticket``: the Ticket). Sent inside the
# transaction that made the change; the exchange-goods list rewrites its unsigned file.
exchange_goods_changed = Signal()
