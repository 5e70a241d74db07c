"""The one notification service: ``notify`` writes the inbox row and its outbox in one transaction.

Callers (the escalation sweep, ticket services, admin actions) never send
anything themselves: ``notify`` stores a ``Notification`` (the in-app inbox
entry) and one ``Delivery`` outbox row per other channel the recipient chose
for the urgency, in the caller's transaction. After commit a django-q2 task
delivers them; the per-minute ``deliver_pending`` schedule picks up whatever
an enqueue missed. Reading and marking read live here too.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from escalations.models import OUTBOX_CHANNELS, Delivery, Notification, NotificationChannel, Urgency

from . import delivery, digest, preferences

logger = logging.getLogger(__name__)


def notify(
    recipient,
    *,
    kind: str,
    urgency: str,
    title,
    body,
    url: str = "",
    ticket=None,
    dedupe_key: str | None = None,
    actor=None,
) -> Notification | None:
    """Notify ``recipient``; returns the new notification, or None when nothing was created.

    Nothing is created for a missing or deactivated recipient, for a
    ``dedupe_key`` this recipient already has (so calling twice with the same
    key notifies once), or when the recipient chose no channel for ``urgency``.
    ``title`` and ``body`` may be lazy translations (``gettext_lazy``,
    ``format_lazy``): they are rendered in the recipient's language.
    """
    urgency = Urgency(urgency).value
    if recipient is None or not recipient.is_active:
        return None
    prefs = preferences.settings_for(recipient)
    channels = prefs.channels_for(urgency)
    if not channels:
        return None
    with translation.override(preferences.language_for(recipient)):
        title = str(title)[:200]
        body = str(body)
    now = timezone.now()
    with transaction.atomic():
        if dedupe_key and Notification.objects.filter(recipient=recipient, dedupe_key=dedupe_key).exists():
            return None
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    recipient=recipient,
                    kind=kind,
                    urgency=urgency,
                    title=title,
                    body=body,
                    url=url,
                    ticket=ticket,
                    actor=actor,
                    dedupe_key=dedupe_key or None,
                    in_app=NotificationChannel.IN_APP in channels,
                    created_at=now,
                )
        except IntegrityError:
            # A concurrent notify with the same key won the race.
            if dedupe_key and Notification.objects.filter(recipient=recipient, dedupe_key=dedupe_key).exists():
                return None
            raise
        outbox = _outbox_rows(notification, [c for c in channels if c in OUTBOX_CHANNELS], prefs=prefs, now=now)
        if outbox:
            Delivery.objects.bulk_create(outbox)
            if any(row.next_attempt_at <= now for row in outbox):
                delivery.enqueue_on_commit()
    return notification


def _outbox_rows(notification: Notification, channels: list[str], *, prefs, now: datetime) -> list[Delivery]:
    if not channels:
        return []
    urgency = notification.urgency
    digestible = digest.is_digestible(urgency, prefs)
    quiet = preferences.is_quiet(urgency, prefs)
    calendar = preferences.working_calendar_for(notification.recipient) if quiet else None
    own_release = preferences.release_at(
        now=now, urgency=urgency, prefs=prefs, calendar=calendar, digestible=digestible
    )
    held = digest.held_groups(notification.recipient, channels, now=now) if digestible else {}
    return [
        Delivery(
            notification=notification,
            recipient=notification.recipient,
            channel=channel,
            digestible=digestible,
            next_attempt_at=held.get(channel, own_release),
            created_at=now,
        )
        for channel in channels
    ]


# --- Reading ------------------------------------------------------------------------------


def inbox_for(user):
    """The notifications ``user`` sees in the inbox, newest first."""
    return (
        Notification.objects.filter(recipient=user, in_app=True).select_related("ticket").order_by("-created_at", "-id")
    )


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, in_app=True, read_at__isnull=True).count()


def notification_mark_read(notification: Notification, *, at: datetime | None = None) -> Notification:
    """Mark one notification read (idempotent: the first reading time is kept)."""
    if notification.read_at is None:
        at = at or timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=at)
        notification.read_at = at
    return notification


def notifications_mark_all_read(user, *, at: datetime | None = None) -> int:
    """Mark every unread inbox notification of ``user`` read; returns how many."""
    return Notification.objects.filter(recipient=user, in_app=True, read_at__isnull=True).update(
        read_at=at or timezone.now()
    )
