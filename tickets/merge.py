"""Merging a duplicate into another ticket of the same customer or organisation (docs/merge.md).

``ticket_merge`` is the only writer: in one transaction, both tickets locked in id order, the
duplicate's messages, attachments and observers move to the surviving ticket, the duplicate is
canceled with the cause ``merged`` (its SLA clocks stop and leave compliance, so they never count
as breaches: ``sla.lifecycle``), a "duplicate of" link joins them, and both get a history row.

``surviving_ticket`` follows ``Ticket.merged_into``: every inbound path (the intake API by ticket
reference, email threading by headers or ``[#id]`` tag, both through ``intake.services``) asks it,
so a customer's later reply to the duplicate lands in the surviving ticket.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets import access, events
from tickets.errors import TicketError
from tickets.history import record
from tickets.links import lock_pair
from tickets.models import CLOSED_STATUSES, Attachment, Customer, LinkKind, Message, Status, Ticket, TicketLink
from tickets.services import _set_status as set_status  # the lifecycle's one status writer

MAX_CHAIN = 50  # merges flatten their chains; this only guards a hand-edited database


def surviving_ticket(ticket: Ticket | None, *, lock: bool = False) -> Ticket | None:
    """The ticket that carries ``ticket``'s conversation now: itself, or where it was merged (followed to the end)."""
    for _step in range(MAX_CHAIN):
        if ticket is None or ticket.merged_into_id is None:
            return ticket
        tickets = Ticket.objects.select_for_update() if lock else Ticket.objects
        ticket = tickets.filter(pk=ticket.merged_into_id).first()
    return ticket


def _organisation_id(customer_id: int) -> int | None:
    return Customer.objects.filter(pk=customer_id).values_list("organisation_id", flat=True).first()


def _same_customer(first: Ticket, second: Ticket) -> bool:
    if first.customer_id == second.customer_id:
        return True
    organisation = _organisation_id(first.customer_id)
    return organisation is not None and organisation == _organisation_id(second.customer_id)


def _refusal(duplicate: Ticket, into: Ticket, actor) -> str | None:
    """Why ``actor`` may not merge ``duplicate`` into ``into`` (both locked), or None."""
    if not access.can_merge(actor, duplicate):
        return _("You may not merge ticket %(ref)s.") % {"ref": duplicate.reference}
    if not Ticket.objects.visible_to(actor).filter(pk=into.pk).exists():
        return _("Ticket #%(pk)s does not exist or you may not open it.") % {"pk": into.pk}
    if not access.can_merge(actor, into):
        return _("You may not merge into ticket %(ref)s.") % {"ref": into.reference}
    if duplicate.merged_into_id is not None:
        return _("Ticket %(ref)s was already merged into #%(into)s.") % {
            "ref": duplicate.reference,
            "into": duplicate.merged_into_id,
        }
    if duplicate.status in CLOSED_STATUSES:
        return _("Ticket %(ref)s is closed: only an open ticket can be merged.") % {"ref": duplicate.reference}
    if into.merged_into_id is not None or into.status in CLOSED_STATUSES:
        return _("Ticket %(ref)s is closed: merge into an open ticket.") % {"ref": into.reference}
    if duplicate.is_internal or into.is_internal:
        return _("Internal tasks are not merged: link them instead.")
    if not _same_customer(duplicate, into):
        return _(
            "Tickets %(a)s and %(b)s belong to different customers: only a duplicate of the same customer or "
            "organisation can be merged."
        ) % {"a": duplicate.reference, "b": into.reference}
    return None


@transaction.atomic
def ticket_merge(duplicate: Ticket, *, into: Ticket | None, actor) -> Ticket:
    """Merge ``duplicate`` into ``into`` and return ``into``; a ``TicketError`` says why not and changes nothing."""
    if into is None:
        raise TicketError(_("Choose the ticket to merge into."))
    if into.pk == duplicate.pk:
        raise TicketError(_("A ticket cannot be merged into itself."))
    lock_pair(duplicate, into)
    refusal = _refusal(duplicate, into, actor)
    if refusal:
        raise TicketError(refusal)
    now = timezone.now()
    moved_messages = Message.objects.filter(ticket=duplicate).update(ticket=into)
    moved_files = Attachment.objects.filter(ticket=duplicate).update(ticket=into)
    present = set(into.observers.values_list("pk", flat=True))
    added = sorted(set(duplicate.observers.values_list("pk", flat=True)) - present)
    if added:
        into.observers.add(*added)
    # A link the two already had gives way to the merge's "duplicate of" link.
    TicketLink.objects.filter(Q(source=duplicate, target=into) | Q(source=into, target=duplicate)).delete()
    TicketLink.objects.create(source=duplicate, target=into, kind=LinkKind.DUPLICATE, created_by=actor)
    # Tickets merged into the duplicate earlier now point straight at the survivor (chains stay one step).
    Ticket.objects.filter(merged_into=duplicate).update(merged_into=into)
    details = {"messages": moved_messages, "attachments": moved_files, "observers": added}
    record(duplicate, "ticket.merged_into", actor, at=now, into=into.pk, **details)
    record(into, "ticket.merged_from", actor, at=now, duplicate=duplicate.pk, **details)
    duplicate.merged_into = into
    # Canceled, not done: the SLA stops the duplicate's clocks and takes them out of compliance.
    set_status(duplicate, Status.CANCELED, actor=actor, cause="merged")
    duplicate.save()
    into.save(update_fields=["updated_at"])
    if added:
        events.publish(
            events.PeopleChanged(ticket=into, actor=actor, at=now, changed=frozenset(), added=frozenset(added))
        )
    return into
