"""Which SLA policy applies to a ticket.

The first active policy by precedence whose non-empty conditions (queue, ticket type, priority,
the customer's VIP tier) all hold; none means the ticket has no SLA. ``sla.lifecycle`` matches
when clocks start, when triage or a VIP tier changes (re-matching), and in the backfill, which
reads :func:`active_policies` once for the whole batch.
"""

from __future__ import annotations

from sla.models import SLAPolicy
from tickets.models import Customer, Ticket


def active_policies() -> list[SLAPolicy]:
    """The active policies in precedence order, with their calendars."""
    return list(SLAPolicy.objects.filter(is_active=True).select_related("calendar").order_by("precedence"))


def policy_match(ticket: Ticket, policies: list[SLAPolicy] | None = None) -> SLAPolicy | None:
    """The first active policy, by precedence, whose non-empty conditions all hold; ``None``: no SLA."""
    if policies is None:
        policies = active_policies()
    if not policies:
        return None
    customer = ticket.customer if Ticket.customer.is_cached(ticket) else None
    vip_tier_id = (
        customer.vip_tier_id
        if customer is not None
        else Customer.objects.filter(pk=ticket.customer_id).values_list("vip_tier_id", flat=True).first()
    )
    for policy in policies:
        if policy.matches(
            queue_id=ticket.queue_id,
            ticket_type_id=ticket.ticket_type_id,
            priority=ticket.priority,
            vip_tier_id=vip_tier_id,
        ):
            return policy
    return None
