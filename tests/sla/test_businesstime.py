"""Tests of the pure business-time engine ``sla.businesstime`` (no Django needed).

The engine is checked against ``Reference``, a slow implementation written
straight from the definition: an instant is business time when its local
reading falls in one of the windows of its local date.  The reference finds
every instant where that membership can change (window boundaries mapped to
UTC with both folds, plus UTC-offset transitions found by hourly sampling and
bisection), tests membership at each such point by the definition, and walks
the resulting segments.
"""

from __future__ import annotations

import functools
import time as clock
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta, timezone
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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

# Hypothesis inputs: instants spread over 2025-2028, bunched near DST transitions
# and window boundaries, carried in various zones; business deltas with microseconds.
_ZONES = st.sampled_from([UTC, ALMATY, BERLIN, NEW_YORK, SANTIAGO, timezone(timedelta(hours=-3, minutes=-30))])
_JITTER = st.one_of(st.just(timedelta(0)), st.timedeltas(-2 * MIN, 2 * MIN), st.timedeltas(-DAY, DAY))


@st.composite
def instants(draw: st.DrawFn, name: str) -> datetime:
    spec = CALENDARS[name]
    kind = draw(st.sampled_from(["random", "transition", "boundary"]))
    if kind == "transition":
        tz_transitions = [t for y in range(2025, 2029) for t in _transitions(spec["tz"], y)]
        base = draw(st.sampled_from(tz_transitions)) if tz_transitions else None
        if base is not None:
            return (base + draw(_JITTER)).astimezone(draw(_ZONES))
    if kind == "boundary":
        day = draw(st.dates(date(2025, 1, 1), date(2028, 12, 31)))
        windows = REFERENCES[name].day_windows(day) or [(0, 0)]
        seconds = draw(st.sampled_from([s for w in windows for s in w]))
        local = datetime.combine(day, time(0)) + timedelta(seconds=seconds)
        aware = local.replace(tzinfo=ZoneInfo(spec["tz"]), fold=draw(st.integers(0, 1)))
        return (aware + draw(_JITTER)).astimezone(draw(_ZONES))
    naive = draw(st.datetimes(datetime(2025, 1, 1), datetime(2028, 12, 31)))
    return naive.replace(tzinfo=UTC).astimezone(draw(_ZONES))


_DELTAS = st.one_of(
    st.just(timedelta(0)),
    st.integers(1, 60).map(lambda k: k * 15 * MIN),
    st.timedeltas(timedelta(0), 4 * H),
    st.timedeltas(timedelta(0), 4 * DAY),
)
_BIG_DELTAS = st.one_of(_DELTAS, st.timedeltas(timedelta(0), 90 * DAY))
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Properties that run the slow reference get fewer examples per calendar (6 calendars).
REF = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------ properties


@pytest.mark.parametrize("name", CALENDARS)
@REF
@given(data=st.data())
def test_add_agrees_with_reference(name: str, data: st.DataObject) -> None:
    start = data.draw(instants(name))
    delta = data.draw(_DELTAS)
    result = ENGINES[name].add(start, delta)
    assert result == REFERENCES[name].add(start, delta)
    assert result.tzinfo is UTC


@pytest.mark.parametrize("name", CALENDARS)
@REF
@given(data=st.data())
def test_between_agrees_with_reference(name: str, data: st.DataObject) -> None:
    start = data.draw(instants(name))
    end = data.draw(st.one_of(instants(name), _JITTER.map(lambda j: start + j * 7)))
    assert ENGINES[name].between(start, end) == REFERENCES[name].between(start, end)


@pytest.mark.parametrize("name", CALENDARS)
@REF
@given(data=st.data())
def test_is_working_and_next_opening_agree_with_reference(name: str, data: st.DataObject) -> None:
    at = data.draw(instants(name))
    engine, reference = ENGINES[name], REFERENCES[name]
    assert engine.is_working(at) == reference.is_working(at)
    opening = engine.next_opening(at)
    assert reference.is_working(opening)
    assert opening >= at and engine.between(at, opening) == timedelta(0)
    assert reference.between(at, opening) == timedelta(0)


