"""Report rollups (``reports.rollups``, ``reports.clockfigures``): the dashboard's clock figures read from
``ClockFact``/``ClockDay`` equal those read from the clocks, after a rebuild and after incremental refreshes,
in every zone, for every kind of viewer, with exact percentiles (docs/reports.md, "Scale")."""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import asdict
from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from reports import clockfigures, metrics, rollups
from reports.dashboard.breakdowns import DIMENSIONS, breakdown
from reports.dashboard.clocks import clock_stats
from reports.dashboard.common import previous
from reports.dashboard.period import period_figures
from reports.dashboard.scoping import Scope
from reports.dashboard.trends import daily_compliance, first_response_histogram
from reports.dashboard.workload import workload
from reports.models import ClockDay, ClockFact, RollupState, RollupZone, TicketDay, TicketFact
from reports.selectors import Period
from routing.vip import evaluate_customers
from sla.models import Calendar, CalendarWindow, SLAClock, SLAPolicy
from tests.factories import CustomerFactory, MembershipFactory, UserFactory, VipTierFactory
from tests.reports.conftest import ALMATY, almaty
from tickets import services
from tickets.models import Status, Ticket, TicketEvent

User = get_user_model()
KOLKATA = ZoneInfo("Asia/Kolkata")
WEEK = Period(date(2026, 3, 2), date(2026, 3, 6), ALMATY)
# The week, the week and the days after it (where the changes below happen), and the two months around it.
PERIODS = [WEEK, Period(date(2026, 3, 2), date(2026, 3, 13), ALMATY),
           Period(date(2026, 2, 1), date(2026, 3, 31), ALMATY)]
# The ``week`` fixture (tests/reports/conftest.py) on the clocks only: these tests build the rollups themselves.
ON_THE_WEEK = pytest.mark.parametrize("week", ["clocks"], indirect=True)


# --- helpers ----------------------------------------------------------------------------------------------------


def fresh(user):
    """A new user object: visibility and rollup records are cached on the user object for one request."""
    return User.objects.get(pk=user.pk)


def clock_figures(user, period: Period, **narrow) -> dict:
    """Every clock figure of the dashboard, for ``user`` (optionally narrowed to a queue or a type)."""
    who = Scope(fresh(user), **narrow)
    return {
        "stats": {key: asdict(value) for key, value in sorted(clock_stats(who, period).items())},
        **{f"breakdown-{name}": breakdown(who, period, name) for name in DIMENSIONS},
        "daily": daily_compliance(who, period),
        "histogram": first_response_histogram(who, period),
        # Ticket counts (TicketDay): closed on time in both periods, done/taken per person, per queue.
        "on_time": asdict(period_figures(who, period).on_time),
        "workload": workload(who, period),
    }


def on_clocks(user, period: Period, **narrow) -> dict:
    with override_settings(REPORTS_USE_ROLLUPS=False):
        assert not uses_rollups(user, period, **narrow)
        return clock_figures(user, period, **narrow)


def uses_rollups(user, period: Period, **narrow) -> bool:
    scope = Scope(fresh(user), **narrow)
    return clockfigures.rollup_records(scope, period, previous(period)) is not None


def assert_same(got, expected, where: str = "figures") -> None:
    """Equal, floats up to their rounding (sums of business seconds added in another order)."""
    if isinstance(expected, dict):
        assert isinstance(got, dict) and list(got) == list(expected), where
        for key in expected:
            assert_same(got[key], expected[key], f"{where}[{key!r}]")
    elif isinstance(expected, list | tuple):
        assert isinstance(got, list | tuple) and len(got) == len(expected), (where, got, expected)
        for index, (g, e) in enumerate(zip(got, expected, strict=True)):
            assert_same(g, e, f"{where}[{index}]")
    elif isinstance(expected, float):
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-6), where
    else:
        assert got == expected, where


def assert_rollups_equal_clocks(users, periods=PERIODS, **narrow) -> None:
    for user in users:
        for period in periods:
            assert uses_rollups(user, period, **narrow), (user.username, period)
            assert_same(clock_figures(user, period, **narrow), on_clocks(user, period, **narrow),
                        f"{user.username} {period.first}–{period.last}")


