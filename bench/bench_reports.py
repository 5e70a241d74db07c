"""Benchmark of the manager dashboard and the reports on PostgreSQL with generated history.

A scratch database (created and dropped here) is migrated, then filled with ``INSERT … SELECT
generate_series``: N tickets spread over two years (all but the last ~2,000 done), their first-response
and resolution clocks, one "ticket.assigned" event each, a waiting segment for one ticket in five and
an escalation firing for one in twenty. Each page is then requested ``--rounds`` times through the
Django test client as an admin (sees everything) and the dashboard also as a queue manager
(visibility subqueries); the p95 and the number of queries are recorded.

Results are merged into ``bench/results.json`` under the key ``"reports"``.
Run: ``python bench/bench_reports.py [--tickets N] [--rounds R] [--database-url postgres://…/postgres]``.
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

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"
SCRATCH = "opsdesk_bench_reports"

DESCRIPTION = """
The dashboard and every report read aggregate queries over indexed columns (clocks by
`stopped_at`, tickets by `done_at`/`created_at`, firings by `fired_at`, waiting segments by
`ended_at`); the red zone counts the stored red-zone instants (`red_at <= now`, a partial
index). A non-admin viewer's visibility is resolved first into id sets (queues, people,
observed tickets: `reports/visibility.py`) and applied as `queue_id IN (…) OR performer_id IN (…)
…` on the joined ticket, instead of `ticket_id IN (SELECT visible tickets)`, so the period
indexes drive the plan. The benchmark generates the history in PostgreSQL with
`generate_series`, then requests each page through the Django test client (admin; the
dashboard also as a queue manager) and reports the p95 and the query count (`--quick`: 100,000
tickets, 5 rounds). After generating, `rollups.rebuild()` builds the clock facts and the daily
rollups (docs/reports.md, "Scale"), as `manage.py rebuild_rollups` would, and `VACUUM ANALYZE`
does what autovacuum does on a live database. The clock figures (compliance, times with exact
percentiles, breakdowns, the trend, the distribution, top violators, breaches) are then summed in
SQL from `reports_clockday` (`GROUP BY`, the histogram bins merged with `jsonb_each_text`) and read
from `reports_clockfact`; ticket counts (closed on time, workload, now) and the other reports read
the live tables through covering indexes (index-only scans).
"""
PAGES = [
    ("dashboard 30 days", "/reports/dashboard/?period=30d"),
    ("dashboard today", "/reports/dashboard/?period=today"),
    ("SLA report 30 days", "/reports/sla/?period=30d"),
    ("causes of delay 30 days", "/reports/delays/?period=30d"),
    ("workload 30 days", "/reports/workload/?period=30d"),
    ("repetitive 30 days", "/reports/repetitive/?period=30d"),
    ("calibration 30 days", "/reports/calibration/?period=30d"),
    ("staffing 30 days", "/reports/staffing/?period=30d"),
    ("SLA report 365 days", "/reports/sla/?period=custom&date_from={year_ago}&date_to={today}"),
]


def _psql(base_url: str, sql: str) -> None:
    subprocess.run(["psql", base_url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True)


def _with_db(url: str, name: str) -> str:
    head, _sep, _db = url.rpartition("/")
    return f"{head}/{name}"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--quick", action="store_true", help="100,000 tickets, 5 rounds (a smoke run)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick and not args.worker:
        args.tickets, args.rounds = 100_000, 5
    if args.worker:
        return worker(args.tickets, args.rounds)
    scratch = _with_db(args.database_url, SCRATCH)
    _psql(args.database_url, f"DROP DATABASE IF EXISTS {SCRATCH}")
    _psql(args.database_url, f"CREATE DATABASE {SCRATCH}")
    env = {**os.environ, "DATABASE_URL": scratch, "DEBUG": "true", "ALLOWED_HOSTS": "testserver,localhost",
           "LOG_LEVEL": "WARNING"}
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                       check=True)
        out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", "--tickets",
                              str(args.tickets), "--rounds", str(args.rounds)], cwd=ROOT, env=env, check=True,
                             capture_output=True, text=True)
    finally:
        _psql(args.database_url, f"DROP DATABASE IF EXISTS {SCRATCH}")
    payload = json.loads(out.stdout.strip().splitlines()[-1])
    payload["generated"] = datetime.now(UTC).isoformat(timespec="seconds")
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data["reports"] = payload
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    print(markdown(payload))
    return payload


# --- inside the scratch database ----------------------------------------------------------------------------


def bench_desk():
    """The people and catalogue every dashboard bench uses (bench_reports, bench_dashboard): five queues
    (the first managed by ``bench-manager``), eight types, 40 engineers (the first eight reporting to the
    manager), ``bench-admin`` and 200 customers. Returns (queues, types, agent ids, first customer id)."""
    from tests.factories import CustomerFactory, MembershipFactory, QueueFactory, TicketTypeFactory, UserFactory

    queues = [QueueFactory(name=f"Queue {n}", slug=f"bench-{n}") for n in range(5)]
    types = [TicketTypeFactory(name=f"Type {n}", slug=f"bench-type-{n}") for n in range(8)]
    manager = UserFactory(username="bench-manager", role="manager")
    queues[0].manager = manager
    queues[0].save()
    agents = []
    for n in range(40):
        agent = UserFactory(username=f"agent{n}", role="engineer", profile__manager=manager if n < 8 else None)
        MembershipFactory(queue=queues[n % 5], user=agent)
        agents.append(agent.pk)
    UserFactory(username="bench-admin", role="admin", is_superuser=True, is_staff=True)
    first_customer = CustomerFactory(name="Bench customer 0").pk
    CustomerFactory.create_batch(199)
    return queues, types, agents, first_customer


def _generate(tickets: int) -> float:
    from datetime import timedelta

    from django.db import connection

    from escalations.models import EscalationLevel, EscalationPolicy
    from sla.models import Calendar, CalendarWindow, SLAPolicy

    t0 = time.perf_counter()
    calendar = Calendar.objects.create(name="Bench office", time_zone="Asia/Almaty")
    CalendarWindow.objects.bulk_create(CalendarWindow(calendar=calendar, weekday=d, start="09:00", end="18:00")
                                       for d in range(5))
    policy = SLAPolicy.objects.create(name="Bench", precedence=1, calendar=calendar,
                                      first_response_target=timedelta(hours=2), resolution_target=timedelta(hours=8))
    queues, types, agents, first_customer = bench_desk()
    ladder = EscalationPolicy.objects.create(name="Bench ladder")
    levels = [EscalationLevel.objects.create(policy=ladder, order=n + 1, name=f"Level {n + 1}",
                                             trigger_percent=p).pk for n, p in enumerate((50, 80, 100))]
    q_ids = ",".join(str(q.pk) for q in queues)
    t_ids = ",".join(str(t.pk) for t in types)
    a_ids = ",".join(map(str, agents))
    reasons = "(SELECT array_agg(id ORDER BY id) FROM tickets_blockingreason)"
    open_from = max(tickets - 2000, 1)
    with connection.cursor() as cur:
        cur.execute(f"""
            INSERT INTO tickets_ticket (kind, deadline_set_by_person, title, description, customer_id, queue_id,
                ticket_type_id, channel, priority, status, next_step, performer_id, owner_id, created_at, updated_at,
                status_changed_at, first_public_reply_at, done_at, deadline)
            SELECT 'customer', false, 'Request ' || (g % 97) || ' about order ' || g, '', {first_customer} + (g % 200),
                (ARRAY[{q_ids}])[1 + g % 5], (ARRAY[{t_ids}])[1 + g % 8],
                (ARRAY['email','messenger','web','phone','portal'])[1 + g % 5], 2,
                CASE WHEN g >= {open_from} THEN 'in_progress' ELSE 'done' END,
                CASE WHEN g % 3 = 0 THEN '' ELSE 'call back' END,
                (ARRAY[{a_ids}])[1 + g % 40], (ARRAY[{a_ids}])[1 + g % 40],
                c, c, c, c + (g % 180) * interval '1 minute',
                CASE WHEN g >= {open_from} THEN NULL ELSE c + (30 + g % 900) * interval '1 minute' END,
                c + interval '1 day'
            FROM (SELECT g, now() - interval '730 days' + (g::float / {tickets}) * interval '730 days' AS c
                  FROM generate_series(1, {tickets}) g) s
        """)
        cur.execute(f"""
            INSERT INTO sla_slaclock (ticket_id, kind, policy_id, calendar_id, target, state, consumed,
                state_changed_at, due_at, started_at, stopped_at, breached_at, counts_for_compliance, generation)
            SELECT t.id, k.kind, {policy.pk}, {calendar.pk}, k.target,
                CASE WHEN t.status = 'done' OR k.kind = 'first_response' THEN 'stopped' ELSE 'running' END,
                LEAST(k.target * 2, (t.id % 600) * interval '1 minute' * k.f),
                t.created_at,
                CASE WHEN t.status = 'done' OR k.kind = 'first_response' THEN NULL
                     ELSE t.created_at + k.target END,
                t.created_at,
                CASE WHEN k.kind = 'first_response' THEN t.first_public_reply_at
                     WHEN t.status = 'done' THEN t.done_at END,
                CASE WHEN (t.id % 600) * interval '1 minute' * k.f > k.target
                     THEN t.created_at + k.target END,
                true, 0
            FROM tickets_ticket t CROSS JOIN (VALUES ('first_response', interval '2 hours', 0.3),
                                                     ('resolution', interval '8 hours', 1.0)) AS k(kind, target, f)
        """)
        cur.execute("""
            INSERT INTO tickets_ticketevent (ticket_id, actor_id, kind, data, created_at)
            SELECT id, NULL, 'ticket.assigned',
                   jsonb_build_object('performer', jsonb_build_object('id', performer_id),
                                      'previous', CASE WHEN id % 10 = 0 THEN jsonb_build_object('id', owner_id) END),
                   created_at + interval '5 minutes'
            FROM tickets_ticket
        """)
        cur.execute(f"""
            INSERT INTO reports_waitsegment (ticket_id, reason_id, queue_id, customer_id, started_at, ended_at,
                business_seconds)
            SELECT id, ({reasons})[1 + id % 3], queue_id, customer_id, created_at + interval '1 hour',
                   CASE WHEN status = 'done' THEN created_at + interval '3 hours' END,
                   CASE WHEN status = 'done' THEN 3600 * (1 + id % 5) END
            FROM tickets_ticket WHERE id % 5 = 0
        """)
        cur.execute(f"""
            INSERT INTO escalations_firing (clock_id, level_id, generation, ticket_id, due_at, fired_at, data, acted)
            SELECT c.id, (ARRAY[{",".join(map(str, levels))}])[1 + c.ticket_id % 3], 0, c.ticket_id,
                   c.started_at + interval '1 hour', c.started_at + interval '1 hour', '{{}}'::jsonb, true
            FROM sla_slaclock c WHERE c.kind = 'resolution' AND c.ticket_id % 20 = 0
        """)
        cur.execute("ANALYZE")
    # The red-zone instants of the open clocks, as the clock engine stores them (the migration's fill).
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    importlib.import_module("sla.migrations.0008_fill_clock_red_at").fill(apps, SimpleNamespace(connection=connection))
    return time.perf_counter() - t0


def worker(tickets: int, rounds: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    generate_s = _generate(tickets)
    from reports import rollups

    started = time.perf_counter()
    rebuilt = rollups.rebuild()
    rebuild_s = time.perf_counter() - started
    with connection.cursor() as cursor:
        # What autovacuum does on a live database: statistics, and the visibility map that lets the
        # covering indexes answer without reading the tables (index-only scans).
        cursor.execute("VACUUM ANALYZE")
    today = timezone.localdate()
    fill = {"today": today.isoformat(), "year_ago": (today.replace(year=today.year - 1)).isoformat()}
    User = get_user_model()
    results = []
    for who in ("bench-admin", "bench-manager"):
        client = Client()
        client.force_login(User.objects.get(username=who))
        for label, url in PAGES:
            if who == "bench-manager" and not label.startswith("dashboard"):
                continue
            url = url.format(**fill)
            client.get(url)  # warm caches (calendars, templates)
            timings, queries = [], 0
            for _ in range(rounds):
                with CaptureQueriesContext(connection) as captured:
                    t0 = time.perf_counter()
                    response = client.get(url)
                    timings.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, (url, response.status_code)
                queries = len(captured)
            timings.sort()
            p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
            results.append({"page": label, "as": "admin" if who == "bench-admin" else "queue manager",
                            "p95_ms": round(p95, 1), "median_ms": round(statistics.median(timings), 1),
                            "queries": queries})
    payload = {"tickets": tickets, "rounds": rounds, "generate_s": round(generate_s, 1), "cpus": os.cpu_count(),
               "rollup_rebuild_s": round(rebuild_s, 1), "facts": rebuilt["facts"],
               "ticket_facts": rebuilt.get("ticket_facts", 0), "rollup_rows": rebuilt["rollup_rows"],
               "database": "postgresql " + ".".join(map(str, divmod(connection.pg_version, 10000))),
               "pages": results}
    print(json.dumps(payload))
    return payload


def markdown(payload: dict[str, Any]) -> str:
    lines = [
        f"{payload['tickets']:,} tickets over two years on {payload['database']} "
        f"(generated in {payload['generate_s']} s), {payload['rounds']} requests per page; "
        f"`rebuild_rollups` wrote {payload.get('facts', 0):,} clock facts"
        + (f", {payload['ticket_facts']:,} ticket facts" if payload.get("ticket_facts") else "")
        + f" and {payload.get('rollup_rows', 0):,} daily rollup rows (clocks and tickets) in "
        f"{payload.get('rollup_rebuild_s', '?')} s.",
        "",
        "| page | as | p95, ms | median, ms | queries |",
        "|---|---|---:|---:|---:|",
    ]
    for row in payload["pages"]:
        lines.append(f"| {row['page']} | {row['as']} | {row['p95_ms']} | {row['median_ms']} | {row['queries']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
