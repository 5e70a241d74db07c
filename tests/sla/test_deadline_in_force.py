"""One deadline in force (issue 16): ``Ticket.deadline`` follows the resolution due until a person sets it.

Frozen time on the Almaty office calendar (Mon–Fri 09:00–13:00, 14:00–18:00). Monday 16 February 2026.
A standard request: first response 2 h, resolution 24 business hours (three office days).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.urls import reverse

from reports.selectors import on_time
from sla.clocks import ClockState, replay
from sla.models import SLAClock
from tests.factories import CustomerFactory, TicketTypeFactory
from tickets import services
from tickets.models import Status, Ticket, TicketEvent

from .conftest import almaty

H = timedelta(hours=1)
RES = SLAClock.Kind.RESOLUTION
DL = SLAClock.Kind.DEADLINE


@pytest.fixture
def types(db):
    return TicketTypeFactory(slug="standard-request"), TicketTypeFactory(slug="critical-incident")


@pytest.fixture
def policies(make_policy, around_the_clock, types):
    standard, critical = types
    make_policy(name="Standard request", precedence=50, ticket_type=standard)
    make_policy(
        name="Critical incident",
        precedence=10,
        ticket_type=critical,
        calendar=around_the_clock,
        first_response_target=timedelta(minutes=15),
        resolution_target=4 * H,
    )
    return standard, critical


def create(actor, queue, ticket_type, **kwargs):
    return services.ticket_create(
        actor=actor,
        title="Printer jam",
        customer=CustomerFactory(),
        queue=queue,
        ticket_type=ticket_type,
        description="It jams.",
        **kwargs,
    )


def clock(ticket, kind):
    return SLAClock.objects.get(ticket=ticket, kind=kind)


def fresh(ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def assert_in_force(ticket):
    """The deadline clock's due is the deadline in force; every clock replays from its log."""
    ticket = fresh(ticket)
    dl = clock(ticket, DL)
    if dl.state == "running":
        assert dl.due_at == ticket.deadline
    for c in SLAClock.objects.filter(ticket=ticket):
        assert replay(c) == ClockState.of(c), c.kind


def test_a_wait_for_the_customer_moves_the_deadline_in_force(policies, dispatcher, engineer, queue, waiting_reason, at):
    standard, _critical = policies
    at(2026, 2, 16, 9, 0)
    ticket = create(dispatcher, queue, standard, performer=engineer)
    assert (ticket.deadline, ticket.deadline_set_by_person) == (almaty(2026, 2, 18, 18, 0), False)
    at(2026, 2, 16, 10, 0)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=waiting_reason)
    assert fresh(ticket).deadline is None  # on hold while the ball is on the customer's side
    assert not fresh(ticket).is_overdue
    at(2026, 2, 17, 10, 0)  # eight business hours later
    services.ticket_change_status(ticket, status=Status.IN_PROGRESS, actor=engineer)
    ticket = fresh(ticket)
    assert ticket.deadline == clock(ticket, RES).due_at == almaty(2026, 2, 19, 18, 0)
    assert not ticket.deadline_set_by_person
    assert_in_force(ticket)
    moves = TicketEvent.objects.filter(ticket=ticket, kind="ticket.deadline_followed").order_by("id")
    to = [e.data["to"] and datetime.fromisoformat(e.data["to"]) for e in moves]
    assert [e.data["why"] for e in moves] == ["paused", "resumed"]
    assert to == [None, almaty(2026, 2, 19, 18, 0)]
    assert all(e.actor == engineer for e in moves)


