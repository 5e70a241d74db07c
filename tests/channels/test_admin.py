"""The admin side of outbound delivery: a reply URL gets a signing secret shown once; the outbox list."""

from __future__ import annotations

import re

from django.urls import reverse

from channels.models import OutboundMessage
from tests.factories import CustomerFactory
from tickets import services
from tickets.models import IntakeChannel


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_a_reply_url_gets_a_signing_secret_shown_once(client, admin_user, queue):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:tickets_intakechannel_add"),
        {
            "name": "Telegram bridge",
            "channel": "messenger",
            "default_queue": queue.pk,
            "is_active": "on",
            "reply_url": "https://bridge.example/opsdesk/replies",
            "email_address": "",
            "_save": "1",
        },
        follow=True,
    )
    found = [re.search(r"Reply signing secret for “Telegram bridge”: (\S+) —", m) for m in _messages(response)]
    [secret] = [m.group(1) for m in found if m]
    channel = IntakeChannel.objects.get(name="Telegram bridge")
    assert channel.reply_secret == secret
    page = client.get(reverse("admin:tickets_intakechannel_change", args=[channel.pk])).content.decode()
    assert secret not in page


def test_a_reply_url_that_is_not_http_is_refused(client, admin_user, queue):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:tickets_intakechannel_add"),
        {
            "name": "Bad",
            "channel": "messenger",
            "default_queue": queue.pk,
            "reply_url": "file:///etc/passwd",
            "_save": "1",
        },
    )
    assert response.status_code == 200 and not IntakeChannel.objects.filter(name="Bad").exists()


def test_the_outbox_list_and_a_row_render_for_an_admin(client, admin_user, queue, engineer):
    ticket = services.ticket_create(
        actor=engineer, title="T", customer=CustomerFactory(), queue=queue, performer=engineer
    )
    services.ticket_reply(ticket, body="Hi", actor=engineer)
    row = OutboundMessage.objects.get()
    client.force_login(admin_user)
    assert client.get(reverse("admin:channels_outboundmessage_changelist")).status_code == 200
    assert client.get(reverse("admin:channels_outboundmessage_change", args=[row.pk])).status_code == 200
