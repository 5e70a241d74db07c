"""Digests: routine notices to one person on one channel within the window become one message."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import time_machine
from django.core import mail

from notifications import delivery, service
from notifications.models import Delivery, Digest, Urgency
from notifications.service import notify

T0 = datetime(2026, 3, 16, 5, 0, tzinfo=UTC)


def routine(user, title):
    return notify(user, kind="ticket.assigned", urgency=Urgency.ROUTINE, title=title, body="")


def test_routine_notices_within_the_window_arrive_as_one_email(engineer, set_prefs):
    set_prefs(engineer, routine=["in_app", "email"], digest_window_minutes=15)
    engineer.profile.language = "en"
    engineer.profile.save()
    with time_machine.travel(T0, tick=False) as clock:
        for minute in range(10):
            routine(engineer, f"New ticket {minute}")
            clock.shift(timedelta(minutes=1))
        assert service.unread_count(engineer) == 10, "the inbox shows each notice at once"
        assert delivery.deliver_pending()["sent"] == 0 and mail.outbox == []
        clock.move_to(T0 + timedelta(minutes=15))
        assert delivery.deliver_pending()["sent"] == 10
    [email] = mail.outbox
    assert email.subject == "OpsDesk: you have 10 new notifications"
    assert "You have 10 new notifications:" in email.body
    assert all(f"New ticket {n}" in email.body for n in range(10))
    digest = Digest.objects.get()
    assert (digest.recipient, digest.channel, digest.size) == (engineer, "email", 10)
    assert set(Delivery.objects.values_list("status", "digest_id")) == {("sent", digest.pk)}


def test_a_notice_after_the_group_left_starts_a_new_group(engineer, set_prefs):
    set_prefs(engineer, routine=["in_app", "email"], digest_window_minutes=15)
    with time_machine.travel(T0, tick=False) as clock:
        routine(engineer, "first")
        routine(engineer, "second")
        clock.shift(timedelta(minutes=15))
        delivery.deliver_pending()
        clock.shift(timedelta(minutes=1))
        late = routine(engineer, "third")
        assert late.deliveries.get().next_attempt_at == T0 + timedelta(minutes=31)
        clock.shift(timedelta(minutes=15))
        delivery.deliver_pending()
    assert len(mail.outbox) == 2
    assert late.deliveries.get().digest is None, "a group of one goes out as the notice itself"
    assert mail.outbox[1].subject.endswith("third")


def test_groups_are_per_person_and_per_channel(engineer, manager, set_prefs, settings):
    settings.SMS_PROVIDER = "notifications.channels.LogSmsProvider"
    set_prefs(engineer, routine=["in_app", "email", "sms"], phone="+77011234567")
    set_prefs(manager, routine=["in_app", "email"])
    with time_machine.travel(T0, tick=False) as clock:
        for n in range(3):
            routine(engineer, f"e{n}")
            routine(manager, f"m{n}")
        clock.shift(timedelta(minutes=15))
        assert delivery.deliver_pending()["sent"] == 9
    assert Digest.objects.count() == 3
    assert sorted(Digest.objects.values_list("recipient__username", "channel", "size")) == [
        ("engineer", "email", 3),
        ("engineer", "sms", 3),
        ("manager", "email", 3),
    ]
    assert len(mail.outbox) == 2


def test_important_notices_and_a_zero_window_are_never_held(engineer, set_prefs):
    set_prefs(engineer, routine=["in_app", "email"], digest_window_minutes=0)
    with time_machine.travel(T0, tick=False):
        routine(engineer, "routine, no window")
        notify(engineer, kind="t", urgency=Urgency.IMPORTANT, title="important", body="")
        assert not Delivery.objects.filter(digestible=True).exists()
        assert delivery.deliver_pending()["sent"] == 2
    assert len(mail.outbox) == 2 and not Digest.objects.exists()


def test_a_webhook_digest_posts_the_list_once(engineer, set_prefs, endpoint, receiver):
    set_prefs(engineer, routine=["in_app", "webhook"], messenger_handle="@aigerim")
    with time_machine.travel(T0, tick=False) as clock:
        for n in range(3):
            routine(engineer, f"n{n}")
        clock.shift(timedelta(minutes=15))
        delivery.deliver_pending()
    [request] = receiver.requests
    payload = json.loads(request["body"])
    assert payload["type"] == "digest"
    assert [item["title"] for item in payload["notifications"]] == ["n0", "n1", "n2"]
    ids = sorted(Delivery.objects.values_list("pk", flat=True))
    assert request["headers"]["X-OpsDesk-Delivery"] == f"digest-{ids[0]}-{ids[-1]}-3"


def test_a_failed_digest_is_retried_as_a_group(engineer, set_prefs, endpoint, receiver):
    set_prefs(engineer, routine=["in_app", "webhook"], messenger_handle="@aigerim")
    receiver.statuses = [502]
    with time_machine.travel(T0, tick=False) as clock:
        routine(engineer, "a")
        routine(engineer, "b")
        clock.shift(timedelta(minutes=15))
        assert delivery.deliver_pending()["retried"] == 2
        clock.shift(timedelta(minutes=1))
        assert delivery.deliver_pending()["sent"] == 2
    assert len(receiver.requests) == 2
    assert Digest.objects.get().size == 2
