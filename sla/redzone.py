"""The red zone of an SLA clock: the one rule, as a pure function of the clock's stored state.

A clock is in the red zone (docs/sla.md, docs/reports.md) when it counts for compliance, is attached
to a policy, is running or paused, and

* is breached (``breached_at`` set), or has consumed at least 80 % of its target (a paused clock
  counts with the time consumed when it paused), or
* runs and is past its due instant, or past the instant it reaches 80 % of its target:
  ``calendar.add(state_changed_at, 0.8 × target − consumed)`` in business time.

A clock's state only changes through ``sla.clocks`` (and ``sla.calendars`` re-projects running
clocks after a calendar edit), so the instant from which the rule holds is fixed between two
changes. :func:`red_zone_from` returns that instant and ``sla.clocks.save_clock`` stores it as
``SLAClock.red_at``: "in the red zone at ``now``" is then ``red_at <= now``, an indexed comparison
(``sla_clock_red_at``), instead of business-time arithmetic per open clock at every read.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from sla.businesstime import WorkCalendar

RED_SHARE = 0.8  # the red zone starts at 80 % of the target consumed
RUNNING, PAUSED = "running", "paused"


class _Clock(Protocol):
    state: str
    consumed: timedelta
    target: timedelta
    state_changed_at: datetime
    due_at: datetime | None
    breached_at: datetime | None
    counts_for_compliance: bool
    policy_id: int | None


def red_zone_from(clock: _Clock, work: WorkCalendar | None) -> datetime | None:
    """The instant from which ``clock`` is in the red zone while it stays as it is; None: it is not, nor will be.

    ``work``: the clock calendar's engine (read only for a running clock below 80 %). A clock already
    red when it last changed (breached, or 80 % consumed) gets the earlier of that change and its breach.
    """
    if clock.state not in (RUNNING, PAUSED) or not clock.counts_for_compliance or clock.policy_id is None:
        return None
    threshold = clock.target * RED_SHARE
    if clock.breached_at is not None or clock.consumed >= threshold:
        return min(clock.state_changed_at, clock.breached_at or clock.state_changed_at)
    if clock.state != RUNNING:
        return None  # paused below 80 %: consumed does not grow until it resumes
    at80 = work.add(clock.state_changed_at, threshold - clock.consumed)
    return at80 if clock.due_at is None else min(at80, clock.due_at)
