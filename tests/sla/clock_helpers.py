"""Shared by the SLA service tests (tests/sla/test_services*.py): durations, clock kinds, retarget modes,
a ticket's clocks, creating a ticket through the services, and the replay check."""

from __future__ import annotations

from datetime import timedelta

from sla.clocks import ClockState, replay
from sla.models import SLAClock, SLAPolicy
from tests.factories import CustomerFactory
from tickets import services

H = timedelta(hours=1)
MIN = timedelta(minutes=1)
FR = SLAClock.Kind.FIRST_RESPONSE
RES = SLAClock.Kind.RESOLUTION
NR = SLAClock.Kind.NEXT_REPLY
DL = SLAClock.Kind.DEADLINE
RETROACTIVE = SLAPolicy.RetargetMode.RETROACTIVE
CARRY_OVER = SLAPolicy.RetargetMode.CARRY_OVER


def clocks(ticket) -> dict[str, SLAClock]:
    """The ticket's first-response and resolution clocks and its latest next-reply clock, fresh from the DB."""
    result = {}
    for clock in SLAClock.objects.filter(ticket=ticket).order_by("pk"):
        result[clock.kind] = clock
    return result


def create(*, actor, queue, ticket_type=None, **kwargs):
    return services.ticket_create(
        actor=actor, title="Printer jam", customer=kwargs.pop("customer", None) or CustomerFactory(), queue=queue,
        ticket_type=ticket_type, description="It jams.", **kwargs
    )


def assert_replays(ticket):
    for clock in SLAClock.objects.filter(ticket=ticket):
        assert replay(clock) == ClockState.of(clock), clock.kind
