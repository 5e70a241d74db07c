"""The domain error of the ticket services (re-exported by ``tickets.services``)."""

from __future__ import annotations


class TicketError(Exception):
    """A domain rule was broken; the message is shown to the user as is."""
