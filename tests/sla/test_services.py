"""SLA clocks through the ticket lifecycle: matching, starts, pauses, stops, retargets, breaches, replay."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection

from sla.breaches import clock_mark_breaches
from sla.calendars import calendar_generate_holidays, calendar_recompute_due
from sla.clocks import ClockState, replay
from sla.lifecycle import backfill_clocks, sla_rematch, sla_rematch_customer, start_clocks
from sla.models import CalendarHoliday, CalendarWindow, SLAClock, SLAClockEvent, SLAPolicy, calendar_changed
from sla.policies import policy_match
from tests.factories import CustomerFactory, TicketFactory, TicketTypeFactory, VipTierFactory
from tickets import services
from tickets.models import Priority, Status, Ticket, TicketEvent

from .conftest import almaty

H = timedelta(hours=1)
MIN = timedelta(minutes=1)
FR = SLAClock.Kind.FIRST_RESPONSE
RES = SLAClock.Kind.RESOLUTION
NR = SLAClock.Kind.NEXT_REPLY
DL = SLAClock.Kind.DEADLINE
RETROACTIVE = SLAPolicy.RetargetMode.RETROACTIVE
CARRY_OVER = SLAPolicy.RetargetMode.CARRY_OVER


def clocks(ticket) -> dict[str, SLAClock]:
    """The ticket's first-response and resolution clocks and its latest next-reply clock, fresh from the DB."""
    result = {}
    for clock in SLAClock.objects.filter(ticket=ticket).order_by("pk"):
        result[clock.kind] = clock
    return result


def create(*, actor, queue, ticket_type=None, **kwargs):
    return services.ticket_create(
        actor=actor, title="Printer jam", customer=kwargs.pop("customer", None) or CustomerFactory(), queue=queue,
        ticket_type=ticket_type, description="It jams.", **kwargs
    )


def assert_replays(ticket):
    for clock in SLAClock.objects.filter(ticket=ticket):
        assert replay(clock) == ClockState.of(clock), clock.kind


# --- matching -------------------------------------------------------------------------------------


def test_the_first_active_policy_by_precedence_whose_conditions_all_hold_applies(make_policy, queue, other_queue):
    simple = TicketTypeFactory(slug="simple-question")
    gold = VipTierFactory(name="Gold", rank=1)
    any_ticket = make_policy(name="Catch-all", precedence=900)
    by_type = make_policy(name="Simple", precedence=500, ticket_type=simple)
    by_type_and_queue = make_policy(name="Simple in Sales", precedence=400, ticket_type=simple, queue=other_queue)
    vip = make_policy(name="VIP", precedence=100, vip_tier=gold)
    make_policy(name="Inactive first", precedence=1, is_active=False)
    critical = make_policy(name="Critical", precedence=50, priority=Priority.CRITICAL)

    assert policy_match(TicketFactory(queue=queue, ticket_type=simple)) == by_type
    assert policy_match(TicketFactory(queue=other_queue, ticket_type=simple)) == by_type_and_queue
    assert policy_match(TicketFactory(queue=queue, ticket_type=None)) == any_ticket
    vip_ticket = TicketFactory(queue=queue, ticket_type=simple, customer=CustomerFactory(vip_tier=gold))
    assert policy_match(vip_ticket) == vip
    assert policy_match(TicketFactory(queue=queue, priority=Priority.CRITICAL, customer=vip_ticket.customer)) == (
        critical
    )


def test_a_ticket_that_matches_no_policy_has_no_clocks(make_policy, dispatcher, queue):
    make_policy(ticket_type=TicketTypeFactory(slug="other"))
    ticket = create(actor=dispatcher, queue=queue)
    assert not ticket.sla_clocks.exists()
    assert ticket.deadline is None
    assert list(ticket.events.values_list("kind", flat=True)) == ["ticket.created"]


# --- starting -------------------------------------------------------------------------------------


