"""Four escalation sweeps and four delivery workers at once on real PostgreSQL: everything exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from escalations.models import EscalationLevel, EscalationPolicy, Firing
from escalations.sweep import sweep
from notifications import channels, delivery
from notifications.models import Delivery, Notification
from sla.models import Calendar, CalendarWindow, SLAClock, SLAClockEvent, SLAPolicy
from tests.factories import CustomerFactory, QueueFactory, UserFactory
from tickets.models import Status, Ticket

CLOCKS = 5000
WORKERS = 4


class CountingChannel:
    """Records every message it is asked to send (thread-safe)."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.lock = threading.Lock()

    def send(self, message) -> str:
        with self.lock:
            self.keys.append(message.key)
        return "ok"


def _due_clocks(now):
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
    EscalationLevel.objects.create(policy=ladder, order=10, name="Half", trigger_percent=50, urgency="important",
                                   to_performer=True)
    EscalationLevel.objects.create(policy=ladder, order=20, name="Most", trigger_percent=80, urgency="important",
                                   to_performer=True)
    performers = [UserFactory(username=f"pg-sweep-{i}", role="engineer") for i in range(20)]
    queue = QueueFactory(slug="pg-sweep")
    customer = CustomerFactory()
    started = now - timedelta(hours=2)  # every level and the breach are due
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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_parallel_sweeps_fire_each_level_once_and_deliver_each_notice_once(monkeypatch):
    channel = CountingChannel()
    monkeypatch.setitem(channels.CHANNELS, "email", channel)
    monkeypatch.setattr(delivery, "enqueue_on_commit", lambda *a, **k: None)  # the delivery workers below do it
    now = timezone.now()
    _due_clocks(now)
    barrier = threading.Barrier(WORKERS * 2)
    sweeping = threading.Event()
    results: list[dict] = []
    errors: list[BaseException] = []

    def sweeper():
        from django.db import connection

        try:
            barrier.wait()
            results.append(sweep(now, batch_size=100))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    def deliverer():
        from django.db import connection

        try:
            barrier.wait()
            while True:
                done = not sweeping.is_set()
                delivery.deliver_pending(limit=500)
                if done:
                    break
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    sweeping.set()
    sweepers = [threading.Thread(target=sweeper) for _ in range(WORKERS)]
    deliverers = [threading.Thread(target=deliverer) for _ in range(WORKERS)]
    for thread in sweepers + deliverers:
        thread.start()
    for thread in sweepers:
        thread.join()
    sweeping.clear()
    for thread in deliverers:
        thread.join()
    while delivery.deliver_pending()["sent"]:  # drain what the batched sweeps committed after the last round
        pass

    assert errors == []
    assert sum(r["due"] for r in results) == CLOCKS
    assert sum(r["fired"] for r in results) == 2 * CLOCKS
    assert sum(r["breached"] for r in results) == CLOCKS
    assert sum(r["failed"] for r in results) == 0
    assert all(r["fired"] > 0 for r in results), "every sweep took a share of the work"
    per_pair = Firing.objects.values("clock_id", "level_id").annotate(n=Count("id"))
    assert len(per_pair) == 2 * CLOCKS and {row["n"] for row in per_pair} == {1}
    assert SLAClockEvent.objects.filter(kind="breach").count() == CLOCKS
    assert not SLAClock.objects.filter(next_escalation_at__isnull=False).exists()
    assert Notification.objects.count() == 2 * CLOCKS
    assert Delivery.objects.count() == 2 * CLOCKS
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    assert len(channel.keys) == 2 * CLOCKS
    assert max(Counter(channel.keys).values()) == 1
