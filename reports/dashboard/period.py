"""The dashboard's period figures against the previous period of equal length.

Compliance and times of the first-response and resolution clocks, tickets closed on time,
automatic escalations by level and manual escalations by kind.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from escalations.models import Firing, ManualEscalation
from reports import metrics
from reports.dashboard.clocks import ClockStats, clock_stats
from reports.dashboard.common import (
    KINDS,
    NOT_SEEDED,
    Figure,
    Kind,
    duration_text,
    period_and_previous,
    period_bucket,
    period_params,
    previous,
    ticket_list_url,
    ticket_records,
)
from reports.dashboard.scoping import in_scope, scope
from reports.selectors import Period
from tickets.models import Status
from tickets.querysets import on_time_q


@dataclass
class PeriodFigures:
    period: Period
    previous: Period
    compliance: list[Figure]
    times: list[dict]
    on_time: Figure
    escalations: list[Figure]
    manual: list[Figure]


def period_figures(user, period: Period) -> PeriodFigures:
    prev = previous(period)
    stats = clock_stats(user, period)
    params = period_params(period)
    labels = {Kind.FIRST_RESPONSE: _("First response"), Kind.RESOLUTION: _("Resolution")}
    compliance, times = [], []
    for kind in KINDS:
        now_s, then_s = stats.get((1, kind), ClockStats()), stats.get((0, kind), ClockStats())
        compliance.append(Figure(
            _("%(clock)s compliance") % {"clock": labels[kind]}, now_s.compliance,
            ticket_list_url(sla_clock=kind, **params), metrics.change(now_s.compliance, then_s.compliance),
            unit="%", key=f"compliance-{kind}",
        ))
        times.append({
            "kind": kind, "label": labels[kind], "count": now_s.total,
            "url": ticket_list_url(sla_clock=kind, **params),
            "breached": now_s.breached,
            "breached_url": ticket_list_url(sla_clock=kind, sla_result="breached", **params),
            "rows": [
                (_("Median"), now_s.median, then_s.median),
                (_("Average"), now_s.average, then_s.average),
                (_("90th percentile"), now_s.p90, then_s.p90),
            ],
        })
    for item in times:
        item["rows"] = [
            {"label": label, "current": duration_text(cur), "previous": duration_text(prev_v),
             "change": metrics.change(cur / 60 if cur is not None else None,
                                      prev_v / 60 if prev_v is not None else None)}
            for label, cur, prev_v in item["rows"]
        ]
    tickets = ticket_records(user, period)
    if tickets is not None:
        closed = {bucket: {"n": n, "on_time": on_time} for bucket, (n, on_time) in tickets.closed().items()}
    else:
        done = scope(user).filter(Q(status=Status.DONE) & period_and_previous("done_at", period)).annotate(
            bucket=period_bucket("done_at", period)
        )
        in_time = on_time_q()
        closed = {
            row["bucket"]: row
            for row in done.values("bucket").annotate(n=Count("pk"), on_time=Count("pk", filter=in_time)).order_by()
        }

    def closed_share(bucket):
        row = closed.get(bucket, {"n": 0, "on_time": 0})
        return metrics.share(row["on_time"], row["n"])

    on_time = Figure(_("Closed on time"), closed_share(1), ticket_list_url(done_in_period=True, **params),
                     metrics.change(closed_share(1), closed_share(0)), unit="%", key="on_time")

    firings = (
        in_scope(Firing.objects.filter(period_and_previous("fired_at", period) & NOT_SEEDED), user)
        .annotate(bucket=period_bucket("fired_at", period))
        .values("bucket", "level__order")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_level: dict[int, dict[int, int]] = defaultdict(lambda: {0: 0, 1: 0})
    for row in firings:
        by_level[row["level__order"]][row["bucket"]] += row["n"]
    escalations = [
        Figure(_("Level %(order)s") % {"order": order}, counts[1],
               ticket_list_url(escalation_level=order, **params), metrics.change(counts[1], counts[0]),
               key=f"level-{order}")
        for order, counts in sorted(by_level.items())
    ]
    manual_rows = (
        in_scope(ManualEscalation.objects.filter(period_and_previous("created_at", period)), user)
        .annotate(bucket=period_bucket("created_at", period))
        .values("bucket", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_kind: dict[str, dict[int, int]] = {k: {0: 0, 1: 0} for k in ManualEscalation.Kind.values}
    for row in manual_rows:
        by_kind[row["kind"]][row["bucket"]] += row["n"]
    manual = [
        Figure(str(ManualEscalation.Kind(kind).label), counts[1],
               ticket_list_url(manual_escalation=kind, **params), metrics.change(counts[1], counts[0]),
               key=f"manual-{kind}")
        for kind, counts in by_kind.items()
    ]
    return PeriodFigures(period, prev, compliance, times, on_time, escalations, manual)
