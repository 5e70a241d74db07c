"""How the SLA reacts to the ticket lifecycle (subscribed in ``opsdesk/wiring.py``).

Each handler is one line into ``sla.lifecycle`` (clocks) or ``sla.waits`` (waiting segments).
"""

from __future__ import annotations

from sla import lifecycle, waits
from tickets import events
from tickets.models import Status

# Open statuses in which the clocks run and nothing is waited for: moving among them changes no clock.
_ALIKE = frozenset({Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS})
# Fields whose change can make another SLA policy apply.
_POLICY_FIELDS = frozenset({"priority", "queue", "ticket_type"})


def plan_clocks(ticket, *, actor=None) -> lifecycle.NewTicketClocks | None:
    """A new ticket's clocks, planned before its row is written; without a deadline from a person, the resolution
    due is the deadline."""
    return lifecycle.plan_new_ticket(ticket, actor=actor)


def _alike(event) -> bool:
    """A move between two statuses in which clocks and waits are the same (a new ticket assigned, work started).

    Every change of status or reason brings the clocks and waiting segments in line, and these statuses are
    open, neither waiting nor on approval, so such a move leaves them as the previous change did.
    """
    return isinstance(event, events.StatusChanged) and event.old in _ALIKE and event.new in _ALIKE


def follow_status(event: events.StatusChanged) -> None:
    """Pause, resume or stop the clocks for the new status."""
    if _alike(event):
        return
    lifecycle.sync_clocks(event.ticket, at=event.at, actor=event.actor, cause=event.cause)


def follow_reason(event: events.BlockingReasonChanged) -> None:
    """The new blocking reason may (not) pause the resolution clock."""
    lifecycle.sync_clocks(event.ticket, at=event.at, actor=event.actor, cause="reason_changed")


def record_wait(event: events.StatusChanged | events.BlockingReasonChanged) -> None:
    """Open, close or switch the waiting segment (the causes-of-delay report reads them)."""
    if _alike(event):
        return
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
    """The deadline clock follows ``Ticket.deadline`` (retargeted: a new escalation generation).

    The SLA's default deadline at creation (cause ``sla_default``) needs nothing: ``lifecycle.plan_new_ticket``
    built its deadline clock with the ticket's other clocks.
    """
    if event.cause == "sla_default":
        return
    lifecycle.on_deadline_changed(event.ticket, previous=event.previous, at=event.at, actor=event.actor,
                                  cause=event.cause, **event.details)
