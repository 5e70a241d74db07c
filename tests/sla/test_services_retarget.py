"""SLA clocks when the rules change: retargets on a priority or tier change, rematching, calendar edits."""

from __future__ import annotations

from datetime import date, timedelta

from sla.calendars import calendar_recompute_due
from sla.lifecycle import sla_rematch, sla_rematch_customer
from sla.models import CalendarHoliday, CalendarWindow, SLAClock, SLAClockEvent, calendar_changed
from tests.factories import TicketTypeFactory, VipTierFactory
from tests.sla.clock_helpers import CARRY_OVER, FR, MIN, RES, RETROACTIVE, H, assert_replays, clocks, create
from tickets import services
from tickets.models import Priority, Status

from .conftest import almaty

# --- retargeting ----------------------------------------------------------------------------------


def _retarget_scenario(make_policy, around_the_clock, dispatcher, engineer, queue, waiting_reason, at, mode):
    """Created Mon 12:00 on the office calendar; paused 13:30–15:00; priority critical at 19:00."""
    make_policy(name="Standard", precedence=500)
    critical = make_policy(
        name="Critical", precedence=100, priority=Priority.CRITICAL, calendar=around_the_clock,
        first_response_target=15 * MIN, resolution_target=8 * H, retarget_mode=mode,
    )
    at(2026, 2, 16, 12, 0)
    ticket = create(actor=dispatcher, queue=queue, performer=engineer)
    at(2026, 2, 16, 13, 30)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=waiting_reason)
    at(2026, 2, 16, 15, 0)
    services.ticket_receive_customer_message(ticket, body="Here", channel="email")
    at(2026, 2, 16, 19, 0)
    services.ticket_update(ticket, actor=dispatcher, priority=Priority.CRITICAL)
    return ticket, critical


def test_retroactive_retarget_recounts_from_creation_through_the_new_calendar_keeping_pauses(
    make_policy, around_the_clock, dispatcher, engineer, queue, waiting_reason, at
):
    ticket, critical = _retarget_scenario(
        make_policy, around_the_clock, dispatcher, engineer, queue, waiting_reason, at, RETROACTIVE
    )
    res = clocks(ticket)[RES]
    # 24/7: 12:00–13:30 and 15:00–19:00 = 5.5 h; the 1.5 h pause is not counted.
    assert res.policy == critical and res.calendar == around_the_clock and res.target == 8 * H
    assert res.consumed == timedelta(hours=5, minutes=30)
    assert res.due_at == almaty(2026, 2, 16, 21, 30)
    event = res.events.get(kind="retarget")
    assert event.data["mode"] == "retroactive" and event.data["policy"] == critical.pk
    # First response (never answered) had already passed its 2 h under the old policy at 15:00; written once.
    fr = clocks(ticket)[FR]
    assert fr.breached_at == almaty(2026, 2, 16, 15, 0) and fr.events.filter(kind="breach").count() == 1
    assert fr.consumed == 7 * H and fr.target == 15 * MIN
    changed = ticket.events.get(kind="ticket.sla_changed")
    assert changed.data["to"] == {"id": critical.pk, "name": "Critical"} and changed.data["mode"] == "retroactive"
    assert changed.actor == dispatcher
    assert_replays(ticket)


def test_carry_over_retarget_keeps_the_consumed_business_time(
    make_policy, around_the_clock, dispatcher, engineer, queue, waiting_reason, at
):
    ticket, critical = _retarget_scenario(
        make_policy, around_the_clock, dispatcher, engineer, queue, waiting_reason, at, CARRY_OVER
    )
    res = clocks(ticket)[RES]
    # Office calendar until 19:00: 12:00–13:00 and 15:00–18:00 = 4 h, carried over; 4 h left on 24/7.
    assert res.policy == critical and res.consumed == 4 * H
    assert res.due_at == almaty(2026, 2, 16, 23, 0)
    assert res.events.get(kind="retarget").data["mode"] == "carry_over"
    assert_replays(ticket)


def test_a_priority_change_that_keeps_the_policy_changes_no_clock(make_policy, dispatcher, queue, at):
    make_policy()
    at(2026, 2, 16, 9, 0)
    ticket = create(actor=dispatcher, queue=queue)
    services.ticket_update(ticket, actor=dispatcher, priority=Priority.HIGH)
    assert not SLAClockEvent.objects.filter(clock__ticket=ticket, kind="retarget").exists()
    assert not ticket.events.filter(kind="ticket.sla_changed").exists()


