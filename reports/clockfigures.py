"""Clock figures of a period read from the rollups (``reports.rollups``), with the same results as the clocks.

``rollup_records(scope, period)`` returns ``None`` when the rollups cannot answer exactly (rollups off,
or the viewer's zone not built yet): the caller then reads the clocks (``reports.dashboard``). Otherwise
each figure (counts, compliance, averages, breakdowns, the daily trend, the distribution) with one
``GROUP BY`` over the ``ClockDay`` rows of the period and of the previous period that the scope may
see, plus, for a viewer who observes tickets outside their queues and people, the facts of those
tickets, added in Python.

Percentiles stay exact: the merged histogram says in which bin the wanted rank falls and how many
clocks come before it, and one query reads the business times of just those bins from
``ClockFact`` (index on kind, business time). Linear interpolation as ``percentile_cont``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db import connections
from django.db.models import Case, IntegerField, Q, Sum, Value, When

from reports import rollups
from reports.models import ClockDay, ClockFact

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
    """The scope's clock figures of a period and of the previous one (``bucket`` 1 and 0), summed in SQL.

    ``days`` is the scope's ``ClockDay`` rows of both periods (visibility on the copied columns, observed
    tickets left out); ``observed`` the facts of observed tickets outside the rest of the viewer's
    visibility, as one-clock records. Each figure is one ``GROUP BY`` over ``days`` (the histogram bins
    merged with ``jsonb_each_text``/``json_each``), plus the observed records added in Python; so the
    work in Python grows with the number of groups, never with the number of days or clocks.
    """

    scope: object
    period: object
    previous: object
    days: object = None  # QuerySet of ClockDay, or None when the viewer sees nothing
    observed: list[Record] = field(default_factory=list)
    _percentiles: dict | None = None
    _totals: dict | None = None

    def bucket(self, record: Record) -> int:
        return 1 if record.day >= self.period.first else 0

    def _observed_current(self) -> list[Record]:
        return [r for r in self.observed if r.day >= self.period.first]

    def _with_bucket(self):
        current = Case(When(day__gte=self.period.first, then=Value(1)), default=Value(0),
                       output_field=IntegerField())
        return self.days.annotate(bucket=current)

    # --- figures -------------------------------------------------------------------------------------

    def totals(self) -> dict[tuple[int, str], list]:
        """(bucket, kind) → [total, met, consumed seconds, {bin: n}]."""
        if self._totals is not None:
            return self._totals
        sums: dict[tuple[int, str], list] = {}
        if self.days is not None:
            rows = self._with_bucket().values("bucket", "kind").annotate(
                n=Sum("total"), m=Sum("met"), c=Sum("consumed_s")
            ).order_by()
            for row in rows:
                sums[(row["bucket"], row["kind"])] = [row["n"], row["m"], row["c"], defaultdict(int)]
            for (bucket, kind), bins in _merged_bins(self._with_bucket(), ("bucket", "kind")).items():
                sums[(bucket, kind)][3].update(bins)
        for record in self.observed:
            entry = sums.setdefault((self.bucket(record), record.kind), [0, 0, 0.0, defaultdict(int)])
            entry[0] += record.total
            entry[1] += record.met
            entry[2] += record.consumed
            for index, n in record.bins.items():
                entry[3][int(index)] += n
        self._totals = sums
        return sums

    def grouped(self, column: str) -> dict[tuple, list]:
        """(value of ``column``, kind) → [total, met, consumed seconds] of the current period."""
        sums: dict[tuple, list] = {}
        if self.days is not None:
            rows = self.days.filter(day__gte=self.period.first).values_list(column, "kind").annotate(
                n=Sum("total"), m=Sum("met"), c=Sum("consumed_s")
            ).order_by()
            for key, kind, total, met, consumed in rows:
                sums[(key, kind)] = [total, met, consumed]
        for record in self._observed_current():
            key = record.day if column == "day" else record.dim(column)
            entry = sums.setdefault((key, record.kind), [0, 0, 0.0])
            entry[0] += record.total
            entry[1] += record.met
            entry[2] += record.consumed
        return sums

    def daily(self) -> dict[tuple, list]:
        """(local day, kind) → [total, met] of the current period."""
        return self.grouped("day")

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
        # One simple range per bin, glued with UNION ALL: each is a scan of the (kind, business time)
        # index filtered on the period, where one OR of them all made PostgreSQL AND bitmaps of every
        # clock of the period, once per bin.
        parts = []
        for bucket, kind, index in wanted:
            span = self.period if bucket else self.previous
            low, high = rollups.bin_bounds(index)
            part = Q(kind=kind, stopped_at__gte=span.start, stopped_at__lt=span.end, consumed_s__gte=low)
            if high is not None:
                part &= Q(consumed_s__lt=high)
            parts.append(facts_in_scope(self.scope).filter(part).annotate(
                bucket=Value(bucket, output_field=IntegerField())
            ).values_list("kind", "bucket", "consumed_s").order_by())
        facts = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
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


def zone_name(period) -> str:
    return getattr(period.tz, "key", None) or str(period.tz)


def request_cache(scope, name: str) -> dict:
    """A dict kept for the request on its user object (one request, one user object); a fresh one without."""
    cache = getattr(scope.user, name, None)
    if cache is None:
        cache = {}
        if scope.user is not None:
            setattr(scope.user, name, cache)
    return cache


def records_key(scope, period, previous) -> tuple:
    """What rollup records of a scope and periods depend on, besides the viewer."""
    return (zone_name(period), period.first, period.last, previous.first, getattr(scope.queue, "pk", None),
            getattr(scope.ticket_type, "pk", None))


def zone_ready(scope, zone: str) -> bool:
    """``rollups.zone_ready``, asked once per request (per user object) for the clock and ticket figures."""
    known = request_cache(scope, "_rollup_zones")
    if zone not in known:
        known[zone] = rollups.zone_ready(zone)
    return known[zone]


def facts_in_scope(scope):
    """``ClockFact`` rows the scope may see (visibility on the copied ticket columns, observed tickets too)."""
    return scope.narrow(ClockFact.objects.all(), ticket_pk="ticket_id")


def rollup_records(scope, period, previous) -> Records | None:
    """The scope's records of ``previous`` and ``period`` (consecutive), or ``None`` if rollups cannot answer."""
    cache, key = request_cache(scope, "_clock_records"), records_key(scope, period, previous)
    if key in cache:
        return cache[key]
    zone = key[0]
    if not zone_ready(scope, zone):
        cache[key] = None  # the clocks answer, for the whole request
        return None
    visibility = scope.visibility
    result = Records(scope, period, previous)
    if not visibility.nothing:
        result.days = scope.narrow(
            ClockDay.objects.filter(zone=zone, day__gte=previous.first, day__lte=period.last), observed=False
        )
        if visibility.observed_ids and not visibility.everything:
            result.observed = _observed_records(scope, previous.start, period.end, period.tz)
    cache[key] = result
    return result


def _merged_bins(queryset, group: tuple[str, ...]) -> dict[tuple, dict[int, int]]:
    """The histogram bins of ``queryset``'s ``ClockDay`` rows summed per ``group``: one query.

    The sparse ``bins`` objects are expanded in the database (``jsonb_each_text`` on PostgreSQL,
    ``json_each`` on SQLite) and summed per group and bin, so only the merged bins travel.
    """
    sql, params = queryset.values_list(*group, "bins").query.sql_with_params()
    connection = connections[queryset.db]
    if connection.vendor == "postgresql":
        expand, value = "jsonb_each_text(s.bins)", "CAST(e.value AS integer)"
    else:
        expand, value = "json_each(s.bins)", "e.value"
    columns = ", ".join(f"s.{connection.ops.quote_name(name)}" for name in group)
    merged: dict[tuple, dict[int, int]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns}, e.key, SUM({value}) FROM ({sql}) s, {expand} e GROUP BY {columns}, e.key", params
        )
        for *key, index, n in cursor.fetchall():
            merged[tuple(key)][int(index)] = int(n)
    return merged


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
