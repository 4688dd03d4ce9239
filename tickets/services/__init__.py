"""Writes. Every change of the desk's state goes through a function in this package."""


class DeskError(Exception):
    """A domain rule refused the action; the message is for the user, in their language."""
