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
from django.utils.translation import gettext as _

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
        "sending_delay": selectors.first_reply_sending_delay(ticket) if clocks else None,
    }


@register.filter
def sla_seconds(value):
    """A timedelta as whole seconds, for the countdown's data attributes."""
    return int(value.total_seconds()) if value is not None else 0


@register.simple_tag
def sla_countdown_config():
    """The unit words and colour thresholds the countdown script (static/js/sla-countdown.js) formats with.

    The same translated strings as ``core.formatting.format_duration``, so the browser's text matches the
    server's in either language."""
    return {
        "zero": _("0 min"),
        "hm": _("%(hours)d h %(minutes)d min"),
        "h": _("%(hours)d h"),
        "m": _("%(minutes)d min"),
        "less": _("less than a minute"),
        "yellow": selectors.YELLOW_FROM,
        "orange": selectors.ORANGE_FROM,
    }


@register.filter
def sla_duration(value):
    """A timedelta as "2 h 15 min"."""
    if value is None:
        return ""
    return selectors.format_duration(value)
