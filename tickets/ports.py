"""Questions the ticket services ask a higher floor (answers plugged in by ``opsdesk/wiring.py``)."""

from __future__ import annotations

from core.ports import Port


def _no_classification(title: str, description: str):
    return None


# The keyword rule that gives a new ticket without a type its type (an object with ``ticket_type``), or None.
classify = Port("tickets.classify", default=_no_classification)


def _stored_only(ticket) -> str:
    return "stored"


# How a public reply on ``ticket`` would reach its customer (``"email"``, ``"gateway"``), or "" when no
# channel can carry it; ``ticket_reply(refuse_undeliverable=True)`` refuses then. Answered by ``channels``.
reply_route = Port("tickets.reply_route", default=_stored_only)
