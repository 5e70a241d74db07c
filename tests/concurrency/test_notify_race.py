"""Two transactions notify the same person with the same dedupe key at once, on real PostgreSQL: one notice."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from notifications import delivery
from notifications.models import Delivery, Notification, Urgency
from notifications.service import notify
from tests.factories import UserFactory


def _waiting_for_a_lock() -> bool:
    """Whether a session of this database waits for a lock (read on a connection of its own)."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_second_of_two_racing_notices_with_one_key_waits_for_the_first_and_writes_nothing(monkeypatch):
    monkeypatch.setattr(delivery, "enqueue_on_commit", lambda *a, **k: None)
    person = UserFactory(username="raced", role="engineer")
    first_inserted, second_started = threading.Event(), threading.Event()
    results: dict[str, object] = {}
    errors: list[BaseException] = []

    def notice():
        return notify(person, kind="race", urgency=Urgency.IMPORTANT, title="Once", body="", dedupe_key="race:1")

    def first():
        try:
            with transaction.atomic():
                results["first"] = notice()
                first_inserted.set()
                second_started.wait(10)
                for _ in range(200):  # hold the transaction until the second insert waits on our key
                    if _other_connection_sees_a_wait():
                        results["second waited"] = True
                        break
                    time.sleep(0.05)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    def second():
        try:
            first_inserted.wait(10)
            second_started.set()
            results["second"] = notice()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    def _other_connection_sees_a_wait() -> bool:
        waits: list[bool] = []
        probe = threading.Thread(target=lambda: (waits.append(_waiting_for_a_lock()), connection.close()))
        probe.start()
        probe.join()
        return waits == [True]

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results.get("second waited"), "the second insert never waited on the first one's key"
    assert results["first"] is not None and results["second"] is None
    assert Notification.objects.filter(recipient=person, dedupe_key="race:1").count() == 1
    assert list(Delivery.objects.filter(recipient=person).values_list("notification_id", "channel")) == [
        (results["first"].pk, "email")  # important: in-app and email, once
    ]
