"""django-q2 entry points: one-line calls into the SLA write side."""

from sla import breaches, calendars


def recompute_calendar(calendar_id: int) -> int:
    return calendars.calendar_recompute_due(calendar_id)


def mark_breaches() -> int:
    return breaches.clock_mark_breaches()
