"""The notification service: one transaction for the inbox row and its outbox, enqueued after commit."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction
from django.utils.translation import gettext_lazy

from notifications import service
from notifications.models import Delivery, Notification, Urgency
from notifications.service import notify
from tests.factories import UserFactory


def test_notify_writes_the_inbox_row_and_one_outbox_row_per_other_channel(engineer, ticket):
    notification = notify(
        engineer, kind="test.hello", urgency=Urgency.IMPORTANT, title="Hello", body="Body", ticket=ticket
    )
    assert notification.recipient == engineer and notification.ticket == ticket and notification.in_app
    deliveries = list(Delivery.objects.filter(notification=notification))
    assert [(d.channel, d.status, d.recipient_id) for d in deliveries] == [("email", "pending", engineer.pk)]


def test_a_rolled_back_transaction_leaves_neither_notification_nor_outbox(engineer):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(engineer, kind="test", urgency=Urgency.CRITICAL, title="Hello", body="")
        assert Delivery.objects.count() == 3
        raise RuntimeError("the caller failed after notifying")
    assert Notification.objects.count() == 0 and Delivery.objects.count() == 0


def test_delivery_is_enqueued_after_commit_not_before(engineer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(engineer, kind="test", urgency=Urgency.IMPORTANT, title="Server down", body="")
    assert len(callbacks) == 1
    assert mail.outbox == [] and Delivery.objects.get().status == "pending"
    callbacks[0]()  # the commit: django-q2 runs synchronously in tests
    assert Delivery.objects.get().status == "sent"
    assert [m.to for m in mail.outbox] == [[engineer.email]]


def test_many_notices_in_one_transaction_enqueue_delivery_once(engineer, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        for user in (engineer, manager, engineer):
            notify(user, kind="test", urgency=Urgency.IMPORTANT, title="Hi", body="")
    assert len(callbacks) == 1
    assert Delivery.objects.filter(status="sent").count() == 3


def test_a_failed_enqueue_loses_nothing_because_the_schedule_delivers(engineer, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr("django_q.tasks.async_task", broken)
    from notifications import delivery

    delivery.enqueue()  # logged, not raised
    notify(engineer, kind="test", urgency=Urgency.IMPORTANT, title="Hi", body="")
    assert delivery.deliver_pending()["sent"] == 1


def test_the_same_dedupe_key_notifies_once_per_recipient(engineer, manager):
    first = notify(engineer, kind="t", urgency=Urgency.IMPORTANT, title="A", body="", dedupe_key="clock-1:level-2")
    again = notify(engineer, kind="t", urgency=Urgency.IMPORTANT, title="A", body="", dedupe_key="clock-1:level-2")
    other = notify(manager, kind="t", urgency=Urgency.IMPORTANT, title="A", body="", dedupe_key="clock-1:level-2")
    assert first is not None and again is None and other is not None
    assert Notification.objects.filter(recipient=engineer).count() == 1
    assert Delivery.objects.filter(recipient=engineer).count() == 1


def test_routine_notices_reach_only_the_inbox_by_default(engineer):
    notification = notify(engineer, kind="t", urgency=Urgency.ROUTINE, title="FYI", body="")
    assert notification.in_app and not notification.deliveries.exists()


def test_critical_notices_use_every_channel_by_default(engineer):
    notification = notify(engineer, kind="t", urgency=Urgency.CRITICAL, title="Breach", body="")
    assert sorted(notification.deliveries.values_list("channel", flat=True)) == ["email", "sms", "webhook"]


def test_preferences_choose_the_channels_and_in_app_off_keeps_it_out_of_the_inbox(engineer, set_prefs):
    set_prefs(engineer, routine=["email"], digest_window_minutes=0)
    notification = notify(engineer, kind="t", urgency=Urgency.ROUTINE, title="FYI", body="")
    assert not notification.in_app
    assert list(notification.deliveries.values_list("channel", flat=True)) == ["email"]
    assert list(service.inbox_for(engineer)) == []


def test_a_deactivated_or_missing_recipient_gets_nothing(engineer):
    engineer.is_active = False
    engineer.save()
    assert notify(engineer, kind="t", urgency=Urgency.CRITICAL, title="X", body="") is None
    assert notify(None, kind="t", urgency=Urgency.CRITICAL, title="X", body="") is None
    assert Notification.objects.count() == 0


def test_an_unknown_urgency_is_refused(engineer):
    with pytest.raises(ValueError):
        notify(engineer, kind="t", urgency="urgentest", title="X", body="")


@pytest.mark.parametrize(("language", "expected"), [("en", "January"), ("ru", "Январь")])
def test_lazy_texts_are_written_in_the_recipients_language(db, language, expected):
    user = UserFactory(username=f"reader-{language}", role="engineer", profile__language=language)
    notification = notify(user, kind="t", urgency=Urgency.ROUTINE, title=gettext_lazy("January"), body="")
    assert notification.title == expected


def test_marking_read_keeps_the_first_reading_time_and_mark_all_counts(engineer):
    first = notify(engineer, kind="t", urgency=Urgency.ROUTINE, title="1", body="")
    notify(engineer, kind="t", urgency=Urgency.ROUTINE, title="2", body="")
    service.notification_mark_read(first)
    read_at = Notification.objects.get(pk=first.pk).read_at
    service.notification_mark_read(Notification.objects.get(pk=first.pk))
    assert Notification.objects.get(pk=first.pk).read_at == read_at
    assert service.unread_count(engineer) == 1
    assert service.notifications_mark_all_read(engineer) == 1
    assert service.unread_count(engineer) == 0


@pytest.fixture
def orm_broker(monkeypatch):
    """django-q as it runs in production without Redis: its ORM broker writes task rows, no synchronous mode."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", "default")
    return Conf


