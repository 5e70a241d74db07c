"""Two dispatchers merge two tickets into each other at once, on real PostgreSQL: one merge wins, the other is
refused after waiting for the row locks, and nothing is half-done."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from tests.factories import CustomerFactory, MembershipFactory, QueueFactory, TicketFactory, UserFactory
from tickets import merge
from tickets.errors import TicketError
from tickets.models import QueueMembership, Status, Ticket


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # the statistics are a snapshot per transaction
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_crossing_merges_one_wins_and_the_other_is_refused():
    queue = QueueFactory(name="Service", slug="service")
    dispatcher = UserFactory(username="dina", role="dispatcher")
    MembershipFactory(queue=queue, user=dispatcher, role=QueueMembership.Role.DISPATCHER)
    customer = CustomerFactory()
    first = TicketFactory(queue=queue, customer=customer, title="First")
    second = TicketFactory(queue=queue, customer=customer, title="Second")
    merged, started = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}
    errors: list[BaseException] = []

    def winner():
        try:
            with transaction.atomic():
                merge.ticket_merge(
                    Ticket.objects.get(pk=first.pk), into=Ticket.objects.get(pk=second.pk), actor=dispatcher
                )
                merged.set()
                started.wait(10)
                for _ in range(200):  # hold the locks until the other merge waits for them
                    if _someone_waits_for_a_lock():
                        outcome["other waited"] = True
                        break
                    time.sleep(0.05)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    def loser():
        try:
            merged.wait(10)
            started.set()
            merge.ticket_merge(Ticket.objects.get(pk=second.pk), into=Ticket.objects.get(pk=first.pk), actor=dispatcher)
            outcome["second"] = "merged"
        except TicketError as refused:
            outcome["second"] = str(refused)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=winner), threading.Thread(target=loser)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert outcome.get("other waited") is True
    assert "closed" in str(outcome["second"]) or "already merged" in str(outcome["second"])
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.merged_into_id) == (Status.CANCELED, second.pk)
    assert (second.status, second.merged_into_id) == (Status.NEW, None)
