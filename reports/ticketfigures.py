"""Ticket counts of a period read from the ticket rollups (``TicketDay``), with the same results as the tickets.

Closed on time (this period and the previous one), and the workload's done and taken per person and
created and done per queue. ``ticket_records(scope, period, previous)`` returns ``None`` when the
rollups cannot answer (rollups off, or the viewer's zone not built yet): the caller then counts the
tickets (``reports.dashboard``). Otherwise each figure is one ``GROUP BY`` over the ``TicketDay`` rows
the scope may see, plus the facts of tickets the viewer only observes, added in Python (as the clock
figures do, ``reports.clockfigures``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Case, IntegerField, Sum, Value, When

from reports import rollups
from reports.clockfigures import records_key, request_cache, zone_ready
from reports.models import TicketDay, TicketFact

Kind = TicketFact.Kind


@dataclass
class TicketRecords:
    scope: object
    period: object
    previous: object
    days: object = None  # QuerySet of TicketDay, or None when the viewer sees nothing
    observed: list[tuple] = field(default_factory=list)  # (at, kind, on_time, *TICKET_DIMENSIONS)

    def closed(self) -> dict[int, tuple[int, int]]:
        """bucket (1: the period, 0: the previous one) → (tickets done, of which on time)."""
        sums = {0: [0, 0], 1: [0, 0]}
        if self.days is not None:
            current = Case(When(day__gte=self.period.first, then=Value(1)), default=Value(0),
                           output_field=IntegerField())
            rows = (self.days.filter(kind=Kind.DONE).annotate(bucket=current).values_list("bucket")
                    .annotate(n=Sum("total"), m=Sum("on_time")).order_by())
            for bucket, total, on_time in rows:
                sums[bucket] = [total, on_time]
        for at, kind, on_time, *_dims in self.observed:
            if kind == Kind.DONE:
                entry = sums[1 if at >= self.period.start else 0]
                entry[0] += 1
                entry[1] += 1 if on_time else 0
        return {bucket: (total, on_time) for bucket, (total, on_time) in sums.items()}

    def count(self, column: str, kind: str) -> dict:
        """Value of ``column`` (a ``TicketDay`` dimension) → how many facts of ``kind`` in the period."""
        counts: dict = {}
        if self.days is not None:
            rows = (self.days.filter(kind=kind, day__gte=self.period.first).values_list(column)
                    .annotate(n=Sum("total")).order_by())
            for key, total in rows:
                counts[key] = counts.get(key, 0) + total
        position = rollups.TICKET_DIMENSIONS.index(column)
        for at, fact_kind, _on_time, *dims in self.observed:
            if fact_kind == kind and at >= self.period.start:
                counts[dims[position]] = counts.get(dims[position], 0) + 1
        return counts


def ticket_records(scope, period, previous) -> TicketRecords | None:
    """The scope's ticket records of ``previous`` and ``period`` (consecutive), or ``None``."""
    cache, key = request_cache(scope, "_ticket_records"), records_key(scope, period, previous)
    if key in cache:
        return cache[key]
    zone = key[0]
    if not zone_ready(scope, zone):
        cache[key] = None
        return None
    visibility = scope.visibility
    result = TicketRecords(scope, period, previous)
    if not visibility.nothing:
        result.days = scope.narrow(
            TicketDay.objects.filter(zone=zone, day__gte=previous.first, day__lte=period.last), observed=False
        )
        if visibility.observed_ids and not visibility.everything:
            result.observed = list(scope.narrow(
                TicketFact.objects.filter(ticket_id__in=sorted(visibility.observed_ids), at__gte=previous.start,
                                          at__lt=period.end)
                .exclude(visibility.q(observed=False)),
                ticket_pk="ticket_id",
            ).values_list(*rollups.TICKET_FACT_FIELDS))
    cache[key] = result
    return result
