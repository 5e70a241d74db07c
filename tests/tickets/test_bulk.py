"""Bulk actions (tickets.bulk): each ticket through its own service, all or nothing, skipped and failed reported."""

from __future__ import annotations

import pytest

from tests.factories import MembershipFactory, TicketFactory, UserFactory
from tickets import bulk, services
from tickets.errors import TicketError
from tickets.models import BulkJob, Priority, Status, TicketEvent


@pytest.fixture
def tickets(queue):
    return [TicketFactory(queue=queue) for _ in range(3)]


def kinds(ticket) -> list[str]:
    return list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))


def test_a_dispatcher_assigns_several_tickets_each_with_its_own_history_row(dispatcher, engineer, tickets):
    job = bulk.bulk_start(
        dispatcher, action="assign", params={"performer": engineer.pk}, ticket_ids=[t.pk for t in tickets]
    )
    assert (job.state, job.total, job.done, job.skipped, job.failed) == ("finished", 3, 3, 0, 0)
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.performer == engineer and ticket.status == Status.ASSIGNED
        assert kinds(ticket).count("ticket.assigned") == 1


def test_tickets_the_user_cannot_see_are_skipped_and_reported(dispatcher, engineer, tickets, other_queue):
    hidden = TicketFactory(queue=other_queue)
    job = bulk.bulk_start(
        dispatcher, action="assign", params={"performer": engineer.pk}, ticket_ids=[tickets[0].pk, hidden.pk, 999999]
    )
    assert (job.done, job.skipped, job.failed) == (1, 2, 0)
    assert {row["ticket"] for row in job.results} == {hidden.pk, 999999}
    assert all(row["message"] == "Not found, or not visible to you." for row in job.results)
    hidden.refresh_from_db()
    assert hidden.performer is None and kinds(hidden) == []


def test_a_performer_outside_the_tickets_queue_fails_that_ticket_only(other_engineer, tickets, admin_user, other_queue):
    elsewhere = TicketFactory(queue=other_queue)
    job = bulk.bulk_start(
        admin_user, action="assign", params={"performer": other_engineer.pk}, ticket_ids=[elsewhere.pk, tickets[0].pk]
    )
    assert (job.done, job.failed) == (1, 1)
    assert job.results[0]["ticket"] == tickets[0].pk
    assert "is not an agent of the queue" in job.results[0]["message"]
    tickets[0].refresh_from_db()
    assert tickets[0].performer is None
    elsewhere.refresh_from_db()
    assert elsewhere.performer == other_engineer


def test_a_status_the_lifecycle_refuses_fails_and_changes_nothing(dispatcher, engineer, tickets):
    services.ticket_assign(tickets[0], performer=engineer, actor=dispatcher)
    job = bulk.bulk_start(
        dispatcher, action="status", params={"status": "in_progress"}, ticket_ids=[t.pk for t in tickets]
    )
    assert (job.done, job.failed) == (1, 2)  # the two new ones have no performer
    assert all(row["message"] == "Assign a performer first." for row in job.results)
    tickets[0].refresh_from_db()
    assert tickets[0].status == Status.IN_PROGRESS
    tickets[1].refresh_from_db()
    assert tickets[1].status == Status.NEW and kinds(tickets[1]) == []


def test_waiting_takes_the_blocking_reason(dispatcher, tickets, waiting_reason):
    job = bulk.bulk_start(
        dispatcher,
        action="status",
        params={"status": "waiting", "reason": str(waiting_reason.pk), "comment": "parts"},
        ticket_ids=[t.pk for t in tickets],
    )
    assert job.done == 3
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.status == Status.WAITING and ticket.blocking_reason == waiting_reason


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "waiting"}, "Choose a blocking reason"),
        ({"status": "waiting", "reason": "abc"}, "Choose a blocking reason"),
        ({"status": "waiting", "reason": 999999}, "no longer in use"),
        ({"status": "in_progress", "reason": 1}, "only for “waiting for external action”"),
        ({"status": "on_approval"}, "one by one"),
        ({"status": "flying"}, "Choose the new status"),
    ],
)
def test_bad_status_and_reason_combinations_are_refused_before_anything_changes(dispatcher, tickets, params, message):
    with pytest.raises(TicketError, match=message):
        bulk.bulk_start(dispatcher, action="status", params=params, ticket_ids=[t.pk for t in tickets])
    assert not BulkJob.objects.exists()
    assert not TicketEvent.objects.filter(ticket__in=tickets).exists()


