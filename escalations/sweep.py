"""The escalation sweep: claim the clocks that are due, fire their levels exactly once, move on.

``sweep(now)`` reads only clocks with ``next_escalation_at <= now`` (a partial
index covers running clocks with a next escalation), in batches; a batch
shorter than ``batch_size`` was the last (what it skipped is locked by another
sweep, which fires it). Each batch is one transaction, and every level fires
the same way, set-based:

1. **Claim.** PostgreSQL: ``SELECT … FOR UPDATE OF sla_slaclock SKIP LOCKED``,
   so concurrent sweeps (several django-q2 clusters) take disjoint clocks and
   never wait for each other. SQLite: the rows are read and claimed with a
   conditional ``UPDATE … WHERE next_escalation_at <= now`` in the same
   ``IMMEDIATE`` transaction (SQLite has one writer at a time).
2. **Fire** (``_fire_batch``, in one savepoint). Every level of a clock's ladder
   whose instant is not after ``now`` and that has no ``Firing`` in the clock's
   current generation fires, in order. For the whole batch at once: a clock
   past due gets ``breached_at`` (once); the firings go in one
   ``INSERT … ON CONFLICT DO NOTHING RETURNING`` (unique on clock, level,
   generation: only those it inserted have effects); the urgent marks; one
   ``INSERT`` of ``ticket.escalated`` history rows; ``notify_many`` for the
   notices (``dedupe_key = firing:<firing>:<user>``). Rows are written as tuples
   through ``core.bulk.insert_rows``, never as model instances. A level whose
   actions change the ticket (raise priority, reassign, auto-reply, root-cause
   review) leaves them pending on its firing (``actions_due_at = now``); its
   history row is written with their outcome.
3. **Advance.** ``next_escalation_at`` becomes the next unfired level's
   instant (or the breach check, or NULL), for the batch in one ``UPDATE``.

If the set-based attempt raises, its savepoint rolls the whole batch back and
the batch is fired again the same way one clock at a time, each clock in its
own savepoint (its notices through ``notify``, one by one): a clock that still
raises is logged and retried ``RETRY_DELAY`` later; it never blocks the others.

4. **Act.** After the batches, the same call runs the pending actions
   (``escalations.firing_actions``): it claims one pending firing at a time and
   runs its actions through the ticket services, each firing in its own
   transaction; a failure is logged and retried ``RETRY_DELAY`` later.

Everything a batch writes (firings, history, urgent marks, outbox rows)
commits together or not at all, so a sweep killed halfway leaves either
nothing or everything for each batch; the next sweep continues from the
timestamps, and pending actions wait on their firings. Instants come from the
clock's calendar and the stored consumed time, never from counting sweeps, so
a late or repeated sweep (``--now`` in the past) neither skips nor repeats a
level.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from core.bulk import insert_rows
from escalations import rules
from escalations.audience import SweepContext, audience_ids, ticket_url, with_fallback
from escalations.firing_actions import CLAIM_LEASE, RETRY_DELAY, changes_ticket, run_pending_actions
from escalations.ladder import fired_levels, snapshot
from escalations.models import ClockKind, EscalationLevel, Firing, TicketEscalationState
from notifications.service import Notice, notify, notify_many
from sla.breaches import clocks_mark_breached
from sla.models import Calendar, SLAClock
from tickets import history
from tickets.models import Customer, Queue, Ticket, TicketEvent

logger = logging.getLogger(__name__)

__all__ = [
    "BATCH_SIZE", "RETRY_DELAY", "SweepContext", "audience_ids", "changes_ticket", "claim_due_clocks",
    "insert_firings", "set_next_escalations", "sweep",
]

BATCH_SIZE = 1000  # 500 → 1000: ~10 % more firings/s (half the commits); 2000 gains nothing more
INSERT_CHUNK = 400  # SQLite: clocks per UPDATE … FROM (VALUES …) (2 parameters each, under its 999 limit)
RUNNING = SLAClock.State.RUNNING


# --- The sweep ----------------------------------------------------------------------------------


def sweep(now: datetime | None = None, *, batch_size: int = BATCH_SIZE, using: str = DEFAULT_DB_ALIAS) -> dict:
    """Fire everything due at ``now``, then run the actions left pending on firings.

    Returns ``{"due", "fired", "breached", "acted", "failed", "duration_ms"}``: ``acted`` counts the
    firings whose ticket-changing actions ran; ``failed`` the clocks and the firings' actions that
    raised (each retried ``RETRY_DELAY`` later).
    """
    started = time.perf_counter()
    now = now or timezone.now()
    ctx = SweepContext(now=now)
    totals = {"due": 0, "fired": 0, "breached": 0, "acted": 0, "failed": 0}
    claimed = batch_size
    while claimed == batch_size:  # a short batch took the last clocks due (others hold what it skipped)
        with transaction.atomic(using=using):
            clocks = claim_due_clocks(now, limit=batch_size, using=using, ctx=ctx)
            claimed = len(clocks)
            if not clocks:
                break
            result = _process_batch(clocks, ctx)
        for key, value in result.items():
            totals[key] += value
    for key, value in run_pending_actions(now, ctx=ctx, using=using).items():
        totals[key] += value
    totals["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return totals


def _due_queryset_base(using: str):
    return SLAClock.objects.using(using)


def _due_queryset(now: datetime, using: str):
    return (
        _due_queryset_base(using)
        .filter(state=RUNNING, next_escalation_at__lte=now)
        .order_by("next_escalation_at", "pk")
    )


def claim_due_clocks(
    now: datetime, *, limit: int, using: str = DEFAULT_DB_ALIAS, ctx: SweepContext | None = None
) -> list[SLAClock]:
    """Claim up to ``limit`` due clocks for this transaction (call inside ``transaction.atomic``).

    The claim reads the clocks alone, through the partial index on ``next_escalation_at``: joined to
    their tickets, PostgreSQL hashes the whole ticket table before it can sort and cut the due clocks
    (27 ms per batch at 100k tickets, ten times that at 1M). Tickets are then read by primary key;
    calendars, customers, queues and performers once per sweep (``ctx``), and shared.
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
    _attach_related(clocks, ctx or SweepContext(now=now), using)
    return clocks