def test_a_reclassification_to_a_critical_type_moves_the_deadline_in_force(policies, dispatcher, engineer, queue, at):
    standard, critical = policies
    at(2026, 2, 16, 9, 0)
    ticket = create(dispatcher, queue, standard, performer=engineer)
    at(2026, 2, 16, 10, 0)
    services.ticket_update(ticket, actor=dispatcher, ticket_type=critical)
    ticket = fresh(ticket)
    # Retroactive on the 24/7 calendar: four hours from creation.
    assert ticket.deadline == clock(ticket, RES).due_at == almaty(2026, 2, 16, 13, 0)
    assert_in_force(ticket)
    [move] = TicketEvent.objects.filter(ticket=ticket, kind="ticket.deadline_followed")
    assert move.data["why"] == "policy" and move.actor == dispatcher
    at(2026, 2, 16, 14, 0)
    assert fresh(ticket).is_overdue


def test_a_deadline_a_person_set_holds_through_a_wait_and_a_reclassification(
    policies, dispatcher, engineer, queue, waiting_reason, at
):
    standard, critical = policies
    at(2026, 2, 16, 9, 0)
    promised = almaty(2026, 2, 20, 18, 0)
    ticket = create(dispatcher, queue, standard, performer=engineer, deadline=promised)
    assert ticket.deadline_set_by_person
    at(2026, 2, 16, 10, 0)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=waiting_reason)
    assert fresh(ticket).deadline == promised
    assert clock(ticket, DL).state == "running"  # a set deadline holds through waits
    at(2026, 2, 17, 10, 0)
    services.ticket_change_status(ticket, status=Status.IN_PROGRESS, actor=engineer)
    services.ticket_update(ticket, actor=dispatcher, ticket_type=critical)
    ticket = fresh(ticket)
    assert ticket.deadline == promised and ticket.deadline_set_by_person
    assert clock(ticket, RES).due_at != promised
    assert_in_force(ticket)
    assert not TicketEvent.objects.filter(ticket=ticket, kind="ticket.deadline_followed").exists()


def test_a_deferral_or_an_override_fixes_a_deadline_that_followed_the_sla(
    policies, dispatcher, engineer, admin_user, queue, waiting_reason, at
):
    standard, critical = policies
    at(2026, 2, 16, 9, 0)
    ticket = create(dispatcher, queue, standard, performer=engineer)
    services.ticket_override_deadline(
        ticket, deadline=almaty(2026, 2, 27, 18, 0), actor=admin_user, reason="Parts from abroad"
    )
    assert fresh(ticket).deadline_set_by_person
    at(2026, 2, 16, 10, 0)
    services.ticket_update(ticket, actor=dispatcher, ticket_type=critical)
    assert fresh(ticket).deadline == almaty(2026, 2, 27, 18, 0)
    assert_in_force(ticket)


def test_the_overdue_mark_and_closed_on_time_follow_the_deadline_in_force(
    client, policies, dispatcher, engineer, queue, waiting_reason, at
):
    standard, _critical = policies
    at(2026, 2, 16, 9, 0)
    ticket = create(dispatcher, queue, standard, performer=engineer)
    late = create(dispatcher, queue, standard, performer=engineer)
    at(2026, 2, 16, 10, 0)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=waiting_reason)
    at(2026, 2, 17, 10, 0)
    services.ticket_change_status(ticket, status=Status.IN_PROGRESS, actor=engineer)
    at(2026, 2, 19, 12, 0)  # past the first due (Wednesday 18:00), before the one in force (Thursday 18:00)
    client.force_login(dispatcher)
    listed = client.get(reverse("tickets:list"), {"overdue": "on"}).content.decode()
    assert f"/tickets/{late.pk}/" in listed and f"/tickets/{ticket.pk}/" not in listed
    assert Ticket.objects.overdue(almaty(2026, 2, 19, 12, 0)).get() == late
    for done in (ticket, late):
        services.ticket_change_status(fresh(done), status=Status.DONE, actor=engineer)
    assert list(on_time(Ticket.objects.all())) == [fresh(ticket)]
    on_time_list = client.get(reverse("tickets:list"), {"on_time": "yes"}).content.decode()
    assert f"/tickets/{ticket.pk}/" in on_time_list and f"/tickets/{late.pk}/" not in on_time_list
