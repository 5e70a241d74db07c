"""django-q2's ORM broker with its task row written by ``core.fastinsert``.

Every change that notifies or sends writes one django-q task row in its own transaction
(``core.outbox.enqueue_on_commit``). django-q's ORM broker writes it with ``OrmQ.objects.create``: Django builds and
compiles an ``INSERT`` and runs ``save()`` each time, about a tenth of an appended customer message's CPU. This broker
writes the same row (key, payload, lock) with the statement compiled once per process, prepared on PostgreSQL. In
autocommit it leaves the row to django-q's own ``enqueue``, which first closes stale connections as django-q expects.
Everything else (dequeue, acknowledge, locks, sizes) is django-q's. ``settings.Q_CLUSTER["broker_class"]`` names it
whenever the ORM broker is in use.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ

from core import fastinsert

PATH = f"{__name__}.OrmBroker"  # what Q_CLUSTER["broker_class"] names


class OrmBroker(ORM):
    def enqueue(self, task):
        if transaction.get_autocommit(using=Conf.ORM):
            return super().enqueue(task)
        row = OrmQ(key=self.list_key or Conf.CLUSTER_NAME, payload=task, lock=timezone.now())
        return fastinsert.insert([row], using=Conf.ORM)[0].pk
