"""Writing in one go at the end of a block: ``tickets.history.deferred`` and ``notifications.service.deferred``
(a routing burst uses both). Same rows as writing one by one; nothing written when the block fails."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications import service
from notifications.models import Delivery, Notification, Urgency
from tests.factories import CustomerFactory, QueueFactory, UserFactory
from tickets import history, services
from tickets.models import TicketEvent


@pytest.fixture
def ticket(db):
    return services.ticket_create(actor=None, title="Deferred", queue=QueueFactory(), customer=CustomerFactory())


def _notices(ticket, people):
    return [
        service.Notice(
            people[0], kind="work.assigned", urgency=Urgency.IMPORTANT, title="One", body="b", ticket=ticket
        ),
        service.Notice(people[1], kind="work.assigned", urgency=Urgency.ROUTINE, title="Two", body="b", ticket=ticket),
        # The same dedupe key twice for one person: one notification, as with two calls.
        service.Notice(
            people[0],
            kind="work.role",
            urgency=Urgency.ROUTINE,
            title="K",
            body="b",
            ticket=ticket,
            dedupe_key=f"k{ticket.pk}",
        ),
        service.Notice(
            people[0],
            kind="work.role",
            urgency=Urgency.ROUTINE,
            title="K",
            body="b",
            ticket=ticket,
            dedupe_key=f"k{ticket.pk}",
        ),
    ]


def _rows(ticket):
    notifications = list(
        Notification.objects.filter(ticket=ticket)
        .order_by("pk")
        .values_list("recipient_id", "kind", "urgency", "title", "in_app")
    )
    deliveries = sorted(
        Delivery.objects.filter(notification__ticket=ticket).values_list("recipient_id", "channel", "digestible")
    )
    return notifications, deliveries


def test_history_rows_recorded_in_a_deferred_block_are_written_at_its_end_in_one_insert(ticket):
    before = TicketEvent.objects.filter(ticket=ticket).count()
    with CaptureQueriesContext(connection) as ctx, history.deferred() as pending:
        first = history.record(ticket, "ticket.noted", None, message=1)
        with history.deferred() as inner:  # nested: written with the outer block
            history.record(ticket, "ticket.noted", None, message=2)
        assert inner is pending and len(pending) == 2
        assert first.pk is None and TicketEvent.objects.filter(ticket=ticket).count() == before
    inserts = [q for q in ctx.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    rows = list(TicketEvent.objects.filter(ticket=ticket).order_by("pk").values_list("kind", "data"))[before:]
    assert rows == [("ticket.noted", {"message": 1}), ("ticket.noted", {"message": 2})]
    history.record(ticket, "ticket.noted", None, message=3)  # outside a block: at once
    assert TicketEvent.objects.filter(ticket=ticket).count() == before + 3


def test_a_failing_deferred_block_writes_no_history(ticket):
    before = TicketEvent.objects.filter(ticket=ticket).count()
    with pytest.raises(RuntimeError), history.deferred():
        history.record(ticket, "ticket.noted", None, message=1)
        raise RuntimeError("boom")
    assert TicketEvent.objects.filter(ticket=ticket).count() == before
    with pytest.raises(ValueError), history.deferred():
        history.record(ticket, "no.such_kind", None)  # checked when recorded, not when written


def test_deferred_notices_are_the_notifications_one_by_one_would_create(db):
    people = [UserFactory(username=f"n{i}", role="engineer") for i in range(2)]
    queue = QueueFactory()
    one = services.ticket_create(actor=None, title="One by one", queue=queue, customer=CustomerFactory())
    two = services.ticket_create(actor=None, title="Deferred", queue=queue, customer=CustomerFactory())
    for notice in _notices(one, people):
        service.notify_many([notice], results=False)

    with service.deferred() as pending:
        returned = service.notify_many(_notices(two, people), results=False)
        assert returned == [None] * 4 and len(pending) == 4
        assert not Notification.objects.filter(ticket=two).exists()
        assert service.notify_many([_notices(two, people)[0]])[0] is not None  # results=True: created at once
    Notification.objects.filter(ticket=two, title="One").order_by("pk").first().delete()  # the immediate one

    assert _rows(two) == _rows(one)


def test_a_failing_deferred_block_creates_no_notice(db):
    people = [UserFactory(username=f"f{i}", role="engineer") for i in range(2)]
    ticket = services.ticket_create(actor=None, title="Fails", queue=QueueFactory(), customer=CustomerFactory())
    with pytest.raises(RuntimeError), service.deferred():
        service.notify_many(_notices(ticket, people), results=False)
        raise RuntimeError("boom")
    assert not Notification.objects.filter(ticket=ticket).exists()
