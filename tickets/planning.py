"""Planning and triage of an existing ticket: the next step, and the fields a change of which re-routes or re-matches
the SLA (re-exported by ``tickets.services``, where the rest of the lifecycle lives)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.locks import lock as _lock
from tickets import events
from tickets.deadlines import check_date_in_range
from tickets.errors import TicketError
from tickets.history import record
from tickets.models import CLOSED_STATUSES, Ticket


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()  # a keyword argument not given (``None`` is a value: it clears the field)


@transaction.atomic
def ticket_set_next_step(ticket: Ticket, *, actor, text: str, due: datetime | None) -> Ticket:
    """What happens next and by when; empty text clears it."""
    _lock(ticket)
    text = (text or "").strip()
    if not text and due is not None:
        raise TicketError(_("Describe the next step before giving it a date."))
    check_date_in_range(due)
    if ticket.status in CLOSED_STATUSES:
        raise TicketError(_("A closed ticket has no next step."))
    if text == ticket.next_step and due == ticket.next_step_due:
        return ticket
    ticket.next_step = text[:300]
    ticket.next_step_due = due
    ticket.save(update_fields=["next_step", "next_step_due", "updated_at"])
    record(ticket, "ticket.next_step_set", actor, text=ticket.next_step, due=due.isoformat() if due else None)
    return ticket


@transaction.atomic
def ticket_update(
    ticket: Ticket, *, actor, title=UNSET, priority=UNSET, queue=UNSET, ticket_type=UNSET, related_object=UNSET
) -> Ticket:
    """Triage fields; each change is one history row."""
    _lock(ticket)
    changes = {}
    old_type_id = ticket.ticket_type_id
    for name, value in (
        ("title", title),
        ("priority", priority),
        ("queue", queue),
        ("ticket_type", ticket_type),
        ("related_object", related_object),
    ):
        if value is UNSET:
            continue
        current = getattr(ticket, name)
        if current == value:
            continue
        changes[name] = {"from": _plain(current), "to": _plain(value)}
        setattr(ticket, name, value)
    if "title" in changes and not str(ticket.title).strip():
        raise TicketError(_("A ticket needs a title."))
    if changes:
        ticket.save(update_fields=[*changes, "updated_at"])
        record(ticket, "ticket.updated", actor, changes=changes)
        # Routing learns from a corrected type; the SLA re-matches its policy on priority, queue and type.
        events.publish(events.Reclassified(
            ticket=ticket, actor=actor, at=timezone.now(), changed=frozenset(changes),
            old_type_id=old_type_id if "ticket_type" in changes else None,
        ))
    return ticket


def _plain(value):
    if value is None or isinstance(value, str | int):
        return value
    return str(getattr(value, "slug", None) or getattr(value, "pk", value))