@FAST
@given(name=st.sampled_from(list(CALENDARS)), data=st.data())
def test_between_inverts_add(name: str, data: st.DataObject) -> None:
    start = data.draw(instants(name))
    delta = data.draw(_BIG_DELTAS)
    assert ENGINES[name].between(start, ENGINES[name].add(start, delta)) == delta


@FAST
@given(name=st.sampled_from(list(CALENDARS)), data=st.data())
def test_add_is_monotonic(name: str, data: st.DataObject) -> None:
    start = data.draw(instants(name))
    d1, d2 = sorted([data.draw(_BIG_DELTAS), data.draw(_BIG_DELTAS)])
    assert ENGINES[name].add(start, d1) <= ENGINES[name].add(start, d2)


@FAST
@given(name=st.sampled_from(list(CALENDARS)), data=st.data())
def test_add_is_additive(name: str, data: st.DataObject) -> None:
    engine = ENGINES[name]
    start = data.draw(instants(name))
    a, b = data.draw(_BIG_DELTAS), data.draw(_BIG_DELTAS)
    assert engine.add(engine.add(start, a), b) == engine.add(start, a + b)


@FAST
@given(name=st.sampled_from(list(CALENDARS)), data=st.data())
def test_between_is_antisymmetric_and_additive(name: str, data: st.DataObject) -> None:
    engine = ENGINES[name]
    a, b, c = (data.draw(instants(name)) for _ in range(3))
    assert engine.between(a, b) == -engine.between(b, a)
    assert engine.between(a, b) + engine.between(b, c) == engine.between(a, c)


@FAST
@given(name=st.sampled_from(list(CALENDARS)), data=st.data())
def test_windows_sum_to_between(name: str, data: st.DataObject) -> None:
    engine = ENGINES[name]
    lo = data.draw(instants(name)).astimezone(UTC)  # real-time (not wall-clock) arithmetic
    hi = lo + data.draw(st.timedeltas(timedelta(0), 20 * DAY))
    windows = list(engine.windows(lo, hi))
    assert sum((e - s for s, e in windows), timedelta(0)) == engine.between(lo, hi)
    for (s, e), (s2, _) in pairwise(windows):
        assert lo <= s < e <= s2
    for s, e in windows:
        assert engine.is_working(s) and e <= hi


# ------------------------------------------------------------------ named cases

DOMAIN = WorkCalendar.from_spec({"tz": "Asia/Almaty", "week": weekdays(["09:00", "18:00"])})
LUNCH = ENGINES["almaty_lunch"]
KZ = ENGINES["kz_holidays"]


def almaty(*args: int) -> datetime:
    return datetime(*args, tzinfo=ALMATY)  # type: ignore[misc]


def test_domain_example_friday_evening_to_monday_morning() -> None:
    written, answered = almaty(2026, 3, 13, 18), almaty(2026, 3, 16, 10)
    assert DOMAIN.between(written, answered) == H
    assert DOMAIN.add(written, H) == answered
    assert DOMAIN.add(written, H).tzinfo is UTC


def test_start_on_a_holiday() -> None:
    assert KZ.add(almaty(2026, 1, 1, 10), H) == almaty(2026, 1, 5, 10)  # Jan 1-2 holidays, weekend
    assert not KZ.is_working(almaty(2026, 1, 7, 12))  # Orthodox Christmas
    assert KZ.next_opening(almaty(2026, 1, 7, 12)) == almaty(2026, 1, 8, 9)


def test_after_hours_and_zero_delta() -> None:
    evening = almaty(2026, 3, 3, 20)
    assert LUNCH.add(evening, 30 * MIN) == almaty(2026, 3, 4, 9, 30)
    zero = LUNCH.add(evening, timedelta(0))
    assert zero == evening and zero.tzinfo is UTC
    assert LUNCH.between(evening, almaty(2026, 3, 4, 8)) == timedelta(0)


