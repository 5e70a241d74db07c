"""The outbox worker: claim due deliveries, send them, retry with backoff.

Exactly once
------------
The claim, the backoff and the reclaim are ``core.outbox``'s, shared with the customer outbox
(``channels.outbox``). A delivery is sent by the worker that moved it from ``pending`` to
``sending``. On PostgreSQL the claim locks the due rows with
``SELECT … FOR UPDATE SKIP LOCKED`` and marks them in the same transaction,
so concurrent workers take disjoint rows without waiting on each other. On
SQLite the claim is a conditional ``UPDATE … SET status='sending' WHERE
status='pending'`` (SQLite runs one writer at a time), so a row already taken
by another worker is simply not updated. Either way each claim stamps its own
``claim_token`` and the worker sends only the rows carrying it; the result is
written back with ``WHERE claim_token = …`` so a late worker never overwrites
a newer state.

A worker that died while sending leaves rows in ``sending``: after
``NOTIFY_SENDING_TIMEOUT`` seconds they are reclaimed (back to pending, or
failed when out of attempts).

Retries
-------
Any error other than ``NotConfigured``/``PermanentFailure`` is retried after
1, 5, 25, 125 … minutes (capped at 6 hours) until ``NOTIFY_MAX_ATTEMPTS``;
then the delivery is ``failed``. Every error is kept in ``last_error`` for
the admin's delivery changelist, where a "retry" action re-queues it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core import outbox
from notifications import digest
from notifications.channels import NotConfigured, Outgoing, PermanentFailure, channel_for
from notifications.models import Delivery

logger = logging.getLogger(__name__)

BATCH_SIZE = 50
MAX_BACKOFF = timedelta(hours=6)
TASK = "escalations.tasks.deliver_pending"

Status = Delivery.Status


def max_attempts() -> int:
    return max(1, int(settings.NOTIFY_MAX_ATTEMPTS))


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 1, 5, 25, 125 … minutes, at most 6 hours."""
    return outbox.backoff(attempts, cap=MAX_BACKOFF)


# --- Enqueueing -----------------------------------------------------------------------


def enqueue() -> None:
    """Ask a django-q2 worker to run ``deliver_pending`` now (``core.outbox.enqueue_task``: failing loses nothing,
    the per-minute schedule runs the same task)."""
    outbox.enqueue_task(TASK)


def enqueue_on_commit(using: str | None = None) -> None:
    """Enqueue delivery once the current transaction commits (once per transaction)."""
    outbox.enqueue_on_commit(enqueue, using=using)


# --- Claiming ---------------------------------------------------------------------------


def claim(queryset: QuerySet, *, limit: int) -> list[Delivery]:
    """Move up to ``limit`` pending rows of ``queryset`` to ``sending`` for this worker and return them.

    Rows another worker holds or has already taken are never returned (``core.outbox.claim``).
    """
    token = outbox.claim(queryset, limit=limit)
    if token is None:
        return []
    return list(
        Delivery.objects.using(queryset.db)
        .filter(claim_token=token)
        .select_related("notification__ticket", "recipient__profile", "recipient__notification_settings")
        .order_by("notification__created_at", "pk")
    )


def claim_due(*, now: datetime, limit: int = BATCH_SIZE) -> list[Delivery]:
    """Claim due deliveries that are sent one by one (not held for a digest)."""
    return claim(Delivery.objects.filter(digestible=False, next_attempt_at__lte=now), limit=limit)


def claim_digest_group(recipient_id: int, channel: str, *, now: datetime) -> list[Delivery]:
    """Claim a due digest group of one person on one channel as a whole."""
    group = Delivery.objects.filter(
        recipient_id=recipient_id, channel=channel, digestible=True, next_attempt_at__lte=now
    )
    return claim(group, limit=digest.MAX_DIGEST_SIZE)


def reclaim_stale(*, now: datetime) -> int:
    """Put deliveries whose worker died while sending back to work (or fail them when out of attempts)."""
    failed, reclaimed = outbox.reclaim_stale(
        Delivery.objects.all(), now=now, timeout_seconds=settings.NOTIFY_SENDING_TIMEOUT, max_attempts=max_attempts()
    )
    if failed or reclaimed:
        logger.warning("reclaimed %d stale deliveries, failed %d", reclaimed, failed)
    return failed + reclaimed


# --- Sending -----------------------------------------------------------------------------


def _key(deliveries: Sequence[Delivery]) -> str:
    ids = sorted(d.pk for d in deliveries)
    return f"delivery-{ids[0]}" if len(ids) == 1 else f"digest-{ids[0]}-{ids[-1]}-{len(ids)}"


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, (NotConfigured, PermanentFailure)) else f"{type(exc).__name__}: {text}"


def send(deliveries: Sequence[Delivery]) -> str:
    """Send claimed ``deliveries`` (one, or a digest group) as one message; returns the outcome.

    Outcomes: ``sent``, ``skipped`` (channel not configured), ``retried``, ``failed``.
    """
    first = deliveries[0]
    mine = Delivery.objects.filter(
        pk__in=[d.pk for d in deliveries], claim_token=first.claim_token, status=Status.SENDING
    )
    recipient = first.recipient
    try:
        if not recipient.is_active:
            raise NotConfigured("the recipient's account is deactivated")
        notifications = [d.notification for d in deliveries]
        message = Outgoing(recipient=recipient, notifications=notifications, key=_key(deliveries))
        result = channel_for(first.channel).send(message)
    except NotConfigured as exc:
        mine.update(status=Status.SKIPPED, claim_token=None, last_error=f"not configured: {exc}")
        return "skipped"
    except Exception as exc:
        error = _describe(exc)[:2000]
        attempts = max(d.attempts for d in deliveries)
        if isinstance(exc, PermanentFailure) or attempts >= max_attempts():
            logger.error("delivery %s on %s failed for good: %s", _key(deliveries), first.channel, error)
            mine.update(status=Status.FAILED, claim_token=None, last_error=error)
            return "failed"
        logger.warning("delivery %s on %s failed (attempt %d): %s", _key(deliveries), first.channel, attempts, error)
        mine.update(
            status=Status.PENDING,
            claim_token=None,
            last_error=error,
            next_attempt_at=timezone.now() + backoff(attempts),
        )
        return "retried"
    sent_at = timezone.now()
    with transaction.atomic():
        group = digest.record(deliveries, sent_at=sent_at)
        mine.update(status=Status.SENT, claim_token=None, sent_at=sent_at, result=str(result or "")[:300], digest=group)
    return "sent"


def deliver_pending(*, now: datetime | None = None, limit: int = 1000) -> dict[str, int]:
    """Send every due delivery (up to ``limit`` messages): the django-q2 task and the per-minute schedule."""
    now = now or timezone.now()
    stats: Counter[str] = Counter()
    stats["reclaimed"] = reclaim_stale(now=now)
    messages = 0
    while messages < limit:
        batch = claim_due(now=now, limit=min(BATCH_SIZE, limit - messages))
        for delivery in batch:
            stats[send([delivery])] += 1
        messages += len(batch)
        progress = len(batch)
        for recipient_id, channel in digest.due_groups(now=now, limit=min(BATCH_SIZE, max(1, limit - messages))):
            claimed = claim_digest_group(recipient_id, channel, now=now)
            if claimed:
                stats[send(claimed)] += len(claimed)
                messages += 1
                progress += 1
        if not progress:  # nothing due, or everything due is being sent by another worker
            break
    return {key: stats[key] for key in ("sent", "skipped", "retried", "failed", "reclaimed")}
