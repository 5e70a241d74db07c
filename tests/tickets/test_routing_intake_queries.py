"""Query counts of a routing decision and of an intake request: pinned, and the same whatever the number of
agents, open tickets and customers (issue 18)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Notification
from routing import assignment
from tests.factories import CustomerFactory, MembershipFactory, QueueFactory, UserFactory
from tests.tickets.intake_helpers import make_gateway, message, send
from tickets import services
from tickets.models import Message, RoutingStrategy, Status, Ticket, TicketEvent

# A routing decision: lock the queue, one query for the members with their stored load and absence, the chosen user
# (with their roles and notification settings), then the assignment itself (ticket lock, ticket update, notification
# and its delivery) and its savepoint, its history rows (assigned, status, routed) in one insert,
# and one upsert of the performer's open-ticket count with the last assignment time (15 before the history rows were
# three, 13 before the notices stopped opening a savepoint, 11 before the open-ticket count was stored instead of
# counted in the team read, 12 before the last assignment time went into the count's upsert). New → assigned reads
# no SLA clock and no wait segment: nothing about them changes.
ROUTE_QUERIES = 11
# A new ticket through the API, routed (least loaded) to one of the queue's agents (33 before the routed person was
# read with their roles, 31 before ticket creation stopped opening a savepoint inside the intake's transaction, 29
# before the routing's three history rows were one insert, 27 before the intake wrote all its history rows at its end,
# 26 before the intake stopped looking the message id up before writing (the unique constraint answers a retry), the
# notices stopped opening a savepoint, and the assignment of a ticket being created stopped locking it again in a
# savepoint of its own; 20 before the open-ticket count was stored instead of counted in the team read; 21 before the
# last assignment time went into the count's upsert).
INTAKE_NEW_QUERIES = 20
# A customer message appended to their ticket (read once under its row lock, with the people the notice goes to,
# their profiles and notification settings); 17 before the message id was left to the unique constraint and the
# message, its next-reply clock and its notice stopped opening savepoints inside the intake's transaction.
INTAKE_APPEND_QUERIES = 10


def _team(queue, n: int, tag: str):
    people = []
    for i in range(n):
        user = UserFactory(username=f"{tag}-{i}", role="engineer")
        MembershipFactory(queue=queue, user=user)
        people.append(user)
    return people


def _route_queries(queue) -> tuple[int, Ticket]:
    """Queries of ``route_ticket`` for a fresh waiting ticket of ``queue`` (least loaded)."""
    queue.strategy = RoutingStrategy.MANUAL
    queue.save(update_fields=["strategy"])
    ticket = services.ticket_create(actor=None, title="Printer jam", queue=queue, customer=CustomerFactory())
    queue.strategy = RoutingStrategy.LEAST_LOADED
    queue.save(update_fields=["strategy"])
    ticket = Ticket.objects.select_related("queue", "customer").get(pk=ticket.pk)
    with CaptureQueriesContext(connection) as ctx:
        decision = assignment.route_ticket(ticket, trigger="test")
    assert decision is not None and decision.assigned
    return len(ctx), ticket


def _load(queue, people, per_person: int) -> None:
    customer = CustomerFactory()
    for user in people:
        for k in range(per_person):
            services.ticket_create(actor=None, title=f"Open {k}", queue=queue, customer=customer, performer=user)


@pytest.mark.django_db
def test_a_routing_decision_takes_the_same_queries_for_3_or_40_agents_with_open_work():
    small = QueueFactory(slug="small", name="Small", strategy=RoutingStrategy.MANUAL)
    _team(small, 3, "s")
    few, _ticket = _route_queries(small)

    big = QueueFactory(slug="big", name="Big", strategy=RoutingStrategy.MANUAL)
    people = _team(big, 40, "b")
    _load(big, people[:10], 2)
    many, ticket = _route_queries(big)

    assert few == many == ROUTE_QUERIES
    ticket.refresh_from_db()
    assert ticket.status == Status.ASSIGNED and ticket.performer in people[10:]  # the least loaded got it


def _intake(client, token, **overrides):
    with CaptureQueriesContext(connection) as ctx:
        response = send(client, token, message(**overrides))
    assert response.status_code == 201, response.content
    return len(ctx), response.json()


@pytest.mark.django_db
def test_intake_queries_do_not_grow_with_agents_tickets_or_customers(client):
    queue = QueueFactory(slug="mail", name="Mail", strategy=RoutingStrategy.LEAST_LOADED)
    people = _team(queue, 3, "a")
    gateway = make_gateway("Mail gateway", queue)
    _intake(client, gateway.token, message_id="warm", customer={"email": "warm@client.example"})

    new_small, first = _intake(client, gateway.token, message_id="n1", customer={"email": "one@client.example"})
    append_small, _ = _intake(
        client,
        gateway.token,
        message_id="a1",
        customer={"email": "one@client.example"},
        ticket=first["ticket"],
        subject=None,
    )

    people += _team(queue, 30, "b")
    _load(queue, people[:10], 2)
    CustomerFactory.create_batch(30)
    new_big, second = _intake(client, gateway.token, message_id="n2", customer={"email": "two@client.example"})
    append_big, _ = _intake(
        client,
        gateway.token,
        message_id="a2",
        customer={"email": "two@client.example"},
        ticket=second["ticket"],
        subject=None,
    )

    assert first["created_ticket"] and second["created_ticket"]
    assert Ticket.objects.get(pk=second["ticket"]).performer in people[10:]
    assert new_small == new_big == INTAKE_NEW_QUERIES
    assert append_small == append_big == INTAKE_APPEND_QUERIES


@pytest.mark.django_db
def test_a_known_customer_takes_fewer_queries_than_a_new_sender_and_a_retry_writes_nothing(client):
    queue = QueueFactory(slug="mail", name="Mail", strategy=RoutingStrategy.LEAST_LOADED)
    _team(queue, 3, "a")
    gateway = make_gateway("Mail gateway", queue)
    CustomerFactory(email="known@client.example")
    _intake(client, gateway.token, message_id="warm", customer={"email": "warm@client.example"})
    known, first = _intake(client, gateway.token, message_id="k1", customer={"email": "known@client.example"})
    assert known < INTAKE_NEW_QUERIES
    before = _rows()
    with CaptureQueriesContext(connection) as ctx:
        response = send(client, gateway.token, message(message_id="k1", customer={"email": "known@client.example"}))
    assert response.status_code == 200 and response.json() == {**first, "created_ticket": False, "duplicate": True}
    # The retry went through the intake until the unique constraint refused its message, was rolled back, and
    # read the delivered message: the price of not looking every message id up first (a retry is rare).
    assert len(ctx) <= known + 2
    assert any(q["sql"].startswith("ROLLBACK") for q in ctx.captured_queries)
    assert _rows() == before


def _rows() -> tuple[int, ...]:
    return Ticket.objects.count(), Message.objects.count(), TicketEvent.objects.count(), Notification.objects.count()
