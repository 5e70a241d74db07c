"""The escalation sweep: claim the clocks that are due, fire their levels exactly once, move on.

``sweep(now)`` reads only clocks with ``next_escalation_at <= now`` (a partial
index covers running clocks with a next escalation), in batches. Each batch is
one transaction:

1. **Claim.** PostgreSQL: ``SELECT … FOR UPDATE OF sla_slaclock SKIP LOCKED``,
   so concurrent sweeps (several django-q2 clusters) take disjoint clocks and
   never wait for each other. SQLite: the rows are read and claimed with a
   conditional ``UPDATE … WHERE next_escalation_at <= now`` in the same
   ``IMMEDIATE`` transaction (SQLite has one writer at a time).
2. **Fire.** For each clock (in its own savepoint): every level of its ladder
   whose instant is not after ``now`` and that has no ``Firing`` in the clock's
   current generation fires, in order: a ``Firing`` row (unique on clock,
   level, generation), the level's actions through the ticket services, a
   ``ticket.escalated`` history row and ``notify()`` to the audience with
   ``dedupe_key = firing:<firing>:<user>``. A clock past due gets
   ``breached_at`` (once).
3. **Advance.** ``next_escalation_at`` becomes the next unfired level's
   instant (or the breach check, or NULL). A clock whose processing raised is
   rolled back to its savepoint, logged, and retried ``RETRY_DELAY`` later; it
   never blocks the others.

Everything a firing does (the firing row, ticket changes, history, outbox
rows) commits together or not at all, so a sweep killed halfway leaves either
nothing or everything for each batch; the next sweep continues from the
timestamps. Instants come from the clock's calendar and the stored consumed
time, never from counting sweeps, so a late or repeated sweep (``--now`` in
the past) neither skips nor repeats a level.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from sla import services as sla_services
from sla.models import Calendar, SLAClock
from sla.selectors import format_duration
from tickets import services as ticket_services
from tickets.models import Customer, Priority, Queue, Ticket, TicketEvent
from tickets.services import TicketError

from . import rules
from .ladder import Ladder, LadderCache, fired_levels, snapshot
from .models import (
    ContactRole,
    EscalationLevel,
    Firing,
    QueueEscalationContact,
    Reassign,
    TicketEscalationState,
)
from .notifications import Notice, notify, notify_many
from .notifications.preferences import time_zone_for

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
INSERT_CHUNK = 500  # firings per INSERT statement (7 parameters each)
RETRY_DELAY = timedelta(minutes=5)
CLAIM_LEASE = timedelta(minutes=10)  # SQLite: how long a claimed clock is held if the sweep dies mid-batch
RUNNING = SLAClock.State.RUNNING

_duration = lazy(format_duration, str)


@dataclass
class SweepContext:
    """Per-sweep caches: ladders, contacts, users, group members."""

    now: datetime
    ladders: LadderCache = field(default_factory=LadderCache)
    users: dict = field(default_factory=dict)
    contacts: dict | None = None
    group_members: dict = field(default_factory=dict)
    touched_tickets: set = field(default_factory=set)

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

    def load_users(self, ids) -> list:
        missing = [pk for pk in ids if pk not in self.users]
        if missing:
            found = (
                get_user_model()
                .objects.select_related("profile__work_calendar", "notification_settings")
                .in_bulk(missing)
            )
            for pk in missing:
                self.users[pk] = found.get(pk)
        return [self.users[pk] for pk in ids if self.users.get(pk) is not None]


# --- The sweep ----------------------------------------------------------------------------------


def sweep(now: datetime | None = None, *, batch_size: int = BATCH_SIZE, using: str = DEFAULT_DB_ALIAS) -> dict:
    """Fire everything due at ``now``; returns ``{"due", "fired", "breached", "failed", "duration_ms"}``."""
    started = time.perf_counter()
    now = now or timezone.now()
    ctx = SweepContext(now=now)
    totals = {"due": 0, "fired": 0, "breached": 0, "failed": 0}
    while True:
        with transaction.atomic(using=using):
            clocks = claim_due_clocks(now, limit=batch_size, using=using)
            if not clocks:
                break
            result = _process_batch(clocks, ctx)
        for key, value in result.items():
            totals[key] += value
    totals["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return totals


def _due_queryset_base(using: str):
    return SLAClock.objects.using(using).select_related("ticket")


def _due_queryset(now: datetime, using: str):
    return (
        _due_queryset_base(using)
        .filter(state=RUNNING, next_escalation_at__lte=now)
        .order_by("next_escalation_at", "pk")
    )


def claim_due_clocks(now: datetime, *, limit: int, using: str = DEFAULT_DB_ALIAS) -> list[SLAClock]:
    """Claim up to ``limit`` due clocks for this transaction (call inside ``transaction.atomic``).

    The clocks come with their ticket; calendars, customers, queues and performers (with profiles) are
    read once per distinct row and shared, rather than joined and built again for every clock.
    """
    due = _due_queryset(now, using)
    if connections[using].vendor == "postgresql":
        clocks = list(due.select_for_update(of=("self",), skip_locked=True)[:limit])
    else:
        clocks = list(due[:limit])
        if clocks:
            # SQLite runs one writer at a time (IMMEDIATE transactions): this conditional update is the claim.
            SLAClock.objects.using(using).filter(
                pk__in=[c.pk for c in clocks], state=RUNNING, next_escalation_at__lte=now
            ).update(next_escalation_at=now + CLAIM_LEASE)
    _attach_related(clocks, using)
    return clocks


def _attach_related(clocks: list[SLAClock], using: str) -> None:
    """Put each clock's calendar and its ticket's customer, queue and performer (+ profile) in place."""
    if not clocks:
        return
    tickets = [c.ticket for c in clocks]
    calendars = Calendar.objects.using(using).in_bulk({c.calendar_id for c in clocks})
    customers = Customer.objects.using(using).in_bulk({t.customer_id for t in tickets})
    queues = Queue.objects.using(using).in_bulk({t.queue_id for t in tickets})
    performer_ids = {t.performer_id for t in tickets if t.performer_id is not None}
    performers = (
        get_user_model().objects.using(using).select_related("profile").in_bulk(performer_ids)
        if performer_ids else {}
    )
    calendar_field = SLAClock._meta.get_field("calendar")
    customer_field, queue_field, performer_field = (Ticket._meta.get_field(n) for n in ("customer", "queue",
                                                                                         "performer"))
    for clock, ticket in zip(clocks, tickets, strict=True):
        calendar_field.set_cached_value(clock, calendars.get(clock.calendar_id))
        customer_field.set_cached_value(ticket, customers.get(ticket.customer_id))
        queue_field.set_cached_value(ticket, queues.get(ticket.queue_id))
        performer_field.set_cached_value(ticket, performers.get(ticket.performer_id))


def _process_batch(clocks: list[SLAClock], ctx: SweepContext) -> dict:
    """Fire one claimed batch: set-based first; if that raises, clock by clock (each in its own savepoint)."""
    try:
        with transaction.atomic():
            return _fire_batch(clocks, ctx)
    except Exception:
        logger.exception("batched escalation of %s clocks failed; firing them one at a time", len(clocks))
    clocks = _reload(clocks)
    stats = {"due": len(clocks), "fired": 0, "breached": 0, "failed": 0}
    _fire_one_by_one(clocks, ctx, stats)
    _advance(clocks, ctx.now)
    return stats


def _advance(clocks: list[SLAClock], now: datetime) -> None:
    """Store each clock's ``next_escalation_at`` (one query); never one this sweep would claim again."""
    for clock in clocks:
        if clock.next_escalation_at is not None and clock.next_escalation_at <= now:
            # Something due was left unfired (a bug or an inconsistent row): do not spin on it in this sweep.
            logger.warning("clock %s is still due after firing; retrying at %s", clock.pk, now + RETRY_DELAY)
            clock.next_escalation_at = now + RETRY_DELAY
    set_next_escalations(clocks)


