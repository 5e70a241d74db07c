"""Two routing bursts over the same waiting tickets at once, on real PostgreSQL: each ticket is routed once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from notifications import delivery
from routing import assignment
from tests.factories import CustomerFactory, MembershipFactory, QueueFactory, UserFactory
from tickets import services
from tickets.models import Queue, RoutingStrategy, Ticket, TicketEvent


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_bursts_over_the_same_tickets_route_each_ticket_once(monkeypatch):
    monkeypatch.setattr(delivery, "enqueue_on_commit", lambda *a, **k: None)
    queue = QueueFactory(slug="race", name="Race", strategy=RoutingStrategy.MANUAL)
    people = [UserFactory(username=f"race-{i}", role="engineer") for i in range(3)]
    for user in people:
        MembershipFactory(queue=queue, user=user)
    customer = CustomerFactory()
    ids = [services.ticket_create(actor=None, title=f"T{i}", queue=queue, customer=customer).pk for i in range(6)]
    Queue.objects.filter(pk=queue.pk).update(strategy=RoutingStrategy.LEAST_LOADED)
    start = threading.Barrier(2)
    results: list[list] = []
    errors: list[BaseException] = []

    def burst():
        try:
            the_queue = Queue.objects.get(pk=queue.pk)
            tickets = list(Ticket.objects.filter(pk__in=ids).select_related("queue", "customer").order_by("pk"))
            start.wait(10)  # both read the tickets as waiting before either routes them
            results.append(assignment.route_waiting(the_queue, tickets, trigger="offer"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=burst) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assigned = sorted(sum(1 for d in decisions if d is not None and d.assigned) for decisions in results)
    assert assigned == [0, 6]  # the second burst waited for the first and found nothing left to route
    assert not Ticket.objects.filter(pk__in=ids, performer__isnull=True).exists()
    routed = TicketEvent.objects.filter(ticket_id__in=ids, kind="ticket.routed")
    assert sorted(routed.values_list("ticket_id", flat=True)) == sorted(ids)
    assigned_rows = TicketEvent.objects.filter(ticket_id__in=ids, kind="ticket.assigned").count()
    assert assigned_rows == len(ids)
