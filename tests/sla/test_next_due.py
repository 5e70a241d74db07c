"""The stored next SLA due (``Ticket.sla_next_due``): the earliest due instant of the ticket's running SLA clocks
(first response, resolution, next reply), kept by ``sla.clocks`` through every clock change and calendar
re-projection, never written back by a ticket's own save; the queue order sorts on it (``routing.queue_order``)."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from routing.queue_order import in_queue_order, waiting
from sla.calendars import calendar_recompute_due
from sla.lifecycle import backfill_clocks
from sla.models import CalendarWindow, SLAClock
from tests.factories import TicketFactory
from tests.sla.clock_helpers import MIN, H, create
from tickets import services
from tickets.models import Priority, Status, Ticket

from .conftest import almaty


def _expected(ticket) -> object:
    running = SLAClock.objects.filter(ticket=ticket, state=SLAClock.State.RUNNING, kind__in=SLAClock.SLA_KINDS)
    return min((clock.due_at for clock in running), default=None)


def _stored(ticket) -> object:
    return Ticket.objects.values_list("sla_next_due", flat=True).get(pk=ticket.pk)


def _assert_right(ticket) -> None:
    assert _stored(ticket) == _expected(ticket)


def test_every_clock_transition_keeps_the_next_due(
    make_policy, around_the_clock, dispatcher, engineer, queue, waiting_reason, at
):
    make_policy(name="Standard", precedence=500, first_response_target=2 * H, resolution_target=10 * H)
    make_policy(
        name="Critical",
        precedence=100,
        priority=Priority.CRITICAL,
        calendar=around_the_clock,
        first_response_target=15 * MIN,
        resolution_target=8 * H,
    )
    at(2026, 3, 2, 9)
    ticket = create(actor=dispatcher, queue=queue, performer=engineer)
    assert _stored(ticket) == almaty(2026, 3, 2, 11)  # first response: 2 h of Mon 9-13
    _assert_right(ticket)

    at(2026, 3, 2, 9, 30)
    services.ticket_reply(ticket, body="On it.", actor=engineer)  # first response stops: resolution is next
    assert _stored(ticket) == almaty(2026, 3, 3, 11)  # 10 h from Mon 9:00: Mon 9-13, 14-18, Tue 9-11
    _assert_right(ticket)

    at(2026, 3, 2, 12)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=waiting_reason)
    assert _stored(ticket) is None  # the resolution clock pauses: nothing runs
    _assert_right(ticket)

    at(2026, 3, 4, 9)
    services.ticket_receive_customer_message(ticket, body="Here you go", channel="email")  # resumes; next reply
    assert _stored(ticket) is not None
    _assert_right(ticket)

    at(2026, 3, 4, 10)
    services.ticket_move_deadline(
        ticket,
        deadline=almaty(2026, 3, 4, 11),
        actor=dispatcher,
        cause="override",
        history={"reason": "The customer asked"},
    )
    _assert_right(ticket)  # the deadline clock is no SLA clock: it never counts

    at(2026, 3, 4, 11)
    services.ticket_update(ticket, actor=dispatcher, priority=Priority.CRITICAL)  # retarget onto another policy
    assert SLAClock.objects.filter(ticket=ticket, policy__name="Critical").exists()
    _assert_right(ticket)

    at(2026, 3, 4, 11, 30)
    services.ticket_reply(ticket, body="Done soon.", actor=engineer)  # stops the next reply clock
    _assert_right(ticket)

    at(2026, 3, 4, 12)
    services.ticket_change_status(ticket, status=Status.DONE, actor=engineer)
    assert _stored(ticket) is None
    _assert_right(ticket)


def test_a_calendar_edit_moves_the_next_due(make_policy, dispatcher, engineer, queue, at):
    policy = make_policy(first_response_target=2 * H, resolution_target=10 * H)
    at(2026, 3, 2, 9)
    ticket = create(actor=dispatcher, queue=queue, performer=engineer)
    at(2026, 3, 2, 9, 30)
    services.ticket_reply(ticket, body="On it.", actor=engineer)
    assert _stored(ticket) == almaty(2026, 3, 3, 11)
    office = policy.calendar
    CalendarWindow.objects.get(calendar=office, weekday=0, start="14:00").delete()  # a new calendar version
    office.refresh_from_db()
    assert calendar_recompute_due(office.pk) >= 1
    assert _stored(ticket) == almaty(2026, 3, 3, 16)  # Monday afternoon off: Mon 9-13, Tue 9-13, 14-16
    _assert_right(ticket)


def test_a_full_ticket_save_leaves_the_next_due_alone(make_policy, dispatcher, engineer, queue, at):
    make_policy()
    at(2026, 3, 2, 9)
    ticket = create(actor=dispatcher, queue=queue, performer=engineer)
    stale = Ticket.objects.get(pk=ticket.pk)
    Ticket.objects.filter(pk=ticket.pk).update(sla_next_due=almaty(2026, 3, 2, 11))  # as the SLA writes it
    stale.title = "Printer jams again"
    stale.save()  # an instance read before: its older value is not written back
    assert _stored(ticket) == almaty(2026, 3, 2, 11)
    assert Ticket.objects.get(pk=ticket.pk).title == "Printer jams again"
    deferred = Ticket.objects.only("pk", "title").get(pk=ticket.pk)
    deferred.title = "Deferred"
    deferred.save()
    assert _stored(ticket) == almaty(2026, 3, 2, 11)


def test_the_backfill_stores_the_next_due(make_policy, queue):
    make_policy(first_response_target=2 * H)
    created = almaty(2026, 2, 16, 9, 0)
    open_one = TicketFactory(queue=queue, created_at=created)
    done = TicketFactory(
        queue=queue,
        created_at=created,
        status=Status.DONE,
        done_at=almaty(2026, 2, 16, 12, 0),
        first_public_reply_at=almaty(2026, 2, 16, 9, 15),
    )
    assert backfill_clocks(Ticket.objects.all(), now=almaty(2026, 2, 16, 10, 0)) == 2
    assert _stored(open_one) == almaty(2026, 2, 16, 11, 0)
    assert _stored(done) is None
    _assert_right(open_one)


def test_the_data_migration_fills_what_the_engine_stores(make_policy, dispatcher, engineer, queue, waiting_reason, at):
    from django.apps import apps

    make_policy()
    at(2026, 3, 2, 9)
    tickets = [create(actor=dispatcher, queue=queue, performer=engineer) for _ in range(3)]
    at(2026, 3, 2, 10)
    services.ticket_change_status(tickets[1], status=Status.WAITING, actor=engineer, reason=waiting_reason)
    services.ticket_reply(tickets[2], body="On it.", actor=engineer)
    stored = dict(Ticket.objects.values_list("pk", "sla_next_due"))
    assert len(set(stored.values())) == 2  # the first two share the first response's due; the third its resolution
    Ticket.objects.update(sla_next_due=None)

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    importlib.import_module("sla.migrations.0011_fill_ticket_sla_next_due").fill(apps, editor)
    assert dict(Ticket.objects.values_list("pk", "sla_next_due")) == stored


def test_the_queue_order_follows_the_earliest_running_due(make_policy, dispatcher, queue, at):
    make_policy(first_response_target=2 * H, resolution_target=10 * H)
    at(2026, 3, 2, 9)
    first = create(actor=dispatcher, queue=queue)
    at(2026, 3, 2, 9, 30)
    second = create(actor=dispatcher, queue=queue)
    assert list(in_queue_order(waiting(Ticket.objects.filter(queue=queue)))) == [first, second]
    SLAClock.objects.filter(ticket=first).update(state=SLAClock.State.PAUSED, due_at=None)  # by hand: stored below
    from sla.clocks import store_next_due

    store_next_due([first.pk])
    assert _stored(first) is None
    assert list(in_queue_order(waiting(Ticket.objects.filter(queue=queue)))) == [second, first]  # none: last
    assert _stored(second) == almaty(2026, 3, 2, 9, 30) + timedelta(hours=2)


def test_one_ticket_and_a_batch_store_the_same_next_due(make_policy, dispatcher, queue, at):
    """One ticket (a reply, a status change, a new ticket) takes the statement compiled once per process; several
    take the ORM's batches. Both write the same value, and the one-ticket path touches only its ticket."""
    from sla.clocks import _STORE_NEXT_DUE, store_next_due

    make_policy(first_response_target=2 * H, resolution_target=10 * H)
    at(2026, 3, 2, 9)
    first, second = create(actor=dispatcher, queue=queue), create(actor=dispatcher, queue=queue)
    batch = {first.pk: _stored(first), second.pk: _stored(second)}
    Ticket.objects.update(sla_next_due=None)
    with CaptureQueriesContext(connection) as one:
        store_next_due([first.pk])
    assert len(one) == 1 and "UPDATE" in one[0]["sql"]
    assert (_stored(first), _stored(second)) == (batch[first.pk], None)
    compiled = dict(_STORE_NEXT_DUE._compiled)
    assert connection.alias in compiled
    store_next_due([second.pk])
    assert _STORE_NEXT_DUE._compiled == compiled  # not compiled again
    assert {first.pk: _stored(first), second.pk: _stored(second)} == batch
    store_next_due([first.pk, second.pk])
    assert {first.pk: _stored(first), second.pk: _stored(second)} == batch


def test_a_precompiled_update_refuses_a_placeholder_it_cannot_place():
    from core.rowcache import PrecompiledUpdate

    twice = PrecompiledUpdate(
        lambda pk: Ticket.objects.filter(pk=pk, customer_id=pk), lambda: {"sla_next_due": None}, -7_100_000_002
    )
    with pytest.raises(ValueError):
        twice.run(1)
