"""People's open-ticket counts under concurrent changes and a recount running beside them, on real PostgreSQL."""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connection

from notifications import delivery
from tests.factories import CustomerFactory, MembershipFactory, QueueFactory, UserFactory
from tickets import services, workload
from tickets.errors import TicketError
from tickets.models import RoutingStrategy, Status, Ticket, Workload


def _agree() -> bool:
    kept = {user_id: n for user_id, n in Workload.objects.values_list("user_id", "open_tickets") if n}
    return kept == workload.real_counts()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_counts_stay_exact_under_concurrent_moves_and_a_recount_beside_them(monkeypatch):
    monkeypatch.setattr(delivery, "enqueue_on_commit", lambda *a, **k: None)
    queue = QueueFactory(slug="busy", name="Busy", strategy=RoutingStrategy.MANUAL)
    dispatcher = UserFactory(username="busy-dispatcher", role="dispatcher")
    people = [UserFactory(username=f"busy-{i}", role="engineer") for i in range(3)]
    for user in people:
        MembershipFactory(queue=queue, user=user)
    customer = CustomerFactory()
    ids = [
        services.ticket_create(
            actor=dispatcher, title=f"T{i}", queue=queue, customer=customer, performer=people[i % 3]
        ).pk
        for i in range(12)
    ]
    workers, rounds = 4, 25
    start = threading.Barrier(workers + 1)
    done = threading.Event()
    errors: list[BaseException] = []
    corrections: list = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        try:
            start.wait(10)
            for _ in range(rounds):
                ticket = Ticket.objects.get(pk=rng.choice(ids))
                try:
                    if ticket.status in (Status.DONE, Status.CANCELED):
                        services.ticket_change_status(ticket, status=Status.IN_PROGRESS, actor=dispatcher)
                    elif rng.random() < 0.5:
                        services.ticket_assign(ticket, performer=rng.choice(people), actor=dispatcher)
                    else:
                        services.ticket_change_status(ticket, status=Status.DONE, actor=dispatcher)
                except TicketError:
                    pass  # another worker moved it first: the service refused and changed nothing
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    def recount() -> None:
        try:
            start.wait(10)
            while not done.is_set():
                corrections.extend(workload.recount())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(workers)]
    checker = threading.Thread(target=recount)
    for thread in [*threads, checker]:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    checker.join()

    assert errors == []
    assert corrections == []  # the recount saw moments in between, never a count to correct
    assert _agree()
    assert sum(n for n in Workload.objects.values_list("open_tickets", flat=True)) == Ticket.objects.open().count()
