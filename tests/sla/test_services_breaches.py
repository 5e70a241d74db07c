"""SLA breaches, replaying clocks from their events, the backfill of bulk-created tickets, clock events, the due
index."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from sla.breaches import clock_mark_breaches
from sla.lifecycle import backfill_clocks
from sla.models import SLAClock, SLAPolicy
from tests.factories import TicketFactory
from tests.sla.clock_helpers import FR, MIN, RES, H, assert_replays, clocks, create
from tickets import services
from tickets.models import Priority, Status, Ticket, TicketEvent

from .conftest import almaty

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
    # First response and resolution, and the deadline clock: the deadline in force now follows the resolution due.
    assert SLAClock.objects.filter(ticket=ticket, started_at=almaty(2026, 2, 16, 9, 0)).count() == 3
