"""How routing reacts to the ticket lifecycle (subscribed in ``opsdesk/wiring.py``)."""

from __future__ import annotations

from routing import assignment
from tickets import events


def record_classification(event: events.TicketClassified) -> None:
    """Count the keyword rule's hit and say so in the history."""
    assignment.classification_record(event.ticket, event.rule)


def route(event: events.TicketQueued) -> None:
    """The queue's strategy may give the waiting ticket to an agent (never to those who just let it go)."""
    assignment.route_ticket(event.ticket, trigger=event.trigger, exclude=event.exclude)


def announce_waiting(event: events.TicketQueued) -> None:
    """Still waiting in a pull queue: its agents hear a ticket can be taken."""
    assignment.announce_waiting(event.ticket, trigger=event.trigger, exclude=event.exclude, actor=event.actor)


def learn_from_correction(event: events.Reclassified) -> None:
    """A dispatcher corrected the type a keyword rule gave: count it against the rule."""
    if "ticket_type" in event.changed:
        assignment.classification_corrected(event.ticket, old_type_id=event.old_type_id)
