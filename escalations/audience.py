"""Who an escalation level addresses and what its notice says, with the caches one sweep shares.

``SweepContext`` holds, for one sweep, what many firings read alike: ladders, escalation
contacts, people (with their profile and notification settings), calendars, customers, queues,
group members, and the notice texts per language, clock kind, target and threshold, so a batch of
a thousand firings reads each of them once. ``audience_ids`` lists the people a level addresses
for a ticket. Both the set-based firing (``escalations.sweep``) and the action step
(``escalations.firing_actions``, for contacts and people) use them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from escalations.ladder import LadderCache
from escalations.models import ContactRole, EscalationLevel, QueueEscalationContact
from notifications import preferences
from notifications.preferences import time_zone_for
from sla.models import SLAClock
from sla.selectors import format_duration
from tickets.models import Ticket


@dataclass
class SweepContext:
    """Per-sweep caches: ladders, contacts, people, calendars, customers, queues, group members, fixed audiences,
    notice texts."""

    now: datetime
    ladders: LadderCache = field(default_factory=LadderCache)
    users: dict = field(default_factory=dict)
    contacts: dict | None = None
    group_members: dict = field(default_factory=dict)
    named_audience: dict = field(default_factory=dict)
    titles: dict = field(default_factory=dict)
    level_names: dict = field(default_factory=dict)  # (language, level id) -> the level's name
    bodies: dict = field(default_factory=dict)
    zones: dict = field(default_factory=dict)
    rows: dict = field(default_factory=dict)  # model → {pk: row}: calendars, customers, queues

    def contact(self, queue, role: str) -> int | None:
        if self.contacts is None:
            self.contacts = {
                (queue_id, r): user_id
                for queue_id, r, user_id in QueueEscalationContact.objects.filter(user__is_active=True).values_list(
                    "queue_id", "role", "user_id"
                )
            }
        user_id = self.contacts.get((queue.pk, role)) or self.contacts.get((None, role))
        if user_id is None and role == ContactRole.SHIFT_LEAD:
            user_id = queue.manager_id  # no shift lead named: the queue's manager
        return user_id

    def members(self, level: EscalationLevel) -> set[int]:
        members = self.group_members.get(level.pk)
        if members is None:
            groups = [g.pk for g in level.groups.all()]
            members = set()
            if groups:
                members = set(
                    get_user_model().objects.filter(groups__in=groups, is_active=True).values_list("pk", flat=True)
                )
            self.group_members[level.pk] = members
        return members

    def named(self, level: EscalationLevel) -> tuple[int, ...]:
        """The people a level names whatever the ticket: its users, then its groups' members (sorted)."""
        ids = self.named_audience.get(level.pk)
        if ids is None:
            ids = self.named_audience[level.pk] = (*(u.pk for u in level.users.all()), *sorted(self.members(level)))
        return ids

    def load_users(self, ids) -> list:
        self.known(get_user_model(), ids)
        return [self.users[pk] for pk in ids if self.users.get(pk) is not None]

    def known(self, model, ids, using: str = DEFAULT_DB_ALIAS) -> dict:
        """Rows of ``model`` by primary key (None for a missing one), each read once per sweep.

        People come with their profile, working calendar and notification settings: what the
        audience, the notices and ``notify_many`` read of them.
        """
        user_model = get_user_model()
        rows = self.users if model is user_model else self.rows.setdefault(model, {})
        missing = [pk for pk in ids if pk not in rows]
        if missing:
            queryset = model.objects.using(using)
            if model is user_model:
                queryset = queryset.select_related("profile__work_calendar", "notification_settings")
            found = queryset.in_bulk(missing)
            for pk in missing:
                rows[pk] = found.get(pk)
        return rows

    def notice_texts(self, level: EscalationLevel, clock: SLAClock, threshold: timedelta, user) -> tuple[str, str]:
        """Title and body of a level's notice to ``user``, as text in the user's language.

        The translated formats and the durations are worked out once per language (and clock kind, target
        and threshold) for the whole sweep; per notice only the ticket and the due time are filled in.
        """
        language = preferences.language_for(user)
        title = self.titles.get(language)
        if title is None:
            with override(language):
                title = self.titles[language] = str(NOTICE_TITLE)
        name = level.name or self.level_names.get((language, level.pk))
        if not name:  # derived from the trigger, in the reader's language; once per level and language
            with override(language):
                name = level.default_name()
            if level.pk is not None:
                self.level_names[(language, level.pk)] = name
        key = (language, clock.kind, clock.target, threshold)
        body = self.bodies.get(key)
        if body is None:
            with override(language):
                body = self.bodies[key] = _body_format(clock.kind, clock.target, threshold)
        ticket = clock.ticket
        body_format, parts = body
        if "due" in parts:  # the due instant in the user's time zone
            parts = {**parts, "due": _local_due(clock.due_at, self.zone(user))}
        with override(language):
            level_name = level.display_name
        return title.format(level=level_name, reference=ticket.reference, title=ticket.title), body_format.format(
            **parts
        )

    def zone(self, user) -> ZoneInfo:
        zone = self.zones.get(user.pk)
        if zone is None:
            try:
                zone = ZoneInfo(time_zone_for(user))
            except (ValueError, KeyError):
                zone = ZoneInfo(settings.TIME_ZONE)
            self.zones[user.pk] = zone
        return zone


NOTICE_TITLE = _("{level}: {reference} {title}")


def _body_format(kind: str, target: timedelta, threshold: timedelta) -> tuple[str, dict]:
    """The body's translated format and its values other than ``due`` (in the active language)."""
    label = str(SLAClock.Kind(kind).label)
    if threshold < target:
        return str(_("{clock}: {remaining} of business time left, due {due}.")), {
            "clock": label, "remaining": format_duration(target - threshold), "due": None,
        }
    if threshold == target:
        return str(_("{clock}: the target of {target} is breached.")), {
            "clock": label, "target": format_duration(target),
        }
    return str(_("{clock}: overdue by {overdue} of business time (target {target}).")), {
        "clock": label, "overdue": format_duration(threshold - target), "target": format_duration(target),
    }


def _local_due(due_at: datetime | None, zone: ZoneInfo) -> str:
    return timezone.localtime(due_at, zone).strftime("%d.%m %H:%M") if due_at else "—"


def audience_ids(level: EscalationLevel, ticket: Ticket, ctx: SweepContext) -> list[int]:
    """The people a level addresses for ``ticket``, in a stable order, without duplicates or gaps."""
    ids: list[int | None] = []
    if level.to_performer:
        ids.append(ticket.performer_id)
    if level.to_owner:
        ids.append(ticket.owner_id)
    if level.to_approver:
        ids.append(ticket.approver_id)
    if level.to_manager and ticket.performer_id:
        profile = getattr(ticket.performer, "profile", None)
        ids.append(profile.manager_id if profile is not None else None)
    for flag, role in (
        (level.to_shift_lead, ContactRole.SHIFT_LEAD),
        (level.to_head, ContactRole.HEAD),
        (level.to_director, ContactRole.DIRECTOR),
    ):
        if flag:
            ids.append(ctx.contact(ticket.queue, role))
    ids.extend(ctx.named(level))
    return list(dict.fromkeys(pk for pk in ids if pk is not None))  # first mention wins
