"""Each person's stored open-ticket count (``tickets.workload``) follows every way a ticket moves."""

from __future__ import annotations

import logging

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsdesk.schedules import SCHEDULES
from tests.factories import CustomerFactory, MembershipFactory, TicketFactory, TicketTypeFactory, UserFactory
from tickets import approval, merge, services, workload
from tickets.errors import TicketError
from tickets.models import BlockingReason, Status, Ticket, Workload


def stored(*users) -> list[int]:
    counts = dict(Workload.objects.values_list("user_id", "open_tickets"))
    return [counts.get(user.pk, 0) for user in users]


def agrees() -> bool:
    """The stored counts are the counted ones (a person without a row counts zero)."""
    real = workload.real_counts()
    kept = {user_id: n for user_id, n in Workload.objects.values_list("user_id", "open_tickets") if n}
    return kept == real


@pytest.fixture
def second(queue):
    user = UserFactory(username="second", role="engineer")
    MembershipFactory(queue=queue, user=user)
    return user


def _new(dispatcher, queue, **extra):
    return services.ticket_create(actor=dispatcher, title="VPN", customer=CustomerFactory(), queue=queue, **extra)


def test_assigning_reassigning_and_returning_to_the_queue_move_the_count(dispatcher, queue, engineer, second):
    ticket = _new(dispatcher, queue)
    assert stored(engineer, second) == [0, 0]
    services.ticket_assign(ticket, performer=engineer, actor=dispatcher)
    assert stored(engineer, second) == [1, 0]
    services.ticket_assign(ticket, performer=second, actor=dispatcher)
    assert stored(engineer, second) == [0, 1]
    services.ticket_unassign(ticket, actor=dispatcher)
    assert stored(engineer, second) == [0, 0]
    services.ticket_assign(ticket, performer=engineer, actor=dispatcher)
    services.ticket_change_status(ticket, status=Status.NEW, actor=engineer, comment="Not mine")
    assert stored(engineer) == [0] and Ticket.objects.get(pk=ticket.pk).performer is None
    assert agrees()


def test_a_ticket_created_with_its_performer_counts_for_them(dispatcher, queue, engineer):
    _new(dispatcher, queue, performer=engineer)
    _new(dispatcher, queue, performer=engineer)
    assert stored(engineer) == [2]


def test_closing_cancelling_and_reopening_move_the_count(dispatcher, queue, engineer):
    ticket = _new(dispatcher, queue, performer=engineer)
    services.ticket_change_status(ticket, status=Status.DONE, actor=engineer)
    assert stored(engineer) == [0]
    services.ticket_receive_customer_message(ticket, body="Still broken", channel="email")  # a done ticket reopens
    assert Ticket.objects.get(pk=ticket.pk).status == Status.IN_PROGRESS and stored(engineer) == [1]
    services.ticket_change_status(ticket, status=Status.CANCELED, actor=engineer)
    assert stored(engineer) == [0]
    # Back to the queue from canceled: the performer lets go of a ticket that did not count for them.
    services.ticket_change_status(ticket, status=Status.NEW, actor=dispatcher)
    assert stored(engineer) == [0] and agrees()


def test_waiting_and_coming_back_leave_the_count_alone(dispatcher, queue, engineer):
    ticket = _new(dispatcher, queue, performer=engineer)
    reason = BlockingReason.objects.get(code="customer")
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=reason)
    services.ticket_receive_customer_message(ticket, body="Here it is", channel="email")
    assert Ticket.objects.get(pk=ticket.pk).status == Status.IN_PROGRESS and stored(engineer) == [1]


def test_approval_that_closes_takes_the_ticket_off_the_count(dispatcher, queue, engineer, manager):
    kind = TicketTypeFactory(approval_closes=True)
    ticket = _new(dispatcher, queue, performer=engineer, ticket_type=kind, approver=manager)
    approval.ticket_send_to_approval(ticket, actor=engineer)
    assert stored(engineer) == [1]
    approval.ticket_approve(ticket, actor=manager, close=True)
    assert Ticket.objects.get(pk=ticket.pk).status == Status.DONE and stored(engineer) == [0]


def test_a_merged_duplicate_stops_counting(dispatcher, queue, engineer, second):
    customer = CustomerFactory()
    original = services.ticket_create(actor=dispatcher, title="A", customer=customer, queue=queue, performer=engineer)
    duplicate = services.ticket_create(actor=dispatcher, title="B", customer=customer, queue=queue, performer=second)
    merge.ticket_merge(duplicate, into=original, actor=dispatcher)
    assert stored(engineer, second) == [1, 0] and agrees()


def test_a_refused_change_moves_nothing(dispatcher, queue, engineer):
    ticket = _new(dispatcher, queue, performer=engineer)
    services.ticket_change_status(ticket, status=Status.DONE, actor=engineer)
    with pytest.raises(TicketError):
        services.ticket_assign(ticket, performer=engineer, actor=dispatcher)
    with pytest.raises(TicketError):
        services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer)
    assert stored(engineer) == [0] and agrees()


def test_a_moved_ticket_costs_one_statement(dispatcher, queue, engineer, second):
    ticket = _new(dispatcher, queue, performer=engineer)
    services.ticket_change_status(ticket, status=Status.IN_PROGRESS, actor=engineer)
    with CaptureQueriesContext(connection) as reassigning:
        workload.moved(engineer.pk, second.pk)
    assert len(reassigning) == 1 and stored(engineer, second) == [0, 1]
    with CaptureQueriesContext(connection) as nothing:
        workload.moved(engineer.pk, engineer.pk)
    assert len(nothing) == 0


