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


# --- core.taskqueue.enqueue: async_task(name) for the outboxes' usual case ------------------------------------------

CALLS: list[str] = []


def record_call() -> str:
    """The task the tests enqueue (a worker imports it by its dotted name)."""
    CALLS.append("ran")
    return "done"


TASK = f"{__name__}.record_call"


@pytest.fixture
def orm_broker(monkeypatch):
    """django-q as it runs in production without Redis: its ORM broker writes task rows, no synchronous mode."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", "default")
    return Conf


def _payloads() -> list[dict]:
    return [SignedPackage.loads(row.payload) for row in OrmQ.objects.order_by("pk")]


def test_enqueue_writes_the_package_async_task_writes_in_one_statement(orm_broker):
    from django_q.tasks import async_task

    from core.taskqueue import enqueue

    with transaction.atomic():
        with CaptureQueriesContext(connection) as ctx:
            ours = enqueue(TASK)
        theirs = async_task(TASK)
    assert [q["sql"].split()[0] for q in ctx.captured_queries] == ["INSERT"]
    mine, django_qs = _payloads()
    assert mine.keys() == django_qs.keys()
    assert (mine["id"], django_qs["id"]) == (ours, theirs) and ours != theirs
    for key in mine.keys() - {"id", "name", "started"}:
        assert mine[key] == django_qs[key], key
    assert mine["func"] == TASK and mine["args"] == () and mine["kwargs"] == {}
    assert mine["name"].count("-") == django_qs["name"].count("-") == 3  # django-q's human-readable name
    assert mine["started"] <= django_qs["started"]


def test_enqueue_builds_no_broker_per_task_and_logs_no_info_line(orm_broker, monkeypatch, caplog):
    import logging

    from core.taskqueue import enqueue

    def no_broker(*args, **kwargs):
        raise AssertionError("a broker built for one task")

    monkeypatch.setattr("django_q.tasks.get_broker", no_broker)
    with caplog.at_level(logging.INFO), transaction.atomic():
        enqueue(TASK)
        enqueue(TASK)
    assert [p["func"] for p in _payloads()] == [TASK, TASK]
    assert not [r for r in caplog.records if r.levelno >= logging.INFO]


def test_a_worker_runs_the_task_enqueue_wrote(orm_broker):
    from django_q.models import Task
    from django_q.tasks import _sync

    from core.taskqueue import enqueue

    with transaction.atomic():
        task_id = enqueue(TASK)
    (row,) = OrmQ.objects.all()
    CALLS.clear()
    orm_broker.SYNC = True  # the worker saves its result in this test's transaction
    _sync(row.payload)  # what a cluster's worker and monitor do with the package
    assert CALLS == ["ran"]
    assert Task.objects.get(id=task_id).result == "done"


@pytest.mark.parametrize("case", ["synchronous mode", "a pre_enqueue receiver", "another broker"])
def test_enqueue_leaves_anything_else_to_async_task(case, orm_broker, monkeypatch):
    from django_q.signals import pre_enqueue

    from core import taskqueue

    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda name: calls.append(name) or "theirs")

    def receiver(**kwargs):
        pass

    if case == "synchronous mode":
        monkeypatch.setattr(orm_broker, "SYNC", True)
    elif case == "a pre_enqueue receiver":
        pre_enqueue.connect(receiver)
    elif case == "another broker":
        monkeypatch.setattr(orm_broker, "BROKER_CLASS", "django_q.brokers.orm.ORM")
    try:
        with transaction.atomic():
            assert taskqueue.enqueue(TASK) == "theirs"
    finally:
        pre_enqueue.disconnect(receiver)
    assert calls == [TASK] and not OrmQ.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_in_autocommit_enqueue_leaves_the_task_to_async_task(orm_broker, monkeypatch):
    from core import taskqueue

    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda name: calls.append(name) or "theirs")
    assert transaction.get_autocommit()
    assert taskqueue.enqueue(TASK) == "theirs" and calls == [TASK] and not OrmQ.objects.exists()
