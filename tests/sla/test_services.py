"""SLA clocks through the ticket lifecycle: matching, starts, first response, pauses, stops and reopening, next reply.

Retargets and calendar edits: test_services_retarget.py; breaches, replay and backfill: test_services_breaches.py.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from sla.calendars import calendar_generate_holidays
from sla.clocks import store_next_due
from sla.lifecycle import start_clocks
from sla.models import SLAClock
from sla.policies import policy_match
from tests.factories import CustomerFactory, TicketFactory, TicketTypeFactory, VipTierFactory
from tests.sla.clock_helpers import DL, FR, MIN, NR, RES, H, assert_replays, clocks, create
from tickets import services
from tickets.models import Priority, Status, Ticket

from .conftest import almaty

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


def test_a_new_ticket_is_written_once_with_its_default_deadline_and_earliest_due(make_policy, dispatcher, queue, at):
    make_policy()
    at(2026, 2, 16, 9, 0)
    with CaptureQueriesContext(connection) as queries:
        ticket = create(actor=dispatcher, queue=queue)
    written = [q["sql"] for q in queries.captured_queries if '"tickets_ticket"' in q["sql"]]
    assert len(written) == 1 and written[0].startswith('INSERT INTO "tickets_ticket"')  # no update after it
    ticket.refresh_from_db()
    c = clocks(ticket)
    assert ticket.deadline == c[RES].due_at and not ticket.deadline_set_by_person
    assert ticket.sla_next_due == c[FR].due_at == almaty(2026, 2, 16, 11, 0)
    store_next_due([ticket.pk])  # what the column's owner computes from the stored clocks
    assert Ticket.objects.get(pk=ticket.pk).sla_next_due == ticket.sla_next_due
    assert c[DL].due_at == ticket.deadline and c[DL].events.get().data["cause"] == "sla_default"


def test_a_ticket_without_an_sla_is_written_without_a_deadline_or_a_due(dispatcher, queue):
    ticket = create(actor=dispatcher, queue=queue)
    ticket.refresh_from_db()
    assert (ticket.deadline, ticket.sla_next_due) == (None, None) and not ticket.sla_clocks.exists()


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


def test_a_customer_message_that_starts_no_clock_locks_none(make_policy, dispatcher, engineer, queue, at):
    make_policy(next_reply_target=H)
    at(2026, 2, 16, 9, 0)
    ticket = create(actor=dispatcher, queue=queue, performer=engineer)
    for _ in range(2):  # first response still owed; then, after the reply, a next reply already running
        with CaptureQueriesContext(connection) as queries:
            services.ticket_receive_customer_message(ticket, body="Hello?", channel="email")
        clock_reads = [q["sql"] for q in queries.captured_queries if 'FROM "sla_slaclock"' in q["sql"]]
        assert len(clock_reads) == 1 and "FOR UPDATE" not in clock_reads[0]
        if not SLAClock.objects.filter(ticket=ticket, kind=NR).exists():
            services.ticket_reply(ticket, body="Hi", actor=engineer)
            services.ticket_receive_customer_message(ticket, body="And?", channel="email")  # starts the next reply
    assert SLAClock.objects.filter(ticket=ticket, kind=NR).count() == 1


def test_no_next_reply_clock_without_a_next_reply_target(make_policy, dispatcher, engineer, queue, at):
    make_policy()
    at(2026, 2, 16, 9, 0)
    ticket = create(actor=dispatcher, queue=queue, performer=engineer)
    services.ticket_reply(ticket, body="Hi", actor=engineer)
    services.ticket_receive_customer_message(ticket, body="And?", channel="email")
    assert not SLAClock.objects.filter(ticket=ticket, kind=NR).exists()
