"""Clock figures of a period read from the rollups (``reports.rollups``), with the same results as the clocks.

``rollup_records(scope, period)`` returns ``None`` when the rollups cannot answer exactly (rollups off,
or the viewer's zone not built yet): the caller then reads the clocks (``reports.dashboard``). Otherwise
it reads, in one query, the ``ClockDay`` rows of the period and of the previous period that the
scope may see, plus, for a viewer who observes tickets outside their queues and people, the facts of
those tickets. Every figure is then summed from these records in Python: counts, compliance,
averages, breakdowns, the daily trend and the distribution.

Percentiles stay exact: the merged histogram says in which bin the wanted rank falls and how many
clocks come before it, and one query reads the business times of just those bins from
``ClockFact`` (index on kind, business time). Linear interpolation as ``percentile_cont``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Case, IntegerField, Q, Value, When

from . import rollups
from .models import ClockDay, ClockFact

DIMENSIONS = rollups.DIMENSIONS


@dataclass
class Record:
    day: date
    kind: str
    dims: tuple
    total: int
    met: int
    consumed: float
    bins: dict  # {bin index (str from the database, int for facts): clocks}

    def dim(self, name: str):
        return self.dims[DIMENSIONS.index(name)]


@dataclass
class Records:
    """The rollup records of a period and of the previous one (``bucket`` 1 and 0)."""

    scope: object
    period: object
    previous: object
    records: list[Record] = field(default_factory=list)
    _percentiles: dict | None = None
    _totals: dict | None = None

    def bucket(self, record: Record) -> int:
        return 1 if record.day >= self.period.first else 0

    def current(self) -> list[Record]:
        return [r for r in self.records if r.day >= self.period.first]

    # --- figures -------------------------------------------------------------------------------------

    def totals(self) -> dict[tuple[int, str], list]:
        """(bucket, kind) → [total, met, consumed seconds, {bin: n}]."""
        if self._totals is not None:
            return self._totals
        sums: dict[tuple[int, str], list] = {}
        for record in self.records:
            entry = sums.setdefault((self.bucket(record), record.kind), [0, 0, 0.0, defaultdict(int)])
            entry[0] += record.total
            entry[1] += record.met
            entry[2] += record.consumed
            bins = entry[3]
            for index, n in record.bins.items():
                bins[int(index)] += n
        self._totals = sums
        return sums

    def percentiles(self, fractions=(0.5, 0.9)) -> dict[tuple[int, str, float], float | None]:
        """(bucket, kind, fraction) → the exact percentile (``percentile_cont``) of business seconds."""
        if self._percentiles is not None:
            return self._percentiles
        totals = self.totals()
        wanted: dict[tuple[int, str, int], int] = {}  # (bucket, kind, bin) → clocks before the bin
        ranks: dict[tuple[int, str, float], tuple[int, int, float]] = {}
        for (bucket, kind), (total, _met, _consumed, bins) in totals.items():
            if not total:
                continue
            starts, before = {}, 0
            for index in sorted(bins):
                starts[index] = before
                before += bins[index]
            order = sorted(bins)
            for fraction in fractions:
                position = fraction * (total - 1)
                low = math.floor(position)
                high = min(low + 1, total - 1)
                ranks[(bucket, kind, fraction)] = (low, high, position - low)
                for rank in (low, high):
                    index = _bin_of_rank(order, bins, rank)
                    wanted[(bucket, kind, index)] = starts[index]
        values = self._bin_values(wanted)
        result = {}
        for (bucket, kind, fraction), (low, high, weight) in ranks.items():
            bins = totals[(bucket, kind)][3]
            order = sorted(bins)
            picked = []
            for rank in (low, high):
                index = _bin_of_rank(order, bins, rank)
                found = values.get((bucket, kind, index), [])
                offset = rank - wanted[(bucket, kind, index)]
                if offset >= len(found) or len(found) != bins[index]:
                    picked = None  # the facts moved under us (a refresh in between): say so, do not guess
                    break
                picked.append(found[offset])
            result[(bucket, kind, fraction)] = (
                None if picked is None else picked[0] + (picked[1] - picked[0]) * weight
            )
        self._percentiles = result
        return result

    def _bin_values(self, wanted: dict[tuple[int, str, int], int]) -> dict[tuple[int, str, int], list[float]]:
        """The sorted business times of the scope's clocks in each wanted (bucket, kind, bin): one query."""
        if not wanted:
            return {}
        condition = Q()
        for bucket, kind, index in wanted:
            span = self.period if bucket else self.previous
            low, high = rollups.bin_bounds(index)
            part = Q(kind=kind, stopped_at__gte=span.start, stopped_at__lt=span.end, consumed_s__gte=low)
            if high is not None:
                part &= Q(consumed_s__lt=high)
            condition |= part
        current = Case(When(stopped_at__gte=self.period.start, then=Value(1)), default=Value(0),
                       output_field=IntegerField())
        facts = (facts_in_scope(self.scope).filter(condition).annotate(bucket=current)
                 .values_list("kind", "bucket", "consumed_s"))
        found: dict[tuple[int, str, int], list[float]] = defaultdict(list)
        for kind, bucket, consumed in facts:
            found[(bucket, kind, rollups.bin_of(consumed))].append(consumed)
        for values in found.values():
            values.sort()
        return found


