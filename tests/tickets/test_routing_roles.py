"""The routing decision reads the chosen person with their roles in one query (``routing.assignment._user``); the
role check of ``ticket_assign`` must answer as ``tickets.access.roles_of`` would. ``core.locks.lock`` runs SQL
compiled once per model and must behave as the ORM's ``select_for_update().get()``."""

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from core.locks import lock
from routing import assignment
from tests.factories import CustomerFactory, MembershipFactory, QueueFactory, UserFactory
from tickets import access, services
from tickets.models import Queue, RoutingStrategy, Ticket


def _waiting_ticket(queue) -> Ticket:
    Queue.objects.filter(pk=queue.pk).update(strategy=RoutingStrategy.MANUAL)
    queue.strategy = RoutingStrategy.MANUAL
    ticket = services.ticket_create(actor=None, title="Waiting", queue=queue, customer=CustomerFactory())
    Queue.objects.filter(pk=queue.pk).update(strategy=RoutingStrategy.LEAST_LOADED)
    ticket.queue.strategy = RoutingStrategy.LEAST_LOADED
    return ticket


def test_the_chosen_person_carries_the_roles_roles_of_would_read(db):
    engineer = UserFactory(username="roles-eng", role="engineer")
    Group.objects.get(name="manager").user_set.add(engineer)
    superuser = UserFactory(username="roles-root", is_superuser=True)
    roleless = UserFactory(username="roles-none")
    for user in (engineer, superuser, roleless):
        picked = assignment._user(user.pk)
        fresh = type(user).objects.get(pk=user.pk)
        assert picked._opsdesk_roles == access.roles_of(fresh)
        assert picked.profile.pk == user.profile.pk
    assert assignment._user(10**9) is None


def test_a_superuser_without_a_group_gets_the_ticket_and_a_dropped_role_is_seen_at_once(db):
    queue = QueueFactory(slug="roles", name="Roles", strategy=RoutingStrategy.LEAST_LOADED)
    root = UserFactory(username="roles-only-root", is_superuser=True)
    MembershipFactory(queue=queue, user=root)
    decision = assignment.route_ticket(_waiting_ticket(queue), trigger="created")
    assert decision is not None and decision.user_id == root.pk

    engineer = UserFactory(username="roles-only-eng", role="engineer")
    other = QueueFactory(slug="roles-2", name="Roles 2", strategy=RoutingStrategy.LEAST_LOADED)
    MembershipFactory(queue=other, user=engineer)
    ticket = _waiting_ticket(other)
    engineer.groups.clear()  # no role any more: the next decision must not give them the ticket
    assert assignment.route_ticket(ticket, trigger="created") is None
    assert Ticket.objects.get(pk=ticket.pk).performer_id is None


def test_lock_refreshes_the_object_and_refuses_a_missing_row(db):
    queue = QueueFactory(slug="lock", name="Lock")
    ticket = services.ticket_create(actor=None, title="Before", queue=queue, customer=CustomerFactory())
    Ticket.objects.filter(pk=ticket.pk).update(title="After")
    with transaction.atomic():
        assert lock(ticket) is ticket
    assert ticket.title == "After"
    gone = Ticket(pk=10**12)
    with transaction.atomic(), pytest.raises(Ticket.DoesNotExist):
        lock(gone)
