"""How channels reacts to the ticket lifecycle (subscribed in ``opsdesk/wiring.py``)."""

from __future__ import annotations

from channels import outbox
from tickets import events


def deliver_reply(event: events.PublicReplyAdded) -> None:
    """Queue the public message in the customer outbox (a logged call is delivered at once)."""
    outbox.queue(event.message, counts_as_response=event.counts_as_response)
