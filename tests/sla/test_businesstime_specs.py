"""Inputs and specs of the pure business-time engine ``sla.businesstime``: zones and types, bad
arguments, calendars without working time, spec validation, normalisation and round trip, day windows."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from sla.businesstime import WEEKDAYS, WorkCalendar
from tests.sla.businesstime_reference import CALENDARS, DOMAIN, ENGINES, KZ, LUNCH, MIN, NEW_YORK, H, almaty


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
