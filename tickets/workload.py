"""Each person's open-ticket count, kept as tickets move, so routing reads it instead of counting.

A ticket counts for its performer while it is open. The lifecycle services move the count in the transaction
of the change, at the two places it can change: a new performer while the ticket is open (``_assign``,
``ticket_unassign``, back to the queue in ``ticket_change_status``), and a status that opens or closes a ticket
that has a performer (``_set_status``, the one status writer: closing, cancelling, merging, approving with close,
reopening by a reply or a bad rating). One statement each time: an upsert adding +1 or -1 to the person's row.

Counting instead cost every routing decision a scan of each agent's open tickets through the partial index
(index-only, but visiting the heap for every row changed since the last vacuum): 2 to 4 ms of the database
server's time per new ticket, growing with open work (``bench/bench_intake.py``).

:func:`recount` compares the stored counts with the tickets and corrects a difference (a seeder that wrote
tickets directly, a change made by hand in the database); the nightly schedule runs it and logs what it
corrected. Under concurrent changes it is safe: it locks the person's row before counting, so a change that
commits later adds its +1 or -1 to the corrected count, and one that held the row is already counted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.models import Count

from core import rowcache
from core.collect import Collector
from tickets.models import OPEN_STATUSES, Ticket, Workload

logger = logging.getLogger(__name__)

_sql: dict[tuple[str, int], str] = {}  # (vendor, rows) -> the upsert


def holder(ticket: Ticket) -> int | None:
    """Whom the ticket counts for: its performer while it is open."""
    return ticket.performer_id if ticket.status in OPEN_STATUSES else None


def moved(before: int | None, after: int | None) -> None:
    """The ticket stopped counting for ``before`` and counts for ``after`` (either may be None): one statement, or
    none inside :func:`deferred`."""
    if before == after:
        return
    _add([(user_id, delta, None) for user_id, delta in ((before, -1), (after, 1)) if user_id is not None])


def routed(user_id: int, at: datetime) -> None:
    """Routing gave ``user_id`` a ticket at ``at``: their ``last_assigned_at``, which least-loaded routing reads to
    find who has been idle longest. Inside :func:`deferred` it goes in the same statement as the assignment's move
    of the count (routing opens one around each assignment)."""
    _add([(user_id, 0, at)])


def _add(moves: list[tuple[int, int, datetime | None]]) -> None:
    pending = _collected.pending()
    if pending is not None:
        pending.extend(moves)
    else:
        _write(moves)


def deferred():
    """Within the block, the moves (and the routing times) are collected and written in one statement when it ends
    without an error (a routing burst: one statement instead of one per assignment). Yields the list of moves still
    to write: a caller that rolls back to a savepoint drops those made since (``core.collect``)."""
    return _collected.block(_write)


_collected = Collector("workload_deferred")


def _write(moves: list[tuple[int, int, datetime | None]]) -> None:
    """Add each move's +1 or -1 to its person's row and set the latest routing time given, creating the row if
    needed. Rows go in user order, so two transactions moving tickets between the same people lock their rows in the
    same order."""
    totals: dict[int, list] = {}
    for user_id, delta, at in moves:
        total = totals.setdefault(user_id, [0, None])
        total[0] += delta
        if at is not None and (total[1] is None or at > total[1]):
            total[1] = at
    rows = sorted((user_id, delta, at) for user_id, (delta, at) in totals.items() if delta or at is not None)
    if not rows:
        return
    using = router.db_for_write(Workload)
    connection = connections[using]
    key = (connection.vendor, len(rows))
    sql = _sql.get(key)
    if sql is None:
        ops, meta = connection.ops, Workload._meta
        table = ops.quote_name(meta.db_table)
        user, count, last = (
            ops.quote_name(meta.get_field(name).column) for name in ("user", "open_tickets", "last_assigned_at")
        )
        values = ", ".join(["(%s, %s, %s)"] * len(rows))
        sql = _sql[key] = (
            f"INSERT INTO {table} ({user}, {count}, {last}) VALUES {values} "
            f"ON CONFLICT ({user}) DO UPDATE SET {count} = {table}.{count} + EXCLUDED.{count}, "
            f"{last} = COALESCE(EXCLUDED.{last}, {table}.{last})"
        )
    adapt = connection.ops.adapt_datetimefield_value
    with rowcache.cursor(connection, prepare=True) as cursor:
        cursor.execute(sql, [value for user_id, delta, at in rows for value in (user_id, delta, adapt(at))])


@dataclass(frozen=True)
class Drift:
    user_id: int
    stored: int
    real: int


def real_counts(*, using: str = DEFAULT_DB_ALIAS) -> dict[int, int]:
    """Each performer's open tickets, counted."""
    return dict(
        Ticket.objects.using(using)
        .open()
        .filter(performer__isnull=False)
        .order_by()
        .values("performer_id")
        .annotate(n=Count("pk"))
        .values_list("performer_id", "n")
    )


def recount(*, using: str = DEFAULT_DB_ALIAS, log: bool = True) -> list[Drift]:
    """Correct every stored count that differs from the tickets; the corrections made (none when all agree), each
    logged as a warning unless ``log`` is false (a seeder that wrote its tickets directly expects them)."""
    real = real_counts(using=using)
    stored = dict(Workload.objects.using(using).values_list("user_id", "open_tickets"))
    suspects = sorted(user for user in real.keys() | stored.keys() if real.get(user, 0) != stored.get(user, 0))
    drifts = []
    for user_id in suspects:
        with transaction.atomic(using=using):
            Workload.objects.using(using).bulk_create([Workload(user_id=user_id)], ignore_conflicts=True)
            row = Workload.objects.using(using).select_for_update().get(pk=user_id)
            # Counted under the row's lock: a change not yet committed adds its +1 or -1 after this.
            n = Ticket.objects.using(using).open().filter(performer_id=user_id).count()
            if row.open_tickets != n:
                Workload.objects.using(using).filter(pk=user_id).update(open_tickets=n)
                drifts.append(Drift(user_id, row.open_tickets, n))
    for drift in drifts if log else ():
        logger.warning(
            "open-ticket count of user %s corrected: %s stored, %s open", drift.user_id, drift.stored, drift.real
        )
    return drifts


def recount_task() -> int:
    return len(recount())
