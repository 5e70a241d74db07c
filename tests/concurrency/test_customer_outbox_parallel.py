"""Four customer-outbox workers at once on real PostgreSQL: every reply is sent exactly once."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from channels import outbox
from channels.models import OutboundMessage
from tests.factories import CustomerFactory, MembershipFactory, QueueFactory, UserFactory
from tickets import services
from tickets.models import Message

WORKERS, REPLIES = 4, 40


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_parallel_delivery_passes_send_each_reply_once(monkeypatch):
    sent: list[int] = []
    lock = threading.Lock()

    def counting_sender(row):
        with lock:
            sent.append(row.message_id)
        return "ok"

    monkeypatch.setitem(outbox.SENDERS, "email", counting_sender)
    monkeypatch.setattr(outbox, "enqueue", lambda: None)  # the workers below deliver
    queue = QueueFactory()
    engineer = UserFactory(role="engineer")
    MembershipFactory(queue=queue, user=engineer)
    for i in range(REPLIES):
        ticket = services.ticket_create(
            actor=engineer, title=f"T{i}", customer=CustomerFactory(), queue=queue, performer=engineer
        )
        services.ticket_reply(ticket, body="Hello", actor=engineer)
    barrier = threading.Barrier(WORKERS)
    results: list[dict] = []
    errors: list[BaseException] = []

    def worker():
        from django.db import connection

        try:
            barrier.wait()
            results.append(outbox.deliver_pending())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(r["sent"] for r in results) == REPLIES
    assert len(sent) == REPLIES and max(Counter(sent).values()) == 1
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {"sent"}
    assert Message.objects.filter(kind="reply", delivery_status="sent").count() == REPLIES
