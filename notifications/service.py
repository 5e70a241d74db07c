"""The one notification service: ``notify`` writes the inbox row and its outbox in one transaction.

Callers (the escalation sweep, ticket services, admin actions) never send
anything themselves: ``notify`` stores a ``Notification`` (the in-app inbox
entry) and one ``Delivery`` outbox row per other channel the recipient chose
for the urgency, in the caller's transaction. After commit a django-q2 task
delivers them; the per-minute ``deliver_pending`` schedule picks up whatever
an enqueue missed. Reading and marking read live here too.

``notify_many(notices)`` does the same for many notices at once in a constant
number of queries (the sweep fires hundreds per batch): recipients' settings
and profiles in one query each, the notifications in one ``INSERT … ON
CONFLICT DO NOTHING`` that skips the dedupe keys a recipient already has,
open digest groups in one, the outbox rows in one, and one enqueue after
commit. ``notify`` is ``notify_many`` with one notice, so both
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
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Count, Min
from django.utils import timezone, translation

from core.bulk import insert_rows
from core.collect import Collector
from core.rowcache import Precompiled
from notifications import delivery, digest, preferences
from notifications.models import (
    OUTBOX_CHANNELS,
    Delivery,
    Notification,
    NotificationChannel,
    NotificationSettings,
    Urgency,
)
from tickets.models import Profile

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
    key notifies once), when the recipient chose no channel for ``urgency``,
    or when they turned notices of ``kind`` off (``NotificationSettings.muted_kinds``).
    ``title`` and ``body`` may be lazy translations (``gettext_lazy``,
    ``format_lazy``): they are rendered in the recipient's language.
    """
    notice = Notice(recipient, kind=kind, urgency=urgency, title=title, body=body, url=url, ticket=ticket,
                    dedupe_key=dedupe_key, actor=actor)
    return notify_many([notice])[0]


_collected = Collector("notices_deferred")


def deferred():
    """Within the block, ``notify_many(…, results=False)`` collects its notices (returning None for each: nothing is
    known yet); they are created by one ``notify_many`` when the block ends without an error, which gives the same
    rows as the calls one by one (``notify_many`` keeps their order, dedupe keys and digest groups), in the caller's
    transaction. Nested blocks create with the outermost one. It yields the list of notices still to create: a caller
    that rolls back to a savepoint drops the notices collected since (``core.collect``)."""
    return _collected.block(lambda notices: notify_many(notices, results=False))


def notify_many(notices: Sequence[Notice], *, results: bool = True) -> list[Notification | None]:
    """``notify`` for each of ``notices`` in one go; returns, per notice, its notification or None.

    Same rules as calling ``notify`` once per notice in this order: a notice
    whose (recipient, dedupe key) an earlier one of the batch already used is
    dropped, and routine notices join the digest groups earlier ones opened.
    Every row is written in the caller's transaction; delivery is enqueued
    once, after commit. ``results=False`` (the sweep) skips building the
    returned ``Notification`` objects: the list holds True for each notice
    that created one (inside :func:`deferred`, None for each: created later).

    The rows are written as plain tuples (``core.bulk.insert_rows``), and
    what depends only on the recipient and the urgency (channels, language,
    quiet hours, digest release) is worked out once per pair, not per notice.
    """
    notices = list(notices)
    urgencies = [Urgency(n.urgency).value for n in notices]  # an unknown urgency fails before any write
    pending = _collected.pending() if not results else None
    if pending is not None:
        pending.extend(notices)
        return [None] * len(notices)
    result: list = [None] * len(notices)
    active = [i for i, n in enumerate(notices) if n.recipient is not None and n.recipient.is_active]
    if not active:
        return result
    _preload_recipients([notices[i].recipient for i in active])
    chosen: list[tuple[int, NotificationSettings, list[str]]] = []
    seen_keys: set[tuple[int, str]] = set()
    choices: dict[tuple[int, str], tuple[NotificationSettings, list[str]]] = {}
    for i in active:
        notice = notices[i]
        per_urgency = (notice.recipient.pk, urgencies[i])
        choice = choices.get(per_urgency)
        if choice is None:
            prefs = preferences.settings_for(notice.recipient)
            choice = choices[per_urgency] = (prefs, prefs.channels_for(urgencies[i]))
        prefs, channels = choice
        if not channels or not prefs.wants(notice.kind):
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
    in_app = NotificationChannel.IN_APP.value
    rows = {}
    for (i, _prefs, channels), (title, body) in zip(chosen, texts, strict=True):
        n = notices[i]
        rows[i] = (n.recipient.pk, n.kind, urgencies[i], title, body, n.url, _pk(n.ticket), _pk(n.actor),
                   n.dedupe_key or None, in_app in channels, now)
    # The caller's transaction, with no savepoint of its own (two of every notice's queries): every caller that goes
    # on after an error holds a savepoint of its own around the call (the sweep's fallback, the deferral services).
    with transaction.atomic(savepoint=False):
        created = _insert_notifications(rows)
        if not created:
            return result
        kept = [(notices[i].recipient, urgencies[i], prefs, channels, created[i])
                for i, prefs, channels in chosen if i in created]
        outbox = _outbox_rows(kept, now=now)
        if outbox:
            insert_rows(Delivery, DELIVERY_COLUMNS, outbox)
            if any(row[4] <= now for row in outbox):
                delivery.enqueue_on_commit()
    for i, pk in created.items():
        result[i] = _notification(pk, notices[i], rows[i]) if results else True
    return result


