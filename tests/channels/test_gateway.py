"""Replies through a gateway's callback (a local http.server): signed, retried on 5xx and timeouts, 4xx final."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import time_machine

from channels import outbox
from channels.models import OutboundMessage
from tests.factories import CustomerFactory, IntakeChannelFactory
from tickets import services
from tickets.attachments import IncomingFile
from tickets.models import Channel, DeliveryStatus, TicketEvent

T0 = datetime(2027, 3, 2, 6, 0, tzinfo=UTC)
SECRET = "s3cret-shared-with-the-bridge"


@pytest.fixture
def messenger_ticket(db, gateway, queue, dispatcher, engineer):
    bridge = IntakeChannelFactory(
        name="Telegram bridge",
        channel=Channel.MESSENGER,
        default_queue=queue,
        reply_url=gateway.url,
        reply_secret=SECRET,
    )
    customer = CustomerFactory(name="Dana", email="", phone="+77011234567", language="en")
    ticket = services.ticket_create(
        actor=None,
        title="Order 1042",
        customer=customer,
        queue=queue,
        description="Where is my order?",
        channel=Channel.MESSENGER,
        intake_channel=bridge,
        external_id="tg-chat-77:msg-9",
    )
    services.ticket_assign(ticket, performer=engineer, actor=dispatcher)
    return ticket


def verify(secret: str, request: dict) -> bool:
    """What a bridge does (docs/api.md): HMAC-SHA256 of "<timestamp>.<raw body>", compared in constant time."""
    timestamp = request["headers"]["x-opsdesk-timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + request["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(request["headers"]["x-opsdesk-signature"], f"sha256={expected}")


def test_the_reply_is_posted_signed_with_the_customer_and_the_conversation(gateway, messenger_ticket, engineer):
    reply = services.ticket_reply(messenger_ticket, body="It ships today", actor=engineer)
    assert outbox.deliver_pending() == {"sent": 1, "failed": 0, "retrying": 0}

    [request] = gateway.requests
    assert verify(SECRET, request)
    assert not verify("another secret", request)
    tampered = {**request, "body": request["body"].replace(b"today", b"never")}
    assert not verify(SECRET, tampered)
    payload = json.loads(request["body"])
    assert payload["ticket"]["id"] == messenger_ticket.pk
    assert payload["customer"]["phone"] == "+77011234567"
    assert payload["conversation"] == {"in_reply_to": "tg-chat-77:msg-9"}
    assert payload["message"]["body"] == "It ships today" and payload["attachments"] == []
    assert request["headers"]["x-opsdesk-delivery"] == payload["delivery"]
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT
    assert TicketEvent.objects.filter(kind="ticket.reply_delivered", data__route="gateway").exists()


def test_5xx_and_timeouts_are_retried_and_the_reply_is_delivered_once(gateway, messenger_ticket, engineer, settings):
    settings.CHANNELS_GATEWAY_TIMEOUT = 1
    gateway.script = [503, "hang", 200]
    with time_machine.travel(T0, tick=False) as clock:
        reply = services.ticket_reply(messenger_ticket, body="On it", actor=engineer)
        assert outbox.deliver_pending()["retrying"] == 1  # 503
        reply.refresh_from_db()
        assert reply.delivery_status == DeliveryStatus.SENDING and "HTTP 503" in reply.delivery_error
        clock.shift(timedelta(minutes=1))
        assert outbox.deliver_pending()["retrying"] == 1  # timed out
        clock.shift(timedelta(minutes=5))
        assert outbox.deliver_pending()["sent"] == 1
        clock.shift(timedelta(hours=1))
        assert outbox.deliver_pending() == {"sent": 0, "failed": 0, "retrying": 0}
    assert len(gateway.requests) == 3
    assert OutboundMessage.objects.get(message=reply).status == OutboundMessage.Status.SENT


def test_a_4xx_is_final_and_the_performer_is_told(gateway, messenger_ticket, engineer):
    gateway.script = [410]
    reply = services.ticket_reply(messenger_ticket, body="Hello?", actor=engineer)
    assert outbox.deliver_pending() == {"sent": 0, "failed": 1, "retrying": 0}
    assert outbox.deliver_pending() == {"sent": 0, "failed": 0, "retrying": 0}
    assert len(gateway.requests) == 1
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED and "HTTP 410" in reply.delivery_error
    assert engineer.notifications.filter(kind="channels.delivery_failed").count() == 1


def test_attachments_travel_as_signed_expiring_links_the_bridge_can_fetch(gateway, messenger_ticket, engineer, client):
    services.ticket_reply(messenger_ticket, body="The invoice", actor=engineer,
                          attachments=[IncomingFile("счёт.pdf", "application/pdf", b"%PDF-1.4 invoice")])
    assert outbox.deliver_pending()["sent"] == 1
    [request] = gateway.requests
    [link] = json.loads(request["body"])["attachments"]
    assert link["filename"] == "счёт.pdf" and link["size"] == 16
    response = client.get(urlsplit(link["url"]).path)  # no login: the signature is the permission
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 invoice"
    assert client.get(urlsplit(link["url"]).path[:-3] + "xx/").status_code == 404
