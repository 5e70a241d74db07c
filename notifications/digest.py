"""Digests: several routine notices to one person on one channel become one message.

A routine delivery on an outbox channel is *digestible*. Instead of leaving at
once it is held until ``created + digest window`` (see
``preferences.release_at``); a digestible delivery created while a group of
the same person and channel is still held joins that group by taking the
group's release time. When the group falls due, the worker claims the whole
group at once (``delivery.claim_digest_group``) and sends it as one message
("You have 10 new notifications" and the list); every delivery of the group
then ends ``sent`` pointing to the same ``Digest`` row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db.models import Min

from notifications.models import Delivery, Digest, NotificationSettings, Urgency

MAX_DIGEST_SIZE = 200
"""A larger group is split: the rest goes out as the next digest right away."""


def is_digestible(urgency: str, prefs: NotificationSettings) -> bool:
    """Routine notices are grouped, unless the person set the window to 0."""
    return urgency == Urgency.ROUTINE and prefs.digest_window_minutes > 0


def held_groups(recipient, channels: Iterable[str], *, now: datetime) -> dict[str, datetime]:
    """Release time of the group still held for ``recipient`` on each of ``channels`` (one query)."""
    channels = list(channels)
    if not channels:
        return {}
    rows = (
        Delivery.objects.filter(
            recipient=recipient,
            channel__in=channels,
            status=Delivery.Status.PENDING,
            digestible=True,
            next_attempt_at__gt=now,
        )
        .values("channel")
        .annotate(release=Min("next_attempt_at"))
        .order_by()
    )
    return {row["channel"]: row["release"] for row in rows}


def due_groups(*, now: datetime, limit: int) -> list[tuple[int, str]]:
    """(recipient id, channel) of the held groups that are due."""
    return list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, digestible=True, next_attempt_at__lte=now)
        .values_list("recipient_id", "channel")
        .order_by("recipient_id", "channel")
        .distinct()[:limit]
    )


def record(deliveries: Sequence[Delivery], *, sent_at: datetime) -> Digest | None:
    """The ``Digest`` row of a group sent as one message (None for a single delivery)."""
    if len(deliveries) < 2:
        return None
    first = deliveries[0]
    return Digest.objects.create(
        recipient_id=first.recipient_id, channel=first.channel, size=len(deliveries), sent_at=sent_at
    )