def test_clocks_start_when_the_ticket_is_created(make_policy, dispatcher, queue, at):
    policy = make_policy()
    at(2026, 2, 16, 9, 0)
    ticket = create(actor=dispatcher, queue=queue)
    c = clocks(ticket)
    assert set(c) == {FR, RES, DL}  # the deadline defaults to the resolution due: its deadline clock too
    for clock in c.values():
        assert clock.state == SLAClock.State.RUNNING and clock.policy == policy
        assert clock.started_at == clock.state_changed_at == almaty(2026, 2, 16, 9, 0)
        assert clock.consumed == timedelta(0) and clock.counts_for_compliance == (clock.kind != DL)
        assert list(clock.events.values_list("kind", flat=True)) == ["start"]
    assert c[FR].due_at == almaty(2026, 2, 16, 11, 0)
    # 24 business hours of 8 a day (lunch excluded): Mon, Tue, Wed -> Wednesday 18:00.
    assert c[RES].due_at == almaty(2026, 2, 18, 18, 0)


def test_friday_1730_with_two_hours_is_due_monday_1030_on_the_office_calendar(make_policy, dispatcher, queue, at):
    make_policy(first_response_target=2 * H)
    at(2026, 2, 13, 17, 30)
    ticket = create(actor=dispatcher, queue=queue)
    assert clocks(ticket)[FR].due_at == almaty(2026, 2, 16, 10, 30)


def test_friday_before_nauryz_is_due_after_the_holidays(make_policy, office, dispatcher, queue, at):
    office.holiday_country = "KZ"
    office.save()
    calendar_generate_holidays(office, years=[2026])
    assert office.holidays.filter(date=date(2026, 3, 23)).exists()
    make_policy(first_response_target=2 * H)
    at(2026, 3, 20, 17, 30)
    ticket = create(actor=dispatcher, queue=queue)
    # 30 min on Friday; Mon 23 (Nauryz) and the observed 24 and 25 are off: Thursday 26 at 10:30.
    assert clocks(ticket)[FR].due_at == almaty(2026, 3, 26, 10, 30)


def test_the_deadline_defaults_to_the_resolution_due_and_is_in_the_creation_history(
    make_policy, dispatcher, queue, at
):
    make_policy()
    at(2026, 2, 16, 9, 0)
    ticket = create(actor=dispatcher, queue=queue)
    ticket.refresh_from_db()
    assert ticket.deadline == almaty(2026, 2, 18, 18, 0) == clocks(ticket)[RES].due_at
    created = ticket.events.get(kind="ticket.created")
    assert created.data["deadline"] == ticket.deadline.isoformat() and created.data["deadline_source"] == "sla"


def test_a_deadline_set_by_the_dispatcher_is_kept(make_policy, dispatcher, queue, at):
    make_policy()
    at(2026, 2, 16, 9, 0)
    ticket = create(actor=dispatcher, queue=queue, deadline=almaty(2026, 2, 17, 12, 0))
    ticket.refresh_from_db()
    assert ticket.deadline == almaty(2026, 2, 17, 12, 0)
    assert "deadline_source" not in ticket.events.get(kind="ticket.created").data


def test_start_clocks_can_start_at_the_tickets_creation_and_is_idempotent(make_policy, queue):
    make_policy(first_response_target=2 * H)
    ticket = TicketFactory(queue=queue, created_at=almaty(2026, 2, 13, 17, 30))
    started = start_clocks(ticket)
    assert {c.kind for c in started} == {FR, RES}
    assert clocks(ticket)[FR].due_at == almaty(2026, 2, 16, 10, 30)
    assert start_clocks(ticket, at=almaty(2026, 3, 1, 9)) == started
    assert SLAClock.objects.filter(ticket=ticket).count() == 2


# --- first response ---------------------------------------------------------------------------------


def test_a_public_reply_stops_first_response_and_a_note_does_not(
    make_policy, dispatcher, engineer, queue, at
):
    make_policy()
    at(2026, 2, 16, 9, 0)
    ticket = create(actor=dispatcher, queue=queue, performer=engineer)
    at(2026, 2, 16, 9, 20)
    services.ticket_add_note(ticket, body="internal", actor=engineer)
    assert clocks(ticket)[FR].state == SLAClock.State.RUNNING
    at(2026, 2, 16, 9, 45)
    services.ticket_reply(ticket, body="Hello", actor=engineer)
    fr = clocks(ticket)[FR]
    assert fr.state == SLAClock.State.STOPPED and fr.stopped_at == almaty(2026, 2, 16, 9, 45)
    assert fr.consumed == 45 * MIN and fr.due_at is None and fr.breached_at is None
    assert fr.events.last().data["cause"] == "reply"
    assert clocks(ticket)[RES].state == SLAClock.State.RUNNING
    at(2026, 2, 16, 10, 0)
    services.ticket_reply(ticket, body="Again", actor=engineer)
    assert clocks(ticket)[FR].consumed == 45 * MIN
    assert_replays(ticket)