NOTIFICATION_COLUMNS = ("recipient", "kind", "urgency", "title", "body", "url", "ticket", "actor", "dedupe_key",
                       "in_app", "created_at")
DELIVERY_COLUMNS = ("notification", "recipient", "channel", "digestible", "next_attempt_at", "created_at")


def _pk(obj) -> int | None:
    return None if obj is None else obj.pk


def _notification(pk: int, notice: Notice, row: tuple) -> Notification:
    """The ``Notification`` object of an inserted row (with its recipient, ticket and actor in place)."""
    _recipient, kind, urgency, title, body, url, _ticket, _actor, dedupe_key, in_app, created_at = row
    notification = Notification(
        pk=pk, recipient=notice.recipient, kind=kind, urgency=urgency, title=title, body=body, url=url,
        ticket=notice.ticket, actor=notice.actor, dedupe_key=dedupe_key, in_app=in_app, created_at=created_at,
    )
    notification._state.adding = False
    notification._state.db = DEFAULT_DB_ALIAS
    return notification


def _preload_recipients(users: Sequence) -> None:
    """Load the notification settings and profiles (with work calendars) the service reads, in bulk."""
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
    texts: list[tuple[str, str]] = [("", "")] * len(notices)
    by_language: dict[str, list[int]] = defaultdict(list)
    for index, notice in enumerate(notices):
        if type(notice.title) is str and type(notice.body) is str:  # already text (the sweep renders its own)
            texts[index] = (notice.title[:200], notice.body)
        else:
            by_language[preferences.language_for(notice.recipient)].append(index)
    for language, indexes in by_language.items():
        with translation.override(language):
            for index in indexes:
                texts[index] = (str(notices[index].title)[:200], str(notices[index].body))
    return texts


def _insert_notifications(rows: dict[int, tuple]) -> dict[int, int]:
    """Insert the rows whose (recipient, dedupe key) is new; returns the new ids by notice index.

    One ``INSERT … ON CONFLICT (recipient, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING``: a key
    the recipient already has is skipped, and so is one a concurrent transaction inserts meanwhile (the
    insert waits for that transaction and skips the row if it committed).
    """
    recipient, dedupe_key = NOTIFICATION_COLUMNS.index("recipient"), NOTIFICATION_COLUMNS.index("dedupe_key")
    inserted = insert_rows(Notification, NOTIFICATION_COLUMNS, rows.values(),
                           on_conflict=("recipient", "dedupe_key"), on_conflict_where="dedupe_key IS NOT NULL",
                           returning=("id", "recipient", "dedupe_key"))
    by_key = {(r, key): pk for pk, r, key in inserted if key is not None}
    unkeyed = iter([pk for pk, _r, key in inserted if key is None])  # never skipped: in the order given
    return {
        i: pk
        for i, row in rows.items()
        if (pk := by_key.get((row[recipient], row[dedupe_key])) if row[dedupe_key] else next(unkeyed)) is not None
    }


def _outbox_rows(items: Sequence[tuple], *, now: datetime) -> list[tuple]:
    """The outbox rows (``DELIVERY_COLUMNS``) of the new notifications, in order; routine ones join open digests.

    ``items`` are (recipient, urgency, settings, channels, notification id). When each delivery is
    released depends only on the recipient, the urgency and ``now``: it is worked out once per pair.
    """
    wanted = [(user, urgency, prefs, [c for c in channels if c in OUTBOX_CHANNELS], pk)
              for user, urgency, prefs, channels, pk in items]
    wanted = [item for item in wanted if item[3]]
    if not wanted:
        return []
    digestible = {(user.pk, urgency): digest.is_digestible(urgency, prefs) for user, urgency, prefs, _c, _pk in wanted}
    held = _held_groups(
        {user.pk for user, urgency, _p, _c, _pk in wanted if digestible[user.pk, urgency]},
        {c for user, urgency, _p, channels, _pk in wanted if digestible[user.pk, urgency] for c in channels},
        now=now,
    )
    releases: dict[tuple[int, str], datetime] = {}
    outbox = []
    for user, urgency, prefs, channels, pk in wanted:
        grouped = digestible[user.pk, urgency]
        own_release = releases.get((user.pk, urgency))
        if own_release is None:
            quiet = preferences.is_quiet(urgency, prefs)
            calendar = preferences.working_calendar_for(user) if quiet else None
            own_release = releases[user.pk, urgency] = preferences.release_at(
                now=now, urgency=urgency, prefs=prefs, calendar=calendar, digestible=grouped
            )
        for channel in channels:
            at = own_release
            if grouped:
                key = (user.pk, channel)
                at = held.get(key, own_release)
                if at > now:
                    held[key] = at  # a later routine notice in this batch joins this group
            outbox.append((pk, user.pk, channel, grouped, at, now))
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
    """Unread in-app notices of ``user`` (the header badge of every page), by a statement compiled once per process."""
    return _UNREAD.value(user.pk, default=0)


_UNREAD = Precompiled(
    lambda recipient_id: Notification.objects.filter(recipient_id=recipient_id, in_app=True, read_at__isnull=True)
    .order_by()
    .values("recipient_id")
    .annotate(n=Count("pk"))
    .values_list("n"),
    -7_100_601,  # stands for the person while the SQL is compiled: no user has it
)


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
