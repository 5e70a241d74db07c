"""The outbox worker: exactly-once claims, retries with backoff, reclaiming, skipped channels, email."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection

from core import outbox
from notifications import channels, delivery
from notifications.channels import DeliveryError, PermanentFailure
from notifications.models import Delivery, Urgency
from notifications.service import notify
from tests.factories import TicketFactory, UserFactory

T0 = datetime(2026, 3, 16, 5, 0, tzinfo=UTC)  # Monday 10:00 in Almaty


class ScriptedChannel:
    """Fails with the scripted exceptions in turn, then succeeds; records every call."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def send(self, message) -> str:
        with self.lock:
            self.calls.append(message.key)
            if self.failures:
                raise self.failures.pop(0)
        return "ok"


@pytest.fixture
def fake_email(monkeypatch):
    def install(*failures):
        channel = ScriptedChannel(*failures)
        monkeypatch.setitem(channels.CHANNELS, "email", channel)
        return channel

    return install


def important(user, title="Server down", **kwargs):
    return notify(user, kind="test", urgency=Urgency.IMPORTANT, title=title, body="", **kwargs)


def test_a_due_delivery_is_claimed_by_one_worker_only(engineer):
    important(engineer)
    first = delivery.claim_due(now=datetime.now(UTC))
    second = delivery.claim_due(now=datetime.now(UTC))
    assert len(first) == 1 and second == []
    row = Delivery.objects.get()
    assert row.status == "sending" and row.attempts == 1 and row.claim_token == first[0].claim_token


def test_on_sqlite_the_conditional_update_loses_to_a_worker_that_claimed_in_between(engineer, monkeypatch):
    if connection.vendor != "sqlite":
        pytest.skip("the conditional-update claim is the SQLite path")
    important(engineer)
    original = outbox._candidate_ids
    rival: list = []

    def interleaved(due, limit):
        ids = original(due, limit)
        monkeypatch.setattr(outbox, "_candidate_ids", original)
        rival.extend(delivery.claim_due(now=datetime.now(UTC)))  # another worker wins the race here
        return ids

    monkeypatch.setattr(outbox, "_candidate_ids", interleaved)
    mine = delivery.claim_due(now=datetime.now(UTC))
    assert mine == [] and len(rival) == 1
    assert Delivery.objects.get().claim_token == rival[0].claim_token


def test_a_failing_channel_is_retried_with_growing_backoff_then_failed(engineer, fake_email, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    channel = fake_email(DeliveryError("smtp down"), DeliveryError("smtp down"), DeliveryError("smtp down"))
    with time_machine.travel(T0, tick=False) as clock:
        important(engineer)
        assert delivery.deliver_pending()["retried"] == 1
        row = Delivery.objects.get()
        assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, T0 + timedelta(minutes=1))
        assert row.last_error == "DeliveryError: smtp down"
        clock.shift(timedelta(seconds=59))
        assert delivery.deliver_pending()["retried"] == 0 and len(channel.calls) == 1
        clock.shift(timedelta(seconds=1))
        delivery.deliver_pending()
        row.refresh_from_db()
        assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 2, T0 + timedelta(minutes=6))
        clock.move_to(T0 + timedelta(minutes=6))
        assert delivery.deliver_pending()["failed"] == 1
        clock.shift(timedelta(days=1))
        delivery.deliver_pending()
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("failed", 3, "DeliveryError: smtp down")
    assert len(channel.calls) == 3


def test_backoff_grows_by_five_and_is_capped():
    assert [delivery.backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 5, 25, 125)]
    assert delivery.backoff(10) == timedelta(hours=6)


def test_a_channel_that_comes_back_delivers_on_the_retry(engineer, fake_email):
    channel = fake_email(ConnectionResetError("reset by peer"))
    with time_machine.travel(T0, tick=False) as clock:
        important(engineer)
        delivery.deliver_pending()
        clock.shift(timedelta(minutes=1))
        assert delivery.deliver_pending()["sent"] == 1
    row = Delivery.objects.get()
    assert (row.status, row.attempts, row.sent_at) == ("sent", 2, T0 + timedelta(minutes=1))
    assert len(set(channel.calls)) == 1, "a retry carries the same delivery key"