def day_rows() -> list[tuple]:
    rows = []
    for *head, consumed, bins in ClockDay.objects.values_list(
        "zone", "day", "kind", *rollups.DIMENSIONS, "total", "met", "consumed_s", "bins"
    ):
        rows.append((*head, round(consumed, 6), tuple(sorted((int(k), v) for k, v in bins.items()))))
    return sorted(rows, key=repr)


def fact_rows() -> list[tuple]:
    fields = [f.attname for f in ClockFact._meta.concrete_fields]
    return sorted(ClockFact.objects.values_list(*fields), key=repr)


def ticket_rows() -> tuple[list, list]:
    """Ticket facts (without their ids, which a rebuild renumbers) and ticket day rows."""
    facts = [f.attname for f in TicketFact._meta.concrete_fields if not f.primary_key]
    days = [f.attname for f in TicketDay._meta.concrete_fields if not f.primary_key]
    return (sorted(TicketFact.objects.values_list(*facts), key=repr),
            sorted(TicketDay.objects.values_list(*days), key=repr))


def assert_same_as_a_rebuild() -> None:
    days, facts, tickets = day_rows(), fact_rows(), ticket_rows()
    zones = set(RollupZone.objects.values_list("zone", flat=True))
    rollups.rebuild()
    assert fact_rows() == facts
    assert day_rows() == days
    assert ticket_rows() == tickets
    assert set(RollupZone.objects.values_list("zone", flat=True)) == zones


def move(time_machine, *fields) -> None:
    time_machine.move_to(almaty(*fields), tick=False)


def stopped_days(zone: str, kind: str = SLAClock.Kind.FIRST_RESPONSE) -> dict[date, int]:
    found: dict[date, int] = {}
    for day, total in ClockDay.objects.filter(zone=zone, kind=kind).values_list("day", "total"):
        found[day] = found.get(day, 0) + total
    return found


# --- the rollup path is taken (or not) ----------------------------------------------------------------------------


@ON_THE_WEEK
def test_after_a_rebuild_the_dashboard_reads_the_rollups_not_the_clocks(week, viewer):
    assert not uses_rollups(viewer, WEEK)  # nothing built yet: the clocks answer
    result = rollups.rebuild()
    assert result["facts"] == ClockFact.objects.count() == 11  # FR: T0–T3, T7–T9; RES: T0–T3
    assert "Asia/Almaty" in result["zones"] and rollups.zone_ready("Asia/Almaty")
    assert uses_rollups(viewer, WEEK)

    def queries(**overrides) -> list[str]:
        with override_settings(**overrides), CaptureQueriesContext(connection) as captured:
            clock_figures(viewer, WEEK)
        return [q["sql"] for q in captured.captured_queries]

    on_rollups, on_clocks_only = queries(), queries(REPORTS_USE_ROLLUPS=False)
    # One request (one user object) asks whether its zone is built once, not once per figure.
    assert sum("reports_rollupzone" in sql for sql in on_rollups) == 1
    assert any("sla_slaclock" in sql for sql in on_clocks_only)
    assert not any("sla_slaclock" in sql for sql in on_rollups)  # every clock figure from the rollups
    assert any("reports_clockday" in sql and "GROUP BY" in sql for sql in on_rollups)  # summed in the database
    assert_rollups_equal_clocks([viewer])


@ON_THE_WEEK
def test_the_clocks_answer_when_rollups_are_off_or_the_viewers_zone_is_not_built(week, viewer, settings):
    rollups.rebuild()
    settings.REPORTS_USE_ROLLUPS = False
    assert not uses_rollups(viewer, WEEK)
    settings.REPORTS_USE_ROLLUPS = True
    in_kolkata = Period(WEEK.first, WEEK.last, KOLKATA)
    assert not RollupZone.objects.filter(zone="Asia/Kolkata").exists()
    assert not uses_rollups(viewer, in_kolkata)
    with override_settings(REPORTS_USE_ROLLUPS=False):
        expected = clock_figures(viewer, in_kolkata)
    assert_same(clock_figures(viewer, in_kolkata), expected)


# --- incremental upkeep --------------------------------------------------------------------------------------------


