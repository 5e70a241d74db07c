"""Named cases of the pure business-time engine ``sla.businesstime``: the domain example, window
boundaries, Kazakh holidays and transfers, DST nights, days and weeks, far dates, cost and thread safety."""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta

import holidays
import pytest

from sla.businesstime import WEEKDAYS, WorkCalendar
from tests.sla.businesstime_reference import (
    ALMATY,
    BERLIN,
    CALENDARS,
    DAY,
    DOMAIN,
    ENGINES,
    KZ,
    LUNCH,
    MIN,
    NEW_YORK,
    REFERENCES,
    SANTIAGO,
    H,
    almaty,
    kz_spec,
    weekdays,
)

# ------------------------------------------------------------------ named cases


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


def test_lazy_extension_in_both_directions_is_consistent_and_thread_safe() -> None:
    cases = [(datetime(year, 3, 2, 10, tzinfo=UTC), 40 * H) for year in (2026, 1990, 2070, 1985, 2080, 2026)]
    expected = [WorkCalendar.from_spec(CALENDARS["new_york_dst"]).add(s, d) for s, d in cases]
    shared = WorkCalendar.from_spec(CALENDARS["new_york_dst"])
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda case: shared.add(*case), cases * 3))
    assert results == expected * 3
    assert [shared.add(s, d) for s, d in cases] == expected
