"""The error a domain rule raises when it refuses an action."""


class DeskError(Exception):
    """A domain rule refused the action; the message is for the user, in their language."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __str__(self):
        return str(self.message)
