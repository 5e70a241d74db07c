"""django-q2 entry points: one-line calls into ``sla.services``."""

from sla import services


def recompute_calendar(calendar_id: int) -> int:
    return services.calendar_recompute_due(calendar_id)


def mark_breaches() -> int:
    return services.clock_mark_breaches()
