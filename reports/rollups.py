"""Upkeep of the report rollups: clock facts and daily rollups per time zone (docs/reports.md, "Scale").

Tables derived from the SLA clocks and the tickets, rebuildable at any time:

- ``ClockFact``: one row per stopped first-response or resolution clock that counts for compliance,
  with the ticket's current attributes copied on it (queue, type, performer, owner, approver,
  customer tier, channel, policy);
- ``ClockDay``: the facts of one local day in one time zone summed per combination of those
  attributes, with a histogram of business time in fine bins (``BIN_EDGES``);
- ``TicketFact`` and ``TicketDay``: the same for ticket counts (created, done and on time, taken),
  derived from the tickets and their ``ticket.assigned`` history rows.

``refresh()`` (a django-q2 schedule, every minute) applies what changed since its last run: the
tickets whose row changed (``Ticket.updated_at``), whose clocks changed (an ``SLAClockEvent``
recorded since), or whose customer changed tier (``CustomerTierChange``). Their facts are
replaced, and every day a replaced fact was or is now in is summed again from the facts, in each
time zone kept. A zone is kept when settings or a person who reads reports uses it
(``zones()``); a zone seen for the first time is built in full. The first run builds everything.
``rebuild()`` (``manage.py rebuild_rollups``) starts again from the clocks.

Each run is one transaction holding the row of ``RollupState``, so runs never overlap (several
clusters may schedule it) and a run that dies leaves the previous state. It looks back
``LOOK_BACK`` before the start of the previous run, so a change committed late by a long
transaction is still seen; applying a change twice gives the same rows.
"""

from __future__ import annotations

import bisect
import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import BooleanField, CharField, ExpressionWrapper, F, IntegerField, Q, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from reports.models import ClockDay, ClockFact, RollupState, RollupZone, TicketDay, TicketFact
from routing.models import CustomerTierChange
from sla.models import SLAClock, SLAClockEvent
from tickets import access
from tickets.models import Profile, Status, Ticket, TicketEvent
from tickets.querysets import on_time_q

logger = logging.getLogger(__name__)

KINDS = (SLAClock.Kind.FIRST_RESPONSE, SLAClock.Kind.RESOLUTION)
LOOK_BACK = timedelta(minutes=10)
CHUNK = 500
DIMENSIONS = ("policy_id", "queue_id", "ticket_type_id", "performer_id", "owner_id", "approver_id", "tier_id",
              "channel")

# --- Business-time bins -------------------------------------------------------------------------------

# Bin i holds values v with BIN_EDGES[i] <= v < BIN_EDGES[i + 1] (the last bin is open): 0, 1 s, then
# steps of 2 % up to about 30 years, plus the dashboard's distribution edges, so that the distribution is a
# sum of whole bins. The exact percentile reads only the clocks of the bin it falls in.
HISTOGRAM_EDGES_S = (15 * 60.0, 30 * 60.0, 3600.0, 2 * 3600.0, 4 * 3600.0, 8 * 3600.0)
BIN_EDGES: tuple[float, ...] = tuple(sorted(
    {0.0, *HISTOGRAM_EDGES_S}
    | {round(1.02 ** k, 3) for k in range(0, math.ceil(math.log(1e9) / math.log(1.02)) + 1)}
))


def bin_of(seconds: float) -> int:
    return max(0, bisect.bisect_right(BIN_EDGES, seconds) - 1)


def bin_bounds(index: int) -> tuple[float, float | None]:
    return BIN_EDGES[index], (BIN_EDGES[index + 1] if index + 1 < len(BIN_EDGES) else None)


# --- Which zones --------------------------------------------------------------------------------------


def zones() -> list[str]:
    """The server's zone and those of the active people who may read reports (dispatchers, managers, admins)."""
    readers = get_user_model().objects.filter(is_active=True).filter(
        Q(is_superuser=True) | Q(groups__name__in=[access.DISPATCHER, access.MANAGER, access.ADMIN])
    )
    found = set(Profile.objects.filter(user__in=readers).values_list("time_zone", flat=True).distinct())
    valid = set()
    for name in found | {settings.TIME_ZONE}:
        try:
            ZoneInfo(name)
        except (ValueError, KeyError):
            continue
        valid.add(name)
    return sorted(valid)


def zone_ready(zone: str) -> bool:
    """Whether the rollups of ``zone`` are complete (readers fall back to the clocks otherwise)."""
    if not getattr(settings, "REPORTS_USE_ROLLUPS", True):
        return False
    return RollupZone.objects.filter(zone=zone).exists()


