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
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from core.formatting import format_dt
from sla import selectors
from sla.models import SLAClock

register = template.Library()


@register.simple_tag
def sla_badges(ticket, now=None) -> SafeString:
    """The SLA badges of a list row, built in Python (tables call it once per row; no template per cell)."""
    views = selectors.ticket_clock_views(ticket, now or timezone.now())
    return badges_html([v for v in views if v.kind != SLAClock.Kind.DEADLINE])


def _seconds(value) -> int:
    return int(value.total_seconds()) if value is not None else 0


def _badge(v) -> SafeString:
    classes = f"sla-badge sla-{v.colour}" + (" sla-is-paused" if v.paused else " sla-is-stopped" if v.stopped else "")
    title = v.summary + (f" · {_('due')} {format_dt(v.due_at)}" if v.due_at else "")
    data = ""
    if v.due_iso:
        data = format_html(
            ' data-sla-due="{}" data-sla-left="{}" data-sla-over="{}" data-sla-target="{}"{}', v.due_iso,
            _seconds(v.remaining), _seconds(v.overdue), _seconds(v.target),
            mark_safe(' data-sla-breached="1"') if v.breached else "",
        )
    if v.overdue:
        time_text = "−" + v.overdue_text
    elif v.stopped:
        time_text = "✓"
    else:
        time_text = v.remaining_text
    paused = ""
    if v.paused:
        mark = _("paused: %(reason)s") % {"reason": v.pause_reason} if v.pause_reason else _("paused")
        paused = format_html(' <span class="sla-paused-mark">{}</span>', mark)
    return format_html(
        '<span class="{}" title="{}"{}><abbr title="{}">{}</abbr> <span class="sla-time">{}</span>{}</span>',
        classes, title, data, v.label, v.short_label, time_text, paused,
    )


def badges_html(views) -> SafeString:
    """The markup of ``sla/_clock_badges.html`` for these clock views (kept as the reference of the markup)."""
    if not views:
        return format_html('<span class="sla-badges"><span class="sla-badge sla-none">{}</span></span>', _("No SLA"))
    return format_html('<span class="sla-badges">{}</span>', format_html_join("", "{}", ((_badge(v),) for v in views)))


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
