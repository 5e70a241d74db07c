"""The one notification service: ``notify`` writes the inbox row and its outbox in one transaction.

Callers (the escalation sweep, ticket services, admin actions) never send
anything themselves: ``notify`` stores a ``Notification`` (the in-app inbox
entry) and one ``Delivery`` outbox row per other channel the recipient chose
for the urgency, in the caller's transaction. After commit a django-q2 task
delivers them; the per-minute ``deliver_pending`` schedule picks up whatever
an enqueue missed. Reading and marking read live here too.

``notify_many(notices)`` does the same for many notices at once in a constant
number of queries (the sweep fires hundreds per batch): recipients' settings
and profiles in one query each, existing dedupe keys in one, the notifications
in one ``INSERT``, open digest groups in one, the outbox rows in one, and one
enqueue after commit. ``notify`` is ``notify_many`` with one notice, so both
behave the same: N ``notify`` calls and one ``notify_many`` of the same N
notices write the same rows.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils import timezone, translation

from escalations.models import (
    OUTBOX_CHANNELS,
    Delivery,
    Notification,
    NotificationChannel,
    NotificationSettings,
    Urgency,
)

from . import delivery, digest, preferences

logger = logging.getLogger(__name__)


@dataclass
class Notice:
    """One notice for ``notify_many``: the keyword arguments of ``notify``."""

    recipient: Any
    kind: str
    urgency: str
    title: Any
    body: Any
    url: str = ""
    ticket: Any = None
    dedupe_key: str | None = None
    actor: Any = None


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
    notice = Notice(recipient, kind=kind, urgency=urgency, title=title, body=body, url=url, ticket=ticket,
                    dedupe_key=dedupe_key, actor=actor)
    return notify_many([notice])[0]


def notify_many(notices: Sequence[Notice]) -> list[Notification | None]:
    """``notify`` for each of ``notices`` in one go; returns, per notice, its notification or None.

    Same rules as calling ``notify`` once per notice in this order: a notice
    whose (recipient, dedupe key) an earlier one of the batch already used is
    dropped, and routine notices join the digest groups earlier ones opened.
    Every row is written in the caller's transaction; delivery is enqueued
    once, after commit.
    """
    notices = list(notices)
    urgencies = [Urgency(n.urgency).value for n in notices]  # an unknown urgency fails before any write
    result: list[Notification | None] = [None] * len(notices)
    active = [i for i, n in enumerate(notices) if n.recipient is not None and n.recipient.is_active]
    if not active:
        return result
    _preload_recipients([notices[i].recipient for i in active])
    chosen: list[tuple[int, NotificationSettings, list[str]]] = []
    seen_keys: set[tuple[int, str]] = set()
    for i in active:
        notice = notices[i]
        prefs = preferences.settings_for(notice.recipient)
        channels = prefs.channels_for(urgencies[i])
        if not channels:
            continue
        if notice.dedupe_key:
            key = (notice.recipient.pk, notice.dedupe_key)
            if key in seen_keys:
                continue
            seen_keys.add(key)
        chosen.append((i, prefs, channels))
    if not chosen:
        return result
    texts = _render([notices[i] for i, _prefs, _channels in chosen])
    now = timezone.now()
    rows = {
        i: Notification(
            recipient=notices[i].recipient,
            kind=notices[i].kind,
            urgency=urgencies[i],
            title=title,
            body=body,
            url=notices[i].url,
            ticket=notices[i].ticket,
            actor=notices[i].actor,
            dedupe_key=notices[i].dedupe_key or None,
            in_app=NotificationChannel.IN_APP in channels,
            created_at=now,
        )
        for (i, _prefs, channels), (title, body) in zip(chosen, texts, strict=True)
    }
    with transaction.atomic():
        created = _insert_notifications(rows)
        if not created:
            return result
        kept = [(i, prefs, channels) for i, prefs, channels in chosen if i in created]
        outbox = _outbox_rows([(rows[i], prefs, channels) for i, prefs, channels in kept], now=now)
        if outbox:
            Delivery.objects.bulk_create(outbox)
            if any(row.next_attempt_at <= now for row in outbox):
                delivery.enqueue_on_commit()
    for i in created:
        result[i] = rows[i]
    return result


def _preload_recipients(users: Sequence) -> None:
    """Load the notification settings and profiles (with work calendars) the service reads, in bulk."""
    from tickets.models import Profile

    user_model = get_user_model()
    for relation, load in (
        (user_model.notification_settings.related, lambda ids: NotificationSettings.objects.filter(user_id__in=ids)),
        (user_model.profile.related,
         lambda ids: Profile.objects.select_related("work_calendar").filter(user_id__in=ids)),
    ):
        missing: dict[int, list] = defaultdict(list)
        for user in users:
            if not relation.is_cached(user):
                missing[user.pk].append(user)
        if missing:
            found = {row.user_id: row for row in load(list(missing))}
            for pk, same_user in missing.items():
                for user in same_user:
                    relation.set_cached_value(user, found.get(pk))


def _render(notices: Sequence[Notice]) -> list[tuple[str, str]]:
    """(title, body) of each notice as text in its recipient's language (one language switch per language)."""
    by_language: dict[str, list[int]] = defaultdict(list)
    for index, notice in enumerate(notices):
        by_language[preferences.language_for(notice.recipient)].append(index)
    texts: list[tuple[str, str]] = [("", "")] * len(notices)
    for language, indexes in by_language.items():
        with translation.override(language):
            for index in indexes:
                texts[index] = (str(notices[index].title)[:200], str(notices[index].body))
    return texts


