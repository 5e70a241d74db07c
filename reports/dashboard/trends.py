"""The data of the dashboard's charts: compliance day by day, and the first-response histogram."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from reports import metrics, rollups
from reports.dashboard.clocks import stopped_clocks
from reports.dashboard.common import ZERO, Kind, clock_records, ticket_list_url
from reports.selectors import Period

HISTOGRAM_EDGES_MIN = tuple(int(s // 60) for s in rollups.HISTOGRAM_EDGES_S)  # 15 min … 8 h


def daily_compliance(user, period: Period) -> list[dict]:
    """Per local day of the period: resolution and first-response compliance of the clocks stopped that day."""
    records = clock_records(user, period)
    if records is not None:
        rows = [{"day": day, "kind": kind, "total": total, "met": met}
                for (day, kind), (total, met, _consumed) in records.daily().items()]
    else:
        rows = (
            stopped_clocks(user, period.start, period.end)
            .annotate(day=TruncDate("stopped_at", tzinfo=period.tz))
            .values("day", "kind")
            .annotate(total=Count("pk"), met=Count("pk", filter=Q(breached_at__isnull=True)))
            .order_by()
        )
    by_day: dict[date, dict] = {}
    for row in rows:
        day = row["day"] if isinstance(row["day"], date) else date.fromisoformat(str(row["day"]))
        by_day.setdefault(day, {})[row["kind"]] = (row["met"], row["total"])
    days = []
    current = period.first
    while current <= period.last:
        entry = by_day.get(current, {})
        fr = entry.get(Kind.FIRST_RESPONSE, (0, 0))
        res = entry.get(Kind.RESOLUTION, (0, 0))
        days.append({
            "day": current, "fr_total": fr[1], "fr_met": fr[0], "fr": metrics.share(*fr),
            "res_total": res[1], "res_met": res[0], "res": metrics.share(*res),
            "url": ticket_list_url(sla_clock=Kind.RESOLUTION, period_from=current.isoformat(),
                                   period_to=current.isoformat()),
        })
        current += timedelta(days=1)
    return days


def first_response_histogram(user, period: Period) -> list[dict]:
    """First-response clocks stopped in the period by business time taken, in fixed bins."""
    clocks = stopped_clocks(user, period.start, period.end).filter(kind=Kind.FIRST_RESPONSE)
    edges = [timedelta(minutes=m) for m in HISTOGRAM_EDGES_MIN]
    bins = []
    low = ZERO
    for edge in [*edges, None]:
        condition = Q(consumed__gte=low) if low else Q()
        if edge is not None:
            condition &= Q(consumed__lt=edge)
        bins.append((low, edge, condition))
        low = edge
    records = clock_records(user, period)
    if records is not None:
        counts = {f"b{i}": 0 for i in range(len(bins))}
        cuts = [e.total_seconds() for e in edges]
        merged = records.totals().get((1, Kind.FIRST_RESPONSE), [0, 0, 0.0, {}])[3]
        for index, n in merged.items():
            low_s = rollups.bin_bounds(int(index))[0]  # the edges are bin edges: a bin lies in one histogram bar
            counts[f"b{sum(1 for cut in cuts if low_s >= cut)}"] += n
    else:
        counts = clocks.aggregate(**{f"b{i}": Count("pk", filter=cond) for i, (_l, _e, cond) in enumerate(bins)})

    def label(minutes: float) -> str:
        return _("%(n)s h") % {"n": f"{minutes / 60:g}"} if minutes >= 60 else _("%(n)s min") % {"n": f"{minutes:g}"}

    result = []
    for i, (low, edge, _cond) in enumerate(bins):
        lo_min = low.total_seconds() / 60
        if edge is None:
            text = "≥ " + label(lo_min)
        elif not lo_min:
            text = "< " + label(edge.total_seconds() / 60)
        else:
            text = f"{label(lo_min)} – {label(edge.total_seconds() / 60)}"
        result.append({"label": text, "count": counts[f"b{i}"]})
    return result
