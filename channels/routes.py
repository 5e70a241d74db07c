"""Which way a public message leaves OpsDesk: the customer's own channel (docs/channels.md "Outbound delivery").

* a reply the agent gave by phone (message channel ``phone``) is a **logged call**: delivered at once;
* the intake channel the customer last wrote through has a reply URL: the **gateway** callback
  (messenger bridges, web forms);
* the customer has an email address: **email**;
* otherwise nothing can carry it (the portal refuses such a reply and offers the logged call).
"""

from __future__ import annotations

from channels.models import Route
from tickets.models import Channel, IntakeChannel, Message, Ticket


def last_inbound(ticket: Ticket) -> Message | None:
    """The customer's latest message on ``ticket`` (with its intake channel), if any."""
    return (
        Message.objects.filter(ticket=ticket, kind=Message.Kind.INBOUND)
        .select_related("intake_channel")
        .order_by("-created_at", "-pk")
        .first()
    )


def gateway_of(inbound: Message | None) -> IntakeChannel | None:
    """The intake channel that takes replies by callback, when the customer wrote through one."""
    channel = inbound.intake_channel if inbound is not None else None
    if channel is not None and channel.is_active and channel.reply_url and channel.reply_secret:
        return channel
    return None


def route_for(ticket: Ticket, *, message_channel: str = "", inbound: Message | None = None) -> str:
    """The route of a public message on ``ticket`` (a ``Route`` value)."""
    if message_channel == Channel.PHONE:
        return Route.PHONE
    if gateway_of(inbound if inbound is not None else last_inbound(ticket)) is not None:
        return Route.GATEWAY
    if ticket.customer.email:
        return Route.EMAIL
    return Route.NONE


def reply_route(ticket: Ticket) -> str:
    """How a public reply on the ticket would reach its customer (``email``, ``gateway``), or "" when nothing can."""
    route = route_for(ticket)
    return "" if route == Route.NONE else str(route)
