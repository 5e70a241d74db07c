"""How the SLA reacts to the ticket lifecycle (subscribed in ``opsdesk/wiring.py``).

Each handler is one line into ``sla.lifecycle`` (clocks) or ``sla.waits`` (waiting segments).
"""

from __future__ import annotations

from sla import lifecycle, waits
from tickets import events
from tickets import services as ticket_services

# Fields whose change can make another SLA policy apply.
_POLICY_FIELDS = frozenset({"priority", "queue", "ticket_type"})


def start_clocks(event: events.TicketCreated) -> None:
    """Start the matching policy's clocks; without a deadline from a person, the resolution due is the deadline."""
    clocks = lifecycle.start_clocks(event.ticket, at=event.at, actor=event.actor)
    default = None if event.deadline_given else lifecycle.default_deadline(clocks)
    if default is not None:
        ticket_services.ticket_move_deadline(event.ticket, deadline=default, actor=event.actor, cause="sla_default",
                                             at=event.at)


def follow_status(event: events.StatusChanged) -> None:
    """Pause, resume or stop the clocks for the new status."""
    lifecycle.sync_clocks(event.ticket, at=event.at, actor=event.actor, cause=event.cause)


def follow_reason(event: events.BlockingReasonChanged) -> None:
    """The new blocking reason may (not) pause the resolution clock."""
    lifecycle.sync_clocks(event.ticket, at=event.at, actor=event.actor, cause="reason_changed")


def record_wait(event: events.StatusChanged | events.BlockingReasonChanged) -> None:
    """Open, close or switch the waiting segment (the causes-of-delay report reads them)."""
    waits.record(event.ticket, at=event.at)


def stop_on_reply(event: events.PublicMessageDelivered) -> None:
    """A reply delivered to the customer stops the first-response (and next-reply) clock at the sending instant."""
    lifecycle.on_public_reply(event.ticket, at=event.at, actor=event.actor)


def customer_wrote(event: events.CustomerWrote) -> None:
    """A customer message may start a next-reply clock."""
    lifecycle.on_customer_message(event.ticket, at=event.at)


def rematch(event: events.Reclassified) -> None:
    """Priority, queue or type changed: another policy may apply now."""
    if event.changed & _POLICY_FIELDS:
        lifecycle.sla_rematch(event.ticket, actor=event.actor)


def follow_deadline(event: events.DeadlineChanged) -> None:
    """The deadline clock follows ``Ticket.deadline`` (retargeted: a new escalation generation)."""
    lifecycle.on_deadline_changed(event.ticket, previous=event.previous, at=event.at, actor=event.actor,
                                  cause=event.cause, **event.details)
