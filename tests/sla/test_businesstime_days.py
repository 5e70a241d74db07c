"""Targets people agree on (issue 16, point 7): business days and "by the end of the business day".

``WorkCalendar.add_days`` and ``WorkCalendar.end_of_day`` (pure, in ``sla.businesstime``), checked by
examples on the seed's Almaty office calendar and by properties over the reference calendars without
daylight-saving time (where a local wall-clock time names one instant).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla.businesstime import WorkCalendar
from tests.sla.businesstime_reference import ALMATY, CALENDARS

OFFICE = WorkCalendar.from_spec(CALENDARS["almaty_lunch"])
KZ = WorkCalendar.from_spec(CALENDARS["kz_holidays"])
NO_DST = {"almaty_lunch": OFFICE, "kz_holidays": KZ, "always": WorkCalendar.always("Asia/Almaty")}
PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def almaty(*args) -> datetime:
    return datetime(*args, tzinfo=ALMATY)


def local(value: datetime) -> datetime:
    return value.astimezone(ALMATY)


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (almaty(2026, 2, 16, 15, 0), 3, almaty(2026, 2, 19, 15, 0)),  # Monday 15:00 → Thursday 15:00
        (almaty(2026, 2, 20, 17, 30), 1, almaty(2026, 2, 23, 17, 30)),  # over the weekend
        (almaty(2026, 2, 16, 19, 0), 1, almaty(2026, 2, 18, 9, 0)),  # after the close: from Tuesday's opening
        (almaty(2026, 2, 14, 12, 0), 3, almaty(2026, 2, 19, 9, 0)),  # Saturday: from Monday's opening
        (almaty(2026, 2, 16, 13, 30), 0, almaty(2026, 2, 16, 14, 0)),  # lunch: the next opening
    ],
)
def test_business_days_keep_the_time_of_day_on_working_days(start, days, due):
    assert local(OFFICE.add_days(start, days)) == due


def test_three_business_days_are_not_seventy_two_business_hours():
    start = almaty(2026, 2, 16, 15, 0)
    assert OFFICE.add_days(start, 3) != OFFICE.add(start, timedelta(hours=72))
    assert OFFICE.between(start, OFFICE.add_days(start, 3)) == timedelta(hours=24)  # three 8-hour days


def test_business_days_skip_the_public_holidays_of_the_calendar():
    # Nauryz: 21–23 March 2026 (Saturday to Monday; Tuesday 24 March is worked in Kazakhstan's calendar or not,
    # whatever the spec says): the due day is the third working day of the spec.
    start = almaty(2026, 3, 20, 10, 0)
    due = local(KZ.add_days(start, 3))
    working = [d for d in (date(2026, 3, 20) + timedelta(days=i) for i in range(1, 15)) if KZ.day_windows(d)]
    assert due.date() == working[2] and due.time().hour == 10


@pytest.mark.parametrize(
    ("start", "days_after", "due"),
    [
        (almaty(2026, 2, 16, 10, 0), 0, almaty(2026, 2, 16, 18, 0)),  # the same day's close
        (almaty(2026, 2, 16, 10, 0), 1, almaty(2026, 2, 17, 18, 0)),  # the next business day's close
        (almaty(2026, 2, 16, 18, 0), 0, almaty(2026, 2, 17, 18, 0)),  # at the close: tomorrow's
        (almaty(2026, 2, 20, 19, 0), 0, almaty(2026, 2, 23, 18, 0)),  # Friday evening: Monday
    ],
)
def test_by_the_end_of_the_business_day(start, days_after, due):
    assert local(OFFICE.end_of_day(start, days_after)) == due


@st.composite
def cases(draw):
    name = draw(st.sampled_from(sorted(NO_DST)))
    naive = draw(st.datetimes(datetime(2025, 1, 1), datetime(2028, 6, 30)))
    return NO_DST[name], naive.replace(tzinfo=UTC), draw(st.integers(0, 30))


@PROPS
@given(case=cases())
def test_zero_days_is_the_next_opening_and_each_day_is_later(case):
    work, start, days = case
    assert work.add_days(start, 0) == work.next_opening(start)
    assert work.add_days(start, days + 1) > work.add_days(start, days) >= work.next_opening(start)


@PROPS
@given(case=cases())
def test_the_due_day_is_the_nth_working_day_after_the_first(case):
    work, start, days = case
    first = local(work.next_opening(start)).date()
    due = local(work.add_days(start, days))
    if due.time() == datetime.min.time() and due.date() != first:  # a close at 24:00 belongs to the day before
        due -= timedelta(microseconds=1)
    between = [first + timedelta(days=i) for i in range(1, (due.date() - first).days + 1)]
    assert sum(1 for d in between if work.day_windows(d)) == days


@PROPS
@given(case=cases())
def test_the_end_of_the_day_closes_that_working_day(case):
    work, start, days = case
    end = work.end_of_day(start, days)
    assert end >= work.next_opening(start)
    assert work.end_of_day(start, days + 1) > end
    assert work.is_working(end - timedelta(microseconds=1))
    assert work.end_of_day(start, days) == work.end_of_day(work.next_opening(start), days)