def _bin_of_rank(order: list[int], bins: dict[int, int], rank: int) -> int:
    seen = 0
    for index in order:
        seen += bins[index]
        if rank < seen:
            return index
    return order[-1]


# --- reading ----------------------------------------------------------------------------------------------


def _zone_name(period) -> str:
    return getattr(period.tz, "key", None) or str(period.tz)


def facts_in_scope(scope):
    """``ClockFact`` rows the scope may see (visibility on the copied ticket columns, observed tickets too)."""
    return scope.narrow(ClockFact.objects.all(), ticket_pk="ticket_id")


def rollup_records(scope, period, previous) -> Records | None:
    """The scope's records of ``previous`` and ``period`` (consecutive), or ``None`` if rollups cannot answer."""
    zone = _zone_name(period)
    cache = getattr(scope.user, "_clock_records", None)
    key = (zone, period.first, period.last, previous.first, getattr(scope.queue, "pk", None),
           getattr(scope.ticket_type, "pk", None))
    if cache is not None and key in cache:
        return cache[key]
    if cache is None:
        cache = {}
        if scope.user is not None:
            scope.user._clock_records = cache
    if not rollups.zone_ready(zone):
        cache[key] = None  # the clocks answer, for the whole request
        return None
    visibility = scope.visibility
    result = Records(scope, period, previous)
    if not visibility.nothing:
        days = scope.narrow(ClockDay.objects.filter(zone=zone, day__gte=previous.first, day__lte=period.last),
                            observed=False)
        for row in days.values_list("day", "kind", *DIMENSIONS, "total", "met", "consumed_s", "bins").order_by():
            day, kind, *rest = row
            dims, (total, met, consumed, bins) = tuple(rest[:len(DIMENSIONS)]), rest[len(DIMENSIONS):]
            result.records.append(Record(day, kind, dims, total, met, consumed, bins))
        if visibility.observed_ids and not visibility.everything:
            result.records.extend(_observed_records(scope, previous.start, period.end, period.tz))
    cache[key] = result
    return result


def _observed_records(scope, start, end, tz) -> list[Record]:
    """Facts of observed tickets the rest of the viewer's visibility does not already count."""
    visibility = scope.visibility
    facts = scope.narrow(
        ClockFact.objects.filter(ticket_id__in=sorted(visibility.observed_ids), stopped_at__gte=start,
                                 stopped_at__lt=end)
        .exclude(visibility.q(observed=False)),
        ticket_pk="ticket_id",
    )
    records = []
    for stopped_at, kind, met, consumed, *dims in facts.values_list(*rollups.FACT_FIELDS):
        records.append(Record(stopped_at.astimezone(tz).date(), kind, tuple(dims), 1, 1 if met else 0, consumed,
                              {rollups.bin_of(consumed): 1}))
    return records
