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
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from escalations.ladder import LadderCache
from escalations.models import ContactRole, EscalationLevel, QueueEscalationContact
from notifications import preferences
from notifications.channels import absolute_url
from notifications.preferences import time_zone_for
from sla.models import SLAClock
from sla.selectors import format_duration
from tickets.choices import MembershipRole
from tickets.models import QueueMembership, Ticket


@dataclass
class SweepContext:
    """Per-sweep caches: ladders, contacts, people, calendars, customers, queues, group members, fixed audiences,
    notice texts."""

    now: datetime
    ladders: LadderCache = field(default_factory=LadderCache)
    users: dict = field(default_factory=dict)
    contacts: dict | None = None
    dispatcher_ids: dict | None = None  # queue id -> its active dispatchers
    group_members: dict = field(default_factory=dict)
    named_audience: dict = field(default_factory=dict)
    titles: dict = field(default_factory=dict)
    level_names: dict = field(default_factory=dict)  # (language, level id) -> the level's name
    bodies: dict = field(default_factory=dict)
    zones: dict = field(default_factory=dict)
    links: dict = field(default_factory=dict)  # ticket id -> its absolute address
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

    def dispatchers_of(self, queue_id: int) -> tuple[int, ...]:
        """The active dispatchers of a queue (every queue's read in one query per sweep), by id."""
        if self.dispatcher_ids is None:
            found: dict[int, list[int]] = {}
            for q, user_id in QueueMembership.objects.filter(
                role=MembershipRole.DISPATCHER, user__is_active=True
            ).order_by("user_id").values_list("queue_id", "user_id"):
                found.setdefault(q, []).append(user_id)
            self.dispatcher_ids = {q: tuple(ids) for q, ids in found.items()}
        return self.dispatcher_ids.get(queue_id, ())

    def is_active(self, user_id: int) -> bool:
        user = self.known(get_user_model(), [user_id]).get(user_id)
        return user is not None and user.is_active

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
        parts = {**parts, "due": _local_due(clock.due_at, self.zone(user)), "link": self.link(ticket.pk)}
        with override(language):
            level_name = level.display_name
        return title.format(level=level_name, reference=ticket.reference, title=ticket.title), body_format.format(
            **parts
        )

    def link(self, ticket_id: int) -> str:
        """The ticket's absolute address, as the body's last word."""
        url = self.links.get(ticket_id)
        if url is None:
            url = self.links[ticket_id] = absolute_url(ticket_url(ticket_id))
        return url

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

# What the audience is expected to do, per clock kind: the middle of the notice's one line.
EXPECTED = {
    SLAClock.Kind.FIRST_RESPONSE: _("answer the customer"),
    SLAClock.Kind.RESOLUTION: _("resolve the ticket or ask for a deferral"),
    SLAClock.Kind.NEXT_REPLY: _("reply to the customer"),
    SLAClock.Kind.DEADLINE: _("finish the work or ask the manager for a deferral"),
}


def ticket_url(ticket_id: int) -> str:
    """The ticket page every escalation notice links to (the delivered notice's link opens it)."""
    return reverse("tickets:detail", args=[ticket_id])


def _body_format(kind: str, target: timedelta, threshold: timedelta) -> tuple[str, dict]:
    """The body's translated format (one line: what happened, what is expected, by when) and its values other
    than ``due`` and ``link`` (in the active language)."""
    label = str(SLAClock.Kind(kind).label)
    expected = str(EXPECTED.get(kind, EXPECTED[SLAClock.Kind.RESOLUTION]))
    if threshold < target:
        return str(_("{clock}: {remaining} of business time left. Expected: {expected} by {due}. {link}")), {
            "clock": label, "remaining": format_duration(target - threshold), "expected": expected, "due": None,
        }
    if threshold == target:
        return str(_("{clock}: the target of {target} is breached (due {due}). Expected: {expected} now. {link}")), {
            "clock": label, "target": format_duration(target), "expected": expected, "due": None,
        }
    return str(_("{clock}: overdue by {overdue} of business time (due {due}). Expected: {expected} now. {link}")), {
        "clock": label, "overdue": format_duration(threshold - target), "expected": expected, "due": None,
    }


def _local_due(due_at: datetime | None, zone: ZoneInfo) -> str:
    return timezone.localtime(due_at, zone).strftime("%d.%m %H:%M") if due_at else "—"


class Fallback:
    """Who a notice went to when the level's audience was nobody (recorded on the firing as ``fallback``)."""

    DISPATCHERS = "dispatchers"
    QUEUE_MANAGER = "queue_manager"


def account_manager_id(customer) -> int | None:
    """The customer's account manager (one place to read it: routing gives VIP tickets to them too)."""
    return getattr(customer, "account_manager_id", None) if customer is not None else None


def with_fallback(level: EscalationLevel, ticket: Ticket, ids: list[int], ctx: SweepContext) -> tuple[list[int], str]:
    """``ids`` (the level's ``audience_ids``), and when that is nobody (an unassigned ticket warns no performer nor
    their manager) the queue's dispatchers, else the queue's manager: ``(ids, fallback)`` with ``fallback`` empty
    when not used. A level that does not notify needs no audience, and gets no fallback.
    """
    if ids or not level.notify:
        return ids, ""
    dispatchers = ctx.dispatchers_of(ticket.queue_id)
    if dispatchers:
        return list(dispatchers), Fallback.DISPATCHERS
    manager = ticket.queue.manager_id if ticket.queue is not None else None
    if manager is not None and ctx.is_active(manager):
        return [manager], Fallback.QUEUE_MANAGER
    return [], ""


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
    if level.to_account_manager:
        ids.append(account_manager_id(ticket.customer))
    ids.extend(ctx.named(level))
    return list(dict.fromkeys(pk for pk in ids if pk is not None))  # first mention wins
