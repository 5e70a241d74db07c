"""Which ladder applies to a clock, and its ``next_escalation_at``: the ORM side of ``escalations.rules``.

``sla.clocks`` calls :func:`next_escalation_for` every time it saves a clock
(start, pause, resume, stop, retarget), and :func:`bulk_next_escalation` when
a calendar edit re-projects the running clocks; the demo seed uses the bulk
form too. A ``LadderCache`` keeps ladders per (SLA policy, VIP tier) and fired
levels per clock for one pass, so a batch costs a handful of queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import prefetch_related_objects

from core.rowcache import Precompiled
from escalations import rules
from escalations.models import EscalationLevel, EscalationPolicy, Firing
from tickets.models import Customer

RUNNING = "running"


def level_rule(level: EscalationLevel) -> rules.LevelRule:
    return rules.LevelRule(
        key=level.pk,
        order=level.order,
        clock=level.clock,
        trigger=rules.Trigger(percent=level.trigger_percent, offset=level.trigger_offset),
    )


@dataclass(frozen=True)
class Ladder:
    """The levels of one escalation policy, as model rows and as pure rules (same order)."""

    policy: EscalationPolicy | None
    levels: tuple[EscalationLevel, ...] = ()
    rules: tuple[rules.LevelRule, ...] = ()

    def level(self, key: int) -> EscalationLevel:
        return next(level for level in self.levels if level.pk == key)


EMPTY = Ladder(policy=None)


def _links():
    return (
        EscalationPolicy.sla_policies.through.objects.filter(escalationpolicy__is_active=True)
        .select_related("escalationpolicy")
        .order_by("escalationpolicy_id", "slapolicy_id")
    )


_LINKS_OF_ONE = Precompiled(
    lambda sla_policy_id: _links().filter(slapolicy_id=sla_policy_id), -7_100_000_001, prepare=True
)


@dataclass
class LadderCache:
    """Ladders by (SLA policy, VIP tier), loaded once per pass.

    ``people``: load each level's recipients too (the sweep fires levels); planning a clock's next escalation
    needs only the levels' triggers (``LadderPlanner``).
    """

    people: bool = True

    # SLA policy -> [(ladder, the VIP tiers it applies to, or None for a ladder without tiers)]
    _candidates: dict[int, list[tuple[EscalationPolicy, frozenset[int] | None]]] = field(default_factory=dict)
    _ladders: dict[tuple[int | None, int | None], Ladder] = field(default_factory=dict)
    _levels: dict[int, Ladder] = field(default_factory=dict)

    def _load(self, sla_policy_ids: Iterable[int]) -> None:
        missing = {pk for pk in sla_policy_ids if pk is not None and pk not in self._candidates}
        if not missing:
            return
        for pk in missing:
            self._candidates[pk] = []
        # The active ladders attached to these SLA policies, through their links (one query), lowest id first.
        if len(missing) == 1:  # a new ticket's clocks: one SLA policy, the query compiled once per process
            links = _LINKS_OF_ONE.objects(next(iter(missing)))
        else:
            links = _links().filter(slapolicy_id__in=missing)
        policies: dict[int, EscalationPolicy] = {}
        by_policy = defaultdict(list)
        for link in links:
            policies.setdefault(link.escalationpolicy_id, link.escalationpolicy)
            by_policy[link.escalationpolicy_id].append(link.slapolicy_id)
        prefetch_related_objects(list(policies.values()), "vip_tiers")
        for pk, policy in policies.items():
            # A tier ladder escalates on threat: it applies to the tiers that do (VipTier.escalate_on_threat);
            # the other tiers' customers follow the ladder without tiers, escalating at breach.
            listed = list(policy.vip_tiers.all())
            tiers = frozenset(t.pk for t in listed if t.escalate_on_threat) if listed else None
            for sla_id in by_policy[pk]:
                self._candidates[sla_id].append((policy, tiers))

    def _policy_ladder(self, policy: EscalationPolicy) -> Ladder:
        ladder = self._levels.get(policy.pk)
        if ladder is None:
            levels = EscalationLevel.objects.filter(policy=policy).order_by("order", "pk")
            if self.people:
                levels = levels.select_related("reassign_user").prefetch_related("users", "groups")
            levels = tuple(levels)
            ladder = Ladder(policy=policy, levels=levels, rules=tuple(level_rule(level) for level in levels))
            self._levels[policy.pk] = ladder
        return ladder

    def needs_tier(self, sla_policy_id: int | None) -> bool:
        """Whether a VIP tier can change the ladder of this SLA policy (else the tier need not be read)."""
        if sla_policy_id is None:
            return False
        self._load([sla_policy_id])
        return any(tiers for _policy, tiers in self._candidates[sla_policy_id])

    def ladder(self, sla_policy_id: int | None, vip_tier_id: int | None) -> Ladder:
        key = (sla_policy_id, vip_tier_id)
        ladder = self._ladders.get(key)
        if ladder is not None:
            return ladder
        ladder = EMPTY
        if sla_policy_id is not None:
            self._load([sla_policy_id])
            candidates = self._candidates[sla_policy_id]
            chosen = next(
                (p for p, tiers in candidates if vip_tier_id is not None and vip_tier_id in (tiers or ())), None
            )
            if chosen is None:
                chosen = next((p for p, tiers in candidates if tiers is None), None)
            if chosen is not None:
                ladder = self._policy_ladder(chosen)
        self._ladders[key] = ladder
        return ladder

    def preload(self, sla_policy_ids: Iterable[int]) -> None:
        self._load(sla_policy_ids)


def snapshot(clock) -> rules.ClockSnapshot:
    return rules.ClockSnapshot(
        kind=clock.kind,
        state=clock.state,
        target=clock.target,
        consumed=clock.consumed,
        checkpoint=clock.state_changed_at,
        breached=clock.breached_at is not None,
    )


def fired_levels(clocks: Sequence) -> dict[int, set[int]]:
    """Levels already fired in each clock's current generation (one query)."""
    result: dict[int, set[int]] = {c.pk: set() for c in clocks if c.pk}
    if not result:
        return result
    generation = {c.pk: c.generation for c in clocks if c.pk}
    rows = Firing.objects.filter(clock_id__in=list(result)).values_list("clock_id", "level_id", "generation")
    for clock_id, level_id, gen in rows:
        if gen == generation[clock_id]:
            result[clock_id].add(level_id)
    return result