def test_a_vip_tier_change_rematches_through_sla_rematch(make_policy, dispatcher, queue, at):
    make_policy(name="Standard", precedence=500)
    gold = VipTierFactory(name="Gold", rank=1)
    vip = make_policy(name="VIP Gold", precedence=10, vip_tier=gold, first_response_target=30 * MIN,
                      resolution_target=4 * H)
    at(2026, 2, 16, 9, 0)
    ticket = create(actor=dispatcher, queue=queue)
    at(2026, 2, 16, 9, 10)
    ticket.customer.vip_tier = gold
    ticket.customer.save()
    assert sla_rematch_customer(ticket.customer, actor=dispatcher) == 1
    c = clocks(ticket)
    assert c[FR].policy == vip and c[FR].due_at == almaty(2026, 2, 16, 9, 30)
    assert c[RES].due_at == almaty(2026, 2, 16, 13, 0)  # 4 h from 09:00 end exactly at the lunch break
    assert sla_rematch(ticket, actor=dispatcher) is False


def test_a_ticket_that_stops_matching_has_no_sla_and_gets_it_back(make_policy, dispatcher, queue, at):
    standard = TicketTypeFactory(slug="standard-request")
    other = TicketTypeFactory(slug="other")
    policy = make_policy(ticket_type=standard)
    at(2026, 2, 16, 9, 0)
    ticket = create(actor=dispatcher, queue=queue, ticket_type=standard)
    at(2026, 2, 16, 10, 0)
    services.ticket_update(ticket, actor=dispatcher, ticket_type=other)
    for clock in SLAClock.objects.filter(ticket=ticket):
        assert clock.policy is None and clock.state == SLAClock.State.STOPPED and not clock.counts_for_compliance
    assert ticket.events.filter(kind="ticket.sla_changed").last().data["to"] is None
    at(2026, 2, 16, 11, 0)
    services.ticket_update(ticket, actor=dispatcher, ticket_type=standard)
    res = clocks(ticket)[RES]
    assert res.policy == policy and res.state == SLAClock.State.RUNNING and res.counts_for_compliance
    assert res.consumed == H  # retroactive over the recorded segments: 09:00–10:00
    assert_replays(ticket)


def test_a_ticket_that_matches_for_the_first_time_gets_clocks_from_its_creation(make_policy, dispatcher, queue, at):
    standard = TicketTypeFactory(slug="standard-request")
    at(2026, 2, 16, 9, 0)
    ticket = create(actor=dispatcher, queue=queue)
    make_policy(ticket_type=standard)
    at(2026, 2, 16, 10, 0)
    services.ticket_update(ticket, actor=dispatcher, ticket_type=standard)
    c = clocks(ticket)
    assert c[FR].started_at == almaty(2026, 2, 16, 9, 0) and c[FR].due_at == almaty(2026, 2, 16, 11, 0)


# --- calendar edits ---------------------------------------------------------------------------------------------


def test_adding_a_holiday_recomputes_running_due_dates_in_the_task(
    make_policy, office, dispatcher, queue, at, django_capture_on_commit_callbacks
):
    make_policy(first_response_target=2 * H)
    at(2026, 2, 13, 17, 30)
    ticket = create(actor=dispatcher, queue=queue)
    stopped = create(actor=dispatcher, queue=queue)
    services.ticket_reply(stopped, body="Hi", actor=dispatcher)
    assert clocks(ticket)[FR].due_at == almaty(2026, 2, 16, 10, 30)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        CalendarHoliday.objects.create(calendar=office, date=date(2026, 2, 16), name="Extra day off")
    assert len(callbacks) == 1
    assert clocks(ticket)[FR].due_at == almaty(2026, 2, 17, 10, 30)
    assert clocks(stopped)[FR].due_at is None
    from django_q.models import Task

    assert Task.objects.filter(func="sla.tasks.recompute_calendar", success=True).exists()


def test_several_edits_in_one_transaction_enqueue_one_recompute(
    office, django_capture_on_commit_callbacks, monkeypatch
):
    calls = []
    monkeypatch.setattr("sla.tasks.recompute_calendar", lambda calendar_id: calls.append(calendar_id))
    with django_capture_on_commit_callbacks(execute=True):
        CalendarWindow.objects.create(calendar=office, weekday=5, start="10:00", end="14:00")
        CalendarHoliday.objects.create(calendar=office, date=date(2026, 2, 16))
        office.save()
    assert calls == [office.pk]


def test_the_recompute_leaves_paused_clocks_alone_and_works_in_batches(
    make_policy, office, dispatcher, engineer, queue, waiting_reason, at
):
    make_policy(first_response_target=2 * H)
    at(2026, 2, 13, 17, 30)
    tickets = [create(actor=dispatcher, queue=queue, performer=engineer) for _ in range(5)]
    services.ticket_change_status(tickets[0], status=Status.WAITING, actor=engineer, reason=waiting_reason)
    CalendarHoliday.objects.bulk_create([CalendarHoliday(calendar=office, date=date(2026, 2, 16))])
    office.refresh_from_db()
    calendar_changed(office.pk)
    assert calendar_recompute_due(office.pk, batch_size=2) == 15 - 2  # 5 FR + 4 running RES + 4 running DL
    assert clocks(tickets[0])[RES].due_at is None
    assert all(clocks(t)[FR].due_at == almaty(2026, 2, 17, 10, 30) for t in tickets)
