"""Reads the portal pages share: which tickets a page lists, who can be assigned, what a page needs loaded.

Every ticket query starts from ``Ticket.objects.visible_to(user)``; the list
querysets load the related rows they render up front so a page runs the same
number of queries whatever its size.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from tickets import access
from tickets.models import (
    Attachment,
    BlockingReason,
    Customer,
    Queue,
    QueueMembership,
    Ticket,
    TicketType,
)

User = get_user_model()

LIST_RELATED = (
    "customer__vip_tier",
    "queue",
    "ticket_type",
    "blocking_reason",
    "performer__profile",
    "owner__profile",
)


def load_people(rows, *fields: str) -> None:
    """Fill the user foreign keys ``fields`` of ``rows`` (with the users' profiles) from one query, none if empty.

    What ``select_related("<field>__profile", …)`` leaves, without joining two tables per person to every row:
    a panel whose rows are usually none (deferral requests, manual escalations) costs PostgreSQL more to plan
    with those joins than to run."""
    wanted = {getattr(row, f"{name}_id") for row in rows for name in fields} - {None}
    found = User.objects.select_related("profile").in_bulk(wanted) if wanted else {}
    for row in rows:
        for name in fields:
            person_id = getattr(row, f"{name}_id")
            if person_id is not None:
                row._meta.get_field(name).set_cached_value(row, found.get(person_id))


def people() -> QuerySet:
    """Active users with a role in OpsDesk, with their profiles, ordered for a select."""
    with_role = User.groups.through.objects.filter(group__name__in=access.ROLES).values("user_id")
    return (
        User.objects.filter(is_active=True)
        .filter(Q(pk__in=with_role) | Q(is_superuser=True))
        .select_related("profile")
        .order_by("profile__display_name", "username")
    )


def agents_of(queue: Queue | int) -> QuerySet:
    """People a ticket of ``queue`` can be given to: the queue's active agents."""
    queue_id = queue.pk if isinstance(queue, Queue) else queue
    agent_ids = QueueMembership.objects.filter(queue_id=queue_id, role=QueueMembership.Role.AGENT).values("user_id")
    return (
        User.objects.filter(is_active=True, pk__in=agent_ids)
        .select_related("profile")
        .order_by("profile__display_name", "username")
    )


def creatable_queues(user) -> QuerySet:
    """Queues a new ticket may go to: the user's own queues, or every active queue for managers and admins."""
    queues = Queue.objects.filter(is_active=True)
    if access.roles_of(user) & {access.MANAGER, access.ADMIN} or access.sees_everything(user):
        return queues
    return queues.filter(memberships__user=user).distinct()


def active_queues() -> QuerySet:
    return Queue.objects.filter(is_active=True)


def active_types() -> QuerySet:
    return TicketType.objects.filter(is_active=True)


def active_reasons() -> QuerySet:
    return BlockingReason.objects.filter(is_active=True)


def customer_search(term: str, *, limit: int = 10) -> list[Customer]:
    """Customers whose name, email or phone contains ``term`` (digits of a phone match however it is typed).

    Search-as-you-type: NUL characters are dropped and the term is cut at 200 characters.
    """
    term = (term or "").replace("\x00", "").strip()[:200]
    if len(term) < 2:
        return []
    condition = Q(name__icontains=term) | Q(email__icontains=term) | Q(phone__icontains=term)
    digits = "".join(ch for ch in term if ch.isdigit())
    if len(digits) >= 3:
        condition |= Q(phone__contains=digits)
    return list(Customer.objects.filter(condition).select_related("vip_tier").order_by("name")[:limit])


def attachment_for(user, pk) -> Attachment | None:
    """The attachment ``user`` may download: its ticket is visible to them, and a note's file only to staff
    who read notes (``access.can_see_notes``); ``None`` otherwise (the view answers 404 either way)."""
    attachment = (
        Attachment.objects.select_related("message")
        .filter(pk=pk, ticket__in=Ticket.objects.visible_to(user).values("pk"))
        .first()
    )
    if attachment is None:
        return None
    if attachment.message.kind == attachment.message.Kind.INTERNAL_NOTE and not access.can_see_notes(user):
        return None
    return attachment