# --- Facts --------------------------------------------------------------------------------------------


def _fact_select(where: str) -> str:
    seconds = ("EXTRACT(EPOCH FROM {0})" if connection.vendor == "postgresql" else "({0} / 1000000.0)")
    return f"""
        SELECT c.id, c.ticket_id, c.kind, c.stopped_at, c.breached_at IS NULL,
               {seconds.format("c.consumed")}, {seconds.format("c.target")}, c.policy_id, t.queue_id,
               t.ticket_type_id, t.performer_id, t.owner_id, t.approver_id, cu.vip_tier_id, t.customer_id,
               t.channel
        FROM sla_slaclock c
        JOIN tickets_ticket t ON t.id = c.ticket_id
        JOIN tickets_customer cu ON cu.id = t.customer_id
        WHERE c.state = 'stopped' AND c.counts_for_compliance AND c.stopped_at IS NOT NULL
          AND c.kind IN ('first_response', 'resolution') {where}
    """


FACT_COLUMNS = ("clock_id, ticket_id, kind, stopped_at, met, consumed_s, target_s, policy_id, queue_id, "
                "ticket_type_id, performer_id, owner_id, approver_id, tier_id, customer_id, channel")


def _insert_facts(where: str = "", params: Iterable = ()) -> None:
    """Insert the facts of the stopped clocks ``where`` selects, in the order they stopped.

    Reports read facts by period (``stopped_at``): written in that order, a period's facts sit on
    neighbouring table pages (a rebuild lays the whole table out so; a refresh appends recent ones),
    instead of one page per fact.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ClockFact._meta.db_table} ({FACT_COLUMNS}) {_fact_select(where)} ORDER BY c.stopped_at",
            list(params),
        )


def _insert_clock_facts(ticket_ids: list[int] | None = None) -> None:
    """The facts of every stopped clock, or of these tickets' clocks."""
    if ticket_ids is None:
        _insert_facts()
    else:
        _insert_facts(f"AND c.ticket_id IN ({', '.join(['%s'] * len(ticket_ids))})", ticket_ids)


def changed_tickets(since: datetime) -> set[int]:
    """Tickets whose row, clocks or customer tier changed at or after ``since``."""
    ids = set(Ticket.objects.filter(updated_at__gte=since).values_list("pk", flat=True))
    ids.update(SLAClockEvent.objects.filter(recorded_at__gte=since).values_list("clock__ticket_id", flat=True))
    customers = CustomerTierChange.objects.filter(created_at__gte=since).values("customer_id")
    ids.update(Ticket.objects.filter(customer_id__in=customers).values_list("pk", flat=True))
    return ids


# --- Ticket facts (workload, closed on time) ---------------------------------------------------------------

TICKET_DIMENSIONS = ("person_id", "queue_id", "ticket_type_id", "performer_id", "owner_id", "approver_id")
TICKET_FACT_COLUMNS = ("ticket_id", "kind", "at", "on_time", *TICKET_DIMENSIONS)


def _ticket_fact_queries(tickets) -> list:
    """One query per fact kind, each selecting ``TICKET_FACT_COLUMNS`` (as ``f0``…) for ``tickets``."""
    def select(queryset, ticket, kind, at, on_time, person, prefix=""):
        columns = [ticket, Value(kind, output_field=CharField()), at, on_time, person,
                   *(F(f"{prefix}{name}") for name in TICKET_DIMENSIONS[1:])]
        return queryset.order_by().values(**{f"f{i}": column for i, column in enumerate(columns)})

    no = Value(False, output_field=BooleanField())
    nobody = Cast(Value(None), IntegerField())  # NULL::integer: an untyped NULL in a subquery is text
    on_time = ExpressionWrapper(on_time_q(), output_field=BooleanField())
    taker = Cast(KT("data__performer__id"), IntegerField())
    events = TicketEvent.objects.filter(kind="ticket.assigned", ticket__in=tickets)
    return [
        select(tickets, F("pk"), TicketFact.Kind.CREATED, F("created_at"), no, nobody),
        select(tickets.filter(status=Status.DONE, done_at__isnull=False), F("pk"), TicketFact.Kind.DONE,
               F("done_at"), on_time, F("performer_id")),
        select(events, F("ticket_id"), TicketFact.Kind.TAKEN, F("created_at"), no, taker, prefix="ticket__"),
    ]


