"""Report rollups keep percentiles exact whatever the bins, and put values on an edge in the right bar; on
PostgreSQL they agree with ``percentile_cont``."""

from __future__ import annotations

import itertools
import random
from dataclasses import asdict
from datetime import datetime, timedelta

import pytest
from django.test.utils import override_settings

from reports import metrics, rollups
from reports.dashboard.clocks import clock_stats
from reports.dashboard.common import previous
from reports.dashboard.scoping import Scope
from reports.dashboard.trends import first_response_histogram
from sla.models import Calendar, CalendarWindow, SLAPolicy
from tests.factories import CustomerFactory
from tests.reports.conftest import almaty
from tests.reports.rollup_helpers import (
    WEEK,
    assert_rollups_equal_clocks,
    assert_same,
    fresh,
    uses_rollups,
)
from tickets import services
from tickets.models import Status

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


# --- PostgreSQL ----------------------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_on_postgresql_percentiles_agree_with_percentile_cont(random_clocks, admin_user):
    with override_settings(REPORTS_USE_ROLLUPS=False):
        expected = clock_stats(Scope(fresh(admin_user)), WEEK)
    got = clock_stats(Scope(fresh(admin_user)), WEEK)
    assert_same({k: asdict(v) for k, v in sorted(got.items())}, {k: asdict(v) for k, v in sorted(expected.items())})
