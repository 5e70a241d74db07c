"""How notifications react to the ticket lifecycle (subscribed in ``opsdesk/wiring.py``): work notices."""

from __future__ import annotations

from notifications import work
from tickets import events


def performer_changed(event: events.PerformerChanged) -> None:
    """The new performer hears the ticket is theirs; the former one that it left them."""
    work.performer_changed(event.ticket, previous=event.previous, actor=event.actor)


def people_changed(event: events.PeopleChanged) -> None:
    """A new owner, approver or observer hears of their role."""
    work.people_changed(event.ticket, changed=event.changed, added=event.added, actor=event.actor)


def customer_wrote(event: events.CustomerWrote) -> None:
    """The performer (and an owner who is not the performer) hears the customer answered."""
    work.customer_wrote(event.ticket, message=event.message)


def status_changed(event: events.StatusChanged) -> None:
    """Observers hear of the status change and of the resolution."""
    work.status_changed(event.ticket, old=event.old, new=event.new, actor=event.actor)


def approval_decided(event: events.ApprovalDecided) -> None:
    """The performer hears the approver's decision."""
    work.approval_decided(
        event.ticket, approved=event.approved, closed=event.closed, comment=event.comment, actor=event.actor
    )


def satisfaction_rated(event: events.SatisfactionRated) -> None:
    """A bad answer is told to the performer (else the queue's dispatchers), with the customer's comment."""
    work.satisfaction_rated(event.ticket, rating=event.rating, reopened=event.reopened)
