"""The ticket lifecycle service: transitions, blocking reasons, timestamps, history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from channels import outbox
from tests.factories import CustomerFactory, TicketFactory, UserFactory
from tickets import history, services
from tickets.models import Message, Status, TicketEvent
from tickets.services import TicketError


def kinds(ticket):
    return list(ticket.events.values_list("kind", flat=True))


def test_it_creates_a_ticket_with_the_description_as_first_customer_message(dispatcher, queue):
    customer = CustomerFactory()
    ticket = services.ticket_create(
        actor=dispatcher, title="Printer jam", customer=customer, queue=queue, description="It jams.", channel="phone"
    )
    assert ticket.status == Status.NEW
    msg = ticket.messages.get()
    assert msg.kind == Message.Kind.INBOUND and msg.channel == "phone" and msg.author == dispatcher
    assert kinds(ticket) == ["ticket.created"]


def test_assigning_a_new_ticket_makes_it_assigned_and_the_first_performer_owns_it(ticket, engineer, dispatcher):
    services.ticket_assign(ticket, performer=engineer, actor=dispatcher)
    ticket.refresh_from_db()
    assert ticket.status == Status.ASSIGNED
    assert ticket.performer == engineer and ticket.owner == engineer
    assert kinds(ticket) == ["ticket.assigned", "ticket.status_changed"]
    assert ticket.events.first().actor == dispatcher


def test_waiting_requires_a_reason_and_leaving_clears_it(ticket, engineer, dispatcher, waiting_reason):
    services.ticket_assign(ticket, performer=engineer, actor=dispatcher)
    with pytest.raises(TicketError, match="blocking reason"):
        services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer)
    ticket.refresh_from_db()
    assert ticket.status == Status.ASSIGNED
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=waiting_reason)
    assert ticket.blocking_reason == waiting_reason
    services.ticket_change_status(ticket, status=Status.IN_PROGRESS, actor=engineer)
    ticket.refresh_from_db()
    assert ticket.blocking_reason is None and ticket.status == Status.IN_PROGRESS


def test_a_reason_is_refused_for_other_statuses(ticket, engineer, dispatcher, waiting_reason):
    services.ticket_assign(ticket, performer=engineer, actor=dispatcher)
    with pytest.raises(TicketError):
        services.ticket_change_status(ticket, status=Status.IN_PROGRESS, actor=engineer, reason=waiting_reason)


@pytest.mark.parametrize(
    ("start", "target"),
    [(Status.DONE, Status.WAITING), (Status.CANCELED, Status.DONE), (Status.NEW, Status.DONE)],
)
def test_forbidden_transitions_change_nothing(engineer, start, target, waiting_reason):
    ticket = TicketFactory(status=start, performer=engineer)
    before = TicketEvent.objects.count()
    with pytest.raises(TicketError):
        services.ticket_change_status(ticket, status=target, actor=engineer, reason=None)
    ticket.refresh_from_db()
    assert ticket.status == start and TicketEvent.objects.count() == before


def test_done_sets_the_timestamp_and_reopening_clears_it(ticket, engineer, dispatcher):
    services.ticket_assign(ticket, performer=engineer, actor=dispatcher)
    services.ticket_change_status(ticket, status=Status.DONE, actor=engineer)
    assert ticket.done_at is not None
    services.ticket_change_status(ticket, status=Status.IN_PROGRESS, actor=engineer)
    assert ticket.done_at is None


def test_the_first_public_reply_is_stamped_once_and_notes_do_not_count(ticket, engineer, dispatcher):
    services.ticket_assign(ticket, performer=engineer, actor=dispatcher)
    services.ticket_add_note(ticket, body="internal", actor=engineer)
    ticket.refresh_from_db()
    assert ticket.first_public_reply_at is None
    services.ticket_reply(ticket, body="Hello", actor=engineer)
    ticket.refresh_from_db()
    assert ticket.first_public_reply_at is None and ticket.status == Status.IN_PROGRESS  # stamped when it leaves
    outbox.deliver_pending()
    ticket.refresh_from_db()
    first = ticket.first_public_reply_at
    assert first is not None
    services.ticket_reply(ticket, body="Again", actor=engineer)
    outbox.deliver_pending()
    ticket.refresh_from_db()
    assert ticket.first_public_reply_at == first


def test_a_customer_message_resumes_a_ticket_waiting_for_the_customer(ticket, engineer, dispatcher, waiting_reason):
    services.ticket_assign(ticket, performer=engineer, actor=dispatcher)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=waiting_reason)
    services.ticket_receive_customer_message(ticket, body="Here you go", channel="email")
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS and ticket.blocking_reason is None
    last = ticket.events.last()
    assert last.actor is None and last.data["cause"] == "customer_message"


def test_a_customer_message_does_not_resume_a_ticket_waiting_for_stock(ticket, engineer, dispatcher, no_stock):
    services.ticket_assign(ticket, performer=engineer, actor=dispatcher)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=no_stock)
    services.ticket_receive_customer_message(ticket, body="Any news?", channel="email")
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING


def test_performers_cannot_set_or_override_a_deadline(engineer, queue, admin_user):
    with pytest.raises(TicketError):
        services.ticket_create(
            actor=engineer,
            title="x",
            customer=CustomerFactory(),
            queue=queue,
            deadline=timezone.now() + timedelta(days=1),
        )
    ticket = TicketFactory(queue=queue)
    with pytest.raises(TicketError):
        services.ticket_override_deadline(ticket, deadline=timezone.now(), actor=engineer, reason="mine")
    services.ticket_override_deadline(
        ticket, deadline=timezone.now() + timedelta(days=2), actor=admin_user, reason="customer agreed"
    )
    assert ticket.events.last().kind == "ticket.deadline_overridden"


def test_history_rows_cannot_be_edited_or_deleted(ticket, dispatcher):
    event = history.record(ticket, "ticket.noted", dispatcher, message=0)
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        TicketEvent.objects.filter(pk=event.pk).update(kind="y")


def test_unassign_returns_the_ticket_to_the_queue(ticket, engineer, dispatcher):
    services.ticket_assign(ticket, performer=engineer, actor=dispatcher)
    services.ticket_change_status(ticket, status=Status.IN_PROGRESS, actor=engineer)
    services.ticket_unassign(ticket, actor=dispatcher, reason="sick")
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW and ticket.performer is None


def test_inactive_or_roleless_users_cannot_be_performers(ticket, dispatcher):
    with pytest.raises(TicketError):
        services.ticket_assign(ticket, performer=UserFactory(is_active=False, role="engineer"), actor=dispatcher)
    with pytest.raises(TicketError):
        services.ticket_assign(ticket, performer=UserFactory(), actor=dispatcher)
