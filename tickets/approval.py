"""Approval: a ticket "on approval" waits for its approver's decision.

* ``ticket_send_to_approval``: the performer (or anyone who works the ticket) names the approver, if not
  named yet, and the ticket moves to "on approval"; the approver is told (``notifications.work``).
* ``ticket_approve``: only the approver; the ticket goes back to work, or is done at once where its type
  allows it (``TicketType.approval_closes``).
* ``ticket_reject``: only the approver, with a comment saying why; the ticket goes back to work.

Nobody else closes a ticket on approval: ``tickets.services.TRANSITIONS`` lets it only go back to work or
wait (the performer withdrawing the request). Every decision is a history row (``ticket.approved``,
``ticket.approval_rejected``) next to the status change, and publishes ``events.ApprovalDecided``. The time
on approval is measured as a waiting segment (``sla/waits.py``), so the delay report shows it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.locks import lock as _lock
from core.people import iso as _iso
from core.people import user_ref as _user_ref
from tickets import events, services
from tickets.history import record
from tickets.models import Status, Ticket, display_name
from tickets.services import TicketError


def may_close_on_approval(ticket: Ticket) -> bool:
    """Whether the approver may approve and close ``ticket`` at once (its type says so)."""
    return ticket.ticket_type is not None and ticket.ticket_type.approval_closes


@transaction.atomic
def ticket_send_to_approval(ticket: Ticket, *, actor, approver=None, comment: str = "") -> Ticket:
    """Move the ticket to "on approval", naming ``approver`` when given (else the ticket's approver decides)."""
    _lock(ticket)
    if approver is not None and approver.pk != ticket.approver_id:
        if approver.pk == ticket.performer_id:
            raise TicketError(_("Choose an approver other than the performer: who decides?"))
        services._check_assignable(approver)
        # Named with the request: the approval notice is their one notice (no separate "you are the approver").
        record(ticket, "ticket.approver_changed", actor, previous=_user_ref(ticket.approver), to=_user_ref(approver))
        ticket.approver = approver
        ticket.save(update_fields=["approver", "updated_at"])
    return services.ticket_change_status(ticket, status=Status.ON_APPROVAL, actor=actor, comment=comment)


def _check_decider(ticket: Ticket, actor) -> None:
    if ticket.status != Status.ON_APPROVAL:
        raise TicketError(_("This ticket does not wait for approval."))
    if actor is None or actor.pk != ticket.approver_id:
        raise TicketError(
            _("Only the approver, %(person)s, decides on this ticket.") % {"person": display_name(ticket.approver)}
        )


@transaction.atomic
def ticket_approve(ticket: Ticket, *, actor, comment: str = "", close: bool = False) -> Ticket:
    """The approver approves: back to work, or done at once when ``close`` and the ticket's type allows it."""
    _lock(ticket)
    _check_decider(ticket, actor)
    comment = (comment or "").strip()[:2000]
    if close and not may_close_on_approval(ticket):
        raise TicketError(_("Tickets of this type go back to work when approved: the performer closes them."))
    return _decide(ticket, actor=actor, approved=True, close=close, comment=comment)


@transaction.atomic
def ticket_reject(ticket: Ticket, *, actor, comment: str) -> Ticket:
    """The approver rejects, saying why: the ticket goes back to work."""
    _lock(ticket)
    _check_decider(ticket, actor)
    comment = (comment or "").strip()[:2000]
    if not comment:
        raise TicketError(_("Say why you reject: the performer reads it."))
    return _decide(ticket, actor=actor, approved=False, close=False, comment=comment)


def _decide(ticket: Ticket, *, actor, approved: bool, close: bool, comment: str) -> Ticket:
    now = timezone.now()
    kind = "ticket.approved" if approved else "ticket.approval_rejected"
    record(ticket, kind, actor, at=now, comment=comment, closed=close, since=_iso(ticket.status_changed_at))
    status = Status.DONE if close else Status.IN_PROGRESS
    services._set_status(ticket, status, actor=actor, comment=comment, cause="approved" if approved else "rejected")
    ticket.save()
    events.publish(
        events.ApprovalDecided(ticket=ticket, actor=actor, at=now, approved=approved, closed=close, comment=comment)
    )
    return ticket