TICKET_FIELDS = ("id", "title", "customer", "queue", "performer", "owner", "approver")
"""What firing reads of a ticket (audiences, notices); the action step reads its tickets whole, afresh."""


def _attach_related(clocks: list[SLAClock], ctx: SweepContext, using: str) -> None:
    """Put each clock's ticket and calendar, and its ticket's customer, queue and performer in place.

    Clocks of the same ticket share one ``Ticket`` object, with only ``TICKET_FIELDS`` loaded.
    Clocks whose ticket is gone (deleted meanwhile, with its clocks) are dropped from ``clocks``.
    """
    if not clocks:
        return
    by_pk = Ticket.objects.using(using).only(*TICKET_FIELDS).in_bulk({c.ticket_id for c in clocks})
    clocks[:] = [c for c in clocks if c.ticket_id in by_pk]
    tickets = by_pk.values()
    calendars = ctx.known(Calendar, {c.calendar_id for c in clocks}, using)
    customers = ctx.known(Customer, {t.customer_id for t in tickets}, using)
    queues = ctx.known(Queue, {t.queue_id for t in tickets}, using)
    people = ctx.known(get_user_model(), {t.performer_id for t in tickets if t.performer_id is not None}, using)
    ticket_field, calendar_field = (SLAClock._meta.get_field(n) for n in ("ticket", "calendar"))
    customer_field, queue_field, performer_field = (Ticket._meta.get_field(n) for n in ("customer", "queue",
                                                                                         "performer"))
    for clock in clocks:
        ticket_field.set_cached_value(clock, by_pk[clock.ticket_id])
        calendar_field.set_cached_value(clock, calendars.get(clock.calendar_id))
    for ticket in tickets:
        customer_field.set_cached_value(ticket, customers.get(ticket.customer_id))
        queue_field.set_cached_value(ticket, queues.get(ticket.queue_id))
        performer_field.set_cached_value(ticket, people.get(ticket.performer_id))