def test_a_permanent_failure_is_not_retried(engineer, fake_email):
    channel = fake_email(PermanentFailure("HTTP 404 from relay"))
    important(engineer)
    assert delivery.deliver_pending()["failed"] == 1
    row = Delivery.objects.get()
    assert (row.status, row.last_error) == ("failed", "HTTP 404 from relay")
    delivery.deliver_pending(now=datetime.now(UTC) + timedelta(days=1))
    assert len(channel.calls) == 1


def test_a_delivery_stuck_in_sending_is_reclaimed_after_the_timeout(engineer, fake_email, settings):
    settings.NOTIFY_SENDING_TIMEOUT = 600
    channel = fake_email()
    with time_machine.travel(T0, tick=False) as clock:
        important(engineer)
        assert len(delivery.claim_due(now=T0)) == 1  # this worker dies before sending
        clock.shift(timedelta(minutes=9))
        assert delivery.deliver_pending() == {"sent": 0, "skipped": 0, "retried": 0, "failed": 0, "reclaimed": 0}
        clock.shift(timedelta(minutes=2))
        assert delivery.deliver_pending() == {"sent": 1, "skipped": 0, "retried": 0, "failed": 0, "reclaimed": 1}
    assert Delivery.objects.get().attempts == 2 and len(channel.calls) == 1


def test_a_late_worker_does_not_overwrite_a_reclaimed_delivery(engineer, fake_email, settings):
    fake_email()
    with time_machine.travel(T0, tick=False) as clock:
        important(engineer)
        [slow] = delivery.claim_due(now=T0)
        clock.shift(timedelta(seconds=settings.NOTIFY_SENDING_TIMEOUT + 1))
        delivery.deliver_pending()  # reclaimed and sent by another worker
        assert delivery.send([slow]) == "sent"  # the slow worker finishes late...
    row = Delivery.objects.get()
    assert row.status == "sent" and row.claim_token is None and row.attempts == 2  # ...and changed nothing


def test_an_account_without_email_is_skipped_with_the_reason(db):
    user = UserFactory(username="noemail", email="", role="engineer")
    important(user)
    assert delivery.deliver_pending()["skipped"] == 1
    row = Delivery.objects.get()
    assert (row.status, row.last_error, row.sent_at) == ("skipped", "not configured: no email address", None)
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("channel", "fields", "reason"),
    [
        ("sms", {}, "not configured: no phone number"),
        ("webhook", {"messenger_handle": "@eng"}, "not configured: no active webhook endpoint"),
        ("webhook", {}, "not configured: no active webhook endpoint"),
    ],
)
def test_unconfigured_sms_and_webhook_are_skipped_never_reported_sent(engineer, set_prefs, channel, fields, reason):
    set_prefs(engineer, critical=["in_app", channel], **fields)
    notify(engineer, kind="t", urgency=Urgency.CRITICAL, title="Breach", body="")
    delivery.deliver_pending()
    row = Delivery.objects.get()
    assert (row.status, row.last_error) == ("skipped", reason)


def test_a_webhook_without_a_messenger_handle_is_skipped(engineer, set_prefs, endpoint):
    set_prefs(engineer, critical=["in_app", "webhook"])
    notify(engineer, kind="t", urgency=Urgency.CRITICAL, title="Breach", body="")
    delivery.deliver_pending()
    assert Delivery.objects.get().last_error == "not configured: no messenger handle"


def test_a_deactivated_recipient_is_skipped(engineer):
    important(engineer)
    engineer.is_active = False
    engineer.save()
    delivery.deliver_pending()
    assert Delivery.objects.get().last_error == "not configured: the recipient's account is deactivated"


class RecordingSms(channels.SmsProvider):
    sent: list = []

    def send(self, phone, text):
        RecordingSms.sent.append((phone, text))
        return "provider id 42"


