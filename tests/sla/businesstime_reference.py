"""The calendars the business-time engine is checked on, and ``Reference``, a slow implementation to check it against.

Shared by ``tests/sla/test_businesstime.py`` (properties against the reference),
``test_businesstime_cases.py`` (named cases) and ``test_businesstime_specs.py`` (inputs and specs).
No Django needed.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from sla.businesstime import WEEKDAYS, WorkCalendar

H = timedelta(hours=1)
MIN = timedelta(minutes=1)
DAY = timedelta(days=1)

ALMATY = ZoneInfo("Asia/Almaty")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SANTIAGO = ZoneInfo("America/Santiago")


def weekdays(*windows: list[str], days: tuple[str, ...] = WEEKDAYS[:5]) -> dict[str, list[list[str]]]:
    """The same windows on each of ``days``."""
    return {day: [list(w) for w in windows] for day in days}


# ----------------------------------------------------------------------- reference


def _seconds(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 3600 + int(minutes) * 60


@functools.cache
def _transitions(tz_key: str, year: int) -> tuple[datetime, ...]:
    """UTC instants in ``year`` at which ``tz``'s UTC offset changes (hourly scan + bisection)."""
    tz = ZoneInfo(tz_key)
    found: list[datetime] = []
    t = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    offset = t.astimezone(tz).utcoffset()
    while t < end:
        probe = t + H
        if probe.astimezone(tz).utcoffset() != offset:
            lo, hi = t, probe
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(microsecond=0)
                if mid.astimezone(tz).utcoffset() == offset:
                    lo = mid
                else:
                    hi = mid
            found.append(hi)
            offset = hi.astimezone(tz).utcoffset()
            probe = hi
        t = probe
    return tuple(found)


class Reference:
    """Slow, obviously-correct business time for a spec (the definition, walked)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.tz = ZoneInfo(spec["tz"])

    def day_windows(self, day: date) -> list[tuple[int, int]]:
        """Windows of a local date in seconds after midnight."""
        key = day.isoformat()
        overrides = self.spec.get("overrides", {})
        if key in overrides:
            windows = overrides[key]
        elif key in self.spec.get("holidays", []):
            windows = []
        else:
            windows = self.spec.get("week", {}).get(WEEKDAYS[day.weekday()], [])
        return [(_seconds(a), _seconds(b)) for a, b in windows]

    def is_working(self, at: datetime) -> bool:
        """The definition: local reading inside a window of its own local date."""
        local = at.astimezone(self.tz)
        seconds = local.hour * 3600 + local.minute * 60 + local.second
        reading = seconds * 1_000_000 + local.microsecond
        return any(a * 1_000_000 <= reading < b * 1_000_000 for a, b in self.day_windows(local.date()))

    def breakpoints(self, lo: datetime, hi: datetime) -> list[datetime]:
        """Every instant in [lo, hi] where membership may change, plus lo and hi."""
        points = {lo.astimezone(UTC), hi.astimezone(UTC)}
        day = (lo - 2 * DAY).astimezone(self.tz).date()
        last = (hi + 2 * DAY).astimezone(self.tz).date()
        while day <= last:
            midnight = datetime.combine(day, time(0))
            for a, b in self.day_windows(day):
                for boundary in (midnight + timedelta(seconds=a), midnight + timedelta(seconds=b)):
                    for fold in (0, 1):
                        points.add(boundary.replace(tzinfo=self.tz, fold=fold).astimezone(UTC))
            day += DAY
        for year in range(lo.astimezone(UTC).year - 1, hi.astimezone(UTC).year + 2):
            points.update(_transitions(self.spec["tz"], year))
        return sorted(p for p in points if lo <= p <= hi)

    def between(self, start: datetime, end: datetime) -> timedelta:
        # Compare in UTC: same-zone comparisons of aware datetimes ignore ``fold``.
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end < start:
            return -self.between(end, start)
        points = self.breakpoints(start, end)
        return sum((q - p for p, q in pairwise(points) if self.is_working(p)), timedelta(0))

    def add(self, start: datetime, delta: timedelta) -> datetime:
        start = start.astimezone(UTC)
        if not delta:
            return start
        span = delta * 2 + 10 * DAY
        while True:
            points = self.breakpoints(start, start + span)
            remaining = delta
            for p, q in pairwise(points):
                if self.is_working(p):
                    if remaining <= q - p:
                        return p + remaining
                    remaining -= q - p
            span *= 2


# ----------------------------------------------------------------------- calendars


def kz_spec(years: tuple[int, ...] = (2026, 2027)) -> dict[str, Any]:
    """Mon-Fri 09:00-18:00 in Almaty with the holidays package's KZ holidays."""
    kz = holidays.country_holidays("KZ", years=list(years))
    workdays = {d.isoformat(): [["09:00", "18:00"]] for d in kz.weekend_workdays if d.year in years}
    return {
        "tz": "Asia/Almaty",
        "week": weekdays(["09:00", "18:00"]),
        "holidays": sorted(d.isoformat() for d in kz),
        "overrides": workdays,
    }


CALENDARS: dict[str, dict[str, Any]] = {
    "almaty_lunch": {
        "tz": "Asia/Almaty",
        "week": weekdays(["09:00", "13:00"], ["14:00", "18:00"]),
    },
    "berlin_24x7": {"tz": "Europe/Berlin", "week": weekdays(["00:00", "24:00"], days=WEEKDAYS)},
    "new_york_dst": {
        "tz": "America/New_York",
        "week": {**weekdays(["08:00", "17:00"]), "sun": [["01:00", "03:30"]]},
    },
    "berlin_holidays_overrides": {
        "tz": "Europe/Berlin",
        "week": weekdays(["00:00", "04:00"], ["20:00", "24:00"], days=WEEKDAYS),
        "holidays": ["2025-12-25", "2026-03-29", "2026-05-01", "2027-03-28", "2027-10-31"],
        "overrides": {
            "2026-03-29": [["02:30", "05:00"]],
            "2026-10-25": [["02:30", "02:45"], ["02:50", "03:10"], ["23:00", "24:00"]],
            "2026-12-31": [],
            "2027-01-02": [["09:00", "18:00"]],
        },
    },
    "santiago_saturdays": {"tz": "America/Santiago", "week": {"sat": [["20:00", "24:00"]]}},
    "kz_holidays": kz_spec(),
}
ENGINES = {name: WorkCalendar.from_spec(spec) for name, spec in CALENDARS.items()}
REFERENCES = {name: Reference(spec) for name, spec in CALENDARS.items()}


# ------------------------------------------------------------------ named calendars

DOMAIN = WorkCalendar.from_spec({"tz": "Asia/Almaty", "week": weekdays(["09:00", "18:00"])})
LUNCH = ENGINES["almaty_lunch"]
KZ = ENGINES["kz_holidays"]


def almaty(*args: int) -> datetime:
    return datetime(*args, tzinfo=ALMATY)  # type: ignore[misc]
