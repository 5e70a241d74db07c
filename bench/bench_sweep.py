"""Benchmark of the escalation sweep (``escalations.sweep``) on PostgreSQL at 10k, 100k and 1M open tickets.

Needs ``DATABASE_URL=postgres://…``: the benchmark creates a scratch database
``opsdesk_bench`` on that server, migrates it, and drops it at the end. For each
size it generates the open tickets and their running first-response clocks in
bulk (``INSERT … SELECT generate_series``), on a 24/7 calendar with a one-level
ladder (50 % → the performer, routine, in-app), then measures:

* a sweep with nothing due (median of 7 runs);
* a sweep with 100 clocks due (the 1 % of 10k, the same due count at every size);
* a sweep with 1 % of the clocks due, and its queries per firing;
* firings per second: a sweep over a backlog of 5,000 due clocks at every size
  (a catch-up after downtime, or the concurrency test's load), so the rate is
  the steady one and not the 1 % sweep's fixed cost spread over 100 firings
  at 10k; the 1 % sweep's own rate is reported beside it.

Results are merged into ``bench/results.json`` under the key ``"sweep"``.
Run: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/bench_sweep.py [--sizes 10000 100000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"
SCRATCH = "opsdesk_bench"
SIZES = [10_000, 100_000, 1_000_000]
FIXED_DUE = 100
BACKLOG = 5_000

DESCRIPTION = """
The sweep reads only clocks whose `next_escalation_at` has passed, through a
partial index on running clocks that still have something to fire, and claims
them (the clocks alone, not joined to their tickets) with `SELECT … FOR UPDATE
SKIP LOCKED` in batches of 1,000, each fired set-based in a constant number of
queries: one `INSERT … ON CONFLICT DO NOTHING RETURNING` for the firings, one
`INSERT` for the history rows, `notify_many` for the notices and one `UPDATE`
for the clocks, every row sent as a tuple in one `jsonb` parameter
(`core.bulk.insert_rows`), never as a model instance. The benchmark
generates N open tickets with running first-response clocks on PostgreSQL
(scratch database `opsdesk_bench`, created and dropped by the run) and times a
sweep with nothing due, a sweep with 100 clocks due (equal due count at every
size), a sweep with 1 % due and a sweep over a backlog of 5,000 due clocks;
each firing writes its `Firing` row, a history row and an in-app notification
in the batch's transaction. Firings per second come from the backlog sweep;
the 1 % sweep's rate is shown too, and at 10k (100 firings) it is mostly the
sweep's fixed cost (about 20 statements: the claim, the ladder, the commit).
Targets: the empty
sweep under 50 ms at every size, 1M/10k time ratio ≤ 1.5 at equal due count,
at least 2,000 firings per second.
"""


def _url_with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(_url_with_db(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql)


# --- the worker (runs inside Django, against the scratch database) ------------------------------


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")
    os.environ.setdefault("DEBUG", "true")
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


def _generate(size: int, now: datetime) -> None:
    """Truncate, then N tickets with running clocks, none due at ``now``; 100 and 1 % marked for later."""
    from datetime import timedelta

    from django.db import connection

    from escalations.models import EscalationLevel, EscalationPolicy
    from sla.models import Calendar, CalendarWindow, SLAClock, SLAPolicy
    from tickets.models import Customer, Queue, Ticket

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE tickets_ticket, sla_slaclock, escalations_firing, escalations_notification, "
            "tickets_ticketevent, sla_slaclockevent RESTART IDENTITY CASCADE"
        )
    calendar = Calendar.objects.filter(name="bench 24/7").first()
    if calendar is None:
        calendar = Calendar.objects.create(name="bench 24/7", time_zone="Asia/Almaty")
        CalendarWindow.objects.bulk_create(
            CalendarWindow(calendar=calendar, weekday=d, start="00:00", end="24:00") for d in range(7)
        )
        calendar.save()
    policy = SLAPolicy.objects.filter(name="bench").first() or SLAPolicy.objects.create(
        name="bench", precedence=1, calendar=calendar, first_response_target=timedelta(hours=2),
        resolution_target=timedelta(hours=24),
    )
    if not EscalationPolicy.objects.filter(name="bench").exists():
        ladder = EscalationPolicy.objects.create(name="bench")
        ladder.sla_policies.add(policy)
        EscalationLevel.objects.create(policy=ladder, order=10, name="Half", trigger_percent=50, urgency="routine",
                                       to_performer=True)
    queue, _ = Queue.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    customer = Customer.objects.filter(email="bench@example.com").first() or Customer.objects.create(
        name="Bench", email="bench@example.com"
    )
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    users = [user_model.objects.get_or_create(username=f"bench{i}")[0] for i in range(50)]
    first_user = min(u.pk for u in users)

    overrides = {
        "title": "'Bench ticket ' || g",
        "customer_id": str(customer.pk),
        "queue_id": str(queue.pk),
        "status": "'assigned'",
        "performer_id": f"{first_user} + (g %% 50)",
        "owner_id": f"{first_user} + (g %% 50)",
        "created_at": "%(now)s",
        "updated_at": "%(now)s",
        "status_changed_at": "%(now)s",
    }
    _insert_series(Ticket, size, overrides, {"now": now})
    clock_overrides = {
        "ticket_id": "t.id",
        "kind": "'first_response'",
        "policy_id": str(policy.pk),
        "calendar_id": str(calendar.pk),
        "target": "interval '2 hours'",
        "state": "'running'",
        "consumed": "interval '0'",
        "state_changed_at": "t.created_at",
        "due_at": "t.created_at + interval '2 hours'",
        "started_at": "t.created_at",
        "next_escalation_at": "t.created_at + interval '1 hour'",
    }
    _insert_from_tickets(SLAClock, clock_overrides)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")
        cursor.execute("ANALYZE sla_slaclock")


def _sql_default(field):
    from django.db import connection
    from django.db.models import NOT_PROVIDED

    if field.null:
        return "NULL", None
    default = field.get_default() if field.default is not NOT_PROVIDED else None
    if default is None and field.get_internal_type() in ("CharField", "TextField", "SlugField"):
        default = ""
    return "%s", field.get_db_prep_save(default, connection=connection) if default is not None else default


def _insert_series(model, size: int, overrides: dict[str, str], params: dict) -> None:
    from django.db import connection

    columns, values, args = [], [], dict(params)
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        if field.attname in overrides:
            values.append(overrides[field.attname])
        else:
            expr, value = _sql_default(field)
            key = f"d_{field.column}"
            values.append("NULL" if expr == "NULL" else f"%({key})s")
            if expr != "NULL":
                args[key] = value
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM generate_series(1, {int(size)}) AS g"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, args)


def _insert_from_tickets(model, overrides: dict[str, str]) -> None:
    from django.db import connection

    columns, values, args = [], [], {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        if field.attname in overrides:
            values.append(overrides[field.attname])
        else:
            expr, value = _sql_default(field)
            key = f"d_{field.column}"
            values.append("NULL" if expr == "NULL" else f"%({key})s")
            if expr != "NULL":
                args[key] = value
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM tickets_ticket t ORDER BY t.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, args)


def _make_due(condition: str, now: datetime) -> int:
    """Move the matching clocks back by 90 minutes: their 50 % level is due at ``now``."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sla_slaclock SET state_changed_at = state_changed_at - interval '90 minutes', "
            "started_at = started_at - interval '90 minutes', due_at = due_at - interval '90 minutes', "
            f"next_escalation_at = next_escalation_at - interval '90 minutes' WHERE {condition}",
        )
        return cursor.rowcount


