"""Four sweeps at once on real PostgreSQL, each holding one clock of the same tickets: a level acts once per ticket."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from escalations.models import EscalationLevel, EscalationPolicy, Firing
from escalations.sweep import sweep
from notifications.models import Notification
from sla.models import Calendar, CalendarWindow, SLAClock, SLAPolicy
from tests.factories import CustomerFactory, QueueFactory, UserFactory
from tickets.models import Status, Ticket

TICKETS = 1000
GROUP = 25  # one batch: the first-response clocks of 25 tickets, the next batch their resolution clocks
WORKERS = 4


def _two_due_clocks_per_ticket(now):
    calendar = Calendar.objects.create(name="24/7", time_zone="Asia/Almaty")
    CalendarWindow.objects.bulk_create(
        CalendarWindow(calendar=calendar, weekday=day, start="00:00", end="24:00") for day in range(7)
    )
    calendar.save()
    target = timedelta(hours=1)
    policy = SLAPolicy.objects.create(
        name="Standard", precedence=1, calendar=calendar, first_response_target=target, resolution_target=target
    )
    ladder = EscalationPolicy.objects.create(name="Ladder")
    ladder.sla_policies.add(policy)
    EscalationLevel.objects.create(policy=ladder, order=10, trigger_percent=50, urgency="important", to_performer=True)
    performer = UserFactory(username="pg-once", role="engineer")
    queue = QueueFactory(slug="pg-once")
    customer = CustomerFactory()
    started = now - timedelta(minutes=40)  # 50 % of both clocks is due, not the breach
    tickets = Ticket.objects.bulk_create(
        Ticket(
            title=f"T{i}",
            customer=customer,
            queue=queue,
            status=Status.ASSIGNED,
            performer=performer,
            created_at=started,
            status_changed_at=started,
        )
        for i in range(TICKETS)
    )
    clocks = []
    for start in range(0, TICKETS, GROUP):
        for kind in ("first_response", "resolution"):
            clocks += [
                SLAClock(
                    ticket=t,
                    kind=kind,
                    policy=policy,
                    calendar=calendar,
                    target=target,
                    state="running",
                    consumed=timedelta(0),
                    state_changed_at=started,
                    started_at=started,
                    due_at=started + target,
                    next_escalation_at=started + target / 2,
                )
                for t in tickets[start : start + GROUP]
            ]
    SLAClock.objects.bulk_create(clocks)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_sweeps_holding_both_clocks_of_a_ticket_act_once_and_record_both():
    now = timezone.now()
    _two_due_clocks_per_ticket(now)
    barrier = threading.Barrier(WORKERS)
    results: list[dict] = []
    errors: list[BaseException] = []

    def sweeper():
        from django.db import connection

        try:
            barrier.wait()
            results.append(sweep(now, batch_size=GROUP))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweeper) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(r["due"] for r in results) == 2 * TICKETS
    assert sum(r["failed"] for r in results) == 0
    assert sum(r["fired"] for r in results) == TICKETS  # acted: once per ticket
    per_ticket = Firing.objects.filter(acted=True).values("ticket_id").annotate(n=Count("id"))
    assert len(per_ticket) == TICKETS and {row["n"] for row in per_ticket} == {1}
    assert Firing.objects.filter(acted=False).count() == TICKETS  # the other clock's crossing, recorded
    assert Firing.objects.values("clock_id").distinct().count() == 2 * TICKETS
    assert Notification.objects.count() == TICKETS
    assert Ticket.objects.get(title="T0").events.filter(kind="ticket.escalated").count() == 1
