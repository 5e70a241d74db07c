"""Builders shared by the escalation tests: the Almaty office, an SLA policy with a ladder, the worked example."""

from __future__ import annotations

from datetime import timedelta

from escalations.models import EscalationLevel, EscalationPolicy
from sla.models import Calendar, CalendarWindow, SLAPolicy

OFFICE_WINDOWS = [("09:00", "13:00"), ("14:00", "18:00")]


def office_calendar(name: str = "Almaty office") -> Calendar:
    """Mon–Fri 09:00–13:00 and 14:00–18:00 in Asia/Almaty, no holidays."""
    calendar = Calendar.objects.create(name=name, time_zone="Asia/Almaty")
    CalendarWindow.objects.bulk_create(
        CalendarWindow(calendar=calendar, weekday=day, start=s, end=e) for day in range(5) for s, e in OFFICE_WINDOWS
    )
    calendar.save()
    return calendar


def sla_policy(calendar: Calendar, *, precedence: int = 100, **fields) -> SLAPolicy:
    fields.setdefault("name", f"Policy {precedence}")
    fields.setdefault("first_response_target", timedelta(hours=2))
    fields.setdefault("resolution_target", timedelta(hours=24))
    return SLAPolicy.objects.create(precedence=precedence, calendar=calendar, **fields)


def ladder(name: str, levels: list[dict], *, sla_policies=(), vip_tiers=()) -> EscalationPolicy:
    policy = EscalationPolicy.objects.create(name=name)
    policy.sla_policies.set(sla_policies)
    policy.vip_tiers.set(vip_tiers)
    for order, spec in enumerate(levels, start=1):
        spec = dict(spec)
        users = spec.pop("users", ())
        EscalationLevel.objects.create(policy=policy, order=spec.pop("order", order * 10), **spec).users.set(users)
    return policy


# The seed's worked example (electronics shop, first response 2 business hours).
WORKED_EXAMPLE = [
    {"name": "SLA soon", "clock": "first_response", "trigger_percent": 50, "urgency": "routine",
     "to_performer": True},
    {"name": "30 minutes left", "clock": "first_response", "trigger_offset": -timedelta(minutes=30),
     "urgency": "important", "to_performer": True},
    {"name": "Breached", "clock": "first_response", "trigger_percent": 100, "urgency": "critical",
     "to_shift_lead": True},
    {"name": "Reassigned", "clock": "first_response", "trigger_percent": 150, "urgency": "critical",
     "reassign": "shift_lead", "to_director": True},
]