def set_next_escalations(clocks: list[SLAClock]) -> None:
    """Write each clock's in-memory ``next_escalation_at`` in one ``UPDATE … FROM (VALUES …)`` per chunk.

    The same result as ``bulk_update(clocks, ["next_escalation_at"])``, whose ``CASE WHEN`` over hundreds
    of rows costs more Python time than the rest of the batch.
    """
    if not clocks:
        return
    connection = connections[clocks[0]._state.db or DEFAULT_DB_ALIAS]
    field = SLAClock._meta.get_field("next_escalation_at")
    quote = connection.ops.quote_name
    table, column = quote(SLAClock._meta.db_table), quote(field.column)
    value = "CAST(v.column2 AS timestamp with time zone)" if connection.vendor == "postgresql" else "v.column2"
    for start in range(0, len(clocks), INSERT_CHUNK):
        chunk = clocks[start:start + INSERT_CHUNK]
        params = []
        for clock in chunk:
            params += [clock.pk, field.get_db_prep_save(clock.next_escalation_at, connection=connection)]
        sql = (
            f"UPDATE {table} SET {column} = {value} FROM (VALUES {', '.join(['(%s, %s)'] * len(chunk))}) AS v "
            f"WHERE {table}.{quote('id')} = v.column1"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _reload(clocks: list[SLAClock]) -> list[SLAClock]:
    """Fresh copies of the claimed clocks (still locked by this transaction), after a rolled-back attempt."""
    using = clocks[0]._state.db or DEFAULT_DB_ALIAS
    fresh = _due_queryset_base(using).in_bulk([c.pk for c in clocks])
    clocks = [fresh[c.pk] for c in clocks if c.pk in fresh]
    _attach_related(clocks, using)
    return clocks


# --- The batch path: a constant number of queries per batch ------------------------------------


@dataclass
class _Planned:
    """A level due on a clock, as the batch path fires it."""

    clock: SLAClock
    level: EscalationLevel
    instant: datetime
    threshold: timedelta
    audience: list[int]
    firing: Firing | None = None


def changes_ticket(level: EscalationLevel) -> bool:
    """Whether firing ``level`` writes to the ticket through the ticket services (the per-clock path)."""
    return bool(level.raise_priority_to or level.reassign or level.auto_reply or level.create_follow_up)


def _fire_batch(clocks: list[SLAClock], ctx: SweepContext) -> dict:
    """Fire a batch of locked clocks set-based; clocks of tickets an action changes go clock by clock.

    Queries per batch, whatever its size: fired levels, the breach marks (3),
    the firings (one ``INSERT … ON CONFLICT DO NOTHING RETURNING``), urgent
    marks (2), history (1), users (1), ``notify_many`` (about 5) and the clocks'
    ``next_escalation_at`` (1).
    """
    now = ctx.now
    stats = {"due": len(clocks), "fired": 0, "breached": 0, "failed": 0}
    ctx.ladders.preload({c.policy_id for c in clocks if c.policy_id})
    fired = fired_levels(clocks)
    plans: list[tuple[SLAClock, Ladder, list]] = []
    per_ticket: set[int] = set()
    for clock in clocks:
        if clock.state != RUNNING:
            clock.next_escalation_at = None
            continue
        ladder = ctx.ladders.ladder(clock.policy_id, clock.ticket.customer.vip_tier_id)
        due = rules.due_levels(snapshot(clock), ladder.rules, clock.calendar.work_calendar(), now,
                               fired=fired[clock.pk])
        if any(changes_ticket(ladder.level(rule.key)) for _at, rule in due):
            per_ticket.add(clock.ticket_id)
        plans.append((clock, ladder, due))
    batched = [p for p in plans if p[0].ticket_id not in per_ticket]
    stats["breached"] += len(sla_services.clocks_mark_breached([clock for clock, _l, _d in batched], now))
    planned = []
    for clock, ladder, due in batched:
        for instant, rule in due:
            level = ladder.level(rule.key)
            threshold = rules.Trigger(percent=level.trigger_percent, offset=level.trigger_offset).threshold(
                clock.target
            )
            planned.append(_Planned(clock, level, instant, threshold, audience_ids(level, clock.ticket, ctx)))
    if planned:
        stats["fired"] += _fire_planned(planned, ctx, fired)
    for clock, ladder, _due in batched:
        clock.next_escalation_at = rules.next_wakeup(
            snapshot(clock), ladder.rules, clock.calendar.work_calendar(), fired=fired[clock.pk]
        )
    if per_ticket:
        _fire_one_by_one([c for c in clocks if c.ticket_id in per_ticket], ctx, stats)
    _advance(clocks, now)
    return stats


def _fire_planned(planned: list[_Planned], ctx: SweepContext, fired: dict[int, set[int]]) -> int:
    """Insert the firings, then mark, record and notify for those this call inserted; returns how many."""
    now = ctx.now
    for plan in planned:
        clock, level = plan.clock, plan.level
        plan.firing = Firing(
            clock=clock, level=level, generation=clock.generation, ticket=clock.ticket, due_at=plan.instant,
            fired_at=now,
            data={
                "level": level.pk,
                "level_name": level.name,
                "order": level.order,
                "clock": clock.kind,
                "clock_id": clock.pk,
                "generation": clock.generation,
                "percent": int(plan.threshold * 100 // clock.target) if clock.target else 100,
                "urgency": level.urgency,
                "recipients": plan.audience if level.notify else [],
            },
        )
    inserted = insert_firings([p.firing for p in planned])
    for plan in planned:  # inserted now, or already there (a conflict): either way fired in this generation
        fired[plan.clock.pk].add(plan.level.pk)
    planned = [p for p in planned if p.firing.pk in inserted]  # only new firings have effects
    marked = _mark_urgent_many([p for p in planned if p.level.mark_urgent], now)
    if marked:
        for plan in marked:
            plan.firing.data["actions"] = ["mark_urgent"]
        Firing.objects.bulk_update([p.firing for p in marked], ["data"])
    TicketEvent.objects.bulk_create(
        TicketEvent(ticket_id=p.clock.ticket_id, actor=None, kind="ticket.escalated", data=p.firing.data,
                    created_at=now)
        for p in planned
    )
    notifying = [p for p in planned if p.level.notify and p.audience]
    users = {u.pk: u for u in ctx.load_users(sorted({pk for p in notifying for pk in p.audience}))}
    notices = []
    for plan in notifying:
        level, clock, ticket = plan.level, plan.clock, plan.clock.ticket
        title = format_lazy(
            _("{level}: {reference} {title}"), level=level.name, reference=ticket.reference, title=ticket.title
        )
        for user_id in plan.audience:
            user = users.get(user_id)
            if user is not None:
                notices.append(Notice(
                    user, kind=f"escalation.level_{level.order}", urgency=level.urgency, title=title,
                    body=_notice_body(clock, plan.threshold, user), ticket=ticket,
                    dedupe_key=f"firing:{plan.firing.pk}:{user.pk}",
                ))
    notify_many(notices)
    return len(planned)


def insert_firings(firings: list[Firing]) -> set[int]:
    """Insert ``firings`` in one statement per chunk, skipping any (clock, level, generation) already fired.

    ``INSERT … ON CONFLICT (clock_id, level_id, generation) DO NOTHING RETURNING id, …`` (PostgreSQL,
    SQLite ≥ 3.35): the new rows get their ``pk``; returns the ids of the rows inserted.
    """
    if not firings:
        return set()
    connection = connections[firings[0]._state.db or DEFAULT_DB_ALIAS]
    meta = Firing._meta
    fields = [meta.get_field(name) for name in ("clock", "level", "generation", "ticket", "due_at", "fired_at",
                                                 "data")]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    by_key = {(f.clock_id, f.level_id, f.generation): f for f in firings}
    inserted: set[int] = set()
    for start in range(0, len(firings), INSERT_CHUNK):
        chunk = firings[start:start + INSERT_CHUNK]
        params = [field.get_db_prep_save(getattr(f, field.attname), connection=connection)
                  for f in chunk for field in fields]
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([placeholder] * len(chunk))} "
            f"ON CONFLICT ({quote('clock_id')}, {quote('level_id')}, {quote('generation')}) DO NOTHING "
            f"RETURNING {quote('id')}, {quote('clock_id')}, {quote('level_id')}, {quote('generation')}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        for pk, clock_id, level_id, generation in rows:
            firing = by_key[(clock_id, level_id, generation)]
            firing.pk = pk
            firing._state.adding = False
            firing._state.db = connection.alias
            inserted.add(pk)
    return inserted


def _mark_urgent_many(planned: list[_Planned], now: datetime) -> list[_Planned]:
    """The urgent mark for each ticket of ``planned`` not urgent yet (two queries); returns the plans that set it.

    Same outcome as ``_mark_urgent`` per firing in order: the first marking level of a ticket sets it.
    """
    if not planned:
        return []
    tickets = {p.clock.ticket_id for p in planned}
    states = dict(
        TicketEscalationState.objects.filter(ticket_id__in=tickets).values_list("ticket_id", "urgent_since")
    )
    marked: dict[int, _Planned] = {}
    for plan in planned:
        ticket_id = plan.clock.ticket_id
        if ticket_id not in marked and states.get(ticket_id) is None:
            marked[ticket_id] = plan
    if not marked:
        return []
    created = [
        TicketEscalationState(ticket_id=ticket_id, urgent_since=now, urgent_level=plan.level)
        for ticket_id, plan in marked.items()
        if ticket_id not in states
    ]
    if created:
        TicketEscalationState.objects.bulk_create(created)
    by_level: dict[int, list[int]] = {}
    for ticket_id, plan in marked.items():
        if ticket_id in states:
            by_level.setdefault(plan.level.pk, []).append(ticket_id)
    for level_id, ticket_ids in by_level.items():
        TicketEscalationState.objects.filter(ticket_id__in=ticket_ids, urgent_since__isnull=True).update(
            urgent_since=now, urgent_level_id=level_id
        )
    return list(marked.values())


# --- The per-clock path: savepoint per clock, actions through the ticket services -------------------


def _fire_one_by_one(clocks: list[SLAClock], ctx: SweepContext, stats: dict) -> None:
    """Fire ``clocks`` one at a time, each in a savepoint; a clock that raises is logged and retried later."""
    fired = fired_levels(clocks)
    ctx.touched_tickets = set()
    for clock in clocks:
        if clock.ticket_id in ctx.touched_tickets:
            # An earlier firing in this batch changed the ticket (and maybe this clock): read it again.
            clock.refresh_from_db()
            fired[clock.pk] = fired_levels([clock])[clock.pk]
        try:
            with transaction.atomic():
                count, breached = _fire_clock(clock, ctx, fired.get(clock.pk, set()))
        except Exception:
            stats["failed"] += 1
            clock.next_escalation_at = ctx.now + RETRY_DELAY
            logger.exception(
                "escalation of clock %s (ticket %s) failed; retrying at %s",
                clock.pk, clock.ticket_id, clock.next_escalation_at.isoformat(),
            )
        else:
            stats["fired"] += count
            stats["breached"] += breached


def _fire_clock(clock: SLAClock, ctx: SweepContext, fired: set[int]) -> tuple[int, bool]:
    """Fire every due level of one locked clock and compute its next escalation (in memory)."""
    now = ctx.now
    if clock.state != RUNNING:
        clock.next_escalation_at = None
        return 0, False
    ticket = clock.ticket
    ladder = ctx.ladders.ladder(clock.policy_id, ticket.customer.vip_tier_id)
    work = clock.calendar.work_calendar()
    breached = bool(sla_services.clocks_mark_breached([clock], now))
    due = rules.due_levels(snapshot(clock), ladder.rules, work, now, fired=fired)
    generation = clock.generation
    count = 0
    for instant, rule in due:
        level = ladder.level(rule.key)
        firing = Firing(clock=clock, level=level, generation=clock.generation, ticket=ticket, due_at=instant,
                        fired_at=now)
        fired.add(rule.key)
        _fire_level(firing, level, clock, ticket, ctx)
        count += 1
    if ticket.pk in ctx.touched_tickets:
        clock.refresh_from_db()  # an action went through the ticket services (the SLA may have moved)
        if clock.generation != generation:
            fired = fired_levels([clock])[clock.pk]
        ladder = None
    clock.next_escalation_at = _next(clock, ladder, ctx, fired)
    return count, breached


def _next(clock: SLAClock, ladder: Ladder | None, ctx: SweepContext, fired: set[int]) -> datetime | None:
    if clock.state != RUNNING:
        return None
    if ladder is None:
        tier = clock.ticket.customer.vip_tier_id
        ladder = ctx.ladders.ladder(clock.policy_id, tier)
    return rules.next_wakeup(snapshot(clock), ladder.rules, clock.calendar.work_calendar(), fired=fired)


# --- One firing ---------------------------------------------------------------------------------


def _fire_level(firing: Firing, level: EscalationLevel, clock: SLAClock, ticket: Ticket, ctx: SweepContext) -> None:
    """Insert the (unsaved) ``firing`` first (the unique constraint guards it), then act, record and notify."""
    audience = audience_ids(level, ticket, ctx)
    threshold = rules.Trigger(percent=level.trigger_percent, offset=level.trigger_offset).threshold(clock.target)
    data = {
        "level": level.pk,
        "level_name": level.name,
        "order": level.order,
        "clock": clock.kind,
        "clock_id": clock.pk,
        "generation": firing.generation,
        "percent": int(threshold * 100 // clock.target) if clock.target else 100,
        "urgency": level.urgency,
        "recipients": audience if level.notify else [],
    }
    firing.data = data
    firing.save(force_insert=True)
    done, errors = _run_actions(level, ticket, ctx)
    if done or errors:
        data["actions"] = done
        if errors:
            data["errors"] = errors
        firing.save(update_fields=["data"])
    ticket_services.record(ticket, "ticket.escalated", None, at=ctx.now, **data)
    if level.notify:
        for user in ctx.load_users(audience):
            notify(
                user,
                kind=f"escalation.level_{level.order}",
                urgency=level.urgency,
                title=format_lazy(
                    _("{level}: {reference} {title}"), level=level.name, reference=ticket.reference, title=ticket.title
                ),
                body=_notice_body(clock, threshold, user),
                ticket=ticket,
                dedupe_key=f"firing:{firing.pk}:{user.pk}",
            )


def _notice_body(clock: SLAClock, threshold: timedelta, user):
    label = SLAClock.Kind(clock.kind).label
    if threshold < clock.target:
        try:
            tz = ZoneInfo(time_zone_for(user))
        except (ValueError, KeyError):
            tz = ZoneInfo(settings.TIME_ZONE)
        return format_lazy(
            _("{clock}: {remaining} of business time left, due {due}."),
            clock=label,
            remaining=_duration(clock.target - threshold),
            due=timezone.localtime(clock.due_at, tz).strftime("%d.%m %H:%M") if clock.due_at else "—",
        )
    if threshold == clock.target:
        return format_lazy(_("{clock}: the target of {target} is breached."), clock=label,
                           target=_duration(clock.target))
    return format_lazy(
        _("{clock}: overdue by {overdue} of business time (target {target})."),
        clock=label,
        overdue=_duration(threshold - clock.target),
        target=_duration(clock.target),
    )


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
    ids.extend(u.pk for u in level.users.all())
    ids.extend(sorted(ctx.members(level)))
    seen: list[int] = []
    for pk in ids:
        if pk is not None and pk not in seen:
            seen.append(pk)
    return seen


def _run_actions(level: EscalationLevel, ticket: Ticket, ctx: SweepContext) -> tuple[list[str], list[str]]:
    """The level's actions other than notifying; a domain refusal is recorded, not retried."""
    done: list[str] = []
    errors: list[str] = []

    def attempt(name: str, action) -> None:
        try:
            with transaction.atomic():
                if action() is not False:
                    done.append(name)
        except TicketError as exc:
            logger.warning("escalation action %s on ticket %s refused: %s", name, ticket.pk, exc)
            errors.append(f"{name}: {exc}")

    if level.mark_urgent:
        attempt("mark_urgent", lambda: _mark_urgent(ticket, level, ctx.now))
    if level.raise_priority_to and ticket.priority < level.raise_priority_to:
        ctx.touched_tickets.add(ticket.pk)
        attempt("raise_priority", lambda: ticket_services.ticket_update(
            ticket, actor=None, priority=Priority(level.raise_priority_to)
        ))
    if level.reassign:
        ctx.touched_tickets.add(ticket.pk)
        attempt("reassign", lambda: _reassign(level, ticket, ctx))
    if level.auto_reply:
        attempt("auto_reply", lambda: _auto_reply(level, ticket))
    if level.create_follow_up:
        attempt("follow_up", lambda: _follow_up(ticket))
    return done, errors


def _mark_urgent(ticket: Ticket, level: EscalationLevel, now: datetime) -> bool:
    state, created = TicketEscalationState.objects.get_or_create(
        ticket=ticket, defaults={"urgent_since": now, "urgent_level": level}
    )
    if not created and state.urgent_since is None:
        state.urgent_since, state.urgent_level = now, level
        state.save(update_fields=["urgent_since", "urgent_level"])
        return True
    return created


def _reassign(level: EscalationLevel, ticket: Ticket, ctx: SweepContext):
    if level.reassign == Reassign.QUEUE:
        if ticket.performer_id is None:
            return False
        ticket_services.ticket_unassign(ticket, actor=None, reason=str(_("Escalation: back to the queue")))
        return True
    if level.reassign == Reassign.USER:
        target_id = level.reassign_user_id
    else:
        target_id = ctx.contact(ticket.queue, ContactRole.SHIFT_LEAD)
    users = ctx.load_users([target_id]) if target_id else []
    if not users:
        raise TicketError(str(_("Nobody to reassign the ticket to.")))
    if ticket.performer_id == users[0].pk:
        return False
    ticket_services.ticket_assign(ticket, performer=users[0], actor=None)
    return True


def _auto_reply(level: EscalationLevel, ticket: Ticket) -> None:
    texts = {"ru": level.auto_reply_ru.strip(), "en": level.auto_reply_en.strip()}
    body = texts.get(ticket.customer.language) or texts["en"] or texts["ru"]
    ticket_services.ticket_reply(
        ticket, body=body.replace("{ticket}", ticket.reference), actor=None, counts_as_response=False
    )


def _follow_up(ticket: Ticket) -> None:
    with override(settings.LANGUAGE_CODE):
        title = str(_("Root-cause review: %(reference)s %(title)s") % {
            "reference": ticket.reference, "title": ticket.title,
        })
        description = str(_("Escalated to the last level. Find out why %(reference)s was late and what to change.")
                          % {"reference": ticket.reference})
    follow_up = ticket_services.ticket_create(
        actor=None, title=title[:200], customer=ticket.customer, queue=ticket.queue,
        related_object=ticket.related_object,
    )
    ticket_services.ticket_add_note(follow_up, body=description, actor=None)
    ticket_services.record(ticket, "ticket.follow_up_created", None, follow_up=follow_up.pk)
