"""The deadline of a ticket: the one service that moves it, and the bounds of any date a person gives.

Re-exported by ``tickets.services`` (callers use ``services.ticket_move_deadline``). The rule of the
deadline in force is in docs/sla.md.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import dates
from core.locks import lock as _lock
from core.people import iso as _iso
from tickets import access, events
from tickets.errors import TicketError
from tickets.history import record
from tickets.models import CLOSED_STATUSES, Ticket


def check_date_in_range(value) -> None:
    """Refuse a date or instant outside ``core.dates.EARLIEST`` … ``LATEST`` (issue 19): every service that
    takes a deadline, a due time or a period from a person calls it."""
    if not dates.in_range(value):
        raise TicketError(dates.out_of_range_message())


@transaction.atomic
def ticket_override_deadline(ticket: Ticket, *, deadline: datetime | None, actor, reason: str) -> Ticket:
    """Admins only: move the deadline outside the deferral workflow, logged as an override."""
    if actor is None or not access.can_override_deadline(actor):
        raise TicketError(_("Only an administrator can change a deadline directly."))
    if not (reason or "").strip():
        raise TicketError(_("Say why the deadline is overridden."))
    _lock(ticket)
    ticket_move_deadline(ticket, deadline=deadline, actor=actor, cause="override", history={"reason": reason.strip()})
    return ticket


# The history row of a move (the SLA default at creation is in "ticket.created"; "sla": the SLA's quiet moves).
_DEADLINE_HISTORY = {"override": "ticket.deadline_overridden", "deferral": "ticket.deadline_deferred",
                     "sla": "ticket.deadline_followed"}
SLA_CAUSES = frozenset({"sla_default", "sla"})  # the SLA moves a deadline nobody set (docs/sla.md)


def ticket_move_deadline(
    ticket: Ticket,
    *,
    deadline: datetime | None,
    actor,
    cause: str,
    at: datetime | None = None,
    history: dict | None = None,
    details: dict | None = None,
) -> datetime | None:
    """The one way ``Ticket.deadline`` changes once a ticket exists; returns the previous deadline.

    Callers check who may do it and hold the ticket's row lock. ``cause``: ``sla_default`` (the SLA's
    resolution due given to a ticket without a deadline; a new ticket's is written with its row instead,
    ``tickets.ports.plan_clocks``), ``sla`` (it moved: a pause, a resume, another policy; a quiet
    history row, no notice), ``override`` (an admin), ``deferral`` (a manager's decision)… The SLA's
    causes never move a deadline a person set (``Ticket.deadline_set_by_person``, which any other cause
    sets). A move is one history row (``history``: what it adds to the old and new deadline);
    the SLA's deadline clock follows through ``events.DeadlineChanged`` (``details`` go to its history).
    A closed (done or canceled) ticket's deadline is final: a person's move is refused, a system
    move does nothing, so "closed on time" never changes after closure.
    """
    check_date_in_range(deadline)
    previous = ticket.deadline
    by_sla, fixed = cause in SLA_CAUSES, ticket.deadline_set_by_person
    if (by_sla and (fixed or previous == deadline)) or (fixed and previous == deadline):
        return previous
    if ticket.status in CLOSED_STATUSES:
        # "Closed on time" is read as ``done_at <= deadline``: a closed ticket's deadline is final.
        if not by_sla:
            raise TicketError(_("The ticket is closed: its deadline no longer moves."))
        return previous
    # Refused above with nothing written. The move is one transaction, the caller's when there is one (no
    # savepoint of its own: every new ticket passes here for its SLA default); an error rolls it back.
    with transaction.atomic(savepoint=False):
        _move(ticket, deadline, previous, by_sla=by_sla, actor=actor, cause=cause, at=at or timezone.now(),
              history=history, details=details)
    return previous


def _move(ticket: Ticket, deadline, previous, *, by_sla: bool, actor, cause: str, at, history, details) -> None:
    ticket.deadline = deadline
    ticket.deadline_set_by_person = not by_sla
    ticket.updated_at = timezone.now()
    # The three columns by key (what ``save(update_fields=…)`` writes, without its machinery: every new
    # ticket passes here for its SLA default).
    Ticket.objects.filter(pk=ticket.pk).update(
        deadline=deadline, deadline_set_by_person=not by_sla, updated_at=ticket.updated_at
    )
    if cause in _DEADLINE_HISTORY:
        record(ticket, _DEADLINE_HISTORY[cause], actor, at=at, previous=_iso(previous), to=_iso(deadline),
               **(history or {}))
    events.publish(events.DeadlineChanged(
        ticket=ticket, actor=actor, at=at, previous=previous, cause=cause, details=details or {},
    ))
