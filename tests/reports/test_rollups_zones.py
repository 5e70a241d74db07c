"""Report rollups in every zone and for every kind of viewer: each clock counts on its own local day, readers'
zones are built and dropped, and managers, dispatchers and observing engineers get the clocks' figures."""

from __future__ import annotations

from datetime import date

import pytest

from reports import rollups
from reports.dashboard.clocks import clock_stats
from reports.dashboard.scoping import Scope
from reports.dashboard.trends import daily_compliance
from reports.models import ClockDay, RollupZone
from reports.selectors import Period
from tests.factories import CustomerFactory
from tests.reports.conftest import ALMATY
from tests.reports.rollup_helpers import (
    KOLKATA,
    ON_THE_WEEK,
    PERIODS,
    WEEK,
    assert_rollups_equal_clocks,
    assert_same_as_a_rebuild,
    fresh,
    move,
    stopped_days,
    uses_rollups,
)
from tickets import services
from tickets.models import Status

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
