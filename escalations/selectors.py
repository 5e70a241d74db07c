"""Escalation reads: the ticket page's escalation panel, and counts for reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import router
from django.db.models import Count, Min

from core.rowcache import Precompiled
from escalations.models import EscalationLevel, Firing, ManualEscalation, TicketEscalationState
from sla.models import SLAClock
from tickets.selectors import load_people


@dataclass(frozen=True)
class TicketEscalations:
    urgent_since: datetime | None
    firings: list[Firing]
    manual: list[ManualEscalation]
    next_at: datetime | None


def _loaded_clocks(ticket) -> list[SLAClock] | None:
    """The ticket's SLA clocks when its queryset prefetched them (``sla.selectors.with_clocks``), else None."""
    cache = getattr(ticket, "_prefetched_objects_cache", None) or {}
    clocks = cache.get("sla_clocks")
    return None if clocks is None else list(clocks)


PANEL_LIMIT = 5  # the latest escalations of each kind the ticket page shows


def ticket_escalations(ticket) -> TicketEscalations:
    """The urgent mark, the latest automatic firings and manual escalations (``PANEL_LIMIT`` of each, by statements
    compiled once per process), and the next escalation.

    A ticket read with its urgent mark annotated (``urgent_since``, as the portal's lists and ticket page read
    it) and its clocks prefetched answers those two from memory: no query of its own for them."""
    if hasattr(ticket, "urgent_since"):
        state = ticket.urgent_since
    else:
        state = TicketEscalationState.objects.filter(ticket=ticket).values_list("urgent_since", flat=True).first()
    firings = _FIRINGS.objects(ticket.pk, using=router.db_for_read(Firing))
    manual = _MANUAL.objects(ticket.pk, using=router.db_for_read(ManualEscalation))
    load_people(manual, "actor", "to_user")  # usually none: no query then
    clocks = _loaded_clocks(ticket)
    if clocks is not None:
        due = [c.next_escalation_at for c in clocks if c.state == SLAClock.State.RUNNING and c.next_escalation_at]
        next_at = min(due, default=None)
    else:
        next_at = SLAClock.objects.filter(ticket=ticket, state=SLAClock.State.RUNNING).aggregate(
            at=Min("next_escalation_at")
        )["at"]
    return TicketEscalations(urgent_since=state, firings=firings, manual=manual, next_at=next_at)


# A ticket's automatic escalations that acted (not the seeded ones) and its manual ones, newest first. The ticket id
# stands in while the SQL is compiled: no ticket has it.
_FIRINGS = Precompiled(
    lambda ticket_id: (
        Firing.objects.filter(ticket_id=ticket_id, acted=True)
        .exclude(data__has_key="seeded")
        .select_related("level")
        .order_by("-fired_at", "-id")[:PANEL_LIMIT]
    ),
    -7_100_701,
)
_MANUAL = Precompiled(
    lambda ticket_id: (
        ManualEscalation.objects.filter(ticket_id=ticket_id)
        .select_related("to_queue")
        .order_by("-created_at", "-id")[:PANEL_LIMIT]
    ),
    -7_100_701,
)


def _per_level_name(rows) -> dict[str, int]:
    """``{level name: firings}`` sorted by name; names as the reader sees them (derived ones in their language)."""
    rows = list(rows)
    levels = EscalationLevel.objects.in_bulk([row["level"] for row in rows])
    counts: dict[str, int] = {}
    for row in rows:
        name = levels[row["level"]].display_name
        counts[name] = counts.get(name, 0) + row["n"]
    return dict(sorted(counts.items()))


def escalation_counts(start: datetime, end: datetime) -> dict:
    """Escalations in ``[start, end)``: automatic firings per level name, manual ones per kind."""
    automatic = (
        Firing.objects.filter(fired_at__gte=start, fired_at__lt=end, acted=True)
        .exclude(data__has_key="seeded")
        .values("level")
        .annotate(n=Count("id"))
        .order_by()
    )
    manual = (
        ManualEscalation.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("kind")
        .annotate(n=Count("id"))
        .order_by("kind")
    )
    return {
        "automatic": _per_level_name(automatic),
        "manual": {row["kind"]: row["n"] for row in manual},
    }
