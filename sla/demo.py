"""Demo SLA configuration: the Almaty office calendar, a 24/7 calendar, and the seed's policies.

``seed_sla()`` is idempotent (calendars and policies are found by name; an
admin's later edits are not overwritten). ``seed_demo_sla(ctx)`` is the
``opsdesk.demo.DEMO_SEEDERS`` entry point: it seeds the configuration, then
gives the bulk-created demo tickets their clocks with ``backfill_clocks``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from sla.businesstime import WEEKDAYS
from sla.calendars import calendar_generate_holidays
from sla.defaults import ensure_catch_all_policy
from sla.lifecycle import backfill_clocks
from sla.models import Calendar, CalendarWindow, SLAPolicy, TargetUnit
from tickets.models import Ticket, TicketType, VipTier

__all__ = ["backfill_clocks", "seed_demo_sla", "seed_sla"]

OFFICE = "Almaty office"
AROUND_THE_CLOCK = "24/7 (critical incidents)"
OFFICE_WINDOWS = (("09:00", "13:00"), ("14:00", "18:00"))  # Mon–Fri with a lunch break
ALL_DAY = (("00:00", "24:00"),)
NAMES_RU = {
    OFFICE: "Офис в Алматы",
    AROUND_THE_CLOCK: "Круглосуточно (критические инциденты)",
    "Critical incident": "Критический инцидент",
    "Complex case": "Сложный случай",
    "Standard request": "Стандартный запрос",
    "Simple question": "Простой вопрос",
}


@dataclass(frozen=True)
class PolicySpec:
    name: str
    precedence: int
    type_slug: str
    type_name: str
    type_name_ru: str
    calendar: str
    first_response: timedelta
    resolution: timedelta
    next_reply: timedelta | None
    resolution_unit: str = TargetUnit.BUSINESS_TIME


# The seed's table (DOMAIN "SLA: two clocks"); targets are business time of the policy's calendar.
# Critical incidents come first: on 24/7 with 15 min they are already faster than the VIP policy.
POLICIES = [
    PolicySpec("Critical incident", 10, "critical-incident", "Critical incident", "Критический инцидент",
               AROUND_THE_CLOCK, timedelta(minutes=15), timedelta(hours=4), timedelta(minutes=15)),
    PolicySpec("Complex case", 40, "complex-case", "Complex case (claims, returns)",
               "Сложный случай (претензии, возвраты)", OFFICE, timedelta(hours=4), timedelta(days=3),
               timedelta(hours=4), TargetUnit.BUSINESS_DAYS),  # "3 days": three working days, not 72 hours
    PolicySpec("Standard request", 50, "standard-request", "Standard request", "Стандартный запрос",
               OFFICE, timedelta(hours=2), timedelta(hours=24), timedelta(hours=2)),
    PolicySpec("Simple question", 60, "simple-question", "Simple question", "Простой вопрос",
               OFFICE, timedelta(minutes=30), timedelta(hours=2), timedelta(minutes=30)),
]
VIP_PRECEDENCE = 20  # one policy per tier, the most important tier first: 20, 21, …
VIP_FIRST_RESPONSE = timedelta(minutes=30)
VIP_RESOLUTION = timedelta(hours=4)


Windows = tuple[tuple[str, str], ...]


def _calendar(name: str, windows: dict[int, Windows], *, country: str = "") -> tuple[Calendar, bool]:
    calendar, created = Calendar.objects.get_or_create(
        name=name,
        defaults={"time_zone": "Asia/Almaty", "holiday_country": country, "name_ru": NAMES_RU.get(name, "")},
    )
    if created:
        CalendarWindow.objects.bulk_create(
            CalendarWindow(calendar=calendar, weekday=day, start=start, end=end)
            for day, pairs in windows.items()
            for start, end in pairs
        )
        calendar.save()  # new version: the rows above were bulk-created
    return calendar, created


def _free_precedence(wanted: int) -> int:
    taken = set(SLAPolicy.objects.values_list("precedence", flat=True))
    while wanted in taken:
        wanted += 1
    return wanted


def _policy(name: str, precedence: int, calendar: Calendar, **fields) -> SLAPolicy:
    policy = SLAPolicy.objects.filter(name=name).first()
    if policy is None:
        policy = SLAPolicy.objects.create(
            name=name, name_ru=NAMES_RU.get(name, ""), precedence=_free_precedence(precedence), calendar=calendar,
            **fields,
        )
    return policy


@transaction.atomic
def seed_sla() -> dict[str, int]:
    """Create the demo calendars and policies that are missing; returns what exists afterwards."""
    office, created = _calendar(OFFICE, dict.fromkeys(range(5), OFFICE_WINDOWS), country="KZ")
    if created or not office.holidays.exists():
        this_year = timezone.localdate().year
        office.holiday_years_from, office.holiday_years_to = this_year - 1, this_year + 1
        office.save()
        calendar_generate_holidays(office)
    around, _created = _calendar(AROUND_THE_CLOCK, dict.fromkeys(range(len(WEEKDAYS)), ALL_DAY))
    calendars = {OFFICE: office, AROUND_THE_CLOCK: around}

    for spec in POLICIES:
        ticket_type, _created = TicketType.objects.get_or_create(
            slug=spec.type_slug, defaults={"name": spec.type_name, "name_ru": spec.type_name_ru}
        )
        _policy(
            spec.name,
            spec.precedence,
            calendars[spec.calendar],
            ticket_type=ticket_type,
            first_response_target=spec.first_response,
            resolution_target=spec.resolution,
            resolution_unit=spec.resolution_unit,
            next_reply_target=spec.next_reply,
        )
    for offset, tier in enumerate(VipTier.objects.order_by("-rank")):
        _policy(
            f"VIP {tier.name}",
            VIP_PRECEDENCE + offset,
            office,
            vip_tier=tier,
            first_response_target=VIP_FIRST_RESPONSE,
            resolution_target=VIP_RESOLUTION,
            next_reply_target=VIP_FIRST_RESPONSE,
        )
    ensure_catch_all_policy(office)  # no ticket without control: everything else, on office hours
    return {"calendars": Calendar.objects.count(), "policies": SLAPolicy.objects.count()}


def seed_demo_sla(ctx=None) -> int:
    """``opsdesk.demo.DEMO_SEEDERS`` hook: seed the SLA configuration and backfill every ticket's clocks."""
    seed_sla()
    now = getattr(ctx, "now", None)
    return backfill_clocks(Ticket.objects.all(), now=now)
