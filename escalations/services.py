"""Manual escalations: functional (to another queue) and hierarchical (to the performer's manager).

Both need a reason, go through the ticket services (so the ticket's history,
SLA and access follow), are recorded as a ``ManualEscalation`` row (counted in
reports) plus a ``ticket.escalated_manually`` history row, and notify the
people who now have to act. Domain errors are ``TicketError``.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from escalations.models import ManualEscalation
from notifications import work
from notifications.models import Urgency
from notifications.service import notify
from tickets import history
from tickets import services as ticket_services
from tickets.models import CLOSED_STATUSES, Queue, QueueMembership, Ticket, display_name
from tickets.services import TicketError


def _check(ticket: Ticket, reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise TicketError(_("Say why the ticket is escalated."))
    if ticket.status in CLOSED_STATUSES:
        raise TicketError(_("A closed ticket cannot be escalated."))
    return reason[:2000]


def escalation_target(ticket: Ticket, actor):
    """Who a hierarchical escalation goes to: the performer's direct manager, else the actor's."""
    for person in (ticket.performer, actor):
        profile = getattr(person, "profile", None) if person is not None else None
        if profile is not None and profile.manager_id and profile.manager.is_active:
            return profile.manager
    return None


def _notify_all(users, row: ManualEscalation, ticket: Ticket, actor, title, body) -> None:
    for user in users:
        if user is not None and user.pk != actor.pk:
            notify(
                user,
                kind=f"escalation.manual_{row.kind}",
                urgency=Urgency.IMPORTANT,
                title=title,
                body=body,
                ticket=ticket,
                actor=actor,
                dedupe_key=f"manual:{row.pk}:{user.pk}",
            )


@transaction.atomic
def escalate_functional(ticket: Ticket, *, to_queue: Queue | None, reason: str, actor) -> ManualEscalation:
    """Send the ticket to the queue with the right competence; it goes back to that queue unassigned."""
    reason = _check(ticket, reason)
    if to_queue is None or not to_queue.is_active:
        raise TicketError(_("Choose an active queue."))
    if to_queue.pk == ticket.queue_id:
        raise TicketError(_("The ticket is already in this queue."))
    from_queue = ticket.queue
    ticket_services.ticket_update(ticket, actor=actor, queue=to_queue)
    if ticket.performer_id is not None:
        ticket_services.ticket_unassign(ticket, actor=actor, reason=reason)
    row = ManualEscalation.objects.create(
        ticket=ticket, kind=ManualEscalation.Kind.FUNCTIONAL, actor=actor, reason=reason, from_queue=from_queue,
        to_queue=to_queue,
    )
    history.record(
        ticket, "ticket.escalated_manually", actor, escalation_kind=row.kind, reason=reason, escalation=row.pk,
        from_queue=from_queue.slug, to_queue=to_queue.slug,
    )
    dispatchers = list(
        QueueMembership.objects.filter(queue=to_queue, role=QueueMembership.Role.DISPATCHER, user__is_active=True)
        .select_related("user")
        .order_by("user_id")
    )
    people = {m.user.pk: m.user for m in dispatchers}
    if to_queue.manager is not None:
        people.setdefault(to_queue.manager.pk, to_queue.manager)
    _notify_all(
        people.values(), row, ticket, actor,
        format_lazy(gettext_lazy("Escalated to {queue}: {reference} {title}"), queue=to_queue.label,
                    reference=ticket.reference, title=ticket.title),
        format_lazy(gettext_lazy("{who}: {reason}"), who=display_name(actor), reason=reason),
    )
    return row


@transaction.atomic
def escalate_hierarchical(ticket: Ticket, *, reason: str, actor, assign: bool = False) -> ManualEscalation:
    """Take the ticket to the performer's manager, who becomes its approver (and, if asked, its performer)."""
    reason = _check(ticket, reason)
    manager = escalation_target(ticket, actor)
    if manager is None:
        raise TicketError(_("Nobody to escalate to: no direct manager is set up for the performer."))
    with work.told_by_caller(manager):  # the escalation notice below is the manager's one notice
        ticket_services.ticket_set_people(ticket, actor=actor, approver=manager)
        if assign:
            ticket_services.ticket_assign(ticket, performer=manager, actor=actor)
    row = ManualEscalation.objects.create(
        ticket=ticket, kind=ManualEscalation.Kind.HIERARCHICAL, actor=actor, reason=reason,
        from_queue=ticket.queue, to_user=manager,
    )
    history.record(
        ticket, "ticket.escalated_manually", actor, escalation_kind=row.kind, reason=reason, escalation=row.pk,
        to={"id": manager.pk, "name": display_name(manager)}, assigned=assign,
    )
    _notify_all(
        [manager], row, ticket, actor,
        format_lazy(gettext_lazy("Escalated to you: {reference} {title}"), reference=ticket.reference,
                    title=ticket.title),
        format_lazy(gettext_lazy("{who}: {reason}"), who=display_name(actor), reason=reason),
    )
    return row
