"""Questions the ticket services ask a higher floor (answers plugged in by ``opsdesk/wiring.py``)."""

from __future__ import annotations

from core.ports import Port


def _no_classification(title: str, description: str):
    return None


# The keyword rule that gives a new ticket without a type its type (an object with ``ticket_type``), or None.
classify = Port("tickets.classify", default=_no_classification)
