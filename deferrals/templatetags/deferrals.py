"""``{% load deferrals %}``: the header badge of pending approvals, the deferral panel of the ticket page."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from deferrals import access as deferral_access
from deferrals import selectors as deferral_selectors
from deferrals.forms import DeferralRequestForm
from deferrals.models import DeferralRequest
from sla.selectors import ticket_clock_views
from tickets import access
from tickets.models import Status

register = template.Library()


@register.inclusion_tag("deferrals/_badge.html", takes_context=True)
def deferral_badge(context):
    """A link to the approval inbox with the pending count: for managers and admins, and anyone with requests to
    decide (one query)."""
    request = context.get("request")
    user = context.get("user") or getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    count = deferral_selectors.pending_count(user)
    is_manager = bool(access.roles_of(user) & {access.MANAGER, access.ADMIN}) or user.is_superuser
    return {"show": bool(count) or is_manager, "count": count, "is_manager": is_manager}


@register.inclusion_tag("deferrals/_panel.html", takes_context=True)
def deferral_panel(context, ticket):
    """Internal deadline and SLA due, the pending request, the last decision and the request form."""
    request = context.get("request")
    user = getattr(request, "user", None)
    pending, last = deferral_selectors.panel_requests(ticket)
    enabled = ticket.ticket_type is None or ticket.ticket_type.deferral_enabled
    may_request = bool(user) and ticket.status not in (Status.DONE, Status.CANCELED) and enabled and (
        deferral_access.can_request(user, ticket)
    )
    sla_due = next((v for v in ticket_clock_views(ticket) if v.kind == "resolution"), None)
    needs_cause = (
        pending is not None and pending.automatic and pending.cause_id is None
        and user is not None and user.pk == pending.requested_by_id
    )
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "ticket": ticket,
        "pending": pending,
        "last": last,
        "sla_due": sla_due,
        "enabled": enabled,
        "can_request": may_request and pending is None and ticket.deadline is not None,
        "needs_cause": needs_cause,
        "form": DeferralRequestForm(auto_id="deferral_%s"),
    }


@register.simple_tag
def verdict_pill(status: str):
    try:
        label = DeferralRequest.Status(status).label
    except ValueError:
        label = status
    return format_html('<span class="verdict verdict-{}">{}</span>', status, label)