def _insert_ticket_facts(tickets) -> None:
    """Insert the facts of ``tickets`` (a queryset), each kind with one ``INSERT … SELECT``, in time order."""
    table = connection.ops.quote_name(TicketFact._meta.db_table)
    names = ", ".join(connection.ops.quote_name(TicketFact._meta.get_field(c.removesuffix("_id")).column)
                      for c in TICKET_FACT_COLUMNS)
    picks = ", ".join(f"s.f{i}" for i in range(len(TICKET_FACT_COLUMNS)))
    with connection.cursor() as cursor:
        for query in _ticket_fact_queries(tickets):
            sql, params = query.query.sql_with_params()
            cursor.execute(f"INSERT INTO {table} ({names}) SELECT {picks} FROM ({sql}) s ORDER BY s.f2", params)


def _insert_ticket_facts_of(ticket_ids: list[int] | None = None) -> None:
    """The ticket facts of every ticket, or of these tickets."""
    _insert_ticket_facts(Ticket.objects.all() if ticket_ids is None else Ticket.objects.filter(pk__in=ticket_ids))


TICKET_FACT_FIELDS = ("at", "kind", "on_time", *TICKET_DIMENSIONS)


def _sum_ticket_days(rows: Iterable[tuple], tz) -> dict[tuple, list]:
    """Ticket facts (``TICKET_FACT_FIELDS`` tuples) → {(day, kind, *dimensions): [total, on time]}."""
    sums: dict[tuple, list] = {}
    for at, kind, on_time, *dims in rows:
        key = (at.astimezone(tz).date(), kind, *dims)
        entry = sums.get(key)
        if entry is None:
            entry = sums[key] = [0, 0]
        entry[0] += 1
        entry[1] += 1 if on_time else 0
    return sums


def _write_ticket_days(zone: str, sums: dict[tuple, list]) -> int:
    rows = [
        TicketDay(zone=zone, day=day, kind=kind, **dict(zip(TICKET_DIMENSIONS, dims, strict=True)), total=total,
                  on_time=on_time)
        for (day, kind, *dims), (total, on_time) in sums.items()
    ]
    TicketDay.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


# --- Days ---------------------------------------------------------------------------------------------


def day_bounds(day: date, tz) -> tuple[datetime, datetime]:
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)


FACT_FIELDS = ("stopped_at", "kind", "met", "consumed_s", *DIMENSIONS)


def _sum_days(rows: Iterable[tuple], tz) -> dict[tuple, list]:
    """Facts (``FACT_FIELDS`` tuples) → {(day, kind, *dimensions): [total, met, consumed, {bin: n}]}."""
    sums: dict[tuple, list] = {}
    for stopped_at, kind, met, consumed, *dims in rows:
        key = (stopped_at.astimezone(tz).date(), kind, *dims)
        entry = sums.get(key)
        if entry is None:
            entry = sums[key] = [0, 0, 0.0, defaultdict(int)]
        entry[0] += 1
        entry[1] += 1 if met else 0
        entry[2] += consumed
        entry[3][bin_of(consumed)] += 1
    return sums


def _write_days(zone: str, sums: dict[tuple, list]) -> int:
    rows = [
        ClockDay(zone=zone, day=day, kind=kind, **dict(zip(DIMENSIONS, dims, strict=True)), total=total, met=met,
                 consumed_s=consumed, bins={str(k): v for k, v in sorted(bins.items())})
        for (day, kind, *dims), (total, met, consumed, bins) in sums.items()
    ]
    ClockDay.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


class _Rollup(NamedTuple):
    """One pair of fact and daily rollup tables, and how to fill them."""

    fact: type  # the fact model (one row per clock or ticket event, with a ``ticket``)
    at: str  # the fact's instant, which puts it on a local day
    fields: tuple[str, ...]  # what the days are summed from
    day: type  # the daily rollup model (``zone``, ``day``)
    insert: Callable[[list[int] | None], None]  # insert the facts of all tickets, or of these
    write: Callable[[str, dict], int]  # write summed days of a zone
    summed: Callable[[Iterable[tuple], ZoneInfo], dict]  # sum facts into days


ROLLUPS = (
    _Rollup(ClockFact, "stopped_at", FACT_FIELDS, ClockDay, _insert_clock_facts, _write_days, _sum_days),
    _Rollup(TicketFact, "at", TICKET_FACT_FIELDS, TicketDay, _insert_ticket_facts_of, _write_ticket_days,
            _sum_ticket_days),
)


