"""The tickets domain's error (``tickets.services`` re-exports it)."""


class TicketError(Exception):
    """A domain rule was broken; the message is shown to the user as is."""
