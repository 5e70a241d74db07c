"""The "Take next" panel of pull queues on the agent's desk."""

from __future__ import annotations

from django import template

from core.formatting import format_duration
from routing import assignment
from routing.queue_order import waiting
from tickets.models import QueueMembership, RoutingStrategy

register = template.Library()


@register.inclusion_tag("routing/_take_next.html", takes_context=True)
def pull_queues(context):
    """For each pull queue the user is an agent of: how many wait and the ticket "Take next" would give."""
    request = context.get("request")
    user = getattr(request, "user", None)
    panels = []
    if user is not None and user.is_authenticated:
        memberships = QueueMembership.objects.filter(
            user=user, role=QueueMembership.Role.AGENT, queue__strategy=RoutingStrategy.PULL, queue__is_active=True
        ).select_related("queue")
        for membership in memberships:
            queue = membership.queue
            panels.append({
                "queue": queue,
                "waiting": waiting().filter(queue=queue).count(),
                "next": assignment.next_for(user, queue),
            })
    return {"panels": panels, "request": request, "csrf_token": context.get("csrf_token")}


@register.filter
def qm_duration(value) -> str:
    """A wait as "2 h 15 min" (wall-clock time)."""
    return format_duration(value) if value is not None else "—"
