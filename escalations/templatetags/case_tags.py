"""``{% ticket_cases ticket as tc %}``: the escalation cases a ticket belongs to, for the ticket page."""

from __future__ import annotations

from django import template

from escalations import access as case_access
from escalations import case_selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def ticket_cases(context, ticket) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    found = case_selectors.ticket_cases(ticket)
    visible = set()
    if found and user is not None:
        visible = set(case_access.visible_cases(user).filter(pk__in=[c.pk for c in found]).values_list("pk", flat=True))
    return {"cases": found, "visible": visible, "can_open": user is not None and case_access.can_open_case(user)}


@register.simple_tag(takes_context=True)
def may_open_case(context) -> bool:
    """Whether the viewer may open an escalation case (for the dashboard's button)."""
    user = context.get("user")
    return bool(user is not None and user.is_authenticated and case_access.can_open_case(user))
