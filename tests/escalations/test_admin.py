"""Admin: delivery status with filters and errors, and the retry action."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notifications import delivery
from notifications.models import Delivery, Urgency, WebhookEndpoint
from notifications.service import notify
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def failed_and_skipped(engineer):
    notify(engineer, kind="t", urgency=Urgency.CRITICAL, title="Breach", body="")
    delivery.deliver_pending()  # email sent, sms and webhook skipped (not configured)
    return Delivery.objects.filter(status="skipped")


def test_admins_see_delivery_status_with_filters_and_the_reason(client, admin_user, engineer):
    failed_and_skipped(engineer)
    client.force_login(admin_user)
    url = reverse("admin:notifications_delivery_changelist")
    html = client.get(url, {"status__exact": "skipped"}).content.decode()
    assert "not configured: no phone number" in html and "not configured: no active webhook endpoint" in html
    assert client.get(url, {"channel__exact": "email", "notification__urgency__exact": "critical"}).status_code == 200
    row = Delivery.objects.filter(status="sent").get()
    assert client.get(reverse("admin:notifications_delivery_change", args=[row.pk])).status_code == 200


def test_the_retry_action_queues_failed_and_skipped_deliveries_again(
    client, admin_user, engineer, set_prefs, monkeypatch
):
    skipped = failed_and_skipped(engineer)
    set_prefs(engineer, phone="+77011234567")  # the person fixed their settings
    enqueued = []
    monkeypatch.setattr(delivery, "enqueue_on_commit", lambda: enqueued.append(True))
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:notifications_delivery_changelist"),
        {"action": "retry", "_selected_action": [d.pk for d in skipped]},
        follow=True,
    )
    assert "2 deliveries queued again." in response.content.decode()
    assert enqueued == [True]
    assert set(Delivery.objects.filter(channel__in=["sms", "webhook"]).values_list("status", "attempts")) == {
        ("pending", 0)
    }
    delivery.deliver_pending()
    statuses = dict(Delivery.objects.values_list("channel", "status"))
    assert statuses == {"email": "sent", "sms": "sent", "webhook": "skipped"}


def test_non_staff_users_cannot_see_deliveries(client, engineer):
    client.force_login(engineer)
    response = client.get(reverse("admin:notifications_delivery_changelist"))
    assert response.status_code == 302


def test_only_one_webhook_endpoint_can_be_active(client, admin_user, db):
    WebhookEndpoint.objects.create(name="Telegram relay", url="https://relay.example/hook")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:notifications_webhookendpoint_add"),
        {
            "name": "WhatsApp relay",
            "url": "https://wa.example/hook",
            "secret": "x" * 32,
            "is_active": "on",
            "timeout": 5,
        },
    )
    assert response.status_code == 200 and WebhookEndpoint.objects.count() == 1
    response = client.post(
        reverse("admin:notifications_webhookendpoint_add"),
        {"name": "Bad", "url": "ftp://relay.example/", "secret": "x", "timeout": 5},
    )
    assert "Enter a valid URL." in response.content.decode()


def test_the_notification_admin_shows_deliveries_inline(client, admin_user, db):
    user = UserFactory(username="someone", role="engineer")
    notification = notify(user, kind="t", urgency=Urgency.IMPORTANT, title="Hello", body="")
    client.force_login(admin_user)
    response = client.get(reverse("admin:notifications_notification_change", args=[notification.pk]))
    assert response.status_code == 200 and "Hello" in response.content.decode()