def change_everything(week, time_machine, *, queue, other_queue, engineer, dispatcher, manager) -> dict:
    """On Monday 9 March, through the services: every kind of change the upkeep must follow."""
    tickets = week["tickets"]
    newcomer = UserFactory(username="newcomer", role="engineer", profile__manager=manager)
    MembershipFactory(queue=queue, user=newcomer)

    # A new ticket, answered and done: FR 45 min, RES 2 h, both on Monday 9 March.
    move(time_machine, 2026, 3, 9, 9, 0)
    fresh_ticket = services.ticket_create(actor=dispatcher, title="T10 scanner", customer=week["customer"],
                                         queue=queue, ticket_type=week["type"], description="Broken.",
                                         performer=engineer)
    move(time_machine, 2026, 3, 9, 9, 45)
    services.ticket_reply(fresh_ticket, body="On it.", actor=engineer)
    move(time_machine, 2026, 3, 9, 11, 0)
    services.ticket_change_status(fresh_ticket, status=Status.DONE, actor=engineer)

    # Reopened: T1's resolution (stopped Monday 2 March) runs again and must leave that day.
    move(time_machine, 2026, 3, 9, 11, 5)
    services.ticket_change_status(tickets["T1"], status=Status.IN_PROGRESS, actor=engineer)
    # Reopened and done again: T2's resolution moves from Wednesday 4 to Monday 9 March.
    services.ticket_change_status(tickets["T2"], status=Status.IN_PROGRESS, actor=engineer)
    move(time_machine, 2026, 3, 9, 11, 20)
    services.ticket_change_status(tickets["T2"], status=Status.DONE, actor=engineer)

    # T7's first response stopped on Friday: another performer, then another queue.
    move(time_machine, 2026, 3, 9, 11, 30)
    services.ticket_assign(tickets["T7"], performer=newcomer, actor=dispatcher)
    services.ticket_update(tickets["T7"], actor=dispatcher, queue=other_queue)
    # T8: another owner of the result and an approver.
    services.ticket_set_people(tickets["T8"], actor=manager, owner=newcomer, approver=dispatcher)

    # Acme (T0, T1, T3, T6–T9) becomes Gold, as the VIP evaluation does it (CustomerTierChange + update).
    move(time_machine, 2026, 3, 9, 11, 40)
    gold = VipTierFactory(name="Gold", rank=1)
    customer = week["customer"]
    customer.manual_tier = gold
    customer.save(update_fields=["manual_tier"])
    assert len(evaluate_customers(date(2026, 3, 9), customer_ids=[customer.pk], actor=manager).changes) == 1

    # T9 canceled: its first response (stopped on Friday) no longer counts for compliance.
    move(time_machine, 2026, 3, 9, 11, 50)
    services.ticket_change_status(tickets["T9"], status=Status.CANCELED, actor=engineer)
    return {"new": fresh_ticket, "newcomer": newcomer, "gold": gold}


