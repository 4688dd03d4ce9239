"""Sentences stored as a key and parameters and put into words when they are read, in the
reader's language: a notification (``tickets.notification_messages``) and a timeline line the
desk words itself (``tickets.timeline_lines``) each keep one ``Phrasebook``."""

from collections.abc import Callable


class Phrasebook:
    """Key -> a function saying it (``render(params) -> str``, translating with ``gettext``
    when called, never at import), and the parameters each key holds, no more and no fewer."""

    def __init__(self) -> None:
        self.renders: dict[str, Callable[[dict], str]] = {}
        self.params: dict[str, frozenset[str]] = {}

    def register(self, key: str, *params: str) -> Callable:
        """Decorator: the function says ``key``, whose parameters are exactly ``params``."""

        def decorator(render: Callable[[dict], str]) -> Callable[[dict], str]:
            self.renders[key] = render
            self.params[key] = frozenset(params)
            return render

        return decorator

    def say(self, key: str, params: dict) -> str:
        """``key`` with ``params`` in the active language. ``KeyError`` for a key with no
        words or parameters that are not the key's (one missing or one more); whatever the
        words raise for a value they do not know (``ValueError`` for an unknown choice or a
        time that is no ISO 8601)."""
        if set(params) != self.params[key]:
            raise KeyError(f"{key} holds {sorted(self.params[key])}, not {sorted(params)}")
        return self.renders[key](params)
