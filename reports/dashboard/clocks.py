"""The clocks a period counts (stopped first-response and resolution clocks) and their statistics.

``clock_stats`` reads the rollups when they are built (``reports.clockfigures``), otherwise the clocks:
on PostgreSQL with ``percentile_cont``, elsewhere with ``metrics.percentile`` in Python.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Aggregate, Avg, Count, DurationField, Q, QuerySet

from reports import metrics
from reports.dashboard.common import KINDS, State, as_seconds, clock_records, period_bucket, previous
from reports.dashboard.scoping import in_scope
from reports.selectors import Period
from sla.models import SLAClock


class Percentile(Aggregate):
    """PostgreSQL's ``percentile_cont`` (linear interpolation, as ``metrics.percentile``)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=repr(float(fraction)), output_field=DurationField(), **extra)


def _pg() -> bool:
    return connection.vendor == "postgresql"


def stopped_clocks(user, start: datetime, end: datetime) -> QuerySet:
    """First-response and resolution clocks stopped in [start, end) that count for compliance."""
    return in_scope(
        SLAClock.objects.filter(
            kind__in=KINDS, state=State.STOPPED, counts_for_compliance=True, stopped_at__gte=start, stopped_at__lt=end
        ),
        user,
    )


@dataclass(frozen=True)
class ClockStats:
    total: int = 0
    met: int = 0
    average: float | None = None  # business seconds
    median: float | None = None
    p90: float | None = None

    @property
    def compliance(self) -> float | None:
        return metrics.share(self.met, self.total)

    @property
    def breached(self) -> int:
        return self.total - self.met


def clock_stats(user, period: Period) -> dict[tuple[int, str], ClockStats]:
    """(bucket, kind) → stats; bucket 1 is ``period``, 0 the previous period."""
    records = clock_records(user, period)
    if records is not None:
        percentiles = records.percentiles()
        if all(v is not None for v in percentiles.values()):
            return {
                (bucket, kind): ClockStats(total, met, consumed / total if total else None,
                                           percentiles.get((bucket, kind, 0.5)), percentiles.get((bucket, kind, 0.9)))
                for (bucket, kind), (total, met, consumed, _bins) in records.totals().items()
                if total
            }
    base = stopped_clocks(user, previous(period).start, period.end).annotate(bucket=period_bucket("stopped_at", period))
    aggregates = {
        "total": Count("pk"),
        "met": Count("pk", filter=Q(breached_at__isnull=True)),
        "average": Avg("consumed"),
    }
    if _pg():
        aggregates.update(median=Percentile("consumed", 0.5), p90=Percentile("consumed", 0.9))
    rows = base.values("bucket", "kind").annotate(**aggregates).order_by()
    values: dict[tuple[int, str], list[float]] = defaultdict(list)
    if not _pg():
        for bucket, kind, consumed in base.values_list("bucket", "kind", "consumed").order_by():
            values[(bucket, kind)].append(consumed.total_seconds())
    result = {}
    for row in rows:
        key = (row["bucket"], row["kind"])
        if _pg():
            median, p90 = as_seconds(row["median"]), as_seconds(row["p90"])
        else:
            median, p90 = metrics.percentile(values[key], 0.5), metrics.percentile(values[key], 0.9)
        result[key] = ClockStats(row["total"], row["met"], as_seconds(row["average"]), median, p90)
    return result
