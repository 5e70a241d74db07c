"""Shared by the intake API tests (tests/tickets/test_intake*.py): a gateway with its token, posting a message,
a valid payload, the row counts a refusal must leave alone."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.urls import reverse

from tickets.models import Channel, Customer, IntakeChannel, Message, RelatedObject, Ticket, TicketEvent


@dataclass
class Gateway:
    channel: IntakeChannel
    token: str


def make_gateway(name, queue, kind=Channel.EMAIL, **fields) -> Gateway:
    channel = IntakeChannel(name=name, channel=kind, default_queue=queue, **fields)
    token = channel.set_token()
    channel.save()
    return Gateway(channel, token)


def url():
    return reverse("api:intake_message")


def send(client, token, payload, content_type="application/json", **extra):
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    if token is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.post(url(), data=body, content_type=content_type, **extra)


def message(**overrides):
    payload = {
        "message_id": "<m1@mail.client.example>",
        "customer": {"name": "Anna Ivanova", "email": "anna@client.example", "language": "en"},
        "subject": "Printer jams on page two",
        "body": "Hello, the printer jams again.",
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def counts():
    return {
        "customers": Customer.objects.count(),
        "tickets": Ticket.objects.count(),
        "messages": Message.objects.count(),
        "events": TicketEvent.objects.count(),
        "related": RelatedObject.objects.count(),
    }


def assert_refused(response, status, code, before):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert counts() == before
    return error
