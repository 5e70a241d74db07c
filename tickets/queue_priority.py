"""The VIP queue priority on the tickets: the queue order's first key, copied from the customer's tier.

``Ticket.vip_queue_priority`` is the customer's tier's ``queue_priority`` (routing.queue_order sorts on it), copied
onto the ticket so that an index orders the waiting tickets. The two functions here are its only writers: a new
ticket takes :func:`queue_priority_of` its customer, and every change of a customer's tier (``routing.vip``, the
organisation's contacts in ``tickets.organisations``) or of a tier's priority or existence (the tier admin) calls
:func:`refresh_queue_priority`. ``tests/tickets/test_queue_priority.py`` checks each of them against the join.
"""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from tickets.models import NO_TIER_PRIORITY, Customer, Ticket, VipTier


def queue_priority_of(customer: Customer) -> int:
    """The VIP queue priority a new ticket of ``customer`` carries (``NO_TIER_PRIORITY`` without a tier)."""
    if customer.vip_tier_id is None:
        return NO_TIER_PRIORITY
    return customer.vip_tier.queue_priority


def refresh_queue_priority(*, customers: QuerySet | list[int] | None = None, tier: VipTier | None = None) -> int:
    """Copy the current tier priority onto every ticket of ``customers`` (ids or a queryset), or of the customers
    of ``tier``; returns the number of tickets written. Closed tickets too: a reopened one must not carry an old
    priority. One ``UPDATE`` (its rows' ``updated_at`` stays: nothing a person did changed)."""
    tickets = Ticket.objects.all()
    if customers is not None:
        tickets = tickets.filter(customer__in=customers)
    if tier is not None:
        tickets = tickets.filter(customer__vip_tier=tier)
    priority = Subquery(
        Customer.objects.filter(pk=OuterRef("customer_id")).order_by().values("vip_tier__queue_priority")[:1]
    )
    return tickets.update(vip_queue_priority=Coalesce(priority, Value(NO_TIER_PRIORITY)))
