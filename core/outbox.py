"""The outbox mechanics every outbox shares: claim due rows once, back off, reclaim stuck rows.

An outbox model (``notifications.Delivery``, ``channels.OutboundMessage``) has the columns
``status`` (``pending`` → ``sending`` → ``sent`` | ``failed`` …), ``attempts``,
``next_attempt_at``, ``claimed_at``, ``claim_token`` and ``last_error``. Rows are written in the
transaction of the change that causes them and sent after commit by a worker:

* **Claim.** On PostgreSQL the due rows are locked with ``SELECT … FOR UPDATE SKIP LOCKED`` and
  marked ``sending`` in the same transaction, so concurrent workers take disjoint rows without
  waiting on each other. On SQLite (one writer at a time) the claim is a conditional
  ``UPDATE … SET status='sending' WHERE status='pending'``: a row another worker took is simply
  not updated. Either way each claim stamps its own ``claim_token``; the worker sends only the
  rows carrying it and writes the result back ``WHERE claim_token = …``, so a late worker never
  overwrites a newer state.
* **Backoff.** After the n-th failed attempt the row waits 1, 5, 25, 125 … minutes (capped).
* **Reclaim.** A worker that died while sending leaves rows in ``sending``; after a timeout they
  go back to ``pending`` (or ``failed`` when out of attempts).
"""

from __future__ import annotations

import logging
import uuid
from contextlib import nullcontext
from datetime import datetime, timedelta

from django.db import DatabaseError, connections, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

logger = logging.getLogger(__name__)

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
MAX_BACKOFF = timedelta(hours=6)


def backoff(attempts: int, *, cap: timedelta = MAX_BACKOFF) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 1, 5, 25, 125 … minutes, at most ``cap``."""
    return min(timedelta(minutes=5 ** max(0, min(attempts, 20) - 1)), cap)


def claim(queryset: QuerySet, *, limit: int, order_by: tuple[str, ...] = ("next_attempt_at", "pk")) -> uuid.UUID | None:
    """Move up to ``limit`` pending rows of ``queryset`` to ``sending`` for this worker.

    Returns the claim token that the claimed rows carry (``None`` when nothing was claimed); rows
    another worker holds or has already taken are never claimed.
    """
    token = uuid.uuid4()
    model = queryset.model
    db = queryset.db
    due = queryset.filter(status=PENDING).order_by(*order_by)
    changes = {"status": SENDING, "claim_token": token, "claimed_at": timezone.now(), "attempts": F("attempts") + 1}
    claimed = 0
    if connections[db].vendor == "postgresql":
        with transaction.atomic(using=db):
            ids = list(due.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])
            if ids:
                claimed = model._default_manager.using(db).filter(pk__in=ids).update(**changes)
    else:
        ids = _candidate_ids(due, limit)
        if ids:
            # The conditional update is the claim: a row another worker took is no longer pending.
            claimed = model._default_manager.using(db).filter(pk__in=ids, status=PENDING).update(**changes)
    return token if claimed else None


def _candidate_ids(due: QuerySet, limit: int) -> list[int]:
    """Rows that look due; another worker may take them before our conditional update (SQLite)."""
    return list(due.values_list("pk", flat=True)[:limit])


def reclaim_stale(queryset: QuerySet, *, now: datetime, timeout_seconds: int, max_attempts: int) -> tuple[int, int]:
    """Rows of ``queryset`` stuck in ``sending`` longer than the timeout: fail those out of attempts,
    put the others back to ``pending`` now. Returns ``(failed, reclaimed)``."""
    cutoff = now - timedelta(seconds=timeout_seconds)
    stale = queryset.filter(status=SENDING, claimed_at__lt=cutoff)
    failed = stale.filter(attempts__gte=max_attempts).update(
        status=FAILED, claim_token=None, last_error="the worker stopped while sending; no attempts left"
    )
    reclaimed = stale.update(
        status=PENDING, claim_token=None, next_attempt_at=now, last_error="the worker stopped while sending; reclaimed"
    )
    return failed, reclaimed


def enqueue_task(name: str) -> None:
    """Ask a django-q2 worker to run the task ``name`` now. Failing loses nothing: the per-minute schedule runs it.

    Any error is logged and swallowed but one: a database error while the caller's transaction is open on django-q's
    ORM broker database. There the task row is written in that transaction (``enqueue_on_commit``), and on
    PostgreSQL a failed statement aborts it: carried on, its commit would roll everything back without a word
    (psycopg 3 reports no error), and the caller would answer that it stored what it did not. The error fails the
    caller's change instead, and the caller's retry writes it again.

    Outside a transaction the row is written in an atomic block of its own: in autocommit django-q's ORM broker
    calls ``close_old_connections()``, which closes a SQLite connection (CONN_MAX_AGE 0) after every commit that
    enqueued, and the last close checkpoints the WAL (20 ms of a routing decision).
    """
    from django_q.conf import Conf  # django-q's broker and settings load only when something is enqueued

    from core.taskqueue import enqueue

    inside = bool(Conf.ORM) and transaction.get_connection(Conf.ORM).in_atomic_block
    try:
        with transaction.atomic(using=Conf.ORM) if Conf.ORM and not inside else nullcontext():
            enqueue(name)
    except DatabaseError:
        if inside:
            raise
        logger.exception("could not enqueue %s; the per-minute schedule will run it", name)
    except Exception:
        logger.exception("could not enqueue %s; the per-minute schedule will run it", name)


def enqueue_on_commit(task, *, using: str | None = None) -> None:
    """Have a worker run ``task``'s job (``task``: a no-argument callable that enqueues it, through
    ``enqueue_task``) once this transaction commits, once per transaction.

    With django-q's ORM broker on this same database (the default without Redis), the task row is written now,
    in the caller's transaction: it becomes visible to the workers together with the rows it is about, so no
    worker can take it earlier, it rolls back with them (and so does the marker below, which Django drops with
    the savepoint it was registered in), and the request pays one commit instead of a second transaction (and disk
    flush) after it. It takes no savepoint of its own (two statements of an appended customer message's eleven):
    an error that aborts the transaction is not swallowed (``enqueue_task``), and any other error is raised before
    the row's insert, leaving the transaction as it was. Any other broker, and django-q's synchronous mode (tests),
    enqueue after the commit.
    """
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        task()  # nothing to wait for (what on_commit would do at once)
        return
    marker = _ENQUEUED.setdefault(task, _Enqueued())
    if any(entry[1] is task or entry[1] is marker for entry in connection.run_on_commit):
        return
    if _broker_writes_to(connection.alias):
        task()
        transaction.on_commit(marker, using=connection.alias)  # remembers, for this transaction, that it is done
        return
    transaction.on_commit(task, using=using, robust=True)


class _Enqueued:
    """An on-commit hook that does nothing: it marks a transaction in which a task was already enqueued (rolled back
    with the savepoint that registered it, like the task row itself)."""

    def __call__(self) -> None:
        pass


_ENQUEUED: dict = {}


def _broker_writes_to(alias: str) -> bool:
    """Whether django-q enqueues by writing a row to database ``alias`` (its ORM broker, not in synchronous mode)."""
    from django_q.conf import Conf  # django-q's settings and broker load only when something is enqueued

    from core import taskqueue

    own = not Conf.BROKER_CLASS or Conf.BROKER_CLASS == taskqueue.PATH  # django-q's ORM broker, or ours
    return bool(Conf.ORM) and alias == Conf.ORM and not Conf.SYNC and own
