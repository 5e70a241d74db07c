"""SLA fixtures: the Almaty office calendar (lunch break), a 24/7 calendar, and a policy maker."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sla.models import Calendar, CalendarWindow, SLAPolicy

ALMATY = ZoneInfo("Asia/Almaty")


def almaty(*args) -> datetime:
    """An aware instant from Almaty wall-clock fields: ``almaty(2026, 2, 13, 17, 30)``."""
    return datetime(*args, tzinfo=ALMATY)


def make_calendar(name: str, windows: dict[int, list[tuple[str, str]]], tz: str = "Asia/Almaty") -> Calendar:
    calendar = Calendar.objects.create(name=name, time_zone=tz)
    CalendarWindow.objects.bulk_create(
        CalendarWindow(calendar=calendar, weekday=day, start=s, end=e)
        for day, pairs in windows.items()
        for s, e in pairs
    )
    calendar.save()
    return calendar


@pytest.fixture
def office(db) -> Calendar:
    """Mon–Fri 09:00–13:00 and 14:00–18:00, Asia/Almaty, no holidays."""
    return make_calendar("Almaty office", {d: [("09:00", "13:00"), ("14:00", "18:00")] for d in range(5)})


@pytest.fixture
def around_the_clock(db) -> Calendar:
    return make_calendar("24/7", {d: [("00:00", "24:00")] for d in range(7)})


@pytest.fixture
def make_policy(db, office):
    counter = iter(range(100, 10_000, 10))

    def make(**fields) -> SLAPolicy:
        fields.setdefault("name", f"Policy {fields.get('precedence', '')}".strip())
        fields.setdefault("precedence", next(counter))
        fields.setdefault("calendar", office)
        fields.setdefault("first_response_target", timedelta(hours=2))
        fields.setdefault("resolution_target", timedelta(hours=24))
        return SLAPolicy.objects.create(**fields)

    return make


@pytest.fixture
def at(time_machine):
    """``at(2026, 2, 16, 9)`` moves the frozen clock to that Almaty wall-clock instant."""

    def move(*fields):
        time_machine.move_to(almaty(*fields), tick=False)

    return move


@pytest.fixture(autouse=True)
def _replies_reach_the_customer_at_once(replies_delivered_at_once):
    """Here a reply counts the instant it is written; tests/channels/ covers delivery later than the click."""
