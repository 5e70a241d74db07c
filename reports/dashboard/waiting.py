"""Business time spent waiting for external action, per blocking reason, queue, customer or organisation.

Read by the dashboard, the delays report and the weekly digest. A wait counts with the business
time it spent **within the period**, whether it has ended or is still open (measured up to now):
a wait wholly inside the period sums its stored ``business_seconds``; a wait that crosses an edge
of the period, or is still open, is measured on its overlap with the period, on the calendar of
the ticket's resolution clock (calendar time for a ticket without SLA), as ``sla.waits`` does.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db.models import Count, Q, Sum
from django.utils import timezone

from reports.dashboard.common import bilingual, period_params, ticket_list_url
from reports.dashboard.scoping import in_scope
from reports.selectors import Period
from sla.models import SLAClock
from tickets.models import WaitSegment

GROUPS = {
    "reason": ("reason_id", "reason__name", "reason__name_ru"),
    "queue": ("queue_id", "queue__name", "queue__name_ru"),
    "customer": ("customer_id", "customer__name", "customer__name"),
    "organisation": ("customer__organisation_id", "customer__organisation__name", "customer__organisation__name_ru"),
}


def _inside(period: Period) -> Q:
    return Q(started_at__gte=period.start, ended_at__isnull=False, ended_at__lt=period.end)


def _overlapping(period: Period, now: datetime) -> Q:
    end = min(period.end, now)
    return Q(started_at__lt=end) & (Q(ended_at__isnull=True) | Q(ended_at__gt=period.start))


def _calendars(ticket_ids) -> dict:
    clocks = SLAClock.objects.filter(ticket_id__in=ticket_ids, kind=SLAClock.Kind.RESOLUTION).select_related(
        "calendar")
    return {clock.ticket_id: clock.calendar for clock in clocks}


def _clipped_seconds(segment: dict, period: Period, now: datetime, calendar) -> float:
    start = max(segment["started_at"], period.start)
    end = min(segment["ended_at"] or now, period.end, now)
    if end <= start:
        return 0.0
    if calendar is None:
        return (end - start).total_seconds()
    return calendar.work_calendar().between(start, end).total_seconds()


def waiting_by_reason(user, period: Period, *, group: str = "reason", limit: int | None = None,
                      now: datetime | None = None) -> list[dict]:
    """Business time waited within the period (open waits included), per reason (queue, customer, organisation)."""
    now = now or timezone.now()
    fields = GROUPS[group]
    segments = in_scope(WaitSegment.objects.all(), user)
    # (group key, name, name_ru) → {ticket id: [seconds, waits]}
    totals: dict[tuple, dict[int, list]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0]))
    inside = (segments.filter(_inside(period)).values(*fields, "ticket_id")
              .annotate(seconds=Sum("business_seconds"), n=Count("pk")).order_by())
    for row in inside:
        entry = totals[tuple(row[f] for f in fields)][row["ticket_id"]]
        entry[0] += row["seconds"] or 0.0
        entry[1] += row["n"]
    crossing = list(segments.filter(_overlapping(period, now)).exclude(_inside(period))
                    .values(*fields, "ticket_id", "started_at", "ended_at").order_by())
    calendars = _calendars({row["ticket_id"] for row in crossing})
    for row in crossing:
        entry = totals[tuple(row[f] for f in fields)][row["ticket_id"]]
        entry[0] += _clipped_seconds(row, period, now, calendars.get(row["ticket_id"]))
        entry[1] += 1
    rows = []
    for (key, name, name_ru), tickets in totals.items():
        seconds = sum(s for s, _n in tickets.values())
        rows.append({"key": key, "name_en": name or "", "name_ru": name_ru or "", "seconds": seconds,
                     "segments": sum(n for _s, n in tickets.values()), "tickets": len(tickets)})
    rows.sort(key=lambda r: (-r["seconds"], r["name_en"]))
    if limit:
        rows = rows[:limit]
    params = period_params(period)
    result = []
    for row in rows:
        link = {"reason": {"waited": row["key"]}, "queue": {"queue": row["key"]},
                "organisation": {"organisation": row["key"]}}.get(group, {"customer": row["name_en"]})
        result.append({
            "key": row["key"], "name": bilingual(row["name_en"], row["name_ru"]),
            "seconds": row["seconds"], "hours": round(row["seconds"] / 3600, 1),
            "segments": row["segments"], "tickets": row["tickets"],
            "url": ticket_list_url(**link, **params) if group == "reason" else ticket_list_url(**link),
        })
    return result
