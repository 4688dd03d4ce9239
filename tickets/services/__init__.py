"""Writes. Every change of the desk's state goes through a function in this package.

A service takes keyword-only arguments including the acting user, runs in one transaction,
checks the acting user's role, and raises ``DeskError`` with a message for the user when a
rule refuses the action. Callers fetch objects through ``tickets.selectors`` first, so a
service never sees another shop's rows.
"""

from django.core.exceptions import PermissionDenied

from tickets.errors import DeskError

__all__ = ["DeskError", "require_perm"]


def require_perm(user, perm: str) -> None:
    """Refuses the action unless the user's role grants ``perm`` (never is_staff)."""
    if not user.has_perm(perm):
        raise PermissionDenied(perm)
