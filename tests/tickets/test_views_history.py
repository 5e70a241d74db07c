"""The ticket history as sentences: every event kind the services write reads as a human line."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone, translation

from tests.factories import QueueFactory, TicketTypeFactory, UserFactory
from tickets import services
from tickets.models import Priority, Status, TicketEvent
from tickets.templatetags.opsdesk import describe_event


def sentences(ticket) -> list[str]:
    return [describe_event(event, ticket) for event in ticket.events.select_related("actor__profile")]


def test_every_service_event_reads_as_a_sentence(ticket, engineer, dispatcher, admin_user, waiting_reason, no_stock):
    ticket.customer.name = "Alma"
    ticket.customer.save()
    services.ticket_assign(ticket, performer=engineer, actor=dispatcher)
    services.ticket_reply(ticket, body="On it", actor=engineer)
    services.ticket_add_note(ticket, body="internal", actor=engineer)
    services.ticket_change_status(ticket, status=Status.WAITING, reason=waiting_reason, actor=engineer,
                                  comment="photos asked")
    services.ticket_change_status(ticket, status=Status.WAITING, reason=no_stock, actor=engineer)
    services.ticket_set_next_step(ticket, text="Order the hose", due=timezone.now() + timedelta(days=1),
                                  actor=engineer)
    services.ticket_set_next_step(ticket, text="", due=None, actor=engineer)
    new_queue = QueueFactory(name="Warehouse", slug="warehouse")
    services.ticket_update(ticket, actor=dispatcher, priority=Priority.HIGH, queue=new_queue,
                           ticket_type=TicketTypeFactory(name="Repair", slug="repair"))
    services.ticket_set_people(ticket, actor=dispatcher, approver=UserFactory(username="boss", role="manager"),
                               observers=[dispatcher])
    services.ticket_override_deadline(ticket, deadline=timezone.now() + timedelta(days=3), actor=admin_user,
                                      reason="customer agreed")
    services.ticket_change_status(ticket, status=Status.IN_PROGRESS, actor=engineer)
    services.ticket_change_status(ticket, status=Status.DONE, actor=engineer)
    services.ticket_receive_customer_message(ticket, body="It leaks again", channel="email")
    services.ticket_unassign(ticket, actor=dispatcher, reason="sick")
    TicketEvent.objects.create(ticket=ticket, kind="sla.breached", created_at=timezone.now())  # an undeclared kind

    lines = sentences(ticket)
    expected = [
        "Dispatcher assigned the ticket to Engineer.",
        "Dispatcher changed the status from “New” to “Assigned”.",
        "Engineer replied to the customer (first response).",
        "Engineer's reply moved the ticket from “Assigned” to “In progress”.",
        "Engineer added an internal note.",
        "Engineer changed the status from “In progress” to “Waiting for external action”: Waiting for the customer.",
        "Engineer changed the blocking reason from “Waiting for the customer” to “No stock”.",
        "Engineer set the next step “Order the hose” due ",
        "Engineer cleared the next step.",
        "Dispatcher changed the priority from “Normal” to “High”; queue from “Service” to “Warehouse”; "
        "type from ",
        "Dispatcher made Boss the approver.",
        "Dispatcher changed the observers (1 added, 0 removed).",
        "Admin moved the deadline from — to ",
        "Engineer changed the status from “Waiting for external action” to “In progress”.",
        "Engineer changed the status from “In progress” to “Done”.",
        "Alma wrote (Email).",
        "The customer's message moved the ticket from “Done” to “In progress”.",
        "Dispatcher returned the ticket to the queue (it was with Engineer).",
        "Dispatcher changed the status from “In progress” to “New”.",
        "System: sla.breached.",
    ]
    assert len(lines) == len(expected)
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(start), (line, start)
    assert lines[9].endswith("to “Repair”.")


def test_sentences_follow_the_active_language_for_catalogue_names(ticket, engineer, dispatcher, waiting_reason):
    services.ticket_assign(ticket, performer=engineer, actor=dispatcher)
    services.ticket_change_status(ticket, status=Status.WAITING, reason=waiting_reason, actor=engineer)
    with translation.override("ru"):
        assert "Ожидание клиента" in sentences(ticket)[-1]