# --- pauses ---------------------------------------------------------------------------------------


def test_waiting_for_the_customer_pauses_resolution_and_a_customer_message_resumes_it(
    make_policy, dispatcher, engineer, queue, waiting_reason, at
):
    make_policy()
    at(2026, 2, 16, 9, 0)
    ticket = create(actor=dispatcher, queue=queue, performer=engineer)
    at(2026, 2, 16, 10, 0)
    services.ticket_reply(ticket, body="Which model?", actor=engineer)
    at(2026, 2, 16, 11, 0)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=waiting_reason)
    res = clocks(ticket)[RES]
    assert res.state == SLAClock.State.PAUSED and res.pause_reason == waiting_reason
    assert res.consumed == 2 * H and res.due_at is None
    at(2026, 2, 18, 15, 0)  # two days later
    services.ticket_receive_customer_message(ticket, body="Model X", channel="email")
    res = clocks(ticket)[RES]
    assert res.state == SLAClock.State.RUNNING and res.pause_reason is None
    assert res.consumed == 2 * H  # the pause cost nothing
    # 22 h left from Wed 15:00: Wed 3 h, Thu 8 h, Fri 8 h, Mon 09:00-12:00.
    assert res.due_at == almaty(2026, 2, 23, 12, 0)
    kinds = list(res.events.values_list("kind", flat=True))
    assert kinds == ["start", "pause", "resume"]
    assert res.events.get(kind="pause").data["reason"] == "customer"
    assert res.events.get(kind="resume").data["cause"] == "customer_message"
    assert_replays(ticket)


def test_a_reason_that_does_not_pause_keeps_resolution_running(make_policy, dispatcher, engineer, queue, no_stock, at):
    make_policy()
    at(2026, 2, 16, 9, 0)
    ticket = create(actor=dispatcher, queue=queue, performer=engineer)
    at(2026, 2, 16, 11, 0)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=no_stock)
    res = clocks(ticket)[RES]
    assert res.state == SLAClock.State.RUNNING and res.due_at == almaty(2026, 2, 18, 18, 0)
    assert list(res.events.values_list("kind", flat=True)) == ["start"]


def test_changing_the_reason_while_waiting_pauses_or_resumes(
    make_policy, dispatcher, engineer, queue, no_stock, waiting_reason, at
):
    make_policy()
    at(2026, 2, 16, 9, 0)
    ticket = create(actor=dispatcher, queue=queue, performer=engineer)
    at(2026, 2, 16, 10, 0)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=no_stock)
    at(2026, 2, 16, 11, 0)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=waiting_reason)
    assert clocks(ticket)[RES].state == SLAClock.State.PAUSED
    at(2026, 2, 16, 15, 0)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=no_stock)
    res = clocks(ticket)[RES]
    assert res.state == SLAClock.State.RUNNING and res.consumed == 2 * H
    assert_replays(ticket)


def test_returning_a_waiting_ticket_to_the_queue_resumes_resolution(
    make_policy, dispatcher, engineer, queue, waiting_reason, at
):
    make_policy()
    at(2026, 2, 16, 9, 0)
    ticket = create(actor=dispatcher, queue=queue, performer=engineer)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=waiting_reason)
    at(2026, 2, 16, 12, 0)
    services.ticket_unassign(ticket, actor=dispatcher, reason="sick")
    res = clocks(ticket)[RES]
    assert res.state == SLAClock.State.RUNNING and res.consumed == timedelta(0)


# --- done, cancel, reopen ----------------------------------------------------------------------------------


def test_done_stops_resolution_and_an_unanswered_first_response(make_policy, dispatcher, engineer, queue, at):
    make_policy(first_response_target=H)
    at(2026, 2, 16, 9, 0)
    ticket = create(actor=dispatcher, queue=queue, performer=engineer)
    at(2026, 2, 16, 11, 0)
    services.ticket_change_status(ticket, status=Status.DONE, actor=engineer)
    c = clocks(ticket)
    for clock in c.values():
        assert clock.state == SLAClock.State.STOPPED and clock.stopped_at == almaty(2026, 2, 16, 11, 0)
        assert clock.events.last().data["cause"] == "done"
    # Closed unanswered after its target: it stays breached (at the due instant).
    assert c[FR].breached_at == almaty(2026, 2, 16, 10, 0) and c[FR].consumed == 2 * H
    assert c[RES].breached_at is None and c[RES].consumed == 2 * H and c[RES].counts_for_compliance
    assert_replays(ticket)


