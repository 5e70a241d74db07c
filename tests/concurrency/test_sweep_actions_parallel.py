"""Ticket-changing escalation actions under four sweeps at once on real PostgreSQL: each runs exactly once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from escalations import sweep as sweep_module
from escalations.firing_actions import run_pending_actions
from escalations.models import EscalationLevel, EscalationPolicy, Firing
from escalations.sweep import sweep
from sla.models import Calendar, CalendarWindow, SLAClock, SLAPolicy
from tests.factories import CustomerFactory, QueueFactory, UserFactory
from tickets.models import Message, Priority, Status, Ticket, TicketEvent

CLOCKS = 300
WORKERS = 4


def _due_clocks(now) -> list[Ticket]:
    """``CLOCKS`` tickets whose first-response clock is past its 50 % level: apologise and raise the priority."""
    calendar = Calendar.objects.create(name="24/7", time_zone="Asia/Almaty")
    CalendarWindow.objects.bulk_create(
        CalendarWindow(calendar=calendar, weekday=day, start="00:00", end="24:00") for day in range(7)
    )
    calendar.save()
    policy = SLAPolicy.objects.create(
        name="Standard", precedence=1, calendar=calendar, first_response_target=timedelta(hours=1),
        resolution_target=timedelta(hours=8),
    )
    ladder = EscalationPolicy.objects.create(name="Ladder")
    ladder.sla_policies.add(policy)
    EscalationLevel.objects.create(policy=ladder, order=10, name="Sorry", trigger_percent=50, urgency="routine",
                                   to_performer=True, auto_reply=True, auto_reply_en="Sorry about {ticket}.",
                                   raise_priority_to=Priority.HIGH)
    performers = [UserFactory(username=f"pg-act-{i}", role="engineer") for i in range(10)]
    queue = QueueFactory(slug="pg-act")
    customer = CustomerFactory()
    started = now - timedelta(minutes=40)  # the 50 % level is due, the breach is not
    tickets = Ticket.objects.bulk_create(
        Ticket(title=f"T{i}", customer=customer, queue=queue, status=Status.ASSIGNED,
               performer=performers[i % len(performers)], created_at=started, status_changed_at=started)
        for i in range(CLOCKS)
    )
    SLAClock.objects.bulk_create(
        SLAClock(ticket=t, kind="first_response", policy=policy, calendar=calendar, target=timedelta(hours=1),
                 state="running", consumed=timedelta(0), state_changed_at=started, started_at=started,
                 due_at=started + timedelta(hours=1), next_escalation_at=started + timedelta(minutes=30))
        for t in tickets
    )
    return tickets


def _in_threads(target) -> list:
    barrier = threading.Barrier(WORKERS)
    results: list = []
    errors: list[BaseException] = []

    def work():
        from django.db import connection

        try:
            barrier.wait()
            results.append(target())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def _each_action_ran_once(tickets) -> None:
    assert not Firing.objects.filter(actions_due_at__isnull=False).exists()
    per_pair = Firing.objects.values("clock_id", "level_id").annotate(n=Count("id"))
    assert len(per_pair) == CLOCKS and {row["n"] for row in per_pair} == {1}
    assert {tuple(f.data["actions"]) for f in Firing.objects.all()} == {("raise_priority", "auto_reply")}
    replies = Message.objects.filter(kind=Message.Kind.PUBLIC_REPLY).values("ticket_id").annotate(n=Count("id"))
    assert len(replies) == CLOCKS and {row["n"] for row in replies} == {1}
    escalated = TicketEvent.objects.filter(kind="ticket.escalated").values("ticket_id").annotate(n=Count("id"))
    assert len(escalated) == CLOCKS and {row["n"] for row in escalated} == {1}
    assert set(Ticket.objects.filter(pk__in=[t.pk for t in tickets]).values_list("priority", flat=True)) == {
        Priority.HIGH
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_parallel_sweeps_run_each_firings_actions_once():
    now = timezone.now()
    tickets = _due_clocks(now)
    results = _in_threads(lambda: sweep(now, batch_size=50))
    assert sum(r["due"] for r in results) == CLOCKS
    assert sum(r["fired"] for r in results) == CLOCKS
    assert sum(r["acted"] for r in results) == CLOCKS
    assert sum(r["failed"] for r in results) == 0
    _each_action_ran_once(tickets)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_parallel_action_steps_claim_each_pending_firing_once(monkeypatch):
    now = timezone.now()
    tickets = _due_clocks(now)
    with monkeypatch.context() as patch:
        patch.setattr(sweep_module, "run_pending_actions", lambda now, **kwargs: {})  # leave the actions pending
        assert sweep(now)["fired"] == CLOCKS
    assert Firing.objects.filter(actions_due_at=now).count() == CLOCKS
    results = _in_threads(lambda: run_pending_actions(now))
    assert sum(r["acted"] for r in results) == CLOCKS
    assert sum(r["failed"] for r in results) == 0
    assert all(r["acted"] > 0 for r in results), "every worker took a share of the firings"
    _each_action_ran_once(tickets)
