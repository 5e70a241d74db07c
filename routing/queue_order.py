"""The queue order: which waiting ticket comes first, the one definition used everywhere.

``in_queue_order(tickets)``: VIP tier queue priority, then time left to the SLA breach, then priority, then
age. ``waiting(tickets)``: new and nobody performs them. Routing offers queued work in this order
(``routing.assignment``), "Take next" pulls in it, the intake board lists in it (``portal.selectors``) and the
queue monitor counts the waiting tickets (``routing.queue_monitor``).
"""

from __future__ import annotations

from django.db import connections
from django.db.models import F, OuterRef, QuerySet, Subquery

from tickets.models import Customer, Status, Ticket


def in_queue_order(tickets: QuerySet) -> QuerySet:
    """``tickets`` in queue order: VIP queue priority desc, earliest running SLA due first (none last),
    priority desc, oldest first."""
    vip = F("customer__vip_tier__queue_priority")
    if connections[tickets.db].vendor == "sqlite":
        # The same value read per ticket: joined instead, SQLite's planner walks every customer first and each
        # one's tickets after (28 ms for the intake board at 100,000 tickets, 6 ms this way); PostgreSQL hashes
        # the join, cheaper than a lookup per waiting ticket.
        vip = Subquery(
            Customer.objects.filter(pk=OuterRef("customer_id")).order_by().values("vip_tier__queue_priority")[:1]
        )
    # The earliest running SLA clock's due instant, stored on the ticket by the SLA (``sla.clocks.store_next_due``):
    # a column of the intake's index, not a subquery per waiting ticket (10,000 lookups at 1,000,000 tickets).
    return tickets.annotate(queue_vip=vip, queue_due=F("sla_next_due")).order_by(
        F("queue_vip").desc(nulls_last=True),
        F("queue_due").asc(nulls_last=True),
        "-priority",
        "created_at",
        "pk",
    )


def waiting(queryset: QuerySet | None = None) -> QuerySet:
    """Tickets waiting in their queue: new and nobody performs them."""
    return (queryset if queryset is not None else Ticket.objects.all()).filter(
        status=Status.NEW, performer__isnull=True
    )
