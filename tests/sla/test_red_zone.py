"""The stored red-zone instant (``SLAClock.red_at``) against the rule the dashboard computed in Python before.

``old_clock_is_red`` below is the previous implementation (``reports.dashboard.now.clock_is_red`` and the
filter of ``red_zone_ticket_ids``), kept here as the oracle: for every sequence of clock operations and every
instant after the clock's last change, "``red_at <= now``" must say what it said.
"""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from sla import clocks
from sla.businesstime import WorkCalendar
from sla.calendars import calendar_recompute_due
from sla.models import Calendar, CalendarWindow, SLAClock, SLAPolicy
from sla.redzone import red_zone_from
from tests.factories import CustomerFactory
from tickets import services
from tickets.models import BlockingReason, Status

ALMATY = ZoneInfo("Asia/Almaty")
OFFICE = {
    "tz": "Asia/Almaty",
    "week": {day: [["09:00", "13:00"], ["14:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    | {"sat": [], "sun": []},
    "holidays": ["2026-03-09"],
    "overrides": {"2026-03-07": [["10:00", "12:00"]]},
}
WORK = WorkCalendar.from_spec(OFFICE)
START = datetime(2026, 3, 2, 8, 0, tzinfo=ALMATY)


def old_clock_is_red(clock, now: datetime) -> bool:
    """The rule as ``reports.dashboard.now`` computed it before ``red_at`` was stored (verbatim)."""
    if clock.state not in ("running", "paused") or not clock.counts_for_compliance or clock.policy_id is None:
        return False
    if clock.breached_at is not None:
        return True
    threshold = clock.target * 0.8
    if clock.consumed >= threshold:
        return True
    if clock.state != "running":
        return False
    if clock.due_at is not None and clock.due_at <= now:
        return True
    at80 = clock.calendar.work_calendar().add(clock.state_changed_at, threshold - clock.consumed)
    return at80 <= now


def stored_is_red(red_at, now: datetime) -> bool:
    return red_at is not None and red_at <= now


def _calendar(pk: int, work: WorkCalendar) -> Calendar:
    calendar = Calendar(pk=pk, name=f"c{pk}")
    calendar.work_calendar = lambda: work  # no database: the engine is given
    return calendar


OPS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "pause",
                "resume",
                "stop",
                "carry_over",
                "retroactive",
                "compliance_off",
                "compliance_on",
                "observe_breach",
            ]
        ),
        st.integers(min_value=0, max_value=60 * 24 * 4),  # minutes after the previous step
        st.integers(min_value=1, max_value=60 * 16),  # a new target (business minutes) for retargets
    ),
    max_size=8,
)


@settings(max_examples=250, deadline=None)
@given(
    target=st.integers(min_value=0, max_value=60 * 20),
    ops=OPS,
    probes=st.lists(st.integers(min_value=0, max_value=60 * 24 * 10), min_size=1, max_size=6),
    other_calendar=st.booleans(),
)
def test_the_stored_instant_says_what_the_old_computation_said_across_every_transition(
    target, ops, probes, other_calendar
):
    office = _calendar(1, WORK)
    around_the_clock = _calendar(2, WorkCalendar.always("Asia/Almaty"))
    policy = SLAPolicy(pk=1, name="p", precedence=1)
    clock = SLAClock(kind="resolution")
    events = clocks.op_start(clock, at=START, policy=policy, calendar=office, target=timedelta(minutes=target))
    at = START
    for op, minutes, new_target in ops:
        at += timedelta(minutes=minutes)
        if clock.state == "stopped":
            break
        if op == "pause":
            events += clocks.op_pause(clock, at=at, reason=None)
        elif op == "resume" and clock.state == "paused":
            events += clocks.op_resume(clock, at=at)
        elif op == "stop":
            events += clocks.op_stop(clock, at=at)
        elif op in ("carry_over", "retroactive"):
            calendar = around_the_clock if other_calendar else office
            segments = clocks.running_segments(events, at) if op == "retroactive" else []
            events += clocks.op_retarget(
                clock,
                at=at,
                policy=policy,
                calendar=calendar,
                target=timedelta(minutes=new_target),
                mode=op,
                segments=segments,
            )
        elif op.startswith("compliance"):
            events += clocks.op_compliance(clock, at=at, counts=op == "compliance_on")
        elif op == "observe_breach" and clock.state == "running" and clock.due_at < at and clock.breached_at is None:
            red_before = clocks.red_at(clock)
            clock.breached_at = clock.due_at  # what sla.breaches writes, leaving red_at as it is
            assert clocks.red_at(clock) is None or red_before is None or clocks.red_at(clock) <= red_before
    red_at = clocks.red_at(clock)
    assert red_at == red_zone_from(clock, clock.calendar.work_calendar())
    for minutes in probes:
        now = clock.state_changed_at + timedelta(minutes=minutes)
        assert stored_is_red(red_at, now) == old_clock_is_red(clock, now), (now, red_at)
        if clock.state == "running" and clock.breached_at is None and clock.due_at < now:
            # a breach observed later (sla.breaches writes breached_at only) keeps the answer
            clock.breached_at = clock.due_at
            assert stored_is_red(red_at, now) == old_clock_is_red(clock, now)
            clock.breached_at = None


