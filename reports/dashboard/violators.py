"""The dashboard's top violators: the breached clocks with the most overdue time, the customers with most breaches."""

from __future__ import annotations

from django.db.models import Count, F
from django.urls import reverse

from reports import clockfigures
from reports.dashboard.clocks import stopped_clocks
from reports.dashboard.common import Kind, clock_records, duration_text, period_params, ticket_list_url
from reports.dashboard.scoping import as_scope
from reports.selectors import Period
from tickets.models import Ticket


def top_violators(user, period: Period, *, limit: int = 10) -> dict:
    """The breached clocks stopped in the period with the most overdue time, and the customers with most breaches."""
    if clock_records(user, period) is not None:  # the facts hold the same clocks without the joins
        breached = clockfigures.facts_in_scope(as_scope(user)).filter(
            stopped_at__gte=period.start, stopped_at__lt=period.end, met=False
        )
        worst = list(
            breached.annotate(overdue=F("consumed_s") - F("target_s"))
            .values_list("ticket_id", "kind", "overdue")
            .order_by("-overdue", "pk")[:limit]
        )
        customers = [
            {"ticket__customer__name": row["customer__name"], "n": row["n"], "tickets": row["tickets"]}
            for row in breached.values("customer_id", "customer__name")
            .annotate(n=Count("pk"), tickets=Count("ticket_id", distinct=True))
            .order_by("-n", "customer__name")[:limit]
        ]
    else:
        breached = stopped_clocks(user, period.start, period.end).filter(breached_at__isnull=False)
        worst = [
            (c.ticket_id, c.kind, (c.consumed - c.target).total_seconds())
            for c in breached.annotate(overdue=F("consumed") - F("target"))
            .only("ticket_id", "kind", "consumed", "target").order_by("-overdue", "pk")[:limit]
        ]
        customers = list(
            breached.values("ticket__customer_id", "ticket__customer__name")
            .annotate(n=Count("pk"), tickets=Count("ticket_id", distinct=True))
            .order_by("-n", "ticket__customer__name")[:limit]
        )
    titles = Ticket.objects.in_bulk([ticket_id for ticket_id, _kind, _overdue in worst])
    params = period_params(period)
    return {
        "tickets": [
            {"ticket": titles[ticket_id], "kind": str(Kind(kind).label), "overdue": overdue,
             "overdue_text": duration_text(overdue), "url": reverse("tickets:detail", args=[ticket_id])}
            for ticket_id, kind, overdue in worst
        ],
        "customers": [
            {"name": r["ticket__customer__name"], "breaches": r["n"], "tickets": r["tickets"],
             "url": ticket_list_url(customer=r["ticket__customer__name"], sla_result="breached",
                                    sla_clock=Kind.RESOLUTION, **params)}
            for r in customers
        ],
    }
