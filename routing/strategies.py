"""Who gets the next ticket: the pure routing choice (no ORM, no settings, no clock).

``routing.assignment`` loads the queue's agents into :class:`Agent` rows,
calls :func:`choose` and applies the :class:`Decision` through
``tickets.services.ticket_assign``. Everything here is plain data in, a
choice and a reason out, so each strategy is tested without a database.

Availability
    An agent receives work only when on shift, not marked away, not absent and
    under capacity (open tickets performed < capacity; no capacity = no limit).
    An absent agent's slot goes to their substitute when the substitute is a
    member of the queue and available; otherwise the slot is skipped.

Strategies
    ``round_robin``  the next slot after the queue's cursor (slots ordered by user id)
    ``least_loaded`` fewest open tickets; ties: idle longest (oldest last assignment, never first), then id
    ``skills``       agents having every required skill at its minimum level; the most qualified
                     (highest sum of those levels), then least loaded. Nobody qualified: stays queued
    ``hybrid``       skills first, then load: least loaded among the qualified; nobody qualified:
                     least loaded among everyone available
    ``pull``/``manual`` never assigned automatically
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from operator import attrgetter
from types import MappingProxyType
from typing import Any, NamedTuple

MANUAL = "manual"
ROUND_ROBIN = "round_robin"
LEAST_LOADED = "least_loaded"
SKILLS = "skills"
PULL = "pull"
HYBRID = "hybrid"
STRATEGIES = (MANUAL, ROUND_ROBIN, LEAST_LOADED, SKILLS, PULL, HYBRID)
AUTOMATIC = frozenset({ROUND_ROBIN, LEAST_LOADED, SKILLS, HYBRID})

# Reason codes (rendered as sentences by ``describe_reason``).
R_NOT_AUTOMATIC = "not_automatic"
R_NO_AGENT = "no_available_agent"
R_NO_SKILLED = "no_skilled_agent"
R_NEXT_IN_TURN = "next_in_turn"
R_LEAST_LOADED = "least_loaded"
R_MOST_SKILLED = "most_skilled"
R_SKILLED_LEAST_LOADED = "skilled_least_loaded"
R_FALLBACK_LEAST_LOADED = "fallback_least_loaded"
R_ACCOUNT_MANAGER = "account_manager"
R_ACCOUNT_MANAGER_SUBSTITUTE = "account_manager_substitute"
R_TAKE_NEXT = "take_next"

NO_SKILLS: Mapping[str, int] = MappingProxyType({})  # an agent's skills when none are read (read-only: shared)


class Agent(NamedTuple):
    """One queue member as routing sees them at the moment of the decision.

    A named tuple, not a frozen dataclass: every decision builds one per member of the queue (200 in the bench), and
    a frozen dataclass's constructor cost five times a tuple's (``object.__setattr__`` per field). Immutable all the
    same: a change is a new agent (``agent._replace(…)``).
    """

    user_id: int
    on_shift: bool = True
    away: bool = False
    absent: bool = False
    substitute_id: int | None = None
    open_tickets: int = 0
    capacity: int | None = None
    last_assigned_at: datetime | None = None
    skills: Mapping[str, int] = NO_SKILLS

    @property
    def under_capacity(self) -> bool:
        return self.capacity is None or self.open_tickets < self.capacity

    @property
    def present(self) -> bool:
        """On shift, not away, not absent (capacity aside)."""
        return self.on_shift and not self.away and not self.absent


@dataclass(frozen=True)
class Requirement:
    skill: str
    min_level: int = 1


@dataclass(frozen=True)
class Decision:
    strategy: str
    user_id: int | None
    reason: str
    params: dict[str, Any] = field(default_factory=dict)
    cursor: int | None = None  # round robin: the slot served (store it as the queue's cursor)
    substitute_for: int | None = None

    @property
    def assigned(self) -> bool:
        return self.user_id is not None

    def as_data(self) -> dict[str, Any]:
        data = {"strategy": self.strategy, "reason": self.reason, **self.params}
        if self.substitute_for is not None:
            data["substitute_for"] = self.substitute_for
        return data


class _Slot(NamedTuple):
    slot_id: int  # the member whose turn it is
    agent: Agent  # who actually gets the work (the member, or their substitute)
    substitute_for: int | None


def _available(agent: Agent, exclude: frozenset[int]) -> bool:
    return agent.present and agent.under_capacity and agent.user_id not in exclude


_USER_ID = attrgetter("user_id")


def slots(agents: Iterable[Agent], exclude: Iterable[int] = ()) -> list[_Slot]:
    """The members that can take work now, in user-id order, absent members served by their substitutes."""
    exclude = frozenset(exclude)
    members = sorted(agents, key=_USER_ID)
    by_id = None
    result = []
    for agent in members:  # every decision walks the whole team: ``_available`` spelled out for the usual case
        if agent.absent:
            if by_id is None:
                by_id = {a.user_id: a for a in members}
            sub = by_id.get(agent.substitute_id) if agent.substitute_id is not None else None
            if sub is not None and _available(sub, exclude):
                result.append(_Slot(agent.user_id, sub, agent.user_id))
        elif (
            agent.on_shift
            and not agent.away
            and (agent.capacity is None or agent.open_tickets < agent.capacity)
            and agent.user_id not in exclude
        ):
            result.append(_Slot(agent.user_id, agent, None))
    return result


def _load_key(slot: _Slot) -> tuple:
    agent = slot.agent
    last = agent.last_assigned_at
    # Fewest open tickets; then idle longest: never assigned first, then the oldest last assignment; then user id.
    return (
        (agent.open_tickets, 0, 0.0, agent.user_id)
        if last is None
        else (agent.open_tickets, 1, last.timestamp(), agent.user_id)
    )


def _unique(candidates: Sequence[_Slot]) -> list[_Slot]:
    """One slot per person (a substitute may stand in for several members): their own slot first."""
    seen: dict[int, _Slot] = {}
    for slot in sorted(candidates, key=lambda s: s.substitute_for is not None):
        seen.setdefault(slot.agent.user_id, slot)
    return list(seen.values())


def qualifies(agent: Agent, required: Sequence[Requirement]) -> bool:
    return all(agent.skills.get(r.skill, 0) >= r.min_level for r in required)


def skill_score(agent: Agent, required: Sequence[Requirement]) -> int:
    return sum(agent.skills.get(r.skill, 0) for r in required)


def _decide(strategy: str, slot: _Slot, reason: str, **params) -> Decision:
    agent = slot.agent
    params.setdefault("open", agent.open_tickets)
    if agent.capacity is not None:
        params.setdefault("capacity", agent.capacity)
    return Decision(strategy, agent.user_id, reason, params, cursor=slot.slot_id, substitute_for=slot.substitute_for)


def choose(
    strategy: str,
    agents: Iterable[Agent],
    *,
    required: Sequence[Requirement] = (),
    cursor: int | None = None,
    exclude: Iterable[int] = (),
) -> Decision:
    """The routing decision for one ticket of a queue with ``strategy`` among its ``agents``."""
    if strategy not in AUTOMATIC:
        return Decision(strategy, None, R_NOT_AUTOMATIC)
    candidates = slots(agents, exclude)
    if not candidates:
        return Decision(strategy, None, R_NO_AGENT)
    if strategy == ROUND_ROBIN:
        after = [s for s in candidates if cursor is not None and s.slot_id > cursor]
        return _decide(strategy, (after or candidates)[0], R_NEXT_IN_TURN)
    people = _unique(candidates)
    if strategy == LEAST_LOADED:
        return _decide(strategy, min(people, key=_load_key), R_LEAST_LOADED)
    required = tuple(required)
    skills = [r.skill for r in required]
    skilled = [s for s in people if qualifies(s.agent, required)]
    if strategy == SKILLS:
        if not skilled:
            return Decision(strategy, None, R_NO_SKILLED, {"skills": skills})
        best = min(skilled, key=lambda s: (-skill_score(s.agent, required), *_load_key(s)))
        return _decide(strategy, best, R_MOST_SKILLED, skills=skills, score=skill_score(best.agent, required))
    # hybrid
    if skilled:
        return _decide(strategy, min(skilled, key=_load_key), R_SKILLED_LEAST_LOADED, skills=skills)
    return _decide(strategy, min(people, key=_load_key), R_FALLBACK_LEAST_LOADED, skills=skills)


def account_manager_choice(manager: Agent | None, members: Iterable[Agent]) -> Decision | None:
    """A VIP tier sends tickets straight to the account manager: them if present, else their substitute
    if that person is a present member of the queue; ``None`` means "route through the queue"."""
    if manager is None:
        return None
    if manager.present:
        return Decision("account_manager", manager.user_id, R_ACCOUNT_MANAGER)
    if manager.absent and manager.substitute_id is not None:
        sub = next((a for a in members if a.user_id == manager.substitute_id), None)
        if sub is not None and sub.present:
            return Decision(
                "account_manager", sub.user_id, R_ACCOUNT_MANAGER_SUBSTITUTE, substitute_for=manager.user_id
            )
    return None


# --- Keyword classification ----------------------------------------------------------------------

_SPLIT = re.compile(r"[,;\n]+")


def parse_keywords(text: str) -> list[str]:
    """``"refund, money back\\nвозврат"`` → ``["refund", "money back", "возврат"]`` (case-folded)."""
    return [k.strip().casefold() for k in _SPLIT.split(text or "") if k.strip()]


def _pattern(keyword: str) -> re.Pattern:
    return re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, keyword.split())) + r"(?!\w)")


@lru_cache(maxsize=1024)
def _patterns(keywords: str) -> tuple[re.Pattern, ...]:
    """A rule's keywords as compiled patterns, once per process for each keywords text (every new ticket asks)."""
    return tuple(_pattern(k) for k in parse_keywords(keywords))


def classify(text: str, rules: Iterable[tuple[Any, str]]) -> Any | None:
    """The key of the first rule (in the given order) with a keyword in ``text`` as a whole word or phrase."""
    folded = (text or "").casefold()
    for key, keywords in rules:
        if any(pattern.search(folded) for pattern in _patterns(keywords or "")):
            return key
    return None
