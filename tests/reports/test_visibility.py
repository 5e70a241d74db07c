"""The reports' id-set visibility and the one-ticket check (``visibility.sees``) agree with
``Ticket.objects.visible_to`` for every role."""

from __future__ import annotations

import pytest

from reports.dashboard.scoping import Scope
from tests.factories import QueueFactory, TicketFactory, UserFactory
from tickets.models import Ticket
from tickets.visibility import sees, visibility_of


@pytest.fixture
def crowd(queue, other_queue, engineer, other_engineer, dispatcher, manager, admin_user):
    """Tickets reaching each role by one path only, and tickets nobody but admins sees."""
    teammate = UserFactory(username="teammate", role="engineer", profile__manager=manager)
    stranger = UserFactory(username="stranger", role="engineer")
    managed = QueueFactory(name="Managed", slug="managed", manager=manager)
    lonely = QueueFactory(name="Lonely", slug="lonely")
    tickets = {
        "in queue": TicketFactory(queue=queue),
        "in other queue": TicketFactory(queue=other_queue),
        "in managed queue": TicketFactory(queue=managed),
        "performed by teammate": TicketFactory(queue=lonely, performer=teammate),
        "owned by teammate": TicketFactory(queue=lonely, owner=teammate),
        "owned by engineer": TicketFactory(queue=lonely, owner=engineer),
        "performed by engineer": TicketFactory(queue=lonely, performer=engineer),
        "approved by dispatcher": TicketFactory(queue=lonely, approver=dispatcher),
        "approved by manager": TicketFactory(queue=lonely, approver=manager),
        "owned by dispatcher": TicketFactory(queue=lonely, owner=dispatcher),
        "performed by stranger": TicketFactory(queue=lonely, performer=stranger),
        "nobody's": TicketFactory(queue=lonely),
    }
    tickets["observed by outsider"] = TicketFactory(queue=lonely)
    tickets["observed by outsider"].observers.add(other_engineer)
    tickets["observed by dispatcher"] = TicketFactory(queue=lonely)
    tickets["observed by dispatcher"].observers.add(dispatcher, manager)
    return {"users": [engineer, other_engineer, dispatcher, manager, admin_user, teammate, stranger],
            "tickets": tickets}


def _fresh(user):
    return type(user).objects.get(pk=user.pk)


def test_it_selects_the_same_tickets_as_visible_to_for_every_role(crowd):
    for user in crowd["users"]:
        user = _fresh(user)
        expected = set(Ticket.objects.visible_to(user).values_list("pk", flat=True))
        got = set(visibility_of(user).filter(Ticket.objects.all()).values_list("pk", flat=True))
        assert got == expected, user.username
        assert expected, user.username  # every role sees something in the crowd


def test_the_one_ticket_check_agrees_with_visible_to_for_every_role_and_ticket(crowd):
    for user in crowd["users"]:
        user = _fresh(user)
        expected = set(Ticket.objects.visible_to(user).values_list("pk", flat=True))
        for name, ticket in crowd["tickets"].items():
            ticket = Ticket.objects.get(pk=ticket.pk)
            assert sees(user, ticket) == (ticket.pk in expected), (user.username, name)


def test_it_scopes_rows_through_their_ticket_the_same_way(crowd):
    from sla.models import SLAClock

    manager = _fresh(next(u for u in crowd["users"] if u.username == "manager"))
    expected = set(Ticket.objects.visible_to(manager).values_list("pk", flat=True))
    clocks = Scope(manager).narrow(SLAClock.objects.all(), "ticket__")
    assert set(clocks.values_list("ticket_id", flat=True)) <= expected
    assert set(clocks.values_list("ticket_id", flat=True)) == set(
        SLAClock.objects.filter(ticket__in=expected).values_list("ticket_id", flat=True))


def test_it_lets_an_admin_see_everything_without_any_condition(crowd):
    admin = _fresh(next(u for u in crowd["users"] if u.username == "admin"))
    assert visibility_of(admin).everything
    assert "WHERE" not in str(visibility_of(admin).filter(Ticket.objects.all()).query)


def test_it_shows_an_anonymous_or_inactive_user_nothing(crowd):
    from django.contrib.auth.models import AnonymousUser

    inactive = _fresh(crowd["users"][0])
    inactive.is_active = False
    for user in (AnonymousUser(), inactive):
        assert not visibility_of(user).filter(Ticket.objects.all()).exists()
        assert not Ticket.objects.visible_to(user).exists()
        owned = next(t for name, t in crowd["tickets"].items() if name == "owned by engineer")
        assert not sees(user, owned)
