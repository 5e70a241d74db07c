"""What the SLA asks a higher floor (answers plugged in by ``opsdesk/wiring.py``).

``escalation_planner`` tells when the sweep must look at a running clock next
(``SLAClock.next_escalation_at``). The SLA knows clocks, not ladders; the
escalations app answers with its ladders (``escalations/planner.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from core.ports import Port


class EscalationPlanner(Protocol):
    def next_escalation(self, clock) -> datetime | None:
        """``next_escalation_at`` for ``clock`` now (None unless it runs and something can still fire)."""

    def plan(self, clocks: Sequence) -> list:
        """Set ``next_escalation_at`` on each clock in memory; return those that changed."""


class NoEscalations:
    """The answer without an escalations app: nothing ever fires."""

    def next_escalation(self, clock) -> datetime | None:
        return None

    def plan(self, clocks: Sequence) -> list:
        changed = [clock for clock in clocks if clock.next_escalation_at is not None]
        for clock in changed:
            clock.next_escalation_at = None
        return changed


escalation_planner = Port("sla.escalation_planner", default=NoEscalations())


def planner() -> EscalationPlanner:
    return escalation_planner.provider
