"""Pure report arithmetic: percentiles, shares, period changes, Erlang C and the calibration suggestion."""

from __future__ import annotations

import itertools
import math
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports import metrics

durations = st.lists(st.floats(min_value=0, max_value=10 * 24 * 3600, allow_nan=False), min_size=1, max_size=60)
goals = st.floats(min_value=0.5, max_value=0.99)


def test_percentiles_interpolate_like_percentile_cont():
    values = [0, 20, 30, 30, 30, 480]
    assert metrics.percentile(values, 0.5) == 30
    assert metrics.percentile(values, 0.9) == 255  # 30 + 0.5 × (480 − 30)
    assert metrics.percentile([5], 0.9) == 5
    assert metrics.percentile([], 0.5) is None


@given(durations, st.floats(min_value=0, max_value=1))
def test_a_percentile_lies_between_the_smallest_and_largest_value(values, q):
    result = metrics.percentile(values, q)
    assert min(values) - 1e-6 <= result <= max(values) + 1e-6


@given(durations)
def test_percentiles_never_decrease_with_q(values):
    qs = [0, 0.25, 0.5, 0.8, 0.9, 1]
    results = [metrics.percentile(values, q) for q in qs]
    assert all(a <= b + 1e-6 for a, b in itertools.pairwise(results))


def test_shares_and_changes():
    assert metrics.share(5, 6) == 83.3
    assert metrics.share(0, 0) is None
    change = metrics.change(83.3, 100.0)
    assert (change.delta, change.direction) == (-16.7, "down")
    assert metrics.change(1, None).direction == ""


@pytest.mark.parametrize(
    ("agents", "waits", "level"),
    # 10 erlangs (200 requests an hour at 3 minutes each), answer within 20 s: the classic worked example.
    [(11, 0.6821, 0.3896), (12, 0.4494, 0.6402), (13, 0.2853, 0.7956), (14, 0.1741, 0.8884)],
)
def test_erlang_c_matches_the_published_values(agents, waits, level):
    assert metrics.erlang_c(agents, 10.0) == pytest.approx(waits, abs=5e-5)
    assert metrics.service_level(agents, 10.0, answer_within=20, handling=180) == pytest.approx(level, abs=5e-5)


def test_fourteen_agents_answer_eighty_percent_of_ten_erlangs_within_twenty_seconds():
    needed = metrics.agents_needed(200, handling=timedelta(minutes=3), answer_within=timedelta(seconds=20), goal=0.8)
    assert needed == 14
    assert metrics.agents_needed(0, handling=timedelta(minutes=3), answer_within=timedelta(seconds=20), goal=0.8) == 0


def test_too_few_agents_always_wait():
    assert metrics.erlang_c(5, 5.0) == 1.0
    assert metrics.service_level(5, 5.0, answer_within=20, handling=180) == 0.0


@given(st.floats(min_value=0.1, max_value=40), st.integers(min_value=1, max_value=60))
def test_more_agents_never_wait_more(traffic, agents):
    assert metrics.erlang_c(agents + 1, traffic) <= metrics.erlang_c(agents, traffic) + 1e-12


@given(st.floats(min_value=1, max_value=300), st.integers(min_value=1, max_value=60), goals)
def test_the_agents_needed_reach_the_goal_and_one_fewer_does_not(arrivals, handling_min, goal):
    handling, within = timedelta(minutes=handling_min), timedelta(minutes=5)
    needed = metrics.agents_needed(arrivals, handling=handling, answer_within=within, goal=goal)
    traffic = arrivals * handling_min / 60
    level = metrics.service_level(needed, traffic, answer_within=300, handling=handling_min * 60)
    assert level >= goal
    if needed - 1 > traffic:
        assert metrics.service_level(needed - 1, traffic, answer_within=300, handling=handling_min * 60) < goal


def test_the_suggested_target_rounds_up_the_goals_rank_to_a_nice_step():
    values = [0, 20 * 60, 30 * 60, 30 * 60, 30 * 60, 480 * 60]
    assert metrics.suggest_target(values, 0.8) == 30 * 60  # 5 of 6 within 30 min = 83 %
    assert metrics.suggest_target(values, 0.9) == 8 * 3600  # the sixth is needed: 8 h
    assert metrics.suggest_target([62 * 60], 0.9) == 75 * 60  # 1 h 2 min → 1 h 15 min (15-minute steps)
    assert metrics.suggest_target([], 0.9) is None


@given(durations, goals)
def test_the_suggestion_meets_the_goal_and_is_less_than_one_step_above_need(values, goal):
    suggested = metrics.suggest_target(values, goal)
    assert metrics.compliance(values, suggested) >= round(goal * 100, 1) - 0.05
    needed = metrics.rank_quantile(values, goal)
    assert suggested - needed < metrics.nice_step(needed) + 1e-6
    assert suggested % metrics.nice_step(suggested) == 0 or math.isclose(
        suggested % metrics.nice_step(needed), 0, abs_tol=1e-6)