def _process_batch(clocks: list[SLAClock], ctx: SweepContext) -> dict:
    """Fire one claimed batch set-based; if that raises, again one clock at a time (each in a savepoint)."""
    try:
        with transaction.atomic():
            stats = _fire_batch(clocks, ctx)
            _advance(clocks, ctx.now)
            return stats
    except Exception:
        logger.exception("batched escalation of %s clocks failed; firing them one at a time", len(clocks))
    clocks = _reload(clocks, ctx)
    stats = {"due": len(clocks), "fired": 0, "breached": 0, "failed": 0}
    for clock in clocks:
        try:
            with transaction.atomic():
                result = _fire_batch([clock], ctx, send=_notify_each)
        except Exception:
            stats["failed"] += 1
            clock.next_escalation_at = ctx.now + RETRY_DELAY
            logger.exception(
                "escalation of clock %s (ticket %s) failed; retrying at %s",
                clock.pk, clock.ticket_id, clock.next_escalation_at.isoformat(),
            )
        else:
            stats["fired"] += result["fired"]
            stats["breached"] += result["breached"]
    _advance(clocks, ctx.now)
    return stats


def _notify_each(notices: list[Notice], **kwargs) -> None:
    """The fallback's notices: ``notify`` once per notice (the reference ``notify_many`` is tested against)."""
    for notice in notices:
        notify(**{f.name: getattr(notice, f.name) for f in fields(notice)})


def _advance(clocks: list[SLAClock], now: datetime) -> None:
    """Store each clock's ``next_escalation_at`` (one query); never one this sweep would claim again."""
    for clock in clocks:
        if clock.next_escalation_at is not None and clock.next_escalation_at <= now:
            # Something due was left unfired (a bug or an inconsistent row): do not spin on it in this sweep.
            logger.warning("clock %s is still due after firing; retrying at %s", clock.pk, now + RETRY_DELAY)
            clock.next_escalation_at = now + RETRY_DELAY
    set_next_escalations(clocks)


