"""Shared by the rollup tests (tests/reports/test_rollups*.py): every clock figure of the dashboard read from the
rollups and from the clocks, compared; the rollup rows, compared with a rebuild; moving the frozen clock."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.test.utils import override_settings

from reports import clockfigures, rollups
from reports.dashboard.breakdowns import DIMENSIONS, breakdown
from reports.dashboard.clocks import clock_stats
from reports.dashboard.common import previous
from reports.dashboard.period import period_figures
from reports.dashboard.scoping import Scope
from reports.dashboard.trends import daily_compliance, first_response_histogram
from reports.dashboard.workload import workload
from reports.models import ClockDay, ClockFact, RollupZone, TicketDay, TicketFact
from reports.selectors import Period
from sla.models import SLAClock
from tests.reports.conftest import ALMATY, almaty

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