def sync_facts(ticket_ids: Iterable[int]) -> set[datetime]:
    """Replace the clock and ticket facts of these tickets; returns the instants of the old and new facts."""
    ids = sorted(set(ticket_ids))
    touched: set[datetime] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        for rollup in ROLLUPS:
            facts = rollup.fact.objects.filter(ticket_id__in=chunk)
            touched.update(facts.values_list(rollup.at, flat=True))
            facts.delete()
            rollup.insert(chunk)
            touched.update(rollup.fact.objects.filter(ticket_id__in=chunk).values_list(rollup.at, flat=True))
    return touched


def rebuild_days(zone: str, days: Iterable[date]) -> int:
    """Sum these local days of ``zone`` again from the facts; returns the rollup rows written."""
    tz = ZoneInfo(zone)
    days = sorted(set(days))
    written = 0
    for start in range(0, len(days), 50):
        chunk = days[start:start + 50]
        for rollup in ROLLUPS:
            window = Q()
            for day in chunk:
                low, high = day_bounds(day, tz)
                window |= Q(**{f"{rollup.at}__gte": low, f"{rollup.at}__lt": high})
            rollup.day.objects.filter(zone=zone, day__in=chunk).delete()
            facts = rollup.fact.objects.filter(window).values_list(*rollup.fields)
            written += rollup.write(zone, rollup.summed(facts.iterator(chunk_size=5000), tz))
    return written


def build_zone(zone: str, now: datetime) -> int:
    """Every day of ``zone`` from the facts (the zone's first build)."""
    written = 0
    for rollup in ROLLUPS:
        rollup.day.objects.filter(zone=zone).delete()
        facts = rollup.fact.objects.order_by().values_list(*rollup.fields)
        written += rollup.write(zone, rollup.summed(facts.iterator(chunk_size=10000), ZoneInfo(zone)))
    RollupZone.objects.update_or_create(zone=zone, defaults={"built_at": now})
    return written


# --- Runs ---------------------------------------------------------------------------------------------


def _locked_state() -> RollupState:
    RollupState.objects.get_or_create(pk=1)
    return RollupState.objects.select_for_update().get(pk=1)


def rebuild(*, now: datetime | None = None) -> dict:
    """Everything again from the clocks: facts, then every kept zone in full."""
    started = time.perf_counter()
    now = now or timezone.now()
    with transaction.atomic():
        state = _locked_state()
        counts = []
        for rollup in ROLLUPS:
            rollup.fact.objects.all().delete()
            rollup.insert(None)
            counts.append(rollup.fact.objects.count())
            rollup.day.objects.all().delete()
        facts, ticket_facts = counts
        RollupZone.objects.all().delete()
        kept = zones()
        rows = sum(build_zone(zone, now) for zone in kept)
        state.synced_to = state.facts_built_at = state.refreshed_at = now
        state.save()
    result = {"facts": facts, "ticket_facts": ticket_facts, "rollup_rows": rows, "zones": kept,
              "duration_ms": round((time.perf_counter() - started) * 1000, 1)}
    logger.info("report rollups rebuilt: %s", result)
    return result


def refresh(*, now: datetime | None = None) -> dict:
    """Apply the changes since the previous run (the first run rebuilds everything)."""
    started = time.perf_counter()
    now = now or timezone.now()
    with transaction.atomic():
        state = _locked_state()
        if state.facts_built_at is None or state.synced_to is None:
            return rebuild(now=now)
        tickets = changed_tickets(state.synced_to - LOOK_BACK)
        instants = sync_facts(tickets)
        wanted = zones()
        built = set(RollupZone.objects.values_list("zone", flat=True))
        rows = 0
        for zone in wanted:
            if zone not in built:
                rows += build_zone(zone, now)
            elif instants:
                tz = ZoneInfo(zone)
                rows += rebuild_days(zone, {i.astimezone(tz).date() for i in instants})
        stale = built - set(wanted)
        if stale:
            for rollup in ROLLUPS:
                rollup.day.objects.filter(zone__in=stale).delete()
            RollupZone.objects.filter(zone__in=stale).delete()
        state.synced_to = state.refreshed_at = now
        state.save(update_fields=["synced_to", "refreshed_at"])
    return {"tickets": len(tickets), "days": len({i.date() for i in instants}), "rollup_rows": rows,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1)}


def refresh_task() -> dict:
    """The django-q2 schedule ``reports.rollups`` (every minute)."""
    return refresh()
