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

from datetime import UTC, date, datetime, time, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sla.businesstime_reference import (
    ALMATY,
    BERLIN,
    CALENDARS,
    DAY,
    ENGINES,
    MIN,
    NEW_YORK,
    REFERENCES,
    SANTIAGO,
    H,
    _transitions,
)

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
