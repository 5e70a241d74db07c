"""The intake_token command: creating a channel and its token, kinds and defaults, rotating."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.factories import TicketTypeFactory
from tests.tickets.intake_helpers import message, send
from tickets.models import Channel, IntakeChannel, hash_token

# --- The intake_token command --------------------------------------------------------------------


def run_command(*args, **options):
    out, err = StringIO(), StringIO()
    call_command("intake_token", *args, stdout=out, stderr=err, **options)
    return out.getvalue().strip(), err.getvalue()


def test_the_command_creates_a_channel_and_prints_a_working_token_once(client, queue):
    token, notes = run_command("Mail bridge", queue="service")

    channel = IntakeChannel.objects.get(name="Mail bridge")
    assert channel.token_hash == hash_token(token) and token not in channel.token_hash
    assert channel.channel == Channel.EMAIL and channel.default_queue == queue and channel.default_type is None
    assert channel.token_hint == token[:6]
    assert token not in notes
    assert send(client, token, message()).status_code == 201


def test_the_command_sets_the_channel_kind_and_default_type(queue):
    TicketTypeFactory(slug="question")

    run_command("Telegram bot", queue="service", channel="messenger", ticket_type="question")

    channel = IntakeChannel.objects.get(name="Telegram bot")
    assert channel.channel == Channel.MESSENGER and channel.default_type.slug == "question"


@pytest.mark.parametrize(
    ("options", "words"),
    [({}, "--queue"), ({"queue": "nowhere"}, "nowhere"), ({"queue": "service", "ticket_type": "nope"}, "nope")],
)
def test_creating_a_channel_needs_a_real_queue_and_type(queue, options, words):
    with pytest.raises(CommandError, match=words):
        run_command("Mail bridge", **options)
    assert not IntakeChannel.objects.exists()


def test_an_existing_channel_needs_rotate_and_keeps_its_token_otherwise(client, mail):
    with pytest.raises(CommandError, match="--rotate"):
        run_command("Mail bridge")

    mail.channel.refresh_from_db()
    assert mail.channel.token_hash == hash_token(mail.token)


def test_rotating_replaces_the_token_and_lifts_a_revocation_like_the_admin_action(client, mail):
    mail.channel.revoked_at = timezone.now()
    mail.channel.is_active = False
    mail.channel.save()

    token, notes = run_command("Mail bridge", rotate=True)

    assert token != mail.token and token not in notes
    mail.channel.refresh_from_db()
    assert mail.channel.token_hash == hash_token(token) and mail.channel.token_hint == token[:6]
    assert mail.channel.revoked_at is None and mail.channel.is_active
    assert send(client, mail.token, message()).status_code == 401
    assert send(client, token, message()).status_code == 201


def test_rotating_an_unknown_channel_creates_nothing(queue):
    with pytest.raises(CommandError, match="leave out --rotate"):
        run_command("Mail brige", rotate=True, queue="service")
    assert not IntakeChannel.objects.exists()


def test_rotating_refuses_creation_options(mail):
    with pytest.raises(CommandError, match="only when a channel is created"):
        run_command("Mail bridge", rotate=True, queue="service")
    mail.channel.refresh_from_db()
    assert mail.channel.token_hash == hash_token(mail.token)