def test_window_boundaries() -> None:
    assert LUNCH.is_working(almaty(2026, 3, 3, 9))
    assert not LUNCH.is_working(almaty(2026, 3, 3, 13))
    assert LUNCH.next_opening(almaty(2026, 3, 3, 13)) == almaty(2026, 3, 3, 14)
    assert LUNCH.add(almaty(2026, 3, 3, 13), 30 * MIN) == almaty(2026, 3, 3, 14, 30)
    assert LUNCH.add(almaty(2026, 3, 3, 9), 4 * H) == almaty(2026, 3, 3, 13)  # the end, not 14:00
    assert DOMAIN.add(almaty(2026, 3, 3, 9), 9 * H) == almaty(2026, 3, 3, 18)  # not next 09:00
    assert DOMAIN.add(almaty(2026, 3, 6, 9), 9 * H) == almaty(2026, 3, 6, 18)  # Friday end


def test_across_lunch_with_microseconds() -> None:
    start = almaty(2026, 3, 3, 12, 30, 0, 1)
    assert LUNCH.add(start, H) == almaty(2026, 3, 3, 14, 30, 0, 1)
    assert LUNCH.between(start, almaty(2026, 3, 3, 14, 30)) == H - timedelta(microseconds=1)
    assert LUNCH.add(start, timedelta(microseconds=1)) == start + timedelta(microseconds=1)


def test_across_new_year_with_kz_holidays() -> None:
    # Dec 31 2026 (Thu) 17:00 + 2h: 1h that day; Jan 1-2 holidays, weekend, Jan 4 observed.
    assert KZ.add(almaty(2026, 12, 31, 17), 2 * H) == almaty(2027, 1, 5, 10)
    assert KZ.between(almaty(2026, 12, 31, 17), almaty(2027, 1, 5, 10)) == 2 * H


def test_nauryz_eve_and_shortened_day() -> None:
    eve = almaty(2026, 3, 20, 17)  # Friday; Nauryz 21-23 + observed 24-25
    assert KZ.add(eve, 2 * H) == almaty(2026, 3, 26, 10)
    short = WorkCalendar.from_spec({**kz_spec(), "overrides": {"2026-03-20": [["09:00", "17:00"]]}})
    assert short.add(almaty(2026, 3, 20, 16), H) == almaty(2026, 3, 20, 17)
    assert short.add(eve, 2 * H) == almaty(2026, 3, 26, 11)


def test_independence_day_eve() -> None:
    assert KZ.add(almaty(2026, 12, 15, 17, 30), H) == almaty(2026, 12, 17, 9, 30)


def test_kz_calendar_matches_holidays_package_working_days() -> None:
    kz = holidays.country_holidays("KZ", years=[2026, 2027])
    day = date(2026, 1, 1)
    while day < date(2028, 1, 1):
        noon = datetime.combine(day, time(12), ALMATY)
        assert KZ.is_working(noon) == kz.is_working_day(day), day
        day += DAY
    assert KZ.between(almaty(2026, 1, 1), almaty(2027, 1, 1)) == 9 * H * kz.get_working_days_count(
        date(2026, 1, 1), date(2026, 12, 31)
    )


def test_transferred_working_saturday_and_extra_day_off() -> None:
    cal = WorkCalendar.from_spec(
        {
            **CALENDARS["almaty_lunch"],
            "holidays": ["2026-01-02"],
            "overrides": {"2026-01-03": [["09:00", "18:00"]], "2026-01-02": [["10:00", "11:00"]], "2026-01-05": []},
        }
    )
    assert cal.between(almaty(2026, 1, 2), almaty(2026, 1, 3)) == H  # override beats holiday
    assert cal.between(almaty(2026, 1, 3), almaty(2026, 1, 4)) == 9 * H  # working Saturday
    assert cal.between(almaty(2026, 1, 5), almaty(2026, 1, 6)) == timedelta(0)  # extra day off


