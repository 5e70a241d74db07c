"""A customer's tickets as the portal shows them: the ticket page's "other tickets" panel and the customer page.

Every query starts from ``Ticket.objects.visible_to(viewer)``: nobody sees a ticket they could not
open, nor counts it. Open tickets come first, then the newest. SLA clocks are prefetched
(``sla.selectors.with_clocks``) so each row's SLA state costs no query of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from sla.models import SLAClock
from sla.selectors import attach_clocks, with_clocks
from tickets.models import OPEN_STATUSES, Customer, Ticket, TicketKind, closed_rank
from tickets.satisfaction import Summary, satisfaction_summary
from tickets.selectors import LIST_RELATED

OTHER_TICKETS_SHOWN = 10
MONTHS_SHOWN = 12
BREACH_KINDS = (SLAClock.Kind.FIRST_RESPONSE, SLAClock.Kind.RESOLUTION)  # as the SLA report counts compliance


def open_first(tickets: QuerySet) -> QuerySet:
    """Open tickets first, then the newest: the order of the index ``ticket_customer_open_first``."""
    return tickets.annotate(closed_rank=closed_rank()).order_by("closed_rank", "-created_at", "-pk")


def other_tickets(ticket: Ticket, viewer) -> list[Ticket]:
    """The customer's and its organisation's other tickets ``viewer`` may open, open first, capped (1–2 queries)."""
    if ticket.is_internal or not ticket.customer_id:
        return []
    same = Q(customer_id=ticket.customer_id)
    organisation_id = ticket.customer.organisation_id
    if organisation_id is not None:
        same |= Q(customer__organisation_id=organisation_id)
    tickets = (
        Ticket.objects.visible_to(viewer)
        .filter(same, kind=TicketKind.CUSTOMER)
        .exclude(pk=ticket.pk)
        .select_related("customer")  # what the panel (tickets/_organisation_tickets.html) draws besides the clocks
    )
    shown = list(open_first(tickets)[:OTHER_TICKETS_SHOWN])
    attach_clocks([other for other in shown if other.is_open])  # the panel draws SLA badges of open tickets only
    return shown


def customer_tickets(customer: Customer, viewer) -> QuerySet:
    """Every ticket of ``customer`` that ``viewer`` may open, open first, with what a row shows."""
    tickets = Ticket.objects.visible_to(viewer).filter(customer=customer, kind=TicketKind.CUSTOMER)
    return with_clocks(open_first(tickets.select_related(*LIST_RELATED)))


@dataclass(frozen=True)
class Month:
    month: date
    created: int
    closed: int


@dataclass(frozen=True)
class CustomerTotals:
    total: int
    open: int
    breached: int
    months: list[Month]
    satisfaction: Summary | None  # ``satisfaction(tickets)``: None while no answer is recorded


def _months(tickets: QuerySet, now: datetime) -> list[Month]:
    """Tickets created (and of those, closed) per month of the current time zone, the last ``MONTHS_SHOWN``."""
    local = timezone.localtime(now)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for _step in range(MONTHS_SHOWN - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    rows = (
        tickets.filter(created_at__gte=first)
        .order_by()
        .annotate(month=TruncMonth("created_at", tzinfo=timezone.get_current_timezone()))
        .values("month")
        .annotate(created=Count("pk"), closed=Count("pk", filter=~Q(status__in=OPEN_STATUSES)))
    )
    by_month = {row["month"].date() if isinstance(row["month"], datetime) else row["month"]: row for row in rows}
    months, cursor = [], first.date()
    for _step in range(MONTHS_SHOWN):
        row = by_month.get(cursor, {})
        months.append(Month(cursor, row.get("created", 0), row.get("closed", 0)))
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    return list(reversed(months))


def satisfaction(tickets: QuerySet):
    """The customers' answers to the satisfaction survey over ``tickets`` (one query): a
    ``tickets.satisfaction.Summary``, or None while none of these tickets has an answer (the page says so
    and never makes a figure up)."""
    summary = satisfaction_summary(tickets)
    return summary if summary.total else None


def customer_totals(customer: Customer, viewer, now: datetime | None = None) -> CustomerTotals:
    """Totals of the tickets of ``customer`` that ``viewer`` may open (three queries)."""
    now = now or timezone.now()
    tickets = Ticket.objects.visible_to(viewer).filter(customer=customer, kind=TicketKind.CUSTOMER)
    counts = tickets.aggregate(total=Count("pk"), open=Count("pk", filter=Q(status__in=OPEN_STATUSES)))
    breached = (
        tickets.filter(
            sla_clocks__kind__in=BREACH_KINDS,
            sla_clocks__counts_for_compliance=True,
            sla_clocks__breached_at__isnull=False,
        )
        .distinct()
        .count()
    )
    return CustomerTotals(counts["total"], counts["open"], breached, _months(tickets, now), satisfaction(tickets))
