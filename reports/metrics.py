"""Pure report arithmetic: percentiles, compliance, period comparison, Erlang C, SLA calibration.

No ORM, no settings: numbers in, numbers out. The selectors in ``reports.dashboard``
and the report views feed these with what the database returned; the tests check
them with hand-computed values and with hypothesis.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

# --- percentiles and shares ----------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-quantile (0..1) with linear interpolation between closest ranks.

    The same definition as PostgreSQL's ``percentile_cont`` (and numpy's default),
    so the SQL and Python paths of the selectors agree. ``None`` for no values.
    """
    if not 0 <= q <= 1:
        raise ValueError("q must be between 0 and 1")
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def share(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` in percent (one decimal), ``None`` when nothing counts."""
    if not whole:
        return None
    return round(part * 100.0 / whole, 1)


def compliance(values: Sequence[float], target: float) -> float | None:
    """Share (percent) of ``values`` that are within ``target`` (a value equal to the target is met)."""
    return share(sum(1 for v in values if v <= target), len(values))


@dataclass(frozen=True)
class Change:
    """A figure beside the same figure of the previous period of equal length."""

    current: float | None
    previous: float | None

    @property
    def delta(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return round(self.current - self.previous, 1)

    @property
    def direction(self) -> str:
        """"up", "down" or "flat" (or "" when one side is missing)."""
        delta = self.delta
        if delta is None:
            return ""
        return "up" if delta > 0 else "down" if delta < 0 else "flat"


def change(current: float | None, previous: float | None) -> Change:
    return Change(current, previous)


# --- Erlang C -----------------------------------------------------------------------------------------


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a request waits (Erlang C) with ``agents`` servers and ``traffic`` erlangs.

    1.0 when the agents cannot keep up (``agents <= traffic``). Computed with the
    Erlang B recursion, which is stable for hundreds of agents.
    """
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    b = 1.0
    for k in range(1, agents + 1):
        b = traffic * b / (k + traffic * b)
    return agents * b / (agents - traffic * (1 - b))


def service_level(agents: int, traffic: float, *, answer_within: float, handling: float) -> float:
    """Share (0..1) of requests answered within ``answer_within`` (same unit as ``handling``)."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    waits = erlang_c(agents, traffic)
    return max(0.0, 1.0 - waits * math.exp(-(agents - traffic) * answer_within / handling))


def agents_needed(
    arrivals_per_hour: float, *, handling: timedelta, answer_within: timedelta, goal: float, limit: int = 1000
) -> int:
    """The fewest agents that answer ``goal`` (0..1) of requests within ``answer_within`` (Erlang C).

    ``arrivals_per_hour`` requests an hour, each taking ``handling`` of an agent's time. Zero
    arrivals need zero agents. ``limit`` bounds the search.
    """
    if arrivals_per_hour <= 0:
        return 0
    hours = handling.total_seconds() / 3600
    if hours <= 0:
        return 0
    traffic = arrivals_per_hour * hours
    within = answer_within.total_seconds()
    seconds = handling.total_seconds()
    agents = max(1, math.floor(traffic) + 1)
    while agents < limit and service_level(agents, traffic, answer_within=within, handling=seconds) < goal:
        agents += 1
    return agents


# --- SLA calibration --------------------------------------------------------------------------------------

MINUTE = 60.0
HOUR = 3600.0


def nice_step(seconds: float) -> float:
    """The rounding step of a target of about ``seconds``: 5 min under 1 h, 15 min under 4 h,
    30 min under 8 h, 1 h from there on."""
    if seconds < HOUR:
        return 5 * MINUTE
    if seconds < 4 * HOUR:
        return 15 * MINUTE
    if seconds < 8 * HOUR:
        return 30 * MINUTE
    return HOUR


def nice_ceiling(seconds: float) -> float:
    """``seconds`` rounded up to its nice step (at least one step)."""
    step = nice_step(seconds)
    return max(step, math.ceil(seconds / step - 1e-9) * step)


def rank_quantile(values: Sequence[float], goal: float) -> float | None:
    """The smallest observed value that at least ``goal`` (0..1) of ``values`` do not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(goal * len(ordered) - 1e-9))
    return ordered[rank - 1]


def suggest_target(values: Sequence[float], goal: float) -> float | None:
    """A round target (seconds) that ``values`` would have met at least ``goal`` (0..1) of the time.

    The observed value at the goal's rank, rounded up to a nice step: so it is met by at least
    ``goal`` of the observations and is less than one step above what was needed.
    """
    needed = rank_quantile(values, goal)
    if needed is None:
        return None
    return nice_ceiling(needed)


CANDIDATE_TARGETS_S = (
    15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR, 16 * HOUR, 24 * HOUR, 40 * HOUR, 80 * HOUR,
)


def candidates(current: float | None, suggested: float | None) -> list[float]:
    """The targets the calibration table compares: a fixed ladder plus the current and suggested ones."""
    chosen = set(CANDIDATE_TARGETS_S)
    chosen.update(v for v in (current, suggested) if v)
    return sorted(chosen)