def test_the_red_zone_starts_at_eighty_percent_in_business_time():
    office = _calendar(1, WORK)
    clock = SLAClock(kind="resolution")
    clocks.op_start(clock, at=START, policy=SLAPolicy(pk=1), calendar=office, target=timedelta(hours=10))
    assert clocks.red_at(clock) == datetime(2026, 3, 2, 18, 0, tzinfo=ALMATY)  # 8 business hours: Mon 9-13, 14-18
    clocks.op_pause(clock, at=datetime(2026, 3, 2, 12, 0, tzinfo=ALMATY), reason=None)
    assert clocks.red_at(clock) is None  # paused at 3 h of 10
    clocks.op_resume(clock, at=datetime(2026, 3, 4, 9, 0, tzinfo=ALMATY))
    assert clocks.red_at(clock) == datetime(2026, 3, 4, 15, 0, tzinfo=ALMATY)  # 5 h more: 9-13, 14-15
    clocks.op_stop(clock, at=datetime(2026, 3, 4, 16, 0, tzinfo=ALMATY))
    assert clocks.red_at(clock) is None


# --- stored through the services ----------------------------------------------------------------------------------


@pytest.fixture
def office(db) -> Calendar:
    calendar = Calendar.objects.create(name="Almaty office", time_zone="Asia/Almaty")
    CalendarWindow.objects.bulk_create(
        CalendarWindow(calendar=calendar, weekday=d, start=s, end=e)
        for d in range(5)
        for s, e in (("09:00", "13:00"), ("14:00", "18:00"))
    )
    calendar.save()
    return calendar


@pytest.fixture
def policy(office) -> SLAPolicy:
    return SLAPolicy.objects.create(
        name="Standard",
        precedence=1,
        calendar=office,
        first_response_target=timedelta(hours=2),
        resolution_target=timedelta(hours=10),
    )


def _clock(ticket, kind="resolution") -> SLAClock:
    return SLAClock.objects.select_related("calendar").get(ticket=ticket, kind=kind)


def _assert_stored_right(ticket) -> None:
    for clock in SLAClock.objects.select_related("calendar").filter(ticket=ticket):
        assert clock.red_at == red_zone_from(clock, clock.calendar.work_calendar()), clock.kind


def test_every_transition_stores_the_instant(time_machine, policy, queue, engineer, dispatcher):
    def at(*fields):
        time_machine.move_to(datetime(*fields, tzinfo=ALMATY), tick=False)

    at(2026, 3, 2, 9)
    ticket = services.ticket_create(
        actor=dispatcher,
        title="Printer jams",
        customer=CustomerFactory(),
        queue=queue,
        description="It jams.",
        performer=engineer,
    )
    _assert_stored_right(ticket)
    assert _clock(ticket, "first_response").red_at == datetime(2026, 3, 2, 10, 36, tzinfo=ALMATY)  # 80 % of 2 h
    assert _clock(ticket).red_at == datetime(2026, 3, 2, 18, 0, tzinfo=ALMATY)  # 8 of 10 h: Mon 9-13, 14-18
    at(2026, 3, 2, 9, 30)
    services.ticket_reply(ticket, body="On it.", actor=engineer)
    assert _clock(ticket, "first_response").red_at is None  # stopped
    at(2026, 3, 2, 12)
    services.ticket_change_status(
        ticket, status=Status.WAITING, actor=engineer, reason=BlockingReason.objects.get(code="customer")
    )
    assert _clock(ticket).state == "paused" and _clock(ticket).red_at is None
    at(2026, 3, 4, 9)
    services.ticket_receive_customer_message(ticket, body="Here you go", channel="email")
    _assert_stored_right(ticket)
    assert _clock(ticket).red_at == datetime(2026, 3, 4, 15, 0, tzinfo=ALMATY)

    # The calendar changes (Wednesday afternoon off): the 80 % instant moves with the due instant.
    office = policy.calendar
    CalendarWindow.objects.get(calendar=office, weekday=2, start="14:00").delete()  # a new calendar version
    office.refresh_from_db()
    assert calendar_recompute_due(office.pk) >= 1
    _assert_stored_right(ticket)
    assert _clock(ticket).red_at == datetime(2026, 3, 5, 10, 0, tzinfo=ALMATY)

    at(2026, 3, 5, 11)
    services.ticket_change_status(ticket, status=Status.DONE, actor=engineer)
    assert not SLAClock.objects.filter(ticket=ticket, red_at__isnull=False).exists()


def test_the_data_migration_fills_what_the_engine_stores(time_machine, policy, queue, engineer, dispatcher):
    from django.apps import apps

    time_machine.move_to(datetime(2026, 3, 2, 9, tzinfo=ALMATY), tick=False)
    tickets = [
        services.ticket_create(
            actor=dispatcher,
            title=f"t{n}",
            customer=CustomerFactory(),
            queue=queue,
            description="x",
            performer=engineer,
        )
        for n in range(3)
    ]
    time_machine.move_to(datetime(2026, 3, 2, 11, tzinfo=ALMATY), tick=False)
    services.ticket_change_status(
        tickets[1], status=Status.WAITING, actor=engineer, reason=BlockingReason.objects.get(code="customer")
    )
    SLAClock.objects.filter(pk=_clock(tickets[2]).pk).update(breached_at=datetime(2026, 3, 2, 10, tzinfo=ALMATY))
    stored = dict(SLAClock.objects.values_list("pk", "red_at"))
    stored[_clock(tickets[2]).pk] = datetime(2026, 3, 2, 9, tzinfo=ALMATY)  # breached: red since its last change
    assert sum(value is not None for value in stored.values()) == 5  # 3 FR running, RES running ×1 + breached
    SLAClock.objects.update(red_at=None)

    migration = importlib.import_module("sla.migrations.0008_fill_clock_red_at")

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    migration.fill(apps, editor)
    assert dict(SLAClock.objects.values_list("pk", "red_at")) == stored