def test_cancel_stops_every_clock_and_excludes_it_from_compliance(
    make_policy, dispatcher, engineer, queue, at
):
    make_policy(next_reply_target=H)
    at(2026, 2, 16, 9, 0)
    ticket = create(actor=dispatcher, queue=queue, performer=engineer)
    services.ticket_reply(ticket, body="Hi", actor=engineer)
    at(2026, 2, 16, 9, 30)
    services.ticket_receive_customer_message(ticket, body="More", channel="email")
    at(2026, 2, 16, 10, 0)
    services.ticket_change_status(ticket, status=Status.CANCELED, actor=engineer)
    all_clocks = list(SLAClock.objects.filter(ticket=ticket))
    assert len(all_clocks) == 4  # first response, resolution, next reply and the deadline clock
    for clock in all_clocks:
        assert clock.state == SLAClock.State.STOPPED and not clock.counts_for_compliance
    # Restored: counted again; resolution runs, the answered first response stays stopped.
    at(2026, 2, 16, 11, 0)
    services.ticket_change_status(ticket, status=Status.NEW, actor=dispatcher)
    c = clocks(ticket)
    assert c[RES].state == SLAClock.State.RUNNING and c[RES].counts_for_compliance and c[RES].consumed == H
    assert c[FR].state == SLAClock.State.STOPPED and c[FR].counts_for_compliance
    assert c[DL].state == SLAClock.State.RUNNING and not c[DL].counts_for_compliance  # never counted
    assert_replays(ticket)


def test_reopening_a_done_ticket_resumes_resolution_with_its_consumed_time(
    make_policy, dispatcher, engineer, queue, at
):
    make_policy()
    at(2026, 2, 16, 9, 0)
    ticket = create(actor=dispatcher, queue=queue, performer=engineer)
    services.ticket_reply(ticket, body="Fixed?", actor=engineer)
    at(2026, 2, 16, 10, 0)
    services.ticket_change_status(ticket, status=Status.DONE, actor=engineer)
    at(2026, 2, 17, 9, 0)
    services.ticket_change_status(ticket, status=Status.IN_PROGRESS, actor=engineer)
    c = clocks(ticket)
    assert c[RES].state == SLAClock.State.RUNNING and c[RES].consumed == H and c[RES].stopped_at is None
    assert c[RES].due_at == almaty(2026, 2, 19, 17, 0)  # 23 h from Tue 09:00: Tue 8, Wed 8, Thu 7 (lunch)
    assert c[FR].state == SLAClock.State.STOPPED
    assert_replays(ticket)


def test_a_customer_message_reopens_a_done_ticket_and_resumes_resolution(
    make_policy, dispatcher, engineer, queue, at
):
    make_policy()
    at(2026, 2, 16, 9, 0)
    ticket = create(actor=dispatcher, queue=queue, performer=engineer)
    services.ticket_reply(ticket, body="Done", actor=engineer)
    services.ticket_change_status(ticket, status=Status.DONE, actor=engineer)
    at(2026, 2, 16, 12, 0)
    services.ticket_receive_customer_message(ticket, body="Still broken", channel="email")
    assert clocks(ticket)[RES].state == SLAClock.State.RUNNING


# --- next reply -----------------------------------------------------------------------------------------------


def test_next_reply_runs_from_a_customer_message_after_the_first_answer_one_at_a_time(
    make_policy, dispatcher, engineer, queue, at
):
    make_policy(next_reply_target=H)
    at(2026, 2, 16, 9, 0)
    ticket = create(actor=dispatcher, queue=queue, performer=engineer)
    at(2026, 2, 16, 9, 10)
    services.ticket_receive_customer_message(ticket, body="Hello?", channel="email")
    assert not SLAClock.objects.filter(ticket=ticket, kind=NR).exists()  # first response covers it
    at(2026, 2, 16, 9, 30)
    services.ticket_reply(ticket, body="Hi", actor=engineer)
    at(2026, 2, 16, 10, 0)
    services.ticket_receive_customer_message(ticket, body="And?", channel="email")
    at(2026, 2, 16, 10, 20)
    services.ticket_receive_customer_message(ticket, body="Hello??", channel="email")
    running = SLAClock.objects.get(ticket=ticket, kind=NR)
    assert running.due_at == almaty(2026, 2, 16, 11, 0)  # the first unanswered message counts
    at(2026, 2, 16, 10, 40)
    services.ticket_reply(ticket, body="Working on it", actor=engineer)
    at(2026, 2, 16, 12, 0)
    services.ticket_receive_customer_message(ticket, body="Thanks, one more thing", channel="email")
    replies = list(SLAClock.objects.filter(ticket=ticket, kind=NR).order_by("pk"))
    assert [c.state for c in replies] == [SLAClock.State.STOPPED, SLAClock.State.RUNNING]
    assert replies[0].consumed == 40 * MIN and replies[1].due_at == almaty(2026, 2, 16, 13, 0)  # lunch starts
    assert_replays(ticket)


