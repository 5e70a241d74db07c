"""Waiting segments: :func:`record` runs on every status or reason change (``opsdesk/wiring.py``).

Entering "waiting" opens a segment with the blocking reason; leaving it, or changing the
reason, closes the open one (measuring its business time) and opens the next. Time "on
approval" is a segment too, with the catalogue's reserved "approval" reason
(``tickets.catalogue.APPROVAL_REASON``), so the delay report shows how long approvals take.
Called inside the lifecycle service's transaction, so a segment and the status change commit
together.
"""

from __future__ import annotations

from datetime import datetime

from sla.models import SLAClock
from tickets.catalogue import APPROVAL_REASON
from tickets.models import BlockingReason, Status, TicketEvent, WaitSegment


def business_seconds(ticket_id: int, start: datetime, end: datetime) -> float:
    """Business time between two instants on the calendar of the ticket's resolution clock (else calendar time)."""
    clock = (
        SLAClock.objects.filter(ticket_id=ticket_id, kind=SLAClock.Kind.RESOLUTION)
        .select_related("calendar")
        .only("calendar")
        .first()
    )
    if end <= start:
        return 0.0
    if clock is None:
        return (end - start).total_seconds()
    return clock.calendar.work_calendar().between(start, end).total_seconds()


def record(ticket, *, at: datetime) -> None:
    """Bring the ticket's segments in line with its (in-memory) status and blocking reason at ``at``."""
    reason_id = _reason_id(ticket)
    waiting = reason_id is not None
    current = WaitSegment.objects.filter(ticket_id=ticket.pk, ended_at__isnull=True).first()
    if current is not None and waiting and current.reason_id == reason_id:
        return
    if current is not None:
        current.ended_at = max(at, current.started_at)
        current.business_seconds = business_seconds(ticket.pk, current.started_at, current.ended_at)
        current.save(update_fields=["ended_at", "business_seconds"])
    if waiting:
        WaitSegment.objects.create(
            ticket_id=ticket.pk, reason_id=reason_id, queue_id=ticket.queue_id,
            customer_id=ticket.customer_id, started_at=at,
        )


def _reason_id(ticket) -> int | None:
    """What the ticket waits for now: its blocking reason while waiting, the approval reason while on approval."""
    if ticket.status == Status.WAITING:
        return ticket.blocking_reason_id
    if ticket.status == Status.ON_APPROVAL:
        return BlockingReason.objects.filter(code=APPROVAL_REASON[0]).values_list("pk", flat=True).first()
    return None


def backfill_waits(queryset, *, now: datetime) -> int:
    """Waiting segments, from their history, for the tickets of ``queryset`` that have none; returns how many.

    For bulk-seeded data (the demo writes history rows, not segments): every ``ticket.status_changed``
    into waiting opens a segment with its reason, a ``ticket.reason_changed`` switches it, leaving
    waiting closes it (measured on the calendar of the ticket's resolution clock, as :func:`record`
    measures). A ticket still waiting keeps its last segment open. Queue and customer are the
    ticket's current ones.
    """
    reasons = dict(BlockingReason.objects.values_list("code", "pk"))
    tickets = {t.pk: t for t in queryset.filter(wait_segments__isnull=True).only("pk", "queue_id", "customer_id")}
    if not tickets:
        return 0
    calendars = {
        clock.ticket_id: clock.calendar.work_calendar()
        for clock in SLAClock.objects.filter(ticket_id__in=tickets, kind=SLAClock.Kind.RESOLUTION).select_related(
            "calendar")
    }
    rows = (TicketEvent.objects.filter(ticket_id__in=tickets, kind__in=("ticket.status_changed",
                                                                         "ticket.reason_changed"))
            .order_by("ticket_id", "created_at", "pk").values_list("ticket_id", "kind", "data", "created_at"))
    segments: list[WaitSegment] = []
    open_by_ticket: dict[int, WaitSegment] = {}

    def close(segment: WaitSegment, at: datetime) -> None:
        segment.ended_at = max(at, segment.started_at)
        calendar = calendars.get(segment.ticket_id)
        span = segment.ended_at - segment.started_at
        segment.business_seconds = (calendar.between(segment.started_at, segment.ended_at) if calendar
                                    else span).total_seconds()

    for ticket_id, kind, data, at in rows.iterator(chunk_size=2000):
        current = open_by_ticket.pop(ticket_id, None)
        entered = kind == "ticket.reason_changed" or data.get("to") == Status.WAITING
        waiting = entered and data.get("reason") in reasons
        if current is not None:
            close(current, at)
        if waiting and at <= now:
            ticket = tickets[ticket_id]
            segment = WaitSegment(ticket_id=ticket_id, reason_id=reasons[data["reason"]], queue_id=ticket.queue_id,
                                  customer_id=ticket.customer_id, started_at=at)
            segments.append(segment)
            open_by_ticket[ticket_id] = segment
    WaitSegment.objects.bulk_create(segments, batch_size=1000)
    return len(segments)