@ON_THE_WEEK
def test_a_refresh_follows_every_change_made_through_the_services(
    week, viewer, time_machine, queue, other_queue, engineer, dispatcher, manager, admin_user
):
    rollups.rebuild()
    before = {(f.ticket_id, f.kind): f for f in ClockFact.objects.all()}
    changed = change_everything(week, time_machine, queue=queue, other_queue=other_queue, engineer=engineer,
                                dispatcher=dispatcher, manager=manager)
    move(time_machine, 2026, 3, 9, 12, 0)
    result = rollups.refresh()
    assert result["tickets"] >= 6

    tickets = week["tickets"]
    facts = {(f.ticket_id, f.kind): f for f in ClockFact.objects.all()}
    fr, res = SLAClock.Kind.FIRST_RESPONSE, SLAClock.Kind.RESOLUTION
    assert (changed["new"].pk, fr) in facts and (changed["new"].pk, res) in facts
    assert (tickets["T1"].pk, res) not in facts and (tickets["T1"].pk, fr) in facts
    assert facts[(tickets["T2"].pk, res)].stopped_at.astimezone(ALMATY).date() == date(2026, 3, 9)
    assert before[(tickets["T2"].pk, res)].stopped_at.astimezone(ALMATY).date() == date(2026, 3, 4)
    t7 = facts[(tickets["T7"].pk, fr)]
    assert (t7.performer_id, t7.queue_id) == (changed["newcomer"].pk, other_queue.pk)
    assert (facts[(tickets["T8"].pk, fr)].owner_id, facts[(tickets["T8"].pk, fr)].approver_id) == (
        changed["newcomer"].pk, dispatcher.pk)
    assert {f.tier_id for (pk, _kind), f in facts.items() if pk == tickets["T0"].pk} == {changed["gold"].pk}
    assert (tickets["T9"].pk, fr) not in facts
    # The days the facts left are summed again: Monday 2 March lost T1's resolution, Wednesday 4 March T2's.
    assert stopped_days("Asia/Almaty", res).get(date(2026, 3, 4)) is None
    assert stopped_days("Asia/Almaty", res)[date(2026, 3, 2)] == 1  # T3 alone
    # Ticket facts follow as well: T1 reopened is no longer done, T2 is done on Monday 9 March, T7 was
    # taken by the newcomer (and keeps its earlier assignments), and each carries the current queue.
    done = dict(TicketFact.objects.filter(kind="done").values_list("ticket_id", "at"))
    assert tickets["T1"].pk not in done
    assert done[tickets["T2"].pk].astimezone(ALMATY).date() == date(2026, 3, 9)
    t7_taken = TicketFact.objects.filter(ticket=tickets["T7"], kind="taken")
    assert changed["newcomer"].pk in set(t7_taken.values_list("person_id", flat=True))
    assert set(t7_taken.values_list("queue_id", flat=True)) == {other_queue.pk}
    assert TicketFact.objects.filter(ticket=changed["new"], kind="created").count() == 1

    assert_rollups_equal_clocks([viewer, dispatcher, admin_user])
    assert_rollups_equal_clocks([admin_user], [PERIODS[1]], queue=other_queue)
    assert_rollups_equal_clocks([manager], [PERIODS[1]], ticket_type=week["type"])
    assert_same_as_a_rebuild()


@ON_THE_WEEK
def test_a_change_committed_up_to_ten_minutes_before_the_previous_run_is_still_applied(
    week, viewer, time_machine, engineer
):
    move(time_machine, 2026, 3, 9, 9, 0)
    rollups.rebuild()
    # A long transaction that began before the rebuild commits after it, with the instants of its start.
    move(time_machine, 2026, 3, 9, 8, 52)
    services.ticket_change_status(week["tickets"]["T1"], status=Status.IN_PROGRESS, actor=engineer)
    move(time_machine, 2026, 3, 9, 9, 1)
    rollups.refresh()
    assert not ClockFact.objects.filter(ticket=week["tickets"]["T1"], kind=SLAClock.Kind.RESOLUTION).exists()
    assert_rollups_equal_clocks([viewer], [WEEK])
    assert_same_as_a_rebuild()


@ON_THE_WEEK
def test_refresh_is_idempotent_and_nothing_changed_writes_nothing(week, viewer, time_machine, engineer):
    rollups.rebuild()
    move(time_machine, 2026, 3, 9, 9, 0)
    services.ticket_change_status(week["tickets"]["T1"], status=Status.IN_PROGRESS, actor=engineer)
    move(time_machine, 2026, 3, 9, 9, 5)
    rollups.refresh()
    days, facts = day_rows(), fact_rows()
    move(time_machine, 2026, 3, 9, 9, 6)
    again = rollups.refresh()  # the look-back sees the same change again: the same rows
    assert (day_rows(), fact_rows()) == (days, facts)
    assert again["tickets"] == 1
    move(time_machine, 2026, 3, 9, 10, 0)
    rollups.refresh()  # ten minutes before the previous run (09:06) is 08:56: the change is seen once more
    move(time_machine, 2026, 3, 9, 10, 1)
    quiet = rollups.refresh()  # from 09:50: nothing changed
    assert (quiet["tickets"], quiet["rollup_rows"]) == (0, 0)
    assert (day_rows(), fact_rows()) == (days, facts)
    assert RollupState.objects.get().refreshed_at == almaty(2026, 3, 9, 10, 1)


