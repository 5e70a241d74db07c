"""Pure escalation rules: when each level of a ladder fires for a clock, and when to look next.

No ORM, no settings: plain dataclasses in, aware UTC datetimes out. Business
time comes from the clock calendar's ``sla.businesstime.WorkCalendar``.

A level's trigger is turned into a *threshold*: the business time the clock
must have consumed for the level to fire.

* a share of the target: ``target × percent / 100`` (50 %, 80 %, 100 %, 200 % …);
* an offset from the due instant: ``target + offset`` (``-30 min`` is "30
  minutes before due", ``+1 h`` is "an hour after"). An offset before due
  that is as long as the target or longer never fires (it would fire at the
  very start of a short clock).

A running clock holds ``consumed`` business time at its checkpoint
``state_changed_at``; the instant it reaches a threshold is
``calendar.add(checkpoint, threshold - consumed)``, or the checkpoint itself
when the threshold is already behind it. Paused and stopped clocks never fire.
The sweep wakes a clock at ``next_wakeup``: the earliest instant among the
levels not fired yet and the breach check (the first instant at which business
time has passed the target, so a clock due at Friday 18:00 is breached at
Monday's opening, not over the weekend).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

ZERO = timedelta(0)
ANY = "any"
ANY_KINDS = frozenset({"first_response", "resolution"})
"""What a level on "any" SLA clock watches: never the next reply (its own short ladder) nor the deadline."""
RUNNING = "running"
BREACH_GRACE = timedelta(seconds=1)
"""A clock is breached once business time has passed its target: one business second after due."""


@dataclass(frozen=True)
class Trigger:
    """Either ``percent`` of the target consumed, or a signed business-time ``offset`` from the due instant."""

    percent: int | None = None
    offset: timedelta | None = None

    def __post_init__(self) -> None:
        if (self.percent is None) == (self.offset is None):
            raise ValueError("a trigger is either a percent or an offset")
        if self.percent is not None and self.percent <= 0:
            raise ValueError("a percent trigger must be above zero")

    def threshold(self, target: timedelta) -> timedelta | None:
        """Consumed business time at which the trigger fires; ``None``: never for this target."""
        if self.percent is not None:
            return target * self.percent / 100
        threshold = target + self.offset
        return threshold if threshold > ZERO else None


@dataclass(frozen=True)
class LevelRule:
    """One level of a ladder as the rules see it: its key (the level's id), order, clock kind and trigger."""

    key: int
    order: int
    clock: str  # a clock kind, or "any"
    trigger: Trigger

    def applies_to(self, kind: str) -> bool:
        return self.clock == kind or (self.clock == ANY and kind in ANY_KINDS)


@dataclass(frozen=True)
class ClockSnapshot:
    """What the rules need of a clock: its kind, state, target and the consumed time at its checkpoint."""

    kind: str
    state: str
    target: timedelta
    consumed: timedelta
    checkpoint: datetime  # state_changed_at
    breached: bool = False

    @property
    def running(self) -> bool:
        return self.state == RUNNING


def reach_instant(clock: ClockSnapshot, threshold: timedelta, calendar) -> datetime | None:
    """When the running ``clock`` has consumed ``threshold`` (its checkpoint if it already has)."""
    if not clock.running:
        return None
    remaining = threshold - clock.consumed
    if remaining <= ZERO:
        return calendar.add(clock.checkpoint, ZERO)
    return calendar.add(clock.checkpoint, remaining)


def fire_instants(
    clock: ClockSnapshot, levels: Iterable[LevelRule], calendar, *, fired: Iterable[int] = ()
) -> list[tuple[datetime, LevelRule]]:
    """(instant, level) of every applicable level not fired yet, earliest first (ties by order)."""
    if not clock.running:
        return []
    done = set(fired)
    result = []
    for level in levels:
        if level.key in done or not level.applies_to(clock.kind):
            continue
        threshold = level.trigger.threshold(clock.target)
        if threshold is None:
            continue
        result.append((reach_instant(clock, threshold, calendar), level))
    result.sort(key=lambda pair: (pair[0], pair[1].order, pair[1].key))
    return result


def due_levels(
    clock: ClockSnapshot, levels: Sequence[LevelRule], calendar, now: datetime, *, fired: Iterable[int] = ()
) -> list[tuple[datetime, LevelRule]]:
    """The levels to fire at ``now``: every unfired one whose instant is not after ``now``, in order."""
    return [(at, level) for at, level in fire_instants(clock, levels, calendar, fired=fired) if at <= now]


def breach_check_at(clock: ClockSnapshot, calendar) -> datetime | None:
    """The first instant at which the running clock has consumed more than its target (None if breached)."""
    if not clock.running or clock.breached:
        return None
    return reach_instant(clock, clock.target + BREACH_GRACE, calendar)


def next_wakeup(
    clock: ClockSnapshot, levels: Sequence[LevelRule], calendar, *, fired: Iterable[int] = ()
) -> datetime | None:
    """``next_escalation_at``: the earliest unfired level's instant or the breach check; None: nothing left."""
    return wakeup_after(clock, fire_instants(clock, levels, calendar, fired=fired), calendar)


def split_due(
    instants: Sequence[tuple[datetime, LevelRule]], now: datetime
) -> tuple[list[tuple[datetime, LevelRule]], list[tuple[datetime, LevelRule]]]:
    """``fire_instants`` cut at ``now``: (the levels due, as ``due_levels``; the ones still to come).

    Once the due ones have fired, ``wakeup_after(clock, still_to_come, calendar)`` is ``next_wakeup``:
    the ladder's business time is worked out once per clock, not twice.
    """
    cut = 0
    while cut < len(instants) and instants[cut][0] <= now:
        cut += 1
    return list(instants[:cut]), list(instants[cut:])


def wakeup_after(
    clock: ClockSnapshot, pending: Sequence[tuple[datetime, LevelRule]], calendar
) -> datetime | None:
    """``next_wakeup`` given ``pending``, the ``fire_instants`` of the levels not fired yet (earliest first)."""
    candidates = [at for at, _level in pending[:1]]
    breach = breach_check_at(clock, calendar)
    if breach is not None:
        candidates.append(breach)
    return min(candidates) if candidates else None