def test_berlin_night_window_is_3h_in_spring_and_5h_in_autumn() -> None:
    cal = WorkCalendar.from_spec({"tz": "Europe/Berlin", "week": weekdays(["00:00", "04:00"], days=WEEKDAYS)})

    def night(day: date) -> timedelta:
        return cal.between(datetime.combine(day, time(0), BERLIN) - 2 * H, datetime.combine(day, time(12), BERLIN))

    assert night(date(2026, 3, 29)) == 3 * H
    assert night(date(2026, 10, 25)) == 5 * H
    assert night(date(2026, 6, 1)) == 4 * H


def test_window_in_dst_gap_and_fold_maps_to_exact_utc() -> None:
    cal = WorkCalendar.from_spec(
        {"tz": "Europe/Berlin", "overrides": {"2026-03-29": [["02:30", "05:00"]], "2026-10-25": [["02:30", "02:45"]]}}
    )
    utc = functools.partial(datetime, tzinfo=UTC)
    assert list(cal.windows(utc(2026, 3, 28), utc(2026, 3, 30))) == [(utc(2026, 3, 29, 1), utc(2026, 3, 29, 3))]
    assert list(cal.windows(utc(2026, 10, 24), utc(2026, 10, 26))) == [
        (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 0, 45)),  # first pass (CEST)
        (utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 1, 45)),  # second pass (CET)
    ]


def test_santiago_midnight_transitions() -> None:
    sat = ENGINES["santiago_saturdays"]

    def evening(day: date) -> timedelta:
        return sat.between(datetime.combine(day, time(12), SANTIAGO), datetime.combine(day, time(12), SANTIAGO) + DAY)

    assert evening(date(2026, 4, 4)) == 5 * H  # 23:00-24:00 happens twice
    assert evening(date(2026, 9, 5)) == 4 * H  # 24:00 does not exist: ends at the transition
    assert evening(date(2026, 6, 6)) == 4 * H


def test_24x7_days_are_23_and_25_hours() -> None:
    cal = ENGINES["berlin_24x7"]
    for day, hours in ((date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 7, 1), 24)):
        assert (
            cal.between(datetime.combine(day, time(0), BERLIN), datetime.combine(day + DAY, time(0), BERLIN))
            == hours * H
        )
    start = datetime(2026, 3, 28, 12, tzinfo=BERLIN)
    assert cal.add(start, 24 * H) == start.astimezone(UTC) + 24 * H == datetime(2026, 3, 29, 13, tzinfo=BERLIN)
    assert len(list(cal.windows(start, start + 10 * DAY))) == 1  # touching windows are merged
    always = WorkCalendar.always()
    assert always.add(start, 1000 * DAY) == start.astimezone(UTC) + 1000 * DAY


@pytest.mark.parametrize(
    ("friday", "monday_10"),
    [
        (datetime(2026, 3, 6, 16, tzinfo=NEW_YORK), datetime(2026, 3, 9, 14, tzinfo=UTC)),  # spring
        (datetime(2026, 10, 30, 16, tzinfo=NEW_YORK), datetime(2026, 11, 2, 15, tzinfo=UTC)),  # autumn
        (datetime(2026, 3, 27, 16, tzinfo=BERLIN), datetime(2026, 3, 30, 8, tzinfo=UTC)),  # spring
        (datetime(2026, 10, 23, 16, tzinfo=BERLIN), datetime(2026, 10, 26, 9, tzinfo=UTC)),  # autumn
    ],
)
def test_dst_weeks_office_hours(friday: datetime, monday_10: datetime) -> None:
    cal = WorkCalendar.from_spec({"tz": str(friday.tzinfo), "week": weekdays(["09:00", "17:00"])})
    assert cal.add(friday, 2 * H) == monday_10
    assert cal.between(friday - 4 * DAY, friday + 3 * DAY) == 40 * H