def test_no_next_reply_clock_without_a_next_reply_target(make_policy, dispatcher, engineer, queue, at):
    make_policy()
    at(2026, 2, 16, 9, 0)
    ticket = create(actor=dispatcher, queue=queue, performer=engineer)
    services.ticket_reply(ticket, body="Hi", actor=engineer)
    services.ticket_receive_customer_message(ticket, body="And?", channel="email")
    assert not SLAClock.objects.filter(ticket=ticket, kind=NR).exists()


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


# --- breaches -------------------------------------------------------------------------------------


def test_breached_at_is_the_due_instant_and_written_once(make_policy, dispatcher, engineer, queue, at):
    make_policy(first_response_target=2 * H)
    at(2026, 2, 16, 9, 0)
    ticket = create(actor=dispatcher, queue=queue, performer=engineer)
    assert clock_mark_breaches(almaty(2026, 2, 16, 11, 0)) == 0  # exactly at due: not yet
    assert clock_mark_breaches(almaty(2026, 2, 16, 11, 30)) == 1
    assert clock_mark_breaches(almaty(2026, 2, 16, 12, 0)) == 0
    at(2026, 2, 16, 12, 30)
    services.ticket_reply(ticket, body="Sorry", actor=engineer)
    fr = clocks(ticket)[FR]
    assert fr.breached_at == almaty(2026, 2, 16, 11, 0)
    assert fr.events.filter(kind="breach").count() == 1
    assert fr.consumed == timedelta(hours=3, minutes=30)
    assert_replays(ticket)


def test_a_breach_is_noted_at_the_stop_when_no_sweep_saw_it(make_policy, dispatcher, engineer, queue, at):
    make_policy(first_response_target=H)
    at(2026, 2, 16, 12, 30)
    ticket = create(actor=dispatcher, queue=queue, performer=engineer)
    at(2026, 2, 16, 15, 0)
    services.ticket_reply(ticket, body="Late", actor=engineer)
    fr = clocks(ticket)[FR]
    assert fr.breached_at == almaty(2026, 2, 16, 14, 30)  # 30 min before lunch, 30 min after
    assert list(fr.events.values_list("kind", flat=True)) == ["start", "breach", "stop"]


def test_a_clock_due_on_friday_evening_is_not_breached_over_the_weekend(make_policy, dispatcher, queue, at):
    make_policy(first_response_target=H)
    at(2026, 2, 13, 17, 0)
    ticket = create(actor=dispatcher, queue=queue)
    assert clock_mark_breaches(almaty(2026, 2, 14, 12, 0)) == 0
    assert clock_mark_breaches(almaty(2026, 2, 16, 9, 0)) == 0  # Monday's opening: no business time yet
    assert clock_mark_breaches(almaty(2026, 2, 16, 9, 1)) == 1
    assert clocks(ticket)[FR].breached_at == almaty(2026, 2, 13, 18, 0)


# --- replay ---------------------------------------------------------------------------------------


