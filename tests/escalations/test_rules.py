"""Pure escalation rules: thresholds, fire instants through the business calendar, the next wake-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalations.rules import (
    BREACH_GRACE,
    ClockSnapshot,
    LevelRule,
    Trigger,
    breach_check_at,
    due_levels,
    fire_instants,
    next_wakeup,
    split_due,
    wakeup_after,
)
from sla.businesstime import WorkCalendar

ALMATY = ZoneInfo("Asia/Almaty")
OFFICE = WorkCalendar.from_spec(
    {
        "tz": "Asia/Almaty",
        "week": {
            **{d: [["09:00", "13:00"], ["14:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
            "sat": [],
            "sun": [],
        },
        "holidays": ["2026-03-23"],
        "overrides": {},
    }
)
H = timedelta(hours=1)


def almaty(*args) -> datetime:
    return datetime(*args, tzinfo=ALMATY)


def running(checkpoint, *, target=2 * H, consumed=timedelta(0), kind="first_response", breached=False):
    return ClockSnapshot(kind=kind, state="running", target=target, consumed=consumed, checkpoint=checkpoint,
                         breached=breached)


LADDER = [
    LevelRule(key=1, order=10, clock="any", trigger=Trigger(percent=50)),
    LevelRule(key=2, order=15, clock="first_response", trigger=Trigger(offset=-timedelta(minutes=30))),
    LevelRule(key=3, order=20, clock="any", trigger=Trigger(percent=100)),
    LevelRule(key=4, order=30, clock="any", trigger=Trigger(percent=150)),
    LevelRule(key=5, order=40, clock="resolution", trigger=Trigger(percent=80)),
]


def test_a_trigger_is_either_a_percent_or_an_offset():
    with pytest.raises(ValueError):
        Trigger()
    with pytest.raises(ValueError):
        Trigger(percent=50, offset=H)
    with pytest.raises(ValueError):
        Trigger(percent=0)


def test_thresholds_are_shares_of_the_target_or_offsets_from_due():
    assert Trigger(percent=80).threshold(2 * H) == timedelta(minutes=96)
    assert Trigger(percent=200).threshold(2 * H) == 4 * H
    assert Trigger(offset=-timedelta(minutes=30)).threshold(2 * H) == timedelta(minutes=90)
    assert Trigger(offset=H).threshold(2 * H) == 3 * H


def test_an_offset_before_due_longer_than_the_target_never_fires():
    assert Trigger(offset=-timedelta(minutes=30)).threshold(timedelta(minutes=30)) is None
    clock = running(almaty(2026, 3, 16, 10), target=timedelta(minutes=30))
    assert [level.key for _at, level in fire_instants(clock, LADDER, OFFICE)] == [1, 3, 4]


def test_the_worked_example_fires_at_one_hour_ninety_minutes_two_and_three_hours():
    clock = running(almaty(2026, 3, 16, 10))
    instants = [(at.astimezone(ALMATY).strftime("%H:%M"), level.key) for at, level in fire_instants(clock, LADDER,
                                                                                                      OFFICE)]
    # 150 % = 3 business hours: 10:00-13:00, so exactly at the lunch break.
    assert instants == [("11:00", 1), ("11:30", 2), ("12:00", 3), ("13:00", 4)]


def test_levels_follow_the_clock_kind():
    clock = running(almaty(2026, 3, 16, 10), kind="resolution", target=8 * H)
    assert [level.key for _at, level in fire_instants(clock, LADDER, OFFICE)] == [1, 5, 3, 4]


def test_a_friday_evening_clock_fires_on_monday_business_time():
    clock = running(almaty(2026, 3, 13, 17, 45))
    instants = [at.astimezone(ALMATY) for at, _level in fire_instants(clock, LADDER, OFFICE)]
    assert instants[0] == almaty(2026, 3, 16, 9, 45)
    assert next_wakeup(clock, LADDER, OFFICE) == almaty(2026, 3, 16, 9, 45)
    assert due_levels(clock, LADDER, OFFICE, almaty(2026, 3, 15, 23, 59)) == []


def test_holidays_are_skipped():
    clock = running(almaty(2026, 3, 20, 17, 30))  # Friday; Monday 23 March is a holiday
    assert next_wakeup(clock, LADDER, OFFICE) == almaty(2026, 3, 24, 9, 30)


def test_fired_levels_are_left_out_and_the_next_one_is_woken_for():
    clock = running(almaty(2026, 3, 16, 10))
    assert next_wakeup(clock, LADDER, OFFICE, fired={1}) == almaty(2026, 3, 16, 11, 30)
    assert next_wakeup(clock, LADDER, OFFICE, fired={1, 2, 3, 4}) == almaty(2026, 3, 16, 12) + BREACH_GRACE


def test_several_overdue_levels_fire_together_in_order():
    clock = running(almaty(2026, 3, 16, 10))
    due = due_levels(clock, LADDER, OFFICE, almaty(2026, 3, 16, 16), fired={2})
    assert [level.key for _at, level in due] == [1, 3, 4]


def test_a_level_already_passed_at_the_checkpoint_is_due_at_the_checkpoint():
    checkpoint = almaty(2026, 3, 16, 10)
    clock = running(checkpoint, consumed=90 * timedelta(minutes=1))
    assert fire_instants(clock, LADDER, OFFICE)[0] == (checkpoint.astimezone(UTC), LADDER[0])


def test_paused_and_stopped_clocks_never_fire():
    for state in ("paused", "stopped"):
        clock = ClockSnapshot(kind="resolution", state=state, target=H, consumed=2 * H,
                              checkpoint=almaty(2026, 3, 16, 10))
        assert fire_instants(clock, LADDER, OFFICE) == []
        assert next_wakeup(clock, LADDER, OFFICE) is None


def test_the_breach_check_is_one_business_second_past_due_and_only_once():
    clock = running(almaty(2026, 3, 13, 16))  # Friday: due at 18:00, breached at Monday's opening
    assert breach_check_at(clock, OFFICE) == almaty(2026, 3, 16, 9) + BREACH_GRACE
    assert breach_check_at(running(almaty(2026, 3, 13, 16), breached=True), OFFICE) is None
    assert next_wakeup(running(almaty(2026, 3, 13, 16), breached=True), [], OFFICE) is None


# --- properties --------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 6, 30), timezones=st.just(ALMATY)
)
durations = st.integers(min_value=1, max_value=60 * 24 * 10).map(lambda m: timedelta(minutes=m))
percents = st.integers(min_value=1, max_value=400)


@settings(max_examples=200, deadline=None)
@given(checkpoint=instants, target=durations, consumed_share=st.integers(0, 300), percent=percents)
def test_a_level_fires_when_exactly_its_share_is_consumed(checkpoint, target, consumed_share, percent):
    consumed = target * consumed_share / 100
    clock = running(checkpoint, target=target, consumed=consumed)
    level = LevelRule(key=1, order=1, clock="any", trigger=Trigger(percent=percent))
    [(at, _level)] = fire_instants(clock, [level], OFFICE)
    threshold = target * percent / 100
    if threshold <= consumed:
        assert at == checkpoint
    else:
        assert consumed + OFFICE.between(checkpoint, at) == threshold
        assert at > checkpoint


@settings(max_examples=200, deadline=None)
@given(checkpoint=instants, target=durations, low=percents, high=percents)
def test_a_higher_share_never_fires_earlier(checkpoint, target, low, high):
    low, high = sorted((low, high))
    clock = running(checkpoint, target=target)
    levels = [
        LevelRule(key=1, order=1, clock="any", trigger=Trigger(percent=low)),
        LevelRule(key=2, order=2, clock="any", trigger=Trigger(percent=high)),
    ]
    by_key = {level.key: at for at, level in fire_instants(clock, levels, OFFICE)}
    assert by_key[1] <= by_key[2]


@settings(max_examples=200, deadline=None)
@given(checkpoint=instants, target=durations, now=instants, fired=st.sets(st.sampled_from([1, 2, 3, 4, 5])))
def test_the_next_wakeup_is_never_after_a_due_level_and_due_levels_are_not_in_the_future(
    checkpoint, target, now, fired
):
    clock = running(checkpoint, target=target)
    wake = next_wakeup(clock, LADDER, OFFICE, fired=fired)
    due = due_levels(clock, LADDER, OFFICE, now, fired=fired)
    assert all(at <= now and level.key not in fired for at, level in due)
    if due:
        assert wake is not None and wake <= now
    elif wake is not None:
        unfired = [at for at, _level in fire_instants(clock, LADDER, OFFICE, fired=fired)]
        assert wake == min([*unfired, breach_check_at(clock, OFFICE)])


@settings(max_examples=200, deadline=None)
@given(checkpoint=instants, target=durations, now=instants, fired=st.sets(st.sampled_from([1, 2, 3, 4, 5])),
       breached=st.booleans())
def test_one_pass_over_the_ladder_gives_the_due_levels_and_the_wakeup_once_they_have_fired(
    checkpoint, target, now, fired, breached
):
    clock = running(checkpoint, target=target, breached=breached)
    due, pending = split_due(fire_instants(clock, LADDER, OFFICE, fired=fired), now)
    assert due == due_levels(clock, LADDER, OFFICE, now, fired=fired)
    after = fired | {level.key for _at, level in due}
    assert wakeup_after(clock, pending, OFFICE) == next_wakeup(clock, LADDER, OFFICE, fired=after)