def test_new_york_sunday_window_across_transition() -> None:
    cal = ENGINES["new_york_dst"]  # sun 01:00-03:30

    def sunday(day: date) -> timedelta:
        return cal.between(datetime.combine(day, time(0), NEW_YORK), datetime.combine(day, time(6), NEW_YORK))

    assert sunday(date(2026, 3, 8)) == 90 * MIN  # 02:00-03:00 missing
    assert sunday(date(2026, 11, 1)) == 210 * MIN  # 01:00-02:00 twice
    assert sunday(date(2026, 6, 7)) == 150 * MIN


@pytest.mark.parametrize(
    "at",
    [
        datetime(1990, 6, 1, 10, tzinfo=UTC),
        datetime(1991, 3, 30, 12, tzinfo=UTC),
        datetime(1900, 5, 1, tzinfo=UTC),
        datetime(2090, 3, 1, 7, tzinfo=UTC),
        datetime(2200, 10, 1, tzinfo=UTC),
    ],
)
def test_far_dates_agree_with_reference(at: datetime) -> None:
    for name in ("almaty_lunch", "new_york_dst", "berlin_24x7"):
        engine, reference = ENGINES[name], REFERENCES[name]  # shared: grows lazily both ways
        for delta in (H, 3 * DAY + 7 * MIN):
            assert engine.add(at, delta) == reference.add(at, delta)
        assert engine.between(at, at + 40 * DAY) == reference.between(at, at + 40 * DAY)
    assert DOMAIN.between(datetime(2026, 1, 1, tzinfo=UTC), datetime(2090, 1, 1, tzinfo=UTC)) == DOMAIN.between(
        datetime(2026, 1, 1, tzinfo=UTC), datetime(2058, 1, 1, tzinfo=UTC)
    ) + DOMAIN.between(datetime(2058, 1, 1, tzinfo=UTC), datetime(2090, 1, 1, tzinfo=UTC))


def test_cost_is_flat_in_span() -> None:
    start = almaty(2026, 3, 3, 10)
    KZ.add(start, 60 * DAY)  # materialise

    def timed(delta: timedelta) -> float:
        t0 = clock.perf_counter()
        for _ in range(2000):
            KZ.add(start, delta)
        return clock.perf_counter() - t0

    short, long = [], []
    for _ in range(5):  # interleaved, best of five: robust to a busy machine
        short.append(timed(30 * MIN))
        long.append(timed(30 * DAY))
    assert min(long) < min(short) * 3


def test_lazy_extension_in_both_directions_is_consistent_and_thread_safe() -> None:
    cases = [(datetime(year, 3, 2, 10, tzinfo=UTC), 40 * H) for year in (2026, 1990, 2070, 1985, 2080, 2026)]
    expected = [WorkCalendar.from_spec(CALENDARS["new_york_dst"]).add(s, d) for s, d in cases]
    shared = WorkCalendar.from_spec(CALENDARS["new_york_dst"])
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda case: shared.add(*case), cases * 3))
    assert results == expected * 3
    assert [shared.add(s, d) for s, d in cases] == expected


def test_input_zones_and_types() -> None:
    start = almaty(2026, 3, 3, 12, 30)
    expected = LUNCH.add(start, H)
    for variant in (
        start.astimezone(UTC),
        start.astimezone(timezone(timedelta(0))),  # a UTC-equal tzinfo that is not the UTC singleton
        start.astimezone(timezone(timedelta(hours=-9, minutes=-30))),
        start.astimezone(NEW_YORK),
    ):
        assert LUNCH.add(variant, H) == expected
        assert LUNCH.add(variant, H).tzinfo is UTC
    with pytest.raises(TypeError, match="timedelta"):
        LUNCH.add(start, 3600)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="aware"):
        LUNCH.add(date(2026, 3, 3), H)  # type: ignore[arg-type]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="negative"):
        DOMAIN.add(almaty(2026, 3, 3, 10), -MIN)
    with pytest.raises(ValueError, match="aware"):
        DOMAIN.add(datetime(2026, 3, 3, 10), H)
    with pytest.raises(ValueError, match="aware"):
        DOMAIN.between(almaty(2026, 3, 3, 10), datetime(2026, 3, 3, 10))
    with pytest.raises(ValueError, match="aware"):
        DOMAIN.is_working(datetime(2026, 3, 3, 10))


