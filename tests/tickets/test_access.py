"""Who sees which ticket: Ticket.objects.visible_to for every role."""

from __future__ import annotations

import pytest

from tests.factories import MembershipFactory, TicketFactory, UserFactory
from tickets import access
from tickets.models import QueueMembership, Ticket


def visible(user):
    return set(Ticket.objects.visible_to(user).values_list("pk", flat=True))


@pytest.fixture
def tickets(queue, other_queue, engineer):
    return {
        "mine_queue": TicketFactory(queue=queue),
        "other_queue": TicketFactory(queue=other_queue),
        "performed_elsewhere": TicketFactory(queue=other_queue, performer=engineer),
    }


def test_an_engineer_sees_their_queue_and_what_they_work_on_and_nothing_else(engineer, tickets):
    assert visible(engineer) == {tickets["mine_queue"].pk, tickets["performed_elsewhere"].pk}


def test_an_engineer_sees_tickets_they_own_approve_or_observe(other_queue, other_engineer):
    owned = TicketFactory(queue=other_queue)
    user = UserFactory(role="engineer")
    owned.owner = user
    owned.save()
    approved = TicketFactory(approver=user)
    observed = TicketFactory()
    observed.observers.add(user)
    TicketFactory()
    assert visible(user) == {owned.pk, approved.pk, observed.pk}


def test_observing_twice_does_not_duplicate_rows(queue, engineer):
    ticket = TicketFactory(queue=queue)
    ticket.observers.add(engineer, UserFactory())
    assert Ticket.objects.visible_to(engineer).filter(pk=ticket.pk).count() == 1


def test_a_dispatcher_sees_the_queues_they_dispatch(dispatcher, tickets):
    assert visible(dispatcher) == {tickets["mine_queue"].pk}


def test_an_agent_membership_does_not_give_a_dispatcher_role(queue, other_queue):
    user = UserFactory(role="engineer")
    MembershipFactory(queue=other_queue, user=user, role=QueueMembership.Role.DISPATCHER)
    assert visible(user) == set()


def test_a_manager_sees_the_team_and_managed_queues(manager, engineer, other_queue, tickets):
    managed = TicketFactory(queue=other_queue)
    other_queue.manager = manager
    other_queue.save()
    assert tickets["performed_elsewhere"].pk in visible(manager)
    assert managed.pk in visible(manager)
    assert tickets["mine_queue"].pk not in visible(manager)


def test_admins_see_everything(admin_user, tickets):
    assert visible(admin_user) == set(Ticket.objects.values_list("pk", flat=True))


def test_users_without_role_inactive_or_anonymous_see_nothing(tickets, engineer):
    from django.contrib.auth.models import AnonymousUser

    assert visible(UserFactory()) == set()
    assert visible(AnonymousUser()) == set()
    engineer.is_active = False
    engineer.save()
    assert visible(engineer) == set()


def test_only_dispatchers_managers_and_admins_may_assign(engineer, dispatcher, manager, admin_user, ticket):
    ticket.performer = engineer
    ticket.save()
    assert not access.can_assign(engineer, ticket)
    assert access.can_assign(dispatcher, ticket)
    assert access.can_assign(manager, ticket)  # sees it: the performer is on the team
    assert access.can_assign(admin_user, ticket)


def test_an_observer_can_read_but_not_work(queue, ticket):
    watcher = UserFactory(role="engineer")
    ticket.observers.add(watcher)
    assert ticket.pk in visible(watcher)
    assert not access.can_work(watcher, ticket)


def test_role_groups_carry_the_table_permissions(engineer, dispatcher, admin_user):
    assert not engineer.has_perm("tickets.assign_ticket")
    assert dispatcher.has_perm("tickets.assign_ticket") and dispatcher.has_perm("tickets.set_deadline")
    assert not dispatcher.has_perm("tickets.override_deadline")
    assert admin_user.has_perm("tickets.override_deadline")


def test_a_ticket_read_for_one_viewer_is_not_taken_as_visible_to_another(engineer, other_engineer, ticket):
    from portal import selectors

    loaded = selectors.ticket_detail(engineer, ticket.pk)  # read through visible_to(engineer): marked for them
    assert access.can_work(engineer, loaded)
    assert not access.can_work(other_engineer, loaded)
    assert not access.can_assign(other_engineer, loaded)


def test_the_ticket_pages_checks_ask_no_visibility_query_again(engineer, queue, django_assert_num_queries):
    from portal import selectors

    ticket = TicketFactory(queue=queue, performer=engineer)
    loaded = selectors.ticket_detail(engineer, ticket.pk)
    access.can_work(engineer, loaded)  # the first check reads the engineer's permissions
    with django_assert_num_queries(0):
        assert access.can_work(engineer, loaded)
        assert access.can_retry_delivery(engineer, loaded, assign=False)
    assert access.can_work(engineer, Ticket.objects.get(pk=ticket.pk))  # not read through visible_to: asked