@pytest.mark.parametrize(
    ("action", "params", "ids", "message"),
    [
        ("explode", {}, [1], "Choose what to do"),
        ("assign", {"performer": "x"}, [1], "Choose the person"),
        ("assign", {"performer": 999999}, [1], "active user with a role"),
        ("priority", {"priority": 42}, [1], "Choose the new priority"),
        ("queue", {"queue": 999999}, [1], "Choose an active queue"),
        ("observers", {"observers": []}, [1], "Choose the observers"),
        ("priority", {"priority": 1}, [], "Select at least one ticket"),
        ("priority", {"priority": 1}, ["1; DROP TABLE"], "not a ticket number"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(dispatcher, action, params, ids, message):
    with pytest.raises(TicketError, match=message):
        bulk.bulk_start(dispatcher, action=action, params=params, ticket_ids=ids)
    assert not BulkJob.objects.exists()


def test_engineers_may_not_act_in_bulk(engineer, tickets):
    with pytest.raises(TicketError, match="Only dispatchers and managers"):
        bulk.bulk_start(
            engineer, action="priority", params={"priority": Priority.HIGH}, ticket_ids=[t.pk for t in tickets]
        )
    assert not BulkJob.objects.exists()


def test_priority_queue_and_observers_go_through_the_ticket_services(admin_user, tickets, other_queue, engineer):
    ids = [t.pk for t in tickets]
    bulk.bulk_start(admin_user, action="priority", params={"priority": Priority.CRITICAL}, ticket_ids=ids)
    bulk.bulk_start(admin_user, action="observers", params={"observers": [engineer.pk]}, ticket_ids=ids)
    bulk.bulk_start(admin_user, action="queue", params={"queue": other_queue.pk}, ticket_ids=ids)
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.priority == Priority.CRITICAL and ticket.queue == other_queue
        assert list(ticket.observers.all()) == [engineer]
        assert kinds(ticket).count("ticket.updated") == 2
        assert kinds(ticket).count("ticket.observers_changed") == 1


def test_adding_observers_keeps_the_ones_already_there(admin_user, ticket, engineer, dispatcher):
    services.ticket_set_people(ticket, observers=[dispatcher], actor=admin_user)
    bulk.bulk_start(admin_user, action="observers", params={"observers": [engineer.pk]}, ticket_ids=[ticket.pk])
    assert set(ticket.observers.all()) == {dispatcher, engineer}


def test_a_large_selection_runs_as_a_task_after_commit(dispatcher, queue, engineer, django_capture_on_commit_callbacks):
    many = [TicketFactory(queue=queue) for _ in range(bulk.SYNC_LIMIT + 1)]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = bulk.bulk_start(
            dispatcher, action="priority", params={"priority": Priority.HIGH}, ticket_ids=[t.pk for t in many]
        )
    assert job.state == BulkJob.State.QUEUED and job.done == 0
    assert len(callbacks) == 1
    callbacks[0]()  # enqueue: django-q2 runs the task inline in tests ("sync": True)
    job.refresh_from_db()
    assert (job.state, job.done, job.total) == ("finished", len(many), len(many))
    assert job.finished_at is not None


def test_a_job_runs_once(dispatcher, tickets, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = bulk.bulk_start(
            dispatcher,
            action="priority",
            params={"priority": Priority.HIGH},
            ticket_ids=[t.pk for t in tickets],
            force_async=True,
        )
    bulk.bulk_job_run(job.pk)  # a second delivery of the task
    job.refresh_from_db()
    assert job.done == 3
    assert TicketEvent.objects.filter(kind="ticket.updated").count() == 3


def test_a_performer_who_left_before_the_worker_ran_fails_every_ticket(
    dispatcher, engineer, tickets, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = bulk.bulk_start(
            dispatcher,
            action="assign",
            params={"performer": engineer.pk},
            ticket_ids=[t.pk for t in tickets],
            force_async=True,
        )
    engineer.is_active = False
    engineer.save()
    callbacks[0]()
    job.refresh_from_db()
    assert (job.done, job.failed) == (0, 3)
    assert not TicketEvent.objects.filter(kind="ticket.assigned").exists()


def test_each_ticket_is_all_or_nothing(admin_user, tickets, monkeypatch):
    real = services.ticket_set_people

    def half_then_boom(ticket, **kwargs):
        real(ticket, **kwargs)  # writes the observers and a history row …
        if ticket.pk == tickets[1].pk:
            raise RuntimeError("disk full")  # … then something breaks

    monkeypatch.setattr(services, "ticket_set_people", half_then_boom)
    observer = UserFactory(role="engineer")
    MembershipFactory(queue=tickets[0].queue, user=observer)
    job = bulk.bulk_start(
        admin_user, action="observers", params={"observers": [observer.pk]}, ticket_ids=[t.pk for t in tickets]
    )
    assert (job.done, job.failed) == (2, 1)
    assert job.results[0]["message"] == "An unexpected error: the ticket was not changed."
    assert not tickets[1].observers.exists()
    assert not TicketEvent.objects.filter(ticket=tickets[1]).exists()


@pytest.mark.parametrize("comment", ["a\x00b", "\ud800"])
def test_a_comment_that_cannot_be_stored_is_refused(dispatcher, tickets, waiting_reason, comment):
    with pytest.raises(TicketError, match="Comment: Must"):
        bulk.bulk_start(
            dispatcher,
            action="status",
            ticket_ids=[t.pk for t in tickets],
            params={"status": "waiting", "reason": waiting_reason.pk, "comment": comment},
        )
    assert not BulkJob.objects.exists()