def test_no_working_time_raises_instead_of_looping() -> None:
    t0 = clock.perf_counter()
    empty = WorkCalendar.from_spec({"tz": "Europe/Berlin", "week": {}})
    with pytest.raises(ValueError, match="no working time"):
        empty.add(datetime(2026, 1, 1, tzinfo=UTC), H)
    with pytest.raises(ValueError, match="no working time"):
        empty.next_opening(datetime(2026, 1, 1, tzinfo=UTC))
    assert empty.add(datetime(2026, 1, 1, tzinfo=UTC), timedelta(0)) == datetime(2026, 1, 1, tzinfo=UTC)
    assert empty.between(datetime(2026, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)) == timedelta(0)
    once = WorkCalendar.from_spec({"tz": "UTC", "overrides": {"2026-01-05": [["09:00", "10:00"]]}})
    assert once.add(datetime(2026, 1, 1, tzinfo=UTC), 30 * MIN) == datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="within 10 years"):
        once.add(datetime(2026, 1, 1, tzinfo=UTC), 2 * H)
    with pytest.raises(ValueError, match="within 10 years"):
        once.next_opening(datetime(2026, 1, 6, tzinfo=UTC))
    assert clock.perf_counter() - t0 < 5


VALID: dict[str, Any] = {"tz": "Asia/Almaty", "week": {"mon": [["09:00", "13:00"], ["14:00", "18:00"]]}}


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"tz": "Mars/Base"}, "tz: unknown time zone 'Mars/Base'"),
        ({"tz": "../etc/passwd"}, "tz: unknown time zone"),
        ({"tz": 5}, "tz: "),
        (
            {"week": {"mon": [["09:00", "13:00"], ["14:00", "13:00"]]}},
            "week.mon[1]: end 13:00 is not after start 14:00",
        ),
        ({"week": {"tue": [["09:00", "09:00"]]}}, "week.tue[0]: end 09:00 is not after start 09:00"),
        ({"week": {"mon": [["09:00", "13:00"], ["12:00", "18:00"]]}}, "week.mon[1]: 12:00-18:00 overlaps week.mon[0]"),
        ({"week": {"mon": [["12:00", "18:00"], ["09:00", "13:00"]]}}, "week.mon[1]: 09:00-13:00 overlaps week.mon[0]"),
        ({"week": {"mon": [["25:00", "26:00"]]}}, "week.mon[0]: bad time '25:00'"),
        ({"week": {"mon": [["9am", "5pm"]]}}, "week.mon[0]: bad time '9am'"),
        ({"week": {"mon": [["09:60", "10:00"]]}}, "week.mon[0]: bad time '09:60'"),
        ({"week": {"mon": [["24:00", "24:00"]]}}, "week.mon[0]: 24:00 is only allowed as an end"),
        ({"week": {"mon": [["09:00", "24:30"]]}}, "week.mon[0]: bad time '24:30'"),
        ({"week": {"mon": [[900, 1300]]}}, "week.mon[0]: bad time 900"),
        ({"week": {"monday": []}}, "week: unknown weekday 'monday'"),
        ({"week": {"mon": "09:00-18:00"}}, "week.mon: windows must be a list"),
        ({"week": {"mon": [["09:00"]]}}, "week.mon[0]: expected a [start, end] pair"),
        ({"week": [["09:00", "18:00"]]}, "week: expected an object"),
        ({"holidays": ["2026-13-01"]}, "holidays[0]: bad date '2026-13-01'"),
        ({"holidays": ["2026-01-01", "20260102"]}, "holidays[1]: bad date '20260102'"),
        ({"holidays": "2026-01-01"}, "holidays: expected a list"),
        ({"overrides": {"2026-02-30": []}}, "overrides.2026-02-30: bad date"),
        (
            {"overrides": {"2026-03-20": [["17:00", "09:00"]]}},
            "overrides.2026-03-20[0]: end 09:00 is not after start 17:00",
        ),
        ({"overrides": [["2026-03-20", []]]}, "overrides: expected an object"),
        ({"weeks": {}}, "spec: unknown key 'weeks'"),
    ],
)
def test_invalid_specs_name_the_field(patch: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        WorkCalendar.from_spec({**VALID, **patch})
    assert message in str(excinfo.value)


def test_missing_tz_is_an_error_and_other_keys_are_lenient() -> None:
    with pytest.raises(ValueError, match="tz: required"):
        WorkCalendar.from_spec({"week": {}})
    cal = WorkCalendar.from_spec({"tz": "UTC"})
    assert cal.spec() == {"tz": "UTC", "week": {day: [] for day in WEEKDAYS}, "holidays": [], "overrides": {}}


def test_spec_round_trip_and_normalisation() -> None:
    raw = {
        "tz": "Asia/Almaty",
        "week": {"tue": [["14:00", "18:00"], ["9:00", "13:00"]], "sat": [["22:00", "24:00"]]},
        "holidays": ["2026-03-23", "2026-03-21", "2026-03-23", date(2026, 1, 1)],
        "overrides": {"2026-03-20": [["09:00", "17:00"]], "2026-01-03": []},
    }
    cal = WorkCalendar.from_spec(raw)
    spec = cal.spec()
    assert spec == {
        "tz": "Asia/Almaty",
        "week": {
            "mon": [],
            "tue": [["09:00", "13:00"], ["14:00", "18:00"]],
            "wed": [],
            "thu": [],
            "fri": [],
            "sat": [["22:00", "24:00"]],
            "sun": [],
        },
        "holidays": ["2026-01-01", "2026-03-21", "2026-03-23"],
        "overrides": {"2026-01-03": [], "2026-03-20": [["09:00", "17:00"]]},
    }
    assert WorkCalendar.from_spec(spec).spec() == spec
    assert WorkCalendar.from_spec(spec) == cal and hash(WorkCalendar.from_spec(spec)) == hash(cal)
    for name, original in CALENDARS.items():
        assert WorkCalendar.from_spec(ENGINES[name].spec()) == ENGINES[name], name
        assert WorkCalendar.from_spec(ENGINES[name].spec()).spec() == ENGINES[name].spec()
        assert ENGINES[name].spec()["tz"] == original["tz"]


def test_day_windows_and_windows_preview() -> None:
    assert KZ.day_windows(date(2026, 3, 23)) == []  # Nauryz
    assert KZ.day_windows(date(2026, 3, 26)) == [["09:00", "18:00"]]
    assert LUNCH.day_windows(date(2026, 3, 3)) == [["09:00", "13:00"], ["14:00", "18:00"]]
    day = list(LUNCH.windows(almaty(2026, 3, 3, 10), almaty(2026, 3, 4, 10)))
    assert day == [
        (almaty(2026, 3, 3, 10), almaty(2026, 3, 3, 13)),
        (almaty(2026, 3, 3, 14), almaty(2026, 3, 3, 18)),
        (almaty(2026, 3, 4, 9), almaty(2026, 3, 4, 10)),
    ]
    assert all(s.tzinfo is UTC and e.tzinfo is UTC for s, e in day)
    assert list(LUNCH.windows(almaty(2026, 3, 4), almaty(2026, 3, 3))) == []
    with pytest.raises(ValueError, match="aware"):
        LUNCH.windows(datetime(2026, 3, 3), almaty(2026, 3, 4))
