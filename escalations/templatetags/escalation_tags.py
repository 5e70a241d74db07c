"""``{% ticket_escalation ticket as esc %}``: what the ticket page's escalation panel shows."""

from __future__ import annotations

from django import template

from escalations import selectors, services
from escalations.manual_forms import FunctionalEscalationForm, HierarchicalEscalationForm
from tickets import access

register = template.Library()


@register.simple_tag(takes_context=True)
def ticket_escalation(context, ticket) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    data = {"info": selectors.ticket_escalations(ticket), "can_escalate": False}
    if user is not None and user.is_authenticated and ticket.is_open and access.can_work(user, ticket):
        data.update(
            can_escalate=True,
            functional_form=FunctionalEscalationForm(ticket=ticket),
            hierarchical_form=HierarchicalEscalationForm(),
            target=services.escalation_target(ticket, user),
        )
    return data