def _insert_notifications(rows: dict[int, Notification]) -> dict[int, Notification]:
    """Insert the rows whose (recipient, dedupe key) is new; returns those inserted (by notice index).

    Existing keys are filtered out in one query; if a concurrent transaction
    inserts one of the keys between that query and the insert, the insert is
    rolled back to its savepoint and retried once without it.
    """
    keyed = {(n.recipient_id, n.dedupe_key) for n in rows.values() if n.dedupe_key}
    for attempt in (1, 2):
        if keyed:
            existing = set(
                Notification.objects.filter(
                    recipient_id__in={r for r, _k in keyed}, dedupe_key__in={k for _r, k in keyed}
                ).values_list("recipient_id", "dedupe_key")
            )
            rows = {i: n for i, n in rows.items() if not n.dedupe_key or (n.recipient_id, n.dedupe_key) not in existing}
        if not rows:
            return {}
        if not keyed:
            Notification.objects.bulk_create(list(rows.values()))
            return rows
        try:
            with transaction.atomic():
                Notification.objects.bulk_create(list(rows.values()))
        except IntegrityError:
            # A concurrent notify with the same key won the race: drop it and try again.
            if attempt == 2:
                raise
            for n in rows.values():
                n.pk = None
                n._state.adding = True
            continue
        return rows
    return {}  # pragma: no cover - the loop returns or raises


def _outbox_rows(items: Sequence[tuple[Notification, NotificationSettings, list[str]]], *, now: datetime
                 ) -> list[Delivery]:
    """The outbox rows of the new notifications, in order; routine ones join open digest groups."""
    wanted = [(n, prefs, [c for c in channels if c in OUTBOX_CHANNELS]) for n, prefs, channels in items]
    wanted = [(n, prefs, channels) for n, prefs, channels in wanted if channels]
    if not wanted:
        return []
    digestible = {id(n): digest.is_digestible(n.urgency, prefs) for n, prefs, _channels in wanted}
    held = _held_groups(
        {n.recipient_id for n, _prefs, _channels in wanted if digestible[id(n)]},
        {c for n, _prefs, channels in wanted if digestible[id(n)] for c in channels},
        now=now,
    )
    outbox = []
    for notification, prefs, channels in wanted:
        urgency = notification.urgency
        quiet = preferences.is_quiet(urgency, prefs)
        calendar = preferences.working_calendar_for(notification.recipient) if quiet else None
        grouped = digestible[id(notification)]
        own_release = preferences.release_at(now=now, urgency=urgency, prefs=prefs, calendar=calendar,
                                             digestible=grouped)
        for channel in channels:
            at = own_release
            if grouped:
                key = (notification.recipient_id, channel)
                at = held.get(key, own_release)
                if at > now:
                    held[key] = at  # a later routine notice in this batch joins this group
            outbox.append(
                Delivery(
                    notification=notification,
                    recipient=notification.recipient,
                    channel=channel,
                    digestible=grouped,
                    next_attempt_at=at,
                    created_at=now,
                )
            )
    return outbox


def _held_groups(recipient_ids: set[int], channels: set[str], *, now: datetime) -> dict[tuple[int, str], datetime]:
    """Release time of the digest group still held per (recipient, channel) (one query; see ``digest``)."""
    if not recipient_ids or not channels:
        return {}
    rows = (
        Delivery.objects.filter(
            recipient_id__in=recipient_ids,
            channel__in=channels,
            status=Delivery.Status.PENDING,
            digestible=True,
            next_attempt_at__gt=now,
        )
        .values("recipient_id", "channel")
        .annotate(release=Min("next_attempt_at"))
        .order_by()
    )
    return {(row["recipient_id"], row["channel"]): row["release"] for row in rows}


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