@ON_THE_WEEK
def test_the_first_refresh_without_any_state_builds_everything(week, viewer, time_machine):
    assert not RollupState.objects.exists()
    result = rollups.refresh()
    assert result["facts"] == 11
    state = RollupState.objects.get()
    assert state.synced_to == state.facts_built_at == state.refreshed_at == almaty(2026, 3, 7, 10)
    assert set(RollupZone.objects.values_list("zone", flat=True)) == set(rollups.zones())
    assert_rollups_equal_clocks([viewer], [WEEK])
    assert_same_as_a_rebuild()


# --- time zones ----------------------------------------------------------------------------------------------------


@pytest.fixture
def late_replies(policy, queue, engineer, dispatcher, time_machine):
    """First responses stopped late on Tuesday 3 March, Almaty time (+05:00; Kolkata is +05:30):

    A at 23:00 Almaty = 23:30 Kolkata (Tuesday in both), B at 23:15 = 23:45 (Tuesday in both),
    C at 23:45 Almaty = 00:15 Wednesday in Kolkata.
    """
    customer = CustomerFactory(name="Initech")
    tickets = {}
    for name, minute in (("A", 0), ("B", 15), ("C", 45)):
        move(time_machine, 2026, 3, 3, 20, 0)
        tickets[name] = services.ticket_create(actor=dispatcher, title=f"{name} late", customer=customer, queue=queue,
                                               description="Late.", performer=engineer)
        move(time_machine, 2026, 3, 3, 23, minute)
        services.ticket_reply(tickets[name], body="Tonight.", actor=engineer)
    move(time_machine, 2026, 3, 4, 9, 0)
    return tickets


def test_a_half_hour_zone_counts_each_clock_on_its_own_local_day(late_replies, manager, time_machine):
    manager.profile.time_zone = "Asia/Kolkata"
    manager.profile.save()
    rollups.rebuild()
    assert {"Asia/Kolkata", "Asia/Almaty"} <= set(RollupZone.objects.values_list("zone", flat=True))
    assert stopped_days("Asia/Kolkata") == {date(2026, 3, 3): 2, date(2026, 3, 4): 1}
    assert stopped_days("Asia/Almaty") == {date(2026, 3, 3): 3}

    in_kolkata = Period(WEEK.first, WEEK.last, KOLKATA)
    days = {d["day"]: d["fr_total"] for d in daily_compliance(Scope(fresh(manager)), in_kolkata)}
    assert (days[date(2026, 3, 3)], days[date(2026, 3, 4)]) == (2, 1)
    days = {d["day"]: d["fr_total"] for d in daily_compliance(Scope(fresh(manager)), WEEK)}
    assert (days[date(2026, 3, 3)], days[date(2026, 3, 4)]) == (3, 0)
    # A Kolkata period that ends on Tuesday stops at 00:00 Kolkata = 23:30 Almaty: C is outside it.
    tuesday = Period(date(2026, 3, 3), date(2026, 3, 3), KOLKATA)
    assert clock_stats(Scope(fresh(manager)), tuesday)[(1, "first_response")].total == 2
    assert_rollups_equal_clocks([manager], [in_kolkata, tuesday, WEEK])


def test_a_new_readers_zone_is_built_by_the_next_refresh_and_an_unused_one_dropped(
    late_replies, manager, time_machine
):
    rollups.rebuild()
    in_kolkata = Period(WEEK.first, WEEK.last, KOLKATA)
    assert set(RollupZone.objects.values_list("zone", flat=True)) == {"Asia/Almaty"}
    assert not uses_rollups(manager, in_kolkata)

    manager.profile.time_zone = "Asia/Kolkata"
    manager.profile.save()
    move(time_machine, 2026, 3, 4, 9, 1)
    rollups.refresh()
    assert rollups.zone_ready("Asia/Kolkata")
    assert stopped_days("Asia/Kolkata") == {date(2026, 3, 3): 2, date(2026, 3, 4): 1}
    assert_rollups_equal_clocks([manager], [in_kolkata])
    assert_same_as_a_rebuild()

    manager.profile.time_zone = "Asia/Almaty"
    manager.profile.save()
    move(time_machine, 2026, 3, 4, 9, 2)
    rollups.refresh()
    assert not RollupZone.objects.filter(zone="Asia/Kolkata").exists()
    assert not ClockDay.objects.filter(zone="Asia/Kolkata").exists()
    assert not uses_rollups(manager, in_kolkata)
    assert_same_as_a_rebuild()


