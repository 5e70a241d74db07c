"""Builders shared by the escalation-case tests."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from escalations import cases
from escalations.models import EscalationLevel, EscalationPolicy, Firing
from sla.models import Calendar, CalendarWindow, SLAClock, SLAPolicy
from tests.factories import CustomerFactory, TicketFactory, UserFactory


def outage_tickets(queue, n: int = 3, *, performer=None):
    """``n`` tickets of ``n`` different customers in ``queue``, each with an account manager."""
    tickets = []
    for i in range(n):
        account_manager = UserFactory(username=f"am{i}", role="manager")
        customer = CustomerFactory(name=f"Customer {i}", account_manager=account_manager)
        tickets.append(TicketFactory(queue=queue, customer=customer, title=f"No service {i}", performer=performer,
                                     status="assigned" if performer else "new"))
    return tickets


def open_case(actor, owner, tickets=(), **fields):
    defaults = {"title": "Payment gateway outage", "severity": "sev1", "triggering_criteria": "Three customers down"}
    defaults.update(fields)
    return cases.case_open(actor=actor, owner=owner, tickets=tickets, **defaults)


def clock_for(ticket, *, breached_at=None):
    calendar = Calendar.objects.filter(name="24/7 cases").first()
    if calendar is None:
        calendar = Calendar.objects.create(name="24/7 cases", time_zone="Asia/Almaty")
        CalendarWindow.objects.bulk_create(
            CalendarWindow(calendar=calendar, weekday=day, start="00:00", end="24:00") for day in range(7)
        )
    policy = SLAPolicy.objects.filter(name="Cases").first() or SLAPolicy.objects.create(
        name="Cases", precedence=99, calendar=calendar, first_response_target=timedelta(hours=1),
        resolution_target=timedelta(hours=8),
    )
    now = timezone.now()
    return SLAClock.objects.create(
        ticket=ticket, kind="resolution", policy=policy, calendar=calendar, target=timedelta(hours=8),
        state="running", state_changed_at=now, started_at=now, due_at=now + timedelta(hours=8),
        breached_at=breached_at,
    )


def fire(ticket, order: int):
    """A ``Firing`` of a level of ``order`` on ``ticket``, now."""
    policy, _ = EscalationPolicy.objects.get_or_create(name="Case test ladder")
    level, _ = EscalationLevel.objects.get_or_create(
        policy=policy, order=order, defaults={"name": f"Level {order}", "trigger_percent": 50 * order}
    )
    clock = SLAClock.objects.filter(ticket=ticket, kind="resolution").first() or clock_for(ticket)
    return Firing.objects.create(clock=clock, level=level, generation=0, ticket=ticket, due_at=timezone.now())
