"""The pure routing choice (routing.strategies): dataclasses in, a choice and a reason out; no database."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from routing import strategies as routing
from routing.strategies import Agent, Requirement, choose

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def agents(*ids, **kw):
    return [Agent(user_id=i, **kw) for i in ids]


def test_round_robin_serves_the_next_agent_after_the_cursor_and_wraps_around():
    team = agents(3, 1, 2)
    assert choose(routing.ROUND_ROBIN, team, cursor=None).user_id == 1
    assert choose(routing.ROUND_ROBIN, team, cursor=1).user_id == 2
    assert choose(routing.ROUND_ROBIN, team, cursor=2).user_id == 3
    decision = choose(routing.ROUND_ROBIN, team, cursor=3)
    assert (decision.user_id, decision.cursor, decision.reason) == (1, 1, routing.R_NEXT_IN_TURN)


def test_round_robin_skips_agents_off_shift_away_or_at_capacity():
    team = [
        Agent(1, on_shift=False),
        Agent(2, away=True),
        Agent(3, open_tickets=2, capacity=2),
        Agent(4, open_tickets=1, capacity=2),
    ]
    assert choose(routing.ROUND_ROBIN, team, cursor=None).user_id == 4


def test_nobody_available_leaves_the_ticket_queued_with_a_reason():
    decision = choose(routing.LEAST_LOADED, [Agent(1, away=True), Agent(2, on_shift=False)])
    assert not decision.assigned and decision.reason == routing.R_NO_AGENT


def test_least_loaded_picks_the_fewest_open_tickets_and_breaks_ties_by_longest_idle():
    team = [
        Agent(1, open_tickets=3),
        Agent(2, open_tickets=1, last_assigned_at=T0),
        Agent(3, open_tickets=1, last_assigned_at=T0 - timedelta(hours=2)),
    ]
    decision = choose(routing.LEAST_LOADED, team)
    assert (decision.user_id, decision.reason, decision.params["open"]) == (3, routing.R_LEAST_LOADED, 1)


def test_least_loaded_counts_an_agent_never_assigned_as_the_longest_idle():
    team = [Agent(1, open_tickets=0, last_assigned_at=T0), Agent(2, open_tickets=0)]
    assert choose(routing.LEAST_LOADED, team).user_id == 2


def test_skills_picks_the_most_qualified_agent_who_meets_every_minimum_level():
    need = [Requirement("billing", 2), Requirement("ru", 1)]
    team = [
        Agent(1, skills={"billing": 5}),  # no Russian
        Agent(2, skills={"billing": 2, "ru": 1}, open_tickets=0),
        Agent(3, skills={"billing": 4, "ru": 3}, open_tickets=4),
    ]
    decision = choose(routing.SKILLS, team, required=need)
    assert (decision.user_id, decision.reason, decision.params["score"]) == (3, routing.R_MOST_SKILLED, 7)


def test_skills_leaves_the_ticket_queued_when_nobody_qualified_is_available():
    need = [Requirement("billing", 3)]
    team = [Agent(1, skills={"billing": 2}), Agent(2, skills={"billing": 5}, away=True)]
    decision = choose(routing.SKILLS, team, required=need)
    assert not decision.assigned and decision.reason == routing.R_NO_SKILLED
    assert decision.params == {"skills": ["billing"]}


def test_hybrid_takes_the_least_loaded_of_the_skilled_agents():
    need = [Requirement("network", 2)]
    team = [
        Agent(1, skills={"network": 5}, open_tickets=3),
        Agent(2, skills={"network": 2}, open_tickets=1),
        Agent(3, open_tickets=0),
    ]
    decision = choose(routing.HYBRID, team, required=need)
    assert (decision.user_id, decision.reason) == (2, routing.R_SKILLED_LEAST_LOADED)


def test_hybrid_falls_back_to_the_least_loaded_agent_when_nobody_skilled_is_available():
    need = [Requirement("network", 2)]
    team = [Agent(1, skills={"network": 5}, on_shift=False), Agent(2, open_tickets=2), Agent(3, open_tickets=1)]
    decision = choose(routing.HYBRID, team, required=need)
    assert (decision.user_id, decision.reason) == (3, routing.R_FALLBACK_LEAST_LOADED)


def test_pull_and_manual_queues_are_never_assigned_automatically():
    for strategy in (routing.PULL, routing.MANUAL):
        decision = choose(strategy, agents(1, 2))
        assert not decision.assigned and decision.reason == routing.R_NOT_AUTOMATIC


def test_an_absent_agents_turn_goes_to_their_substitute_when_the_substitute_is_a_member():
    team = [Agent(1, absent=True, substitute_id=3), Agent(2), Agent(3)]
    decision = choose(routing.ROUND_ROBIN, team, cursor=None)
    assert (decision.user_id, decision.substitute_for, decision.cursor) == (3, 1, 1)
    assert decision.as_data()["substitute_for"] == 1


def test_an_absent_agent_whose_substitute_is_not_a_member_is_skipped():
    team = [Agent(1, absent=True, substitute_id=99), Agent(2)]
    assert choose(routing.ROUND_ROBIN, team, cursor=None).user_id == 2


def test_a_substitute_who_is_away_does_not_stand_in():
    team = [Agent(1, absent=True, substitute_id=2), Agent(2, away=True)]
    assert not choose(routing.LEAST_LOADED, team).assigned


def test_excluded_people_are_not_chosen():
    assert choose(routing.LEAST_LOADED, agents(1, 2), exclude={1}).user_id == 2


def test_the_account_manager_gets_the_ticket_when_present_else_their_member_substitute():
    members = [Agent(5), Agent(6)]
    assert routing.account_manager_choice(Agent(9), members).user_id == 9
    absent = Agent(9, absent=True, substitute_id=6)
    decision = routing.account_manager_choice(absent, members)
    assert (decision.user_id, decision.reason, decision.substitute_for) == (
        6, routing.R_ACCOUNT_MANAGER_SUBSTITUTE, 9
    )
    assert routing.account_manager_choice(Agent(9, away=True), members) is None
    assert routing.account_manager_choice(Agent(9, absent=True, substitute_id=77), members) is None


def _burst(strategy: str, team: list[Agent], tickets: int) -> Counter:
    """Route ``tickets`` in a row, feeding each assignment back as the service does."""
    by_id = {a.user_id: a for a in team}
    cursor = None
    given: Counter = Counter()
    for n in range(tickets):
        decision = choose(strategy, list(by_id.values()), cursor=cursor)
        assert decision.assigned
        cursor = decision.cursor
        agent = by_id[decision.user_id]
        by_id[agent.user_id] = agent._replace(open_tickets=agent.open_tickets + 1,
                                              last_assigned_at=T0 + timedelta(seconds=n))
        given[agent.user_id] += 1
    return given


def test_round_robin_spreads_a_burst_of_1000_within_one_ticket_across_available_agents():
    team = [Agent(i) for i in range(1, 8)] + [Agent(8, away=True), Agent(9, on_shift=False)]
    given = _burst(routing.ROUND_ROBIN, team, 1000)
    assert set(given) == set(range(1, 8))
    assert max(given.values()) - min(given.values()) <= 1


def test_least_loaded_evens_out_a_burst_of_1000_within_one_ticket():
    team = [Agent(i, open_tickets=i % 3) for i in range(1, 8)] + [Agent(8, absent=True)]
    given = _burst(routing.LEAST_LOADED, team, 1000)
    loads = [given[i] + i % 3 for i in range(1, 8)]
    assert max(loads) - min(loads) <= 1 and 8 not in given


@given(
    st.lists(st.tuples(st.integers(0, 20), st.booleans(), st.none() | st.integers(0, 20)), min_size=1, max_size=12),
    st.sampled_from([routing.ROUND_ROBIN, routing.LEAST_LOADED, routing.HYBRID, routing.SKILLS]),
    st.none() | st.integers(0, 15),
)
def test_a_chosen_agent_is_always_available_and_under_capacity(rows, strategy, cursor):
    team = [Agent(i, open_tickets=o, away=away, capacity=cap) for i, (o, away, cap) in enumerate(rows)]
    decision = choose(strategy, team, cursor=cursor)
    chosen = next((a for a in team if a.user_id == decision.user_id), None)
    if decision.assigned:
        assert not chosen.away and chosen.under_capacity
    else:
        assert not any(not a.away and a.under_capacity for a in team)


def test_keywords_match_whole_words_and_phrases_case_insensitively_in_rule_order():
    rules = [("refund", "refund, money back"), ("outage", "не работает\nDOWN")]
    assert routing.classify("I want my MONEY  back", rules) == "refund"
    assert routing.classify("Сайт не работает с утра", rules) == "outage"
    assert routing.classify("Server down; also a refund", rules) == "refund"
    assert routing.classify("downgrade my plan", rules) is None
    assert routing.parse_keywords(" a , b;\nc ") == ["a", "b", "c"]