def test_the_server_zone_is_kept_and_unknown_profile_zones_are_ignored(manager, settings):
    manager.profile.time_zone = "Mars/Olympus"
    manager.profile.save()
    settings.TIME_ZONE = "Asia/Almaty"
    assert rollups.zones() == ["Asia/Almaty"]


# --- visibility ----------------------------------------------------------------------------------------------------


@pytest.fixture
def spread(week, time_machine, queue, other_queue, engineer, other_engineer, dispatcher, manager):
    """Tickets outside the manager's queue that reach viewers by one path each (clocks stopped on Monday 9 March)."""
    tickets = {}

    def handled(name, *, by, performer=None, observers=(), approver=None, target=other_queue):
        move(time_machine, 2026, 3, 9, 9, len(tickets) * 5)
        tickets[name] = ticket = services.ticket_create(
            actor=dispatcher, title=f"{name}", customer=week["other_customer"], queue=target,
            ticket_type=week["type"], description="Help.", performer=performer, approver=approver,
            observers=observers,
        )
        move(time_machine, 2026, 3, 9, 10, len(tickets) * 5)
        services.ticket_reply(ticket, body="Looking.", actor=by)
        if performer is not None:
            move(time_machine, 2026, 3, 9, 11, len(tickets) * 5)
            services.ticket_change_status(ticket, status=Status.DONE, actor=performer)
        return ticket

    handled("team", by=engineer, performer=engineer)  # the manager's team member performs it
    handled("approved", by=other_engineer, performer=other_engineer, approver=manager)
    handled("observed only", by=other_engineer, performer=other_engineer, observers=[manager, dispatcher, engineer])
    handled("observed, nobody's", by=dispatcher, observers=[engineer])  # no performer, owner or approver
    handled("observed and in the queue", by=engineer, performer=engineer, observers=[manager, dispatcher, engineer],
            target=queue)
    handled("nobody sees", by=other_engineer, performer=other_engineer)
    move(time_machine, 2026, 3, 9, 12, 0)
    rollups.rebuild()
    return tickets


@ON_THE_WEEK
def test_managers_dispatchers_and_observing_engineers_get_the_clocks_figures(
    spread, manager, dispatcher, engineer, other_engineer, admin_user
):
    monday = Period(date(2026, 3, 9), date(2026, 3, 9), ALMATY)
    assert_rollups_equal_clocks([manager, dispatcher, engineer, other_engineer, admin_user], [monday, *PERIODS])

    def first_responses(user) -> int:
        return clock_stats(Scope(fresh(user)), monday)[(1, "first_response")].total

    # Manager: team, approved, observed only, observed and in the queue (counted once).
    assert first_responses(manager) == 4
    # Dispatcher: observed only, observed and in the queue (once).
    assert first_responses(dispatcher) == 2
    # Engineer: team (their own), observed only, observed nobody's, observed and in the queue (once).
    assert first_responses(engineer) == 4
    assert first_responses(admin_user) == 6


@ON_THE_WEEK
def test_observed_tickets_follow_a_refresh_too(spread, manager, engineer, time_machine):
    move(time_machine, 2026, 3, 9, 13, 0)
    services.ticket_set_people(spread["nobody sees"], actor=manager, observers=[manager])
    services.ticket_update(spread["observed only"], actor=manager, queue=spread["observed and in the queue"].queue)
    move(time_machine, 2026, 3, 9, 13, 5)
    rollups.refresh()
    assert_rollups_equal_clocks([manager, engineer])
    assert_same_as_a_rebuild()


# --- exact percentiles ---------------------------------------------------------------------------------------------


@pytest.fixture
def around_the_clock(db) -> SLAPolicy:
    calendar = Calendar.objects.create(name="24/7", time_zone="Asia/Almaty")
    CalendarWindow.objects.bulk_create(
        CalendarWindow(calendar=calendar, weekday=d, start="00:00", end="24:00") for d in range(7)
    )
    calendar.save()
    return SLAPolicy.objects.create(name="Critical", precedence=1, calendar=calendar,
                                    first_response_target=timedelta(hours=1), resolution_target=timedelta(hours=4))


