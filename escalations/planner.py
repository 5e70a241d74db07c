"""The escalation planner the SLA asks (``sla.ports.escalation_planner``), answered with the ladders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from escalations.ladder import LadderCache, bulk_next_escalation, next_escalation_for


class LadderPlanner:
    """When the sweep must look at a clock next: the earliest level of its ladder not yet fired."""

    def next_escalation(self, clock) -> datetime | None:
        return next_escalation_for(clock, cache=LadderCache(people=False))

    def plan(self, clocks: Sequence) -> list:
        return bulk_next_escalation(clocks, cache=LadderCache(people=False))
