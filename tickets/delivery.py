"""Where a public message stands on its way to the customer: the one writer of a message's delivery fields.

``channels`` (the customer outbox, docs/channels.md "Outbound delivery") sends; it reports here what
happened, and ``Message.delivery_status`` / ``sent_at`` / ``delivery_error`` mirror the outbox row.
Delivery is what answers the customer: ``message_delivered`` stamps the ticket's first public reply,
records ``ticket.reply_delivered`` and publishes ``PublicMessageDelivered`` (the SLA stops the
first-response and next-reply clocks at the sending instant).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from core.locks import lock
from tickets import events
from tickets.history import record
from tickets.models import DeliveryStatus, Message

MAX_ERROR = 2000


@transaction.atomic
def message_delivered(
    message: Message, *, at: datetime, route: str, counts_as_response: bool = True, mail_message_id: str = ""
) -> bool:
    """The customer's channel took ``message`` at ``at`` (SMTP accepted, gateway 2xx, a logged call).

    Returns ``False`` (changing nothing) when it was recorded as delivered already.
    """
    ticket = message.ticket
    lock(ticket)
    if Message.objects.filter(pk=message.pk, delivery_status=DeliveryStatus.SENT).exists():
        return False
    message.delivery_status = DeliveryStatus.SENT
    message.sent_at = at
    message.delivery_error = ""
    fields = ["delivery_status", "sent_at", "delivery_error"]
    if mail_message_id:
        message.mail_message_id = mail_message_id[:255]
        fields.append("mail_message_id")
    message.save(update_fields=fields)
    first = counts_as_response and ticket.first_public_reply_at is None
    if first:
        ticket.first_public_reply_at = at
        ticket.save(update_fields=["first_public_reply_at", "updated_at"])
    delay = max(0, round((at - message.created_at).total_seconds()))
    record(
        ticket,
        "ticket.reply_delivered",
        None,
        at=at,
        message=message.pk,
        route=route,
        first=first,
        delay=delay,
        **({} if counts_as_response else {"automatic": True}),
    )
    if counts_as_response:
        events.publish(
            events.PublicMessageDelivered(ticket=ticket, actor=message.author, at=at, message=message, first=first)
        )
    return True


@transaction.atomic
def message_delivery_failed(message: Message, *, error: str, route: str) -> None:
    """No attempt is left (or the channel refused it for good): the message did not reach the customer."""
    error = (error or "")[:MAX_ERROR]
    updated = (
        Message.objects.filter(pk=message.pk)
        .exclude(delivery_status=DeliveryStatus.SENT)
        .update(delivery_status=DeliveryStatus.FAILED, delivery_error=error)
    )
    if updated:
        message.delivery_status, message.delivery_error = DeliveryStatus.FAILED, error
        record(message.ticket_id, "ticket.reply_failed", None, message=message.pk, route=route, error=error)


def message_delivery_retrying(message: Message, *, error: str = "") -> None:
    """Back to "sending": a retry is due (``error``: why the last attempt failed, shown meanwhile)."""
    Message.objects.filter(pk=message.pk).exclude(delivery_status=DeliveryStatus.SENT).update(
        delivery_status=DeliveryStatus.SENDING, delivery_error=(error or "")[:MAX_ERROR]
    )
    message.delivery_status, message.delivery_error = DeliveryStatus.SENDING, (error or "")[:MAX_ERROR]