EDGE_VALUES = [0, 1, 900, 900, 900, 1800, 3600, 3600, 3600, 7200, 14400, 28800, 28800]


@pytest.fixture
def random_clocks(around_the_clock, queue, other_queue, engineer, other_engineer, dispatcher, time_machine):
    """90 tickets on a 24/7 calendar (business time = wall time) from 25 February to 6 March: FR and RES times
    drawn with a fixed seed, plus ties and values on bin edges. Returns {(queue pk, kind): [(stopped, seconds)]}."""
    rng = random.Random(20260302)
    customer = CustomerFactory(name="Umbrella")
    values: dict[tuple[int, str], list[tuple[datetime, float]]] = {}
    start = almaty(2026, 2, 25, 0, 0)
    for index in range(90):
        fr = EDGE_VALUES[index] if index < len(EDGE_VALUES) else rng.choice(
            [rng.randint(0, 7200), rng.randint(0, 40000), rng.choice(EDGE_VALUES)])
        res = fr + (EDGE_VALUES[-index - 1] if index < len(EDGE_VALUES) else rng.randint(0, 30000))
        target, performer = (queue, engineer) if index % 3 else (other_queue, other_engineer)
        created = start + timedelta(minutes=137 * index)
        time_machine.move_to(created, tick=False)
        ticket = services.ticket_create(actor=dispatcher, title=f"R{index}", customer=customer, queue=target,
                                        description="Random.", performer=performer)
        time_machine.move_to(created + timedelta(seconds=fr), tick=False)
        services.ticket_reply(ticket, body="Seen.", actor=performer)
        time_machine.move_to(created + timedelta(seconds=res), tick=False)
        services.ticket_change_status(ticket, status=Status.DONE, actor=performer)
        values.setdefault((target.pk, "first_response"), []).append((created + timedelta(seconds=fr), float(fr)))
        values.setdefault((target.pk, "resolution"), []).append((created + timedelta(seconds=res), float(res)))
    time_machine.move_to(almaty(2026, 3, 8, 12, 0), tick=False)
    rollups.rebuild()
    return values


def test_rollup_percentiles_are_exact_whatever_the_bins(random_clocks, admin_user, dispatcher, queue):
    assert rollups.bin_bounds(rollups.bin_of(900.0))[0] == 900.0  # the edges are bin edges
    assert rollups.bin_bounds(rollups.bin_of(3600.0))[0] == 3600.0
    assert rollups.bin_of(899.999) == rollups.bin_of(900.0) - 1
    period = WEEK
    prev = previous(period)
    for user, queues in ((admin_user, None), (dispatcher, {queue.pk})):
        assert uses_rollups(user, period)
        stats = clock_stats(Scope(fresh(user)), period)
        for kind in ("first_response", "resolution"):
            for bucket, span in ((1, period), (0, prev)):
                seconds = [v for (q, k), rows in random_clocks.items() if k == kind and (queues is None or q in queues)
                           for stopped, v in rows if span.start <= stopped < span.end]
                assert len(seconds) > 10
                got = stats[(bucket, kind)]
                assert got.total == len(seconds)
                assert got.median == pytest.approx(metrics.percentile(seconds, 0.5), rel=1e-12, abs=1e-9)
                assert got.p90 == pytest.approx(metrics.percentile(seconds, 0.9), rel=1e-12, abs=1e-9)
                assert got.average == pytest.approx(sum(seconds) / len(seconds), rel=1e-12)
        assert_rollups_equal_clocks([user], [period])


def test_the_distribution_puts_values_on_an_edge_in_the_bar_that_starts_there(random_clocks, admin_user):
    seconds = [v for (_q, k), rows in random_clocks.items() if k == "first_response"
               for stopped, v in rows if WEEK.start <= stopped < WEEK.end]
    edges = [0, *rollups.HISTOGRAM_EDGES_S, float("inf")]
    expected = [sum(1 for v in seconds if low <= v < high) for low, high in itertools.pairwise(edges)]
    got = [bar["count"] for bar in first_response_histogram(Scope(fresh(admin_user)), WEEK)]
    assert got == expected


# --- the command, the schedule, admin, the demo -----------------------------------------------------------------------


