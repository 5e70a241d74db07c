"""Where one escalation sweep spends its time: cProfile and per-statement timings of a 1 %-due sweep.

Builds a scratch database ``opsdesk_profile`` with ``bench_sweep``'s generator
(N open tickets, running first-response clocks, the one-level ladder), warms
the process up with one 1 % sweep, resets, and profiles the next one. Prints
the functions by own time and by cumulative time, then every SQL statement
with its wall time as the client saw it. ``--keep`` leaves the database for
another run with ``--reuse`` (no rebuild); the default drops it.

Run: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/profile_sweep.py [--size 100000]``.
For the server side, ``EXPLAIN (ANALYZE, BUFFERS)`` through ``auto_explain`` in the same session:
``--explain`` loads it (superuser) and the plans land in the PostgreSQL log.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_sweep as bench  # noqa: E402

SCRATCH = "opsdesk_profile"


def _reset(connection) -> None:
    """Undo the previous sweep: no firings, history or notices; every clock back to its generated state."""
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE escalations_firing, escalations_notification, tickets_ticketevent, sla_slaclockevent, "
            "escalations_ticketescalationstate CASCADE"
        )
        cursor.execute(
            "UPDATE sla_slaclock SET state_changed_at = t.created_at, started_at = t.created_at, "
            "due_at = t.created_at + interval '2 hours', next_escalation_at = t.created_at + interval '1 hour', "
            "breached_at = NULL FROM tickets_ticket t WHERE t.id = sla_slaclock.ticket_id "
            "AND (sla_slaclock.next_escalation_at IS NULL OR sla_slaclock.state_changed_at <> t.created_at)"
        )


def _prepare(connection, now) -> int:
    """A fresh start with 1 % of the clocks due; returns how many."""
    _reset(connection)
    due = bench._make_due("id % 100 = 2", now)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sla_slaclock")
    return due


def worker(size: int, reuse: bool, explain: bool, top: int) -> None:
    bench._setup_django()
    from django.db import connection

    from escalations.sweep import sweep

    if reuse:
        with connection.cursor() as cursor:
            cursor.execute("SELECT min(created_at) FROM tickets_ticket")
            now = cursor.fetchone()[0]
    else:
        now = datetime.now(UTC).replace(microsecond=0)
        bench._generate(size, now)
    _prepare(connection, now)
    sweep(now)  # warm-up: calendars, translations, query plans
    due = _prepare(connection, now)
    if explain:
        with connection.cursor() as cursor:
            for sql in ("LOAD 'auto_explain'", "SET auto_explain.log_min_duration = 1",
                        "SET auto_explain.log_analyze = on", "SET auto_explain.log_buffers = on",
                        "SET auto_explain.log_triggers = on"):
                cursor.execute(sql)
    statements: list[tuple[float, str]] = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((time.perf_counter() - started, sql))

    profile = cProfile.Profile()
    with connection.execute_wrapper(timed):
        profile.enable()
        result = sweep(now)
        profile.disable()
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print(out.getvalue())
    print(f"{due} due, {result}, {len(statements)} statements, "
          f"{sum(d for d, _s in statements) * 1000:.0f} ms in them (client side)")
    for duration, sql in statements:
        print(f"{duration * 1000:8.1f} ms  {' '.join(sql.split())[:110]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database for --reuse")
    parser.add_argument("--reuse", action="store_true", help="profile on the database a --keep run left")
    parser.add_argument("--explain", action="store_true", help="auto_explain every statement into the server log")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.size, args.reuse, args.explain, args.top)
        return
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("profile_sweep needs DATABASE_URL=postgres://…")
    scratch = bench._url_with_db(url, SCRATCH)
    env = {**os.environ, "DATABASE_URL": scratch, "DEBUG": "true", "LOG_LEVEL": "WARNING"}
    if not args.reuse:
        bench._admin(url, f"DROP DATABASE IF EXISTS {SCRATCH}")
        bench._admin(url, f"CREATE DATABASE {SCRATCH}")
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=bench.ROOT, env=env, check=True)
    try:
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--size", str(args.size),
                   "--top", str(args.top)]
        command += ["--reuse"] * args.reuse + ["--explain"] * args.explain
        subprocess.run(command, cwd=bench.ROOT, env=env, check=True)
    finally:
        if not args.keep:
            bench._admin(url, f"DROP DATABASE IF EXISTS {SCRATCH}")


if __name__ == "__main__":
    main()