def set_next_escalations(clocks: list[SLAClock]) -> None:
    """Write each clock's in-memory ``next_escalation_at`` in one ``UPDATE … FROM`` statement.

    The same result as ``bulk_update(clocks, ["next_escalation_at"])``, whose ``CASE WHEN`` over hundreds
    of rows costs more Python time than the rest of the batch. PostgreSQL reads the (id, instant) pairs
    from one ``jsonb`` parameter, other databases from ``VALUES`` lists.
    """
    if not clocks:
        return
    connection = connections[clocks[0]._state.db or DEFAULT_DB_ALIAS]
    field = SLAClock._meta.get_field("next_escalation_at")
    quote = connection.ops.quote_name
    table, column, pk = quote(SLAClock._meta.db_table), quote(field.column), quote(SLAClock._meta.pk.column)
    if connection.vendor == "postgresql":
        pairs = json.dumps([(c.pk, c.next_escalation_at.isoformat() if c.next_escalation_at else None)
                            for c in clocks])
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {column} = (v.e ->> 1)::timestamptz FROM jsonb_array_elements(%s::jsonb) AS v(e) "
                f"WHERE {table}.{pk} = (v.e ->> 0)::bigint",
                [pairs],
            )
        return
    for start in range(0, len(clocks), INSERT_CHUNK):
        chunk = clocks[start:start + INSERT_CHUNK]
        params = []
        for clock in chunk:
            params += [clock.pk, field.get_db_prep_save(clock.next_escalation_at, connection=connection)]
        sql = (
            f"UPDATE {table} SET {column} = v.column2 FROM (VALUES {', '.join(['(%s, %s)'] * len(chunk))}) AS v "
            f"WHERE {table}.{pk} = v.column1"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _reload(clocks: list[SLAClock], ctx: SweepContext) -> list[SLAClock]:
    """Fresh copies of the claimed clocks (still locked by this transaction), after a rolled-back attempt."""
    using = clocks[0]._state.db or DEFAULT_DB_ALIAS
    fresh = _due_queryset_base(using).in_bulk([c.pk for c in clocks])
    clocks = [fresh[c.pk] for c in clocks if c.pk in fresh]
    _attach_related(clocks, ctx, using)
    return clocks


# --- Firing: a constant number of queries per batch ----------------------------------------------


@dataclass(slots=True)
class _Planned:
    """A level due on a clock."""

    clock: SLAClock
    level: EscalationLevel
    instant: datetime
    threshold: timedelta
    audience: list[int]
    fallback: str = ""  # the audience was nobody: the queue's dispatchers or manager (audience.Fallback)
    acts: bool = False  # its actions change the ticket: they wait on the firing for the action step
    data: dict = field(default_factory=dict)
    firing_id: int | None = None


def _fire_batch(clocks: list[SLAClock], ctx: SweepContext, *, send=None) -> dict:
    """Fire the due levels of locked ``clocks`` set-based and compute their next escalation (in memory).

    Queries per batch, whatever its size: fired levels, the breach marks (3),
    the firings (one ``INSERT … ON CONFLICT DO NOTHING RETURNING``), urgent
    marks (2), history (1), users (1) and ``notify_many`` (about 4). ``send``
    writes the notices (``notify_many`` unless given).
    """
    now = ctx.now
    stats = {"due": len(clocks), "fired": 0, "breached": 0, "failed": 0}
    ctx.ladders.preload({c.policy_id for c in clocks if c.policy_id})
    fired = fired_levels(clocks)
    plans: list[tuple[SLAClock, object, list, list]] = []
    for clock in clocks:
        if clock.state != RUNNING:
            clock.next_escalation_at = None
            continue
        ladder = ctx.ladders.ladder(clock.policy_id, clock.ticket.customer.vip_tier_id)
        work = clock.calendar.work_calendar()
        due, pending = rules.split_due(
            rules.fire_instants(snapshot(clock), ladder.rules, work, fired=fired[clock.pk]), now
        )
        plans.append((clock, work, pending, [(instant, ladder.level(rule.key), rule) for instant, rule in due]))
    stats["breached"] += len(clocks_mark_breached([p[0] for p in plans], now))
    planned = [
        _Planned(clock, level, instant, rule.trigger.threshold(clock.target),
                 *with_fallback(level, clock.ticket, audience_ids(level, clock.ticket, ctx), ctx),
                 changes_ticket(level))
        for clock, _work, _pending, due in plans
        for instant, level, rule in due
    ]
    if planned:
        stats["fired"] += _fire_planned(planned, ctx, fired, send or notify_many)
    for clock, work, pending, _due in plans:
        # The due levels are fired now (by this sweep or, on a conflict, by another): what is left is pending.
        clock.next_escalation_at = rules.wakeup_after(snapshot(clock), pending, work)
    return stats


def _firing_data(level: EscalationLevel, clock: SLAClock, threshold: timedelta, audience: list[int]) -> dict:
    """What a firing records (its ``data``, and the history row's)."""
    return {
        "level": level.pk,
        "level_name": level.name,  # empty: named from "level_naming" in the reader's language
        "level_name_ru": level.name_ru,
        **({} if level.name else {"level_naming": level.naming()}),
        "order": level.order,
        "clock": clock.kind,
        "clock_id": clock.pk,
        "generation": clock.generation,
        "percent": int(threshold * 100 // clock.target) if clock.target else 100,
        "urgency": level.urgency,
        "recipients": audience if level.notify else [],
    }


def _fire_planned(planned: list[_Planned], ctx: SweepContext, fired: dict[int, set[int]], send) -> int:
    """Insert the firings, then mark, record and notify for those this call inserted to act; returns how many.

    A level acts once per ticket (``Firing.ticket_generation``): of the clocks that cross one level on
    "any" SLA clock, the first acts and the others are recorded (``acted = False``: no notice, history
    or action). A firing whose level changes the ticket is inserted with its actions pending
    (``actions_due_at``); its history row waits for them (``escalations.firing_actions``).
    """
    now = ctx.now
    leads: dict[tuple, _Planned] = {}
    records: list[_Planned] = []
    for plan in planned:
        plan.data = _firing_data(plan.level, plan.clock, plan.threshold, plan.audience)
        if plan.fallback:
            plan.data["fallback"] = plan.fallback
        key = _ticket_key(plan)
        if key is None or key not in leads:
            leads[key or (plan.clock.pk, plan.level.pk)] = plan
        else:  # another clock of this ticket crossed the same level in this batch: record it, act once
            leads[key].data.setdefault("clocks", [leads[key].clock.kind]).append(plan.clock.kind)
            records.append(plan)
    acting = sorted(leads.values(), key=lambda p: (p.clock.ticket_id, p.level.pk))  # one lock order for all sweeps
    ids = insert_firings([
        (p.clock.pk, p.level.pk, p.clock.generation, p.clock.ticket_id, p.instant, now, p.data,
         now if p.acts else None, True, _ticket_generation(p))
        for p in acting
    ], columns=(*FIRING_COLUMNS, "actions_due_at", "acted", "ticket_generation"), ignore_conflicts=True)
    for plan in acting:
        plan.firing_id = ids.get((plan.clock.pk, plan.level.pk, plan.clock.generation))
    # Not inserted to act: the level already acted for the ticket (another clock, maybe another sweep): record
    # the crossing; or this clock already has the firing (a concurrent insert): then nothing at all.
    records += [p for p in acting if p.firing_id is None and _ticket_generation(p) is not None]
    insert_firings([
        (p.clock.pk, p.level.pk, p.clock.generation, p.clock.ticket_id, p.instant, now,
         {**p.data, "recipients": [], "acted": False}, False)
        for p in records
    ], columns=(*FIRING_COLUMNS, "acted"))
    for plan in planned:  # inserted now, or already there (a conflict): either way fired in this generation
        fired[plan.clock.pk].add(plan.level.pk)
    planned = [p for p in acting if p.firing_id is not None]  # only new acting firings have effects
    marked = _mark_urgent_many([p for p in planned if p.level.mark_urgent], now)
    if marked:
        for plan in marked:
            plan.data["actions"] = ["mark_urgent"]
        Firing.objects.bulk_update([Firing(pk=p.firing_id, data=p.data) for p in marked], ["data"])
    insert_rows(TicketEvent, history.ROW_COLUMNS, [
        history.row(p.clock.ticket_id, None, "ticket.escalated", p.data, now) for p in planned if not p.acts
    ])
    notifying = [p for p in planned if p.level.notify and p.audience]
    users = {u.pk: u for u in ctx.load_users(sorted({pk for p in notifying for pk in p.audience}))}
    notices = []
    for plan in notifying:
        level, clock = plan.level, plan.clock
        kind = f"escalation.level_{level.order}"
        for user_id in plan.audience:
            user = users.get(user_id)
            if user is not None:
                title, body = ctx.notice_texts(level, clock, plan.threshold, user)
                notices.append(Notice(user, kind=kind, urgency=level.urgency, title=title, body=body,
                                      url=ticket_url(clock.ticket_id), ticket=clock.ticket,
                                      dedupe_key=f"firing:{plan.firing_id}:{user.pk}"))
    send(notices, results=False)
    return len(planned)


def _ticket_key(plan: _Planned) -> tuple | None:
    """What makes a level act once per ticket: (ticket, level, generation) for a level on "any" SLA clock."""
    generation = _ticket_generation(plan)
    return None if generation is None else (plan.clock.ticket_id, plan.level.pk, generation)


def _ticket_generation(plan: _Planned) -> int | None:
    return plan.clock.generation if plan.level.clock == ClockKind.ANY else None


FIRING_COLUMNS = ("clock", "level", "generation", "ticket", "due_at", "fired_at", "data")


def insert_firings(rows: list[tuple], *, columns: Sequence[str] = FIRING_COLUMNS,
                   ignore_conflicts: bool = False) -> dict[tuple[int, int, int], int]:
    """Insert firings (tuples in ``columns`` order), skipping any (clock, level, generation) already fired.

    One ``INSERT … ON CONFLICT (clock_id, level_id, generation) DO NOTHING RETURNING`` (PostgreSQL,
    SQLite ≥ 3.35); returns the new firings' ids by (clock, level, generation): a row missing from it
    was fired before, by this sweep's predecessor or a concurrent one, and must have no effect now.
    ``ignore_conflicts``: also skip a row whose level already acted for its ticket (any unique constraint).
    """
    conflict = {"ignore_conflicts": True} if ignore_conflicts else {"on_conflict": ("clock", "level", "generation")}
    inserted = insert_rows(Firing, columns, rows, returning=("id", "clock", "level", "generation"), **conflict)
    return {(clock_id, level_id, generation): pk for pk, clock_id, level_id, generation in inserted}


def _mark_urgent_many(planned: list[_Planned], now: datetime) -> list[_Planned]:
    """The urgent mark for each ticket of ``planned`` not urgent yet (two queries); returns the plans that set it.

    The first marking level of a ticket (in firing order) sets it.
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
