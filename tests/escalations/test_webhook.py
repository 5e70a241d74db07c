"""The webhook channel against a real local HTTP server: signed JSON, retries, timeouts."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from datetime import UTC, datetime, timedelta

import time_machine

from notifications import channels, delivery
from notifications.models import Delivery, Urgency
from notifications.service import notify

T0 = datetime(2026, 3, 16, 5, 0, tzinfo=UTC)


def critical(user, **kwargs):
    return notify(
        user, kind="escalation.level_2", urgency=Urgency.CRITICAL, title="SLA breached", body="Act now.", **kwargs
    )


def test_the_webhook_posts_json_signed_with_the_endpoint_secret(
    engineer, ticket, set_prefs, endpoint, receiver, settings
):
    settings.NOTIFY_SITE_URL = "https://desk.example"
    set_prefs(engineer, critical=["in_app", "webhook"], messenger_handle="@aigerim")
    notification = critical(engineer, ticket=ticket)
    assert delivery.deliver_pending()["sent"] == 1

    [request] = receiver.requests
    raw = request["body"]
    expected = "sha256=" + hmac.new(b"s3cret", raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request["headers"]["X-OpsDesk-Signature"], expected)
    assert request["headers"]["Content-Type"].startswith("application/json")
    row = Delivery.objects.get()
    assert request["headers"]["X-OpsDesk-Delivery"] == f"delivery-{row.pk}"
    payload = json.loads(raw)
    assert payload["type"] == "notification"
    assert payload["recipient"] == {"username": "engineer", "messenger": "@aigerim", "language": "en"}
    [item] = payload["notifications"]
    assert item["title"] == "SLA breached" and item["urgency"] == "critical" and item["kind"] == "escalation.level_2"
    assert item["ticket"] == {"id": ticket.pk, "reference": ticket.reference, "title": ticket.title}
    assert item["url"] == f"https://desk.example/notifications/{notification.pk}/open/"
    assert "SLA breached" in payload["text"]
    assert (row.status, row.result) == ("sent", "HTTP 200 from Relay")


def test_a_tampered_body_does_not_match_the_signature():
    body = b'{"title":"x"}'
    assert channels.sign("s3cret", body) != channels.sign("s3cret", body + b" ")
    assert channels.sign("s3cret", body) != channels.sign("other", body)


def test_a_500_is_retried_and_the_next_attempt_delivers(engineer, set_prefs, endpoint, receiver):
    set_prefs(engineer, critical=["in_app", "webhook"], messenger_handle="@aigerim")
    receiver.statuses = [500]
    with time_machine.travel(T0, tick=False) as clock:
        critical(engineer)
        assert delivery.deliver_pending()["retried"] == 1
        row = Delivery.objects.get()
        assert (row.status, row.attempts, row.last_error) == ("pending", 1, "DeliveryError: HTTP 500 from Relay")
        assert row.next_attempt_at == T0 + timedelta(minutes=1)
        clock.shift(timedelta(minutes=1))
        assert delivery.deliver_pending()["sent"] == 1
    assert len(receiver.requests) == 2
    keys = {r["headers"]["X-OpsDesk-Delivery"] for r in receiver.requests}
    assert len(keys) == 1, "the bridge can drop the duplicate by the delivery key"
    assert Delivery.objects.get().status == "sent"


def test_a_client_error_fails_at_once(engineer, set_prefs, endpoint, receiver):
    set_prefs(engineer, critical=["in_app", "webhook"], messenger_handle="@aigerim")
    receiver.statuses = [403]
    critical(engineer)
    assert delivery.deliver_pending()["failed"] == 1
    assert Delivery.objects.get().last_error == "HTTP 403 from Relay"


def test_a_slow_endpoint_times_out_and_is_retried(engineer, set_prefs, endpoint, receiver):
    endpoint.timeout = 1
    endpoint.save()
    receiver.delay = 1.6
    set_prefs(engineer, critical=["in_app", "webhook"], messenger_handle="@aigerim")
    critical(engineer)
    assert delivery.deliver_pending()["retried"] == 1
    row = Delivery.objects.get()
    assert row.status == "pending" and "timed out" in row.last_error


def test_an_unreachable_endpoint_is_retried(engineer, set_prefs, endpoint):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint.url = f"http://127.0.0.1:{port}/hook"
    endpoint.save()
    set_prefs(engineer, critical=["in_app", "webhook"], messenger_handle="@aigerim")
    critical(engineer)
    assert delivery.deliver_pending()["retried"] == 1
    row = Delivery.objects.get()
    assert row.status == "pending" and row.last_error.startswith("DeliveryError: Relay unreachable:"), row.last_error


def test_an_inactive_endpoint_means_not_configured(engineer, set_prefs, endpoint):
    endpoint.is_active = False
    endpoint.save()
    set_prefs(engineer, critical=["in_app", "webhook"], messenger_handle="@aigerim")
    critical(engineer)
    delivery.deliver_pending()
    assert Delivery.objects.get().last_error == "not configured: no active webhook endpoint"