def test_moves_made_in_a_deferred_block_are_written_once_when_it_ends(engineer, second):
    with CaptureQueriesContext(connection) as queries:
        with workload.deferred() as moves:
            workload.moved(None, engineer.pk)
            workload.moved(None, second.pk)
            workload.moved(second.pk, engineer.pk)
            assert len(moves) == 4 and len(queries) == 0  # nothing written yet
        assert len(queries) == 1
    assert stored(engineer, second) == [2, 0]


def test_a_deferred_block_that_fails_writes_nothing(engineer):
    with pytest.raises(RuntimeError), workload.deferred():
        workload.moved(None, engineer.pk)
        raise RuntimeError("the burst failed")
    assert stored(engineer) == [0]


_OPS = st.sampled_from(["create", "assign", "unassign", "done", "cancel", "reopen", "requeue", "write", "merge"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(_OPS, st.integers(0, 2), st.integers(0, 5)), min_size=1, max_size=25))
def test_the_stored_counts_always_equal_the_counted_ones(dispatcher, queue, engineer, second, steps):
    people = [engineer, second, dispatcher]
    customer = CustomerFactory()
    tickets: list[Ticket] = []
    for op, person, index in steps:
        who = people[person]
        ticket = Ticket.objects.get(pk=tickets[index % len(tickets)].pk) if tickets else None
        try:
            if op == "create" or ticket is None:
                performer = who if person < 2 else None
                tickets.append(
                    services.ticket_create(
                        actor=dispatcher, title="T", customer=customer, queue=queue, performer=performer
                    )
                )
            elif op == "assign":
                services.ticket_assign(ticket, performer=who, actor=dispatcher)
            elif op == "unassign":
                services.ticket_unassign(ticket, actor=dispatcher)
            elif op in ("done", "cancel", "reopen", "requeue"):
                status = {
                    "done": Status.DONE,
                    "cancel": Status.CANCELED,
                    "reopen": Status.IN_PROGRESS,
                    "requeue": Status.NEW,
                }[op]
                services.ticket_change_status(ticket, status=status, actor=dispatcher)
            elif op == "write":
                services.ticket_receive_customer_message(ticket, body="More", channel="email")
            elif op == "merge" and len(tickets) > 1:
                into = Ticket.objects.get(pk=tickets[(index + 1) % len(tickets)].pk)
                merge.ticket_merge(ticket, into=into, actor=dispatcher)
        except TicketError:
            pass  # refused: changed nothing
        assert agrees(), (op, person, index)


def test_recount_corrects_a_count_that_drifted_and_says_so(engineer, second, queue, caplog):
    TicketFactory(queue=queue, performer=engineer, status=Status.IN_PROGRESS)
    TicketFactory(queue=queue, performer=engineer, status=Status.DONE)
    Ticket.objects.bulk_create(
        [Ticket(title="By hand", customer=CustomerFactory(), queue=queue, performer=second, status=Status.ASSIGNED)]
    )  # written past the services: no count
    Workload.objects.filter(user=engineer).update(open_tickets=7)
    assert not agrees()

    with caplog.at_level(logging.WARNING, logger="tickets.workload"):
        drifts = workload.recount()

    assert {(d.user_id, d.stored, d.real) for d in drifts} == {(engineer.pk, 7, 1), (second.pk, 0, 1)}
    assert agrees() and stored(engineer, second) == [1, 1]
    assert f"user {engineer.pk} corrected: 7 stored, 1 open" in caplog.text
    assert workload.recount() == []  # nothing left to correct


def test_the_recount_command_reports_what_it_corrected(engineer, queue, capsys):
    TicketFactory(queue=queue, performer=engineer, status=Status.IN_PROGRESS)
    call_command("recount_workload")
    assert "All open-ticket counts agree" in capsys.readouterr().out
    Workload.objects.filter(user=engineer).update(open_tickets=0)
    call_command("recount_workload")
    out = capsys.readouterr().out
    assert "engineer: 0 stored, 1 open" in out and "Corrected 1" in out
    assert stored(engineer) == [1]


def test_the_recount_runs_every_night():
    (spec,) = [spec for spec in SCHEDULES if spec["name"] == "tickets.recount_workload"]
    assert spec["func"] == "tickets.workload.recount_task" and spec["schedule_type"] == "D"


def test_a_routing_time_goes_in_the_same_statement_as_the_move_and_the_latest_wins(engineer, second):
    from datetime import timedelta

    from django.utils import timezone

    earlier = timezone.now() - timedelta(hours=1)
    later = earlier + timedelta(minutes=30)
    with CaptureQueriesContext(connection) as queries, workload.deferred():
        workload.moved(None, engineer.pk)
        workload.routed(engineer.pk, later)
        workload.routed(engineer.pk, earlier)
        workload.routed(second.pk, earlier)  # a time alone creates the row, with nothing open
    assert len(queries) == 1
    assert stored(engineer, second) == [1, 0]
    times = dict(Workload.objects.values_list("user_id", "last_assigned_at"))
    assert times[engineer.pk] == later and times[second.pk] == earlier
    workload.moved(engineer.pk, None)  # a move without a time keeps the time
    assert Workload.objects.get(user=engineer).last_assigned_at == later and stored(engineer) == [0]