def _task_rows():
    from django_q.models import OrmQ
    from django_q.signing import SignedPackage

    return [SignedPackage.loads(row.payload)["func"] for row in OrmQ.objects.order_by("pk")]


def test_with_the_orm_broker_the_task_row_is_written_in_the_transaction_once(
    orm_broker, engineer, manager, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications import delivery

    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        with CaptureQueriesContext(connection) as ctx:
            for user in (engineer, manager):
                notify(user, kind="test", urgency=Urgency.IMPORTANT, title="Hi", body="")
        # Written before the commit, once for the transaction: visible to the workers with the deliveries.
        assert _task_rows() == [delivery.TASK]
    assert sum("django_q_ormq" in q["sql"] and q["sql"].startswith("INSERT") for q in ctx.captured_queries) == 1
    assert all(hook.__class__.__name__ == "_Enqueued" for hook in callbacks)  # nothing left for after the commit
    assert Delivery.objects.filter(status="pending").count() == 2 and mail.outbox == []


def test_with_the_orm_broker_the_task_row_takes_no_savepoint_of_its_own(orm_broker, engineer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        notify(engineer, kind="test", urgency=Urgency.IMPORTANT, title="Hi", body="")
    statements = [q["sql"].split()[0] for q in ctx.captured_queries]
    assert any("django_q_ormq" in q["sql"] for q in ctx.captured_queries)
    assert "SAVEPOINT" not in statements and "RELEASE" not in statements


def test_with_the_orm_broker_a_database_error_on_the_task_row_fails_the_change(orm_broker, engineer, monkeypatch):
    """A real database error: on PostgreSQL it aborts the transaction, which a swallowed error would leave to be
    rolled back in silence by its commit. It fails the change instead; nothing is stored."""
    from django.db import DatabaseError
    from django_q.models import OrmQ

    from core import fastinsert

    monkeypatch.setattr(OrmQ._meta, "db_table", "django_q_no_such_table")
    monkeypatch.setattr(fastinsert, "_compiled", {})  # the task row's INSERT compiled afresh, for that table
    with pytest.raises(DatabaseError), transaction.atomic():
        notify(engineer, kind="test", urgency=Urgency.IMPORTANT, title="Hi", body="")
    assert Notification.objects.count() == 0 and Delivery.objects.count() == 0


def test_with_the_orm_broker_a_database_error_outside_a_transaction_is_logged(
    orm_broker, transactional_db, monkeypatch, caplog
):
    from django_q.models import OrmQ

    from core import fastinsert
    from notifications import delivery

    monkeypatch.setattr(OrmQ._meta, "db_table", "django_q_no_such_table")
    monkeypatch.setattr(fastinsert, "_compiled", {})  # the task row's INSERT compiled afresh, for that table
    delivery.enqueue()  # autocommit: logged, the per-minute schedule delivers
    assert "could not enqueue escalations.tasks.deliver_pending" in caplog.text
    monkeypatch.undo()
    assert OrmQ.objects.count() == 0


def test_with_the_orm_broker_a_rolled_back_notice_takes_its_task_row_with_it(orm_broker, engineer):
    from notifications import delivery

    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            notify(engineer, kind="test", urgency=Urgency.IMPORTANT, title="Hi", body="")
            assert _task_rows() == [delivery.TASK]
            raise RuntimeError("the caller failed after notifying")
        assert _task_rows() == [] and Notification.objects.count() == 0
        # Enqueued again after the rollback: the marker of the first went with its savepoint.
        notify(engineer, kind="test", urgency=Urgency.IMPORTANT, title="Again", body="")
        assert _task_rows() == [delivery.TASK]


def test_with_the_orm_broker_a_failed_enqueue_keeps_the_transaction(orm_broker, engineer, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr("core.taskqueue._write", broken)  # where every task row of the broker is written
    with transaction.atomic():
        notify(engineer, kind="test", urgency=Urgency.IMPORTANT, title="Hi", body="")
        assert Notification.objects.count() == 1  # the transaction goes on
    assert Delivery.objects.filter(status="pending").count() == 1 and _task_rows() == []
