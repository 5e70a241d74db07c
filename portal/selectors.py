"""The ticket lists and the ticket page of the portal: tickets with what their rows show across apps.

Every query starts from ``Ticket.objects.visible_to(user)`` and loads the related rows it renders
up front (SLA clocks, the escalation's urgent mark, agents for the inline assign form), so a page
runs the same number of queries whatever its size.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import F, Prefetch, Q, QuerySet

from routing.queue_order import in_queue_order
from sla.selectors import with_clocks
from tickets import access
from tickets.models import Message, QueueMembership, Status, Ticket, TicketEvent
from tickets.selectors import LIST_RELATED

User = get_user_model()


def _agent_memberships() -> Prefetch:
    return Prefetch(
        "queue__memberships",
        queryset=QueueMembership.objects.filter(role=QueueMembership.Role.AGENT, user__is_active=True)
        .select_related("user__profile")
        .order_by("user__profile__display_name", "user__username"),
        to_attr="agent_memberships",
    )


def ticket_list(user) -> QuerySet:
    """Every ticket ``user`` may see, with what a list row shows (the escalation's urgent mark included)."""
    return with_clocks(
        Ticket.objects.visible_to(user).select_related(*LIST_RELATED)
        .annotate(urgent_since=F("escalation_state__urgent_since"))
    )


def my_work(user) -> QuerySet:
    """Open tickets ``user`` performs or owns."""
    return ticket_list(user).open().filter(Q(performer=user) | Q(owner=user))


def dispatched_queue_ids(user) -> QuerySet:
    return QueueMembership.objects.filter(user=user, role=QueueMembership.Role.DISPATCHER).values("queue_id")


def intake_board(user) -> QuerySet:
    """Open tickets nobody performs yet (or still new), in queue order (``routing.queue_order``).

    Dispatchers see the queues they dispatch; managers and admins everything visible to them.
    Each ticket's queue carries ``agent_memberships`` for the inline assign form.
    """
    tickets = ticket_list(user).open().filter(Q(performer__isnull=True) | Q(status=Status.NEW))
    roles = access.roles_of(user)
    if not (roles & {access.MANAGER, access.ADMIN} or access.sees_everything(user)):
        tickets = tickets.filter(queue_id__in=dispatched_queue_ids(user))
    return in_queue_order(tickets.prefetch_related(_agent_memberships()))


def ticket_detail(user, pk: int) -> Ticket:
    """The ticket page's ticket with its people, conversation and history loaded; DoesNotExist if not visible."""
    ticket = (
        with_clocks(Ticket.objects.visible_to(user))
        .select_related(
            *LIST_RELATED,
            "approver__profile",
            "customer__organisation",
            "related_object",
            "created_by__profile",
            "requester_user__profile",
            "requester_queue",
            "satisfaction_survey__rating",  # the survey and its answer (tickets.satisfaction): no extra query
        )
        .prefetch_related(
            Prefetch("observers", queryset=User.objects.select_related("profile").order_by("username")),
            Prefetch("messages", queryset=Message.objects.select_related("author__profile", "customer")
                     .prefetch_related("attachments")),
            Prefetch("events", queryset=TicketEvent.objects.select_related("actor__profile")),
        )
        .annotate(urgent_since=F("escalation_state__urgent_since"))  # the escalation panel's mark: no query
        .get(pk=pk)
    )
    return access.mark_visible(ticket, user)  # the page's access checks and panels ask again: no query