def _timed_sweep(now: datetime) -> tuple[dict, int]:
    from django.db import connection

    from escalations.sweep import sweep

    count = [0]

    def counter(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        result = sweep(now)
    return result, count[0]


def worker(size: int) -> dict[str, Any]:
    _setup_django()
    from django.db import connection

    now = datetime.now(UTC).replace(microsecond=0)
    started = time.perf_counter()
    _generate(size, now)
    generated_s = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sla_slaclock WHERE state = 'running'")
        running = cursor.fetchone()[0]

    _timed_sweep(now)  # warm-up: ladders, calendar, query plans
    empty = []
    for _ in range(7):
        result, _queries = _timed_sweep(now)
        assert result["due"] == 0, result
        empty.append(result["duration_ms"])

    step = max(1, size // FIXED_DUE)
    fixed = _make_due(f"id % {step} = 1", now)
    fixed_result, _queries = _timed_sweep(now)
    assert fixed_result["fired"] == fixed, (fixed_result, fixed)

    percent = _make_due("id % 100 = 2", now)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sla_slaclock")
    pct_result, pct_queries = _timed_sweep(now)
    assert pct_result["fired"] == percent, (pct_result, percent)

    backlog = _make_due(
        f"id IN (SELECT id FROM sla_slaclock WHERE state = 'running' AND id % 100 > 2 ORDER BY id LIMIT {BACKLOG})",
        now,
    )
    backlog_result, _queries = _timed_sweep(now)
    assert backlog_result["fired"] == backlog, (backlog_result, backlog)
    return {
        "size": size,
        "running_clocks": running,
        "generate_s": round(generated_s, 1),
        "empty_ms_median": round(statistics.median(empty), 2),
        "empty_ms_max": round(max(empty), 2),
        "fixed_due": fixed,
        "fixed_due_ms": fixed_result["duration_ms"],
        "percent_due": percent,
        "percent_due_ms": pct_result["duration_ms"],
        "percent_firings_per_s": round(percent / (pct_result["duration_ms"] / 1000), 0),
        "backlog_due": backlog,
        "backlog_ms": backlog_result["duration_ms"],
        "firings_per_s": round(backlog / (backlog_result["duration_ms"] / 1000), 0),
        "queries_per_firing": round(pct_queries / percent, 2),
    }


# --- the driver ----------------------------------------------------------------------------------


def merge_results(payload: dict[str, Any]) -> None:
    data: dict[str, Any] = {}
    if RESULTS.exists():
        try:
            data = json.loads(RESULTS.read_text())
        except json.JSONDecodeError:
            data = {}
    data["sweep"] = payload
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def markdown(payload: dict[str, Any]) -> str:
    rows = [
        "| open tickets | empty sweep, median (max) | 100 due | 1 % due (firings/s) | queries/firing (1 %) "
        f"| {BACKLOG:,} due | firings/s |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in payload["sizes"]:
        rows.append(
            f"| {r['size']:,} | {r['empty_ms_median']:.1f} ms ({r['empty_ms_max']:.1f}) | {r['fixed_due_ms']:.0f} ms "
            f"| {r['percent_due']:,} in {r['percent_due_ms']:,.0f} ms ({r.get('percent_firings_per_s', 0):,.0f}) "
            f"| {r['queries_per_firing']:.2f} | {r.get('backlog_ms', 0):,.0f} ms | {r['firings_per_s']:,.0f} |"
        )
    if payload.get("ratio_fixed_due"):
        rows.append("")
        rows.append(
            f"Equal due count ({FIXED_DUE}): largest/smallest size time ratio {payload['ratio_fixed_due']:.2f} "
            f"({payload['ratio_sizes']})."
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=SIZES)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker)))
        return {}
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("bench_sweep needs DATABASE_URL=postgres://… (it creates and drops opsdesk_bench)")
    scratch = _url_with_db(url, SCRATCH)
    env = {**os.environ, "DATABASE_URL": scratch, "DEBUG": "true", "LOG_LEVEL": "WARNING"}
    _admin(url, f"DROP DATABASE IF EXISTS {SCRATCH}")
    _admin(url, f"CREATE DATABASE {SCRATCH}")
    sizes = []
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        for size in args.sizes:
            print(f"sweep bench: {size:,} open tickets …", flush=True)
            out = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--worker", str(size)],
                cwd=ROOT, env=env, capture_output=True, text=True,
            )
            if out.returncode:
                raise SystemExit(f"bench worker failed:\n{out.stderr[-4000:]}")
            row = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"  {row}", flush=True)
            sizes.append(row)
    finally:
        _admin(url, f"DROP DATABASE IF EXISTS {SCRATCH}")
    payload: dict[str, Any] = {
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": sys.version.split()[0],
        "sizes": sizes,
    }
    if len(sizes) > 1:
        payload["ratio_fixed_due"] = round(sizes[-1]["fixed_due_ms"] / sizes[0]["fixed_due_ms"], 2)
        payload["ratio_sizes"] = f"{sizes[-1]['size']:,} / {sizes[0]['size']:,}"
    merge_results(payload)
    print(markdown(payload))
    return payload


if __name__ == "__main__":
    main()