def _vip_tier(clock) -> int | None:
    ticket = clock.ticket if type(clock).ticket.is_cached(clock) else None
    if ticket is not None and type(ticket).customer.is_cached(ticket):
        return ticket.customer.vip_tier_id
    return Customer.objects.filter(tickets__id=clock.ticket_id).values_list("vip_tier_id", flat=True).first()


def ladder_for(clock, cache: LadderCache | None = None) -> Ladder:
    cache = cache or LadderCache()
    tier = _vip_tier(clock) if cache.needs_tier(clock.policy_id) else None
    return cache.ladder(clock.policy_id, tier)


def next_escalation_for(clock, *, cache: LadderCache | None = None, fired: set[int] | None = None) -> datetime | None:
    """``next_escalation_at`` of ``clock`` now: None unless it runs and something can still happen."""
    if clock.state != RUNNING:
        return None
    ladder = ladder_for(clock, cache)
    if fired is None:
        fired = fired_levels([clock]).get(clock.pk, set()) if clock.pk and ladder.rules else set()
    return rules.next_wakeup(snapshot(clock), ladder.rules, clock.calendar.work_calendar(), fired=fired)


def bulk_next_escalation(clocks: Sequence, *, cache: LadderCache | None = None) -> list:
    """Set ``next_escalation_at`` on every clock of ``clocks`` (in memory); returns those that changed.

    The clocks need their calendar loaded (``select_related("calendar")``) for speed; the VIP tier is
    read in one query for the clocks whose SLA policy has a VIP ladder.
    """
    cache = cache or LadderCache()
    cache.preload({c.policy_id for c in clocks if c.policy_id})
    fired = fired_levels([c for c in clocks if c.state == RUNNING])
    tiered = [c for c in clocks if c.state == RUNNING and cache.needs_tier(c.policy_id)]
    tiers = {}
    for clock in tiered:  # a new ticket's clocks come with its customer
        ticket = clock.ticket if type(clock).ticket.is_cached(clock) else None
        if ticket is not None and type(ticket).customer.is_cached(ticket):
            tiers[clock.ticket_id] = ticket.customer.vip_tier_id
    unknown = {c.ticket_id for c in tiered} - set(tiers)
    if unknown:
        tiers.update(Customer.objects.filter(tickets__id__in=unknown).values_list("tickets__id", "vip_tier_id"))
    changed = []
    for clock in clocks:
        if clock.state != RUNNING:
            value = None
        else:
            ladder = cache.ladder(clock.policy_id, tiers.get(clock.ticket_id))
            value = rules.next_wakeup(
                snapshot(clock), ladder.rules, clock.calendar.work_calendar(), fired=fired.get(clock.pk, set())
            )
        if value != clock.next_escalation_at:
            clock.next_escalation_at = value
            changed.append(clock)
    return changed