def test_sms_goes_through_the_configured_provider(engineer, set_prefs, settings):
    settings.SMS_PROVIDER = "tests.escalations.test_delivery.RecordingSms"
    RecordingSms.sent = []
    set_prefs(engineer, critical=["in_app", "sms"], phone="+77011234567")
    engineer.profile.language = "en"
    engineer.profile.save()
    notification = notify(engineer, kind="t", urgency=Urgency.CRITICAL, title="Breach on #7", body="")
    delivery.deliver_pending()
    [(phone, text)] = RecordingSms.sent
    assert phone == "+77011234567"
    assert text.startswith("OpsDesk · Critical: Breach on #7 http") and text.endswith(
        f"/notifications/{notification.pk}/open/"
    )
    assert Delivery.objects.get().result == "provider id 42"


def test_the_default_sms_provider_writes_to_the_log_and_says_so(engineer, set_prefs, caplog):
    set_prefs(engineer, critical=["in_app", "sms"], phone="+77011234567")
    notify(engineer, kind="t", urgency=Urgency.CRITICAL, title="Breach", body="")
    with caplog.at_level(logging.INFO, logger="notifications.channels"):
        delivery.deliver_pending()
    assert "SMS to +77011234567" in caplog.text and "Breach" in caplog.text
    row = Delivery.objects.get()
    assert row.status == "sent" and "LogSmsProvider" in row.result and "no SMS gateway" in row.result


@pytest.mark.parametrize(
    ("language", "month", "open_word"),
    [("en", "March", "Open"), ("ru", "марта", None)],
)
def test_email_is_written_in_the_recipients_language(db, queue, settings, language, month, open_word):
    settings.NOTIFY_SITE_URL = "https://desk.example/"
    user = UserFactory(username=f"mail-{language}", role="engineer", profile__language=language)
    ticket = TicketFactory(queue=queue, title="Printer jam")
    with time_machine.travel(T0, tick=False):
        notification = notify(
            user, kind="t", urgency=Urgency.IMPORTANT, title="SLA at 80 %", body="30 minutes left.", ticket=ticket
        )
        delivery.deliver_pending()
    [email] = mail.outbox
    assert email.to == [user.email]
    assert "SLA at 80 %" in email.subject and "\n" not in email.subject
    assert email.extra_headers["Content-Language"] == language
    assert month in email.body and "30 minutes left." in email.body and ticket.reference in email.body
    assert f"https://desk.example/notifications/{notification.pk}/open/" in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html" and f'<html lang="{language}">' in html and month in html
    if open_word:
        assert open_word in email.body


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_on_postgresql_send_every_delivery_exactly_once(monkeypatch):
    monkeypatch.setattr(delivery, "enqueue_on_commit", lambda: None)  # leave all the work to the four workers
    channel = ScriptedChannel()
    monkeypatch.setitem(channels.CHANNELS, "email", channel)
    users = [UserFactory(username=f"pg{i}", role="engineer") for i in range(10)]
    for i in range(300):
        notify(users[i % 10], kind="t", urgency=Urgency.IMPORTANT, title=f"n{i}", body="")
    assert Delivery.objects.filter(status="pending").count() == 300
    barrier = threading.Barrier(4)
    errors: list = []

    def worker():
        from django.db import connection as conn

        try:
            barrier.wait()
            delivery.deliver_pending()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(channel.calls) == 300 and len(set(channel.calls)) == 300
    assert Delivery.objects.filter(status="sent").count() == 300


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_claim_skips_rows_another_worker_has_locked(monkeypatch):
    from django.db import transaction

    monkeypatch.setattr(delivery, "enqueue_on_commit", lambda: None)
    user = UserFactory(username="pglock", role="engineer")
    for i in range(3):
        important(user, title=f"n{i}")
    locked, release = threading.Event(), threading.Event()

    def other_worker():
        from django.db import connection as conn

        try:
            with transaction.atomic():
                list(Delivery.objects.select_for_update().filter(status="pending"))
                locked.set()
                release.wait(10)
        finally:
            conn.close()

    holder = threading.Thread(target=other_worker)
    holder.start()
    try:
        assert locked.wait(10)
        assert delivery.claim_due(now=datetime.now(UTC)) == []  # no waiting on the locked rows
    finally:
        release.set()
        holder.join()
    assert len(delivery.claim_due(now=datetime.now(UTC))) == 3
