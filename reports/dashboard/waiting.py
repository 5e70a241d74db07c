"""Business time spent waiting for external action, per blocking reason, queue or customer.

Read by the dashboard, the delays report and the weekly digest.
"""

from __future__ import annotations

from django.db.models import Count, Sum

from reports.dashboard.common import bilingual, period_params, ticket_list_url
from reports.dashboard.scoping import in_scope
from reports.selectors import Period
from tickets.models import WaitSegment


def waiting_by_reason(user, period: Period, *, group: str = "reason", limit: int | None = None) -> list[dict]:
    """Business time spent waiting in segments that ended in the period, summed per reason (or queue, customer)."""
    fields = {
        "reason": ("reason_id", "reason__name", "reason__name_ru"),
        "queue": ("queue_id", "queue__name", "queue__name_ru"),
        "customer": ("customer_id", "customer__name", "customer__name"),
    }[group]
    segments = in_scope(WaitSegment.objects.filter(ended_at__gte=period.start, ended_at__lt=period.end), user)
    rows = (
        segments.values(*fields)
        .annotate(seconds=Sum("business_seconds"), n=Count("pk"), tickets=Count("ticket_id", distinct=True))
        .order_by("-seconds", fields[1])
    )
    if limit:
        rows = rows[:limit]
    params = period_params(period)
    result = []
    for row in rows:
        link = {"waited": row["reason_id"]} if group == "reason" else (
            {"queue": row["queue_id"]} if group == "queue" else {"customer": row["customer__name"]}
        )
        result.append({
            "key": row[fields[0]], "name": bilingual(row[fields[1]], row[fields[2]]),
            "seconds": row["seconds"] or 0.0, "hours": round((row["seconds"] or 0.0) / 3600, 1),
            "segments": row["n"], "tickets": row["tickets"],
            "url": ticket_list_url(**link, **params) if group == "reason" else ticket_list_url(**link),
        })
    return result
