"""``{% load sla_tags %}``: ``{% sla_badges ticket %}`` for list rows, ``{% sla_panel ticket %}`` for the ticket page.

``sla_badges`` reads ``ticket.sla_clocks.all()``: list views prefetch it with
``sla.selectors.with_clocks(queryset)``, so rows cost no queries. The badges
show the SLA clocks only: lists have a deadline column of their own, so the
deadline clock would only repeat it. The ticket page's panel shows the deadline
clock as its last row, marked as not counted for compliance.
"""

from __future__ import annotations

from django import template
from django.utils import timezone

from sla import selectors
from sla.models import SLAClock

register = template.Library()


@register.inclusion_tag("sla/_clock_badges.html")
def sla_badges(ticket):
    views = selectors.ticket_clock_views(ticket, timezone.now())
    return {"views": [v for v in views if v.kind != SLAClock.Kind.DEADLINE]}


@register.inclusion_tag("sla/_sla_panel.html")
def sla_panel(ticket):
    now = timezone.now()
    clocks = selectors.current_clocks(ticket.sla_clocks.all())
    views = [selectors.clock_view(c, now) for c in clocks]
    policy = next((c.policy for c in clocks if c.kind == "resolution"), None) or (clocks[0].policy if clocks else None)
    calendar = clocks[0].calendar if clocks else None
    return {
        "views": views,
        "policy": policy,
        "calendar": calendar,
        "history": selectors.ticket_sla_history(ticket) if clocks or ticket.sla_clocks.all() else [],
    }


@register.filter
def sla_duration(value):
    """A timedelta as "2 h 15 min"."""
    if value is None:
        return ""
    return selectors.format_duration(value)
