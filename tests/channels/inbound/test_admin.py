"""Admin of receiving email: mailboxes with their last poll, received emails with outcome and original."""

from __future__ import annotations

import pytest
from django.urls import reverse

from channels.inbound.receive import email_receive
from channels.models import InboundEmail, Mailbox
from tests.channels.inbound import corpus
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def mailbox_form(channel, **overrides):
    data = {
        "intake_channel": channel.pk,
        "address": "support@opsdesk.example",
        "is_active": "on",
        "host": "imap.opsdesk.example",
        "port": "993",
        "security": "tls",
        "username": "support@opsdesk.example",
        "password_env": "OPSDESK_SUPPORT_PASSWORD",
        "folder": "INBOX",
        "after_read": "seen",
        "move_to": "OpsDesk",
    }
    return {**data, **overrides}


def test_an_admin_adds_a_mailbox_naming_the_password_variable(client, admin_user, channel):
    client.force_login(admin_user)
    response = client.post(reverse("admin:channels_mailbox_add"), mailbox_form(channel))
    assert response.status_code == 302
    mailbox = Mailbox.objects.get()
    assert mailbox.password_env == "OPSDESK_SUPPORT_PASSWORD"
    assert not any("secret" in str(value) for value in Mailbox.objects.values().get().values())


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password_env": "my secret pa$$word"}, "password_env"),
        ({"after_read": "move", "move_to": ""}, "move_to"),
        ({"after_read": "move", "move_to": "INBOX"}, "move_to"),
    ],
)
def test_a_bad_mailbox_form_is_refused_with_a_message(client, admin_user, channel, overrides, field):
    client.force_login(admin_user)
    response = client.post(reverse("admin:channels_mailbox_add"), mailbox_form(channel, **overrides))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Mailbox.objects.exists()


def test_the_mailbox_list_shows_the_last_poll(client, admin_user, channel):
    Mailbox.objects.create(
        intake_channel=channel,
        host="imap.example",
        username="u",
        password_env="X",
        last_result={"fetched": 4, "created": 1, "appended": 2, "ignored": 1, "failed": 0},
    )
    client.force_login(admin_user)
    html = client.get(reverse("admin:channels_mailbox_changelist")).content.decode()
    assert "fetched 4, new tickets 1, added 2, ignored 1, failed 0" in html


def test_ignored_emails_are_listed_with_their_reason_and_original(client, admin_user, channel):
    email_receive(channel, corpus.out_of_office())
    record = InboundEmail.objects.get()
    client.force_login(admin_user)
    html = client.get(reverse("admin:channels_inboundemail_changelist"), {"outcome__exact": "ignored"}).content
    assert "Automatic message (Auto-Submitted)" in html.decode()
    page = client.get(reverse("admin:channels_inboundemail_change", args=[record.pk])).content.decode()
    raw_url = reverse("admin:channels_inboundemail_raw", args=[record.pk])
    assert raw_url in page
    response = client.get(raw_url)
    assert response["Content-Type"] == "message/rfc822"
    assert b"".join(response.streaming_content) == corpus.out_of_office()


def test_the_reasons_read_in_russian(client, admin_user, channel):
    email_receive(channel, corpus.out_of_office())
    client.force_login(admin_user)
    client.cookies["django_language"] = "ru"
    html = client.get(reverse("admin:channels_inboundemail_changelist"), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Автоматическое письмо (Auto-Submitted)" in html
    assert "Полученные письма" in html


@pytest.mark.django_db
def test_people_without_admin_rights_cannot_open_mailboxes_or_originals(client, channel, engineer):
    email_receive(channel, corpus.out_of_office())
    record = InboundEmail.objects.get()
    client.force_login(engineer)
    for url in (
        reverse("admin:channels_mailbox_changelist"),
        reverse("admin:channels_inboundemail_changelist"),
        reverse("admin:channels_inboundemail_raw", args=[record.pk]),
    ):
        response = client.get(url)
        assert response.status_code in (302, 403), url
        assert b"X-Auto-Response-Suppress" not in response.content

    staff_without_permission = UserFactory(is_staff=True)
    client.force_login(staff_without_permission)
    assert client.get(reverse("admin:channels_inboundemail_raw", args=[record.pk])).status_code == 403


def test_an_admin_takes_a_rate_limited_email_again_once_the_limit_allows(client, admin_user, channel, settings):
    settings.EMAIL_INTAKE_RATE_LIMIT = 1
    email_receive(channel, corpus.plain())
    email_receive(channel, corpus.koi8r())  # another sender: taken
    email_receive(channel, corpus.plain(message_id="<m9@customer.example>", subject="Second"))
    limited = InboundEmail.objects.get(reason=InboundEmail.Reason.RATE_LIMITED)
    settings.EMAIL_INTAKE_RATE_LIMIT = 0
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:channels_inboundemail_changelist"),
        {"action": "take_again", "_selected_action": [limited.pk]},
        follow=True,
    )
    assert "New ticket" in response.content.decode()
    assert InboundEmail.objects.filter(outcome=InboundEmail.Outcome.CREATED).count() == 3
