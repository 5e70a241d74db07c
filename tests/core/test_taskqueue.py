"""``core.taskqueue.OrmBroker``: django-q's ORM broker writing its task row with ``core.fastinsert``."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_q.brokers import get_broker
from django_q.brokers.orm import ORM
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from core.taskqueue import OrmBroker

pytestmark = pytest.mark.django_db


def test_it_is_the_broker_whenever_django_q_uses_the_orm():
    assert settings.Q_CLUSTER.get("orm") == "default"  # the tests' settings: no Redis
    assert settings.Q_CLUSTER["broker_class"] == "core.taskqueue.OrmBroker"
    assert type(get_broker()) is OrmBroker


def test_in_a_transaction_it_writes_the_row_django_q_writes_in_one_statement():
    payload = SignedPackage.dumps({"id": "x", "func": "escalations.tasks.deliver_pending"})
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        ours = OrmBroker(list_key="opsdesk").enqueue(payload)
    theirs = ORM(list_key="opsdesk").enqueue(payload)
    rows = {row.pk: row for row in OrmQ.objects.all()}
    assert ours != theirs and rows[ours].key == rows[theirs].key == "opsdesk"
    assert rows[ours].payload == rows[theirs].payload == payload and rows[ours].lock <= rows[theirs].lock
    assert [q["sql"].split()[0] for q in ctx.captured_queries] == ["INSERT"]
    if connection.vendor == "postgresql":  # prepared: planned once per connection
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%django_q_ormq%"])
            assert cursor.fetchone()[0] == 1


def test_a_worker_takes_the_task_it_wrote():
    broker = OrmBroker(list_key="opsdesk")
    payload = SignedPackage.dumps({"id": "y", "func": "escalations.tasks.deliver_pending"})
    with transaction.atomic():
        pk = broker.enqueue(payload)
    OrmQ.objects.filter(pk=pk).update(lock=OrmQ.objects.get(pk=pk).lock.replace(year=2000))  # due for certain
    assert broker.dequeue() == [(pk, payload)]
    broker.acknowledge(pk)
    assert not OrmQ.objects.filter(pk=pk).exists()


def test_in_autocommit_it_leaves_the_row_to_django_q(transactional_db, monkeypatch):
    calls = []
    monkeypatch.setattr(ORM, "enqueue", lambda self, task: calls.append(task) or 7)
    assert OrmBroker(list_key="opsdesk").enqueue("p") == 7 and calls == ["p"]
