"""django-q2's ORM broker with its task row written by ``core.fastinsert``.

Every change that notifies or sends writes one django-q task row in its own transaction
(``core.outbox.enqueue_on_commit``). django-q's ORM broker writes it with ``OrmQ.objects.create``: Django builds and
compiles an ``INSERT`` and runs ``save()`` each time, about a tenth of an appended customer message's CPU. This broker
writes the same row (key, payload, lock) with the statement compiled once per process, prepared on PostgreSQL. In
autocommit it leaves the row to django-q's own ``enqueue``, which first closes stale connections as django-q expects.
Everything else (dequeue, acknowledge, locks, sizes) is django-q's. ``settings.Q_CLUSTER["broker_class"]`` names it
whenever the ORM broker is in use.

:func:`enqueue` is ``async_task(name)`` for the usual case of the outboxes: a task with no arguments, inside the
caller's transaction, on this broker. django-q's ``async_task`` builds a broker per call (its ORM broker's
constructor looks up the connection), reads its options from the keywords and logs an INFO line on the web worker for
every task: together about as much CPU as writing the row. :func:`enqueue` writes the same signed package (the task
dictionary ``async_task`` builds, with its human-readable name) without a broker object, and logs at DEBUG.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.humanhash import uuid
from django_q.models import OrmQ
from django_q.signals import pre_enqueue
from django_q.signing import SignedPackage

from core import fastinsert

logger = logging.getLogger(__name__)

PATH = f"{__name__}.OrmBroker"  # what Q_CLUSTER["broker_class"] names


class OrmBroker(ORM):
    def enqueue(self, task):
        if transaction.get_autocommit(using=Conf.ORM):
            return super().enqueue(task)
        return _write(self.list_key or Conf.CLUSTER_NAME, task)


def _write(key: str, package: str) -> int:
    """The task row django-q's ORM broker writes (due at once), by ``core.fastinsert``; its id."""
    return fastinsert.insert([OrmQ(key=key, payload=package, lock=timezone.now())], using=Conf.ORM)[0].pk


def enqueue(name: str) -> str:
    """``django_q.tasks.async_task(name)``: ask a worker to run the function ``name`` with no arguments; the task's id.

    Inside a transaction on this broker, the package ``async_task`` would build is written here as the broker writes
    it, without its per-call broker, option parsing and INFO log line. Anything else goes to ``async_task`` itself:
    autocommit (django-q first closes stale connections), another broker, django-q's synchronous mode (the tests), a
    receiver of django-q's ``pre_enqueue`` signal.
    """
    if (
        Conf.BROKER_CLASS != PATH
        or Conf.SYNC
        or transaction.get_autocommit(using=Conf.ORM)
        or pre_enqueue.has_listeners()
    ):
        from django_q.tasks import async_task

        return async_task(name)
    human, task_id = uuid()
    task = {"id": task_id, "name": human, "func": name, "args": ()}
    # async_task's overrides from the settings (``sync`` is off on this path)
    if Conf.CACHED:
        task["cached"] = Conf.CACHED
    if Conf.ACK_FAILURES:
        task["ack_failure"] = Conf.ACK_FAILURES
    task["kwargs"] = {}
    task["started"] = timezone.now()
    row = _write(Conf.CLUSTER_NAME, SignedPackage.dumps(task))
    logger.debug("enqueued %s as %s (%s)", name, row, human)
    return task_id