def test_replay_equals_the_stored_state_through_a_whole_lifecycle(
    make_policy, around_the_clock, dispatcher, engineer, queue, waiting_reason, no_stock, at
):
    make_policy(name="Standard", precedence=500, next_reply_target=H)
    make_policy(name="High", precedence=100, priority=Priority.HIGH, calendar=around_the_clock,
                resolution_target=10 * H, next_reply_target=30 * MIN, retarget_mode=SLAPolicy.RetargetMode.CARRY_OVER)
    at(2026, 2, 13, 16, 0)
    ticket = create(actor=dispatcher, queue=queue, performer=engineer)
    at(2026, 2, 13, 17, 45)
    services.ticket_reply(ticket, body="Looking", actor=engineer)
    at(2026, 2, 16, 9, 30)
    services.ticket_receive_customer_message(ticket, body="News?", channel="email")
    at(2026, 2, 16, 10, 0)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=waiting_reason)
    at(2026, 2, 16, 13, 0)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=no_stock)
    at(2026, 2, 16, 16, 0)
    services.ticket_update(ticket, actor=dispatcher, priority=Priority.HIGH)
    at(2026, 2, 17, 9, 0)
    clock_mark_breaches()
    services.ticket_change_status(ticket, status=Status.DONE, actor=engineer)
    at(2026, 2, 17, 10, 0)
    services.ticket_change_status(ticket, status=Status.IN_PROGRESS, actor=engineer)
    assert SLAClock.objects.filter(ticket=ticket).count() == 4  # with the deadline clock
    assert_replays(ticket)


# --- backfill -------------------------------------------------------------------------------------


def test_backfill_gives_bulk_created_tickets_clocks_from_their_timestamps(make_policy, queue, waiting_reason):
    make_policy(first_response_target=2 * H)
    created = almaty(2026, 2, 16, 9, 0)
    open_one = TicketFactory(queue=queue, created_at=created)
    replied_waiting = TicketFactory(
        queue=queue, created_at=created, first_public_reply_at=almaty(2026, 2, 16, 9, 30), status=Status.WAITING,
        blocking_reason=waiting_reason, status_changed_at=almaty(2026, 2, 16, 10, 0),
    )
    done = TicketFactory(queue=queue, created_at=created, status=Status.DONE, done_at=almaty(2026, 2, 16, 12, 0),
                         first_public_reply_at=almaty(2026, 2, 16, 9, 15))
    canceled = TicketFactory(queue=queue, created_at=created, status=Status.CANCELED,
                             canceled_at=almaty(2026, 2, 16, 10, 0))
    assert backfill_clocks(Ticket.objects.all(), now=almaty(2026, 2, 16, 12, 0)) == 4
    assert clocks(open_one)[FR].state == SLAClock.State.RUNNING
    assert clocks(open_one)[FR].breached_at == almaty(2026, 2, 16, 11, 0)  # marked by the backfill
    open_one.refresh_from_db()
    assert open_one.deadline == almaty(2026, 2, 18, 18, 0)
    assert open_one.events.filter(kind="ticket.deadline_defaulted").exists()
    c = clocks(replied_waiting)
    assert c[FR].consumed == 30 * MIN and c[RES].state == SLAClock.State.PAUSED and c[RES].consumed == H
    c = clocks(done)
    assert c[RES].state == SLAClock.State.STOPPED and c[RES].consumed == 3 * H and c[FR].consumed == 15 * MIN
    assert all(not clock.counts_for_compliance for clock in clocks(canceled).values())
    assert backfill_clocks(Ticket.objects.all()) == 0
    for ticket in (open_one, replied_waiting, done, canceled):
        assert_replays(ticket)


def test_clock_events_are_written_with_the_actor(make_policy, dispatcher, engineer, queue, waiting_reason, at):
    make_policy()
    at(2026, 2, 16, 9, 0)
    ticket = create(actor=dispatcher, queue=queue, performer=engineer)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=waiting_reason)
    assert clocks(ticket)[RES].events.get(kind="pause").actor == engineer
    assert clocks(ticket)[RES].events.get(kind="start").actor == dispatcher


@pytest.mark.skipif(connection.vendor != "sqlite", reason="checks the SQLite plan")
def test_the_due_index_covers_only_running_clocks(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'sla_clock_running_due'")
        (sql,) = cursor.fetchone()
    assert "WHERE" in sql and "running" in sql


def test_an_sla_change_event_is_a_ticket_history_row(make_policy, dispatcher, queue, at):
    at(2026, 2, 16, 9, 0)
    ticket = create(actor=dispatcher, queue=queue, priority=Priority.NORMAL)
    make_policy(priority=Priority.HIGH)
    services.ticket_update(ticket, actor=dispatcher, priority=Priority.HIGH)
    assert TicketEvent.objects.filter(ticket=ticket, kind="ticket.sla_changed").count() == 1
    assert SLAClock.objects.filter(ticket=ticket, started_at=almaty(2026, 2, 16, 9, 0)).count() == 2
