"""``{% inbox_badge %}``: the header link to the inbox with the unread count (one query)."""

from __future__ import annotations

from django import template

from notifications import service

register = template.Library()


@register.inclusion_tag("escalations/_inbox_badge.html", takes_context=True)
def inbox_badge(context):
    request = context.get("request")
    user = context.get("user") or getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    count = getattr(request, "_opsdesk_unread_count", None) if request is not None else None
    if count is None:
        count = service.unread_count(user)
        if request is not None:
            request._opsdesk_unread_count = count
    return {"show": True, "count": count}