@ON_THE_WEEK
def test_rebuild_rollups_prints_one_json_line(week, viewer):
    out = StringIO()
    call_command("rebuild_rollups", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert (result["facts"], result["zones"]) == (11, rollups.zones())
    assert result["rollup_rows"] == ClockDay.objects.count() + TicketDay.objects.count()
    assert ClockDay.objects.exists() and TicketDay.objects.exists()
    # The week's tickets: each created once; done ones once more; each assignment once (history).
    tickets = Ticket.objects.filter(pk__in=[t.pk for t in week["tickets"].values()])
    expected = tickets.count() + tickets.filter(status="done").count() + TicketEvent.objects.filter(
        kind="ticket.assigned", ticket__in=tickets).count()
    assert result["ticket_facts"] == TicketFact.objects.count() == expected
    assert rollups.zone_ready("Asia/Almaty")


@ON_THE_WEEK
def test_rebuild_rollups_refresh_applies_only_the_changes(week, viewer, time_machine, engineer):
    call_command("rebuild_rollups", stdout=StringIO())
    move(time_machine, 2026, 3, 9, 9, 0)
    services.ticket_change_status(week["tickets"]["T1"], status=Status.IN_PROGRESS, actor=engineer)
    move(time_machine, 2026, 3, 9, 9, 1)
    out = StringIO()
    call_command("rebuild_rollups", "--refresh", stdout=out)
    result = json.loads(out.getvalue())
    assert result["tickets"] == 1 and "facts" not in result
    assert_same_as_a_rebuild()


def test_the_refresh_is_scheduled_every_minute(db):
    from django_q.models import Schedule

    from opsdesk.schedules import register_schedules

    register_schedules()
    schedule = Schedule.objects.get(name="reports.rollups")
    assert (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        "reports.rollups.refresh_task", Schedule.MINUTES, 1, -1)


def test_the_task_entry_point_refreshes(db):
    from django_q.tasks import async_task

    async_task("reports.rollups.refresh_task")  # sync in tests
    assert RollupState.objects.get().refreshed_at is not None
    assert rollups.zone_ready(django_settings.TIME_ZONE)


@pytest.mark.parametrize("model", ["rollupstate", "rollupzone"])
def test_admins_see_the_rollup_state_and_zones_but_cannot_edit_them(client, admin_user, model):
    rollups.rebuild()
    client.force_login(admin_user)
    changelist = client.get(reverse(f"admin:reports_{model}_changelist"))
    assert changelist.status_code == 200
    obj = (RollupState if model == "rollupstate" else RollupZone).objects.get()
    assert client.get(reverse(f"admin:reports_{model}_add")).status_code == 403
    change_url = reverse(f"admin:reports_{model}_change", args=[obj.pk])
    page = client.get(change_url)
    assert page.status_code == 200 and b'type="submit"' not in page.content.split(b'id="content-main"')[-1]
    assert client.post(change_url, {}).status_code == 403
    assert client.get(reverse(f"admin:reports_{model}_delete", args=[obj.pk])).status_code == 403
    assert client.post(reverse(f"admin:reports_{model}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    assert (RollupState if model == "rollupstate" else RollupZone).objects.filter(pk=obj.pk).exists()


def test_seed_demo_builds_the_rollups(db, settings):
    call_command("seed_demo", tickets=40, seed=42, force=True, stdout=StringIO())
    assert rollups.zone_ready(settings.TIME_ZONE)
    assert set(RollupZone.objects.values_list("zone", flat=True)) == set(rollups.zones())
    assert ClockFact.objects.count() == SLAClock.objects.filter(
        kind__in=rollups.KINDS, state=SLAClock.State.STOPPED, counts_for_compliance=True).count() > 0
    assert RollupState.objects.get().synced_to is not None


# --- PostgreSQL ----------------------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_on_postgresql_percentiles_agree_with_percentile_cont(random_clocks, admin_user):
    with override_settings(REPORTS_USE_ROLLUPS=False):
        expected = clock_stats(Scope(fresh(admin_user)), WEEK)
    got = clock_stats(Scope(fresh(admin_user)), WEEK)
    assert_same({k: asdict(v) for k, v in sorted(got.items())}, {k: asdict(v) for k, v in sorted(expected.items())})
