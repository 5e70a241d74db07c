"""Benchmark of the manager dashboard at scale: many tickets, many of them open with running SLA clocks.

The database is emptied, migrated and filled set-based (PostgreSQL: ``INSERT … SELECT generate_series``;
SQLite: ``executemany`` of generated rows): ``--tickets`` tickets over two years, of which the newest
``--open`` are open (new, in progress, waiting with a reason, on approval; one in four without a performer, one
in three without a next step) with a running resolution clock (paused for waiting tickets) and, for one in
three, a running first-response clock; closed tickets have both clocks stopped. Each clock carries the
``red_at`` that ``sla.clocks.save_clock`` would store (the bench calendar runs around the clock, so the 80 %
instant is ``state_changed_at + 0.8 × target − consumed``). ``reports.rollups.rebuild()`` then builds the
period rollups as ``manage.py rebuild_rollups`` does, and the dashboard ("today" and "30 days") is requested
``--rounds`` times through the Django test client as an admin and as a queue manager.

PostgreSQL: ``--postgres URL`` names a database this benchmark owns (its ``public`` schema is dropped and
rebuilt), e.g. ``postgres://postgres@127.0.0.1:5432/wt_redzone``. SQLite: a scratch file in ``var/``.
Results are merged into ``bench/results.json`` under ``"dashboard"``.

Full size (the issue's target, p95 < 300 ms):
``python bench/bench_dashboard.py --postgres postgres://postgres@127.0.0.1:5432/DB --tickets 1000000
--open 50000 --sqlite-tickets 100000 --sqlite-open 10000``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"
SQLITE_FILE = ROOT / "var" / "bench_dashboard.sqlite3"

DESCRIPTION = """
The "now" figures are indexed counts that do not grow with the number of open tickets: every SLA clock
stores the instant it enters the red zone (`SLAClock.red_at`, written by the clock engine at each
transition and by the calendar recomputation, from the one rule in `sla/redzone.py`), so "in the red
zone" is `red_at <= now` through the partial index `sla_clock_red_at (red_at, ticket_id) WHERE red_at IS
NOT NULL` (the ticket list's `?zone=red` filter uses the same condition). Open, without performer, without
next step, next step overdue, waiting by reason and the workload's open work per person and per queue are
one `GROUP BY` (queue, performer, status, reason) over the partial covering index of the open tickets
`reports_ticket_open` (reports 0008; it holds the open tickets only, with the visibility columns, so a
queue manager's `queue_id IN (…) OR performer_id IN (…)` is checked on the index entries: before it, SQLite
scanned the whole table for a queue manager, 180-200 ms for the open work per person alone); "Without SLA"
is an anti-join on the clocks in force only (partial index `sla_clock_in_force`, 131 → 15 ms at 100,000
tickets). The satisfaction section is one count per (agent, queue, type), summed in Python.
The period figures read the daily rollups
(`reports_clockday`). The database is filled set-based (`generate_series` on PostgreSQL), the dashboard
requested through the Django test client; p95 over the rounds.
"""
PAGES = [
    ("dashboard today", "/reports/dashboard/?period=today"),
    ("dashboard 30 days", "/reports/dashboard/?period=30d"),
]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_DASHBOARD_POSTGRES", ""),
        help="a PostgreSQL database this benchmark may empty (no PostgreSQL run without it)",
    )
    parser.add_argument("--tickets", type=int, default=1_000_000, help="tickets on PostgreSQL")
    parser.add_argument("--open", type=int, default=50_000, help="open tickets (running clocks) on PostgreSQL")
    parser.add_argument("--sqlite-tickets", type=int, default=100_000, help="tickets on SQLite (0: no SQLite run)")
    parser.add_argument("--sqlite-open", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="100,000 / 5,000 on PostgreSQL, 20,000 / 2,000 SQLite")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the databases after the run and reuse them when they already hold the data set (no regeneration)",
    )
    parser.add_argument("--sqlite-file", default=str(SQLITE_FILE), help="the SQLite scratch file")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.tickets, args.open, args.rounds, reuse=args.keep)
    if args.quick:
        args.tickets, args.open, args.sqlite_tickets, args.sqlite_open, args.rounds = 100_000, 5_000, 20_000, 2_000, 10
    runs = []
    if args.postgres:
        if not args.keep:
            subprocess.run(
                [
                    "psql",
                    args.postgres,
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-qc",
                    "DROP SCHEMA public CASCADE; CREATE SCHEMA public",
                ],
                check=True,
            )
        runs.append(_run(args.postgres, args.tickets, args.open, args.rounds, args.keep))
    if args.sqlite_tickets:
        sqlite_file = Path(args.sqlite_file)
        sqlite_file.parent.mkdir(exist_ok=True)
        if not args.keep:
            _unlink_sqlite(sqlite_file)
        try:
            runs.append(_run(f"sqlite:///{sqlite_file}", args.sqlite_tickets, args.sqlite_open, args.rounds, args.keep))
        finally:
            if not args.keep:
                _unlink_sqlite(sqlite_file)
    payload = {
        "runs": runs,
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data["dashboard"] = payload
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    print(markdown(payload))
    return payload


def _unlink_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _run(url: str, tickets: int, open_: int, rounds: int, keep: bool = False) -> dict[str, Any]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "true",
        "ALLOWED_HOSTS": "testserver,localhost",
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    out = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            "--tickets",
            str(tickets),
            "--open",
            str(open_),
            "--rounds",
            str(rounds),
            *(["--keep"] if keep else []),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- inside the benchmark database ------------------------------------------------------------------------------


def _setup():
    from bench.bench_reports import bench_desk
    from escalations.models import EscalationPolicy
    from sla.models import Calendar, CalendarWindow, SLAPolicy

    calendar = Calendar.objects.create(name="Bench around the clock", time_zone="UTC")
    CalendarWindow.objects.bulk_create(
        CalendarWindow(calendar=calendar, weekday=d, start="00:00", end="24:00") for d in range(7)
    )
    policy = SLAPolicy.objects.create(
        name="Bench",
        precedence=1,
        calendar=calendar,
        first_response_target=timedelta(hours=2),
        resolution_target=timedelta(hours=8),
    )
    queues, types, agents, first_customer = bench_desk()
    EscalationPolicy.objects.create(name="Bench ladder")
    return calendar, policy, queues, types, agents, first_customer


OPEN_CYCLE = ("new", "in_progress", "in_progress", "waiting", "assigned", "in_progress", "on_approval", "waiting")


def _generate_postgres(tickets: int, open_: int) -> None:
    from django.db import connection

    from tickets.models import BlockingReason

    calendar, policy, queues, types, agents, first_customer = _setup()
    q_ids = ",".join(str(q.pk) for q in queues)
    t_ids = ",".join(str(t.pk) for t in types)
    a_ids = ",".join(map(str, agents))
    r_ids = ",".join(str(pk) for pk in BlockingReason.objects.order_by("pk").values_list("pk", flat=True)[:3])
    statuses = ",".join(f"'{s}'" for s in OPEN_CYCLE)
    open_from = max(tickets - open_ + 1, 1)
    with connection.cursor() as cur:
        # Closed tickets spread over two years; open ones over the last ten days (some long past 80 %).
        cur.execute(f"""
            INSERT INTO tickets_ticket (kind, title, description, customer_id, queue_id, ticket_type_id, channel,
                priority, status, blocking_reason_id, next_step, next_step_due, deadline_set_by_person,
                performer_id, owner_id, created_at, updated_at, status_changed_at, first_public_reply_at, done_at,
                deadline)
            SELECT 'customer', 'Request ' || (g % 97) || ' about order ' || g, '', {first_customer} + (g % 200),
                (ARRAY[{q_ids}])[1 + g % 5], (ARRAY[{t_ids}])[1 + g % 8],
                (ARRAY['email','messenger','web','phone','portal'])[1 + g % 5], 2, s.status,
                CASE WHEN s.status = 'waiting' THEN (ARRAY[{r_ids}])[1 + g % 3] END,
                CASE WHEN g % 3 = 0 THEN '' ELSE 'call back' END,
                CASE WHEN g % 3 <> 0 AND g % 5 = 0 THEN c + interval '1 day' END, false,
                CASE WHEN s.open AND g % 4 = 0 THEN NULL ELSE (ARRAY[{a_ids}])[1 + g % 40] END,
                (ARRAY[{a_ids}])[1 + g % 40], c, c, c,
                CASE WHEN s.open AND g % 3 = 0 THEN NULL ELSE c + (g % 180) * interval '1 minute' END,
                CASE WHEN s.open THEN NULL ELSE c + (30 + g % 900) * interval '1 minute' END,
                c + interval '1 day'
            FROM (SELECT g, g >= {open_from} AS open,
                         CASE WHEN g >= {open_from} THEN (ARRAY[{statuses}])[1 + g % 8] ELSE 'done' END AS status,
                         CASE WHEN g >= {open_from}
                              THEN now() - interval '10 days' + ((g - {open_from})::float / {max(open_, 1)})
                                   * interval '10 days'
                              ELSE now() - interval '730 days' + (g::float / {tickets}) * interval '720 days'
                         END AS c
                  FROM generate_series(1, {tickets}) g) s
        """)
        # Clocks: FR stopped at the first reply (running while there is none), RES running/paused/stopped.
        cur.execute(f"""
            INSERT INTO sla_slaclock (ticket_id, kind, policy_id, calendar_id, target, state, consumed,
                state_changed_at, due_at, started_at, stopped_at, breached_at, counts_for_compliance, generation,
                red_at)
            SELECT ticket_id, kind, {policy.pk}, {calendar.pk}, target, state, consumed, changed,
                CASE WHEN state = 'running' THEN changed + target - consumed END, started, stopped,
                CASE WHEN consumed > target THEN started + target END, true, 0,
                CASE WHEN state NOT IN ('running', 'paused') THEN NULL
                     WHEN consumed > target OR consumed >= target * 0.8 THEN changed
                     WHEN state = 'running' THEN changed + target * 0.8 - consumed END
            FROM (
                SELECT t.id AS ticket_id, k.kind, k.target, t.created_at AS started,
                    CASE WHEN t.status = 'done' THEN 'stopped'
                         WHEN k.kind = 'first_response' AND t.first_public_reply_at IS NOT NULL THEN 'stopped'
                         WHEN k.kind = 'resolution' AND t.status = 'waiting' THEN 'paused'
                         ELSE 'running' END AS state,
                    CASE WHEN k.kind = 'first_response' AND t.first_public_reply_at IS NOT NULL
                         THEN t.first_public_reply_at - t.created_at
                         WHEN t.status = 'done' THEN t.done_at - t.created_at
                         WHEN t.status = 'waiting' THEN (t.id % 600) * interval '1 minute'
                         ELSE interval '0' END AS consumed,
                    CASE WHEN k.kind = 'first_response' AND t.first_public_reply_at IS NOT NULL
                         THEN t.first_public_reply_at
                         WHEN t.status = 'done' THEN t.done_at
                         WHEN t.status = 'waiting' THEN t.created_at + (t.id % 600) * interval '1 minute'
                         ELSE t.created_at END AS changed,
                    CASE WHEN k.kind = 'first_response' AND t.first_public_reply_at IS NOT NULL
                         THEN t.first_public_reply_at
                         WHEN t.status = 'done' THEN t.done_at END AS stopped
                FROM tickets_ticket t CROSS JOIN (VALUES ('first_response', interval '2 hours'),
                                                         ('resolution', interval '8 hours')) AS k(kind, target)
            ) c
        """)


def _generate_sqlite(tickets: int, open_: int) -> None:
    from django.db import connection

    from tickets.models import BlockingReason

    calendar, policy, queues, types, agents, first_customer = _setup()
    reasons = list(BlockingReason.objects.order_by("pk").values_list("pk", flat=True)[:3])
    now = datetime.now(UTC).replace(tzinfo=None)
    open_from = max(tickets - open_ + 1, 1)
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    ticket_rows, clock_rows = [], []
    for g in range(1, tickets + 1):
        is_open = g >= open_from
        status = OPEN_CYCLE[g % 8] if is_open else "done"
        created = (
            now - timedelta(days=10) + (g - open_from) / max(open_, 1) * timedelta(days=10)
            if is_open
            else now - timedelta(days=730) + g / tickets * timedelta(days=720)
        )
        replied = None if is_open and g % 3 == 0 else created + timedelta(minutes=g % 180)
        done = None if is_open else created + timedelta(minutes=30 + g % 900)
        ticket_rows.append(
            (
                g,
                "customer",
                f"Request {g % 97} about order {g}",
                "",
                first_customer + g % 200,
                queues[g % 5].pk,
                types[g % 8].pk,
                "email",
                2,
                status,
                reasons[g % 3] if status == "waiting" else None,
                "" if g % 3 == 0 else "call back",
                (created + timedelta(days=1)).strftime(fmt) if g % 3 and g % 5 == 0 else None,
                False,
                None if is_open and g % 4 == 0 else agents[g % 40],
                agents[g % 40],
                created.strftime(fmt),
                created.strftime(fmt),
                created.strftime(fmt),
                replied.strftime(fmt) if replied else None,
                done.strftime(fmt) if done else None,
                (created + timedelta(days=1)).strftime(fmt),
            )
        )
        for kind, target in (("first_response", timedelta(hours=2)), ("resolution", timedelta(hours=8))):
            if kind == "first_response" and replied is not None:
                state, consumed, changed, stopped = "stopped", replied - created, replied, replied
            elif status == "done":
                state, consumed, changed, stopped = "stopped", done - created, done, done
            elif kind == "resolution" and status == "waiting":
                consumed = timedelta(minutes=g % 600)
                state, changed, stopped = "paused", created + consumed, None
            else:
                state, consumed, changed, stopped = "running", timedelta(0), created, None
            due = changed + target - consumed if state == "running" else None
            if state not in ("running", "paused"):
                red = None
            elif consumed >= target * 0.8:
                red = changed
            else:
                red = changed + target * 0.8 - consumed if state == "running" else None
            clock_rows.append(
                (
                    g,
                    kind,
                    policy.pk,
                    calendar.pk,
                    target // timedelta(microseconds=1),
                    state,
                    consumed // timedelta(microseconds=1),
                    changed.strftime(fmt),
                    due.strftime(fmt) if due else None,
                    created.strftime(fmt),
                    stopped.strftime(fmt) if stopped else None,
                    (created + target).strftime(fmt) if consumed > target else None,
                    True,
                    0,
                    red.strftime(fmt) if red else None,
                )
            )
    with connection.cursor() as cur:
        cur.executemany(
            "INSERT INTO tickets_ticket (id, kind, title, description, customer_id, queue_id, ticket_type_id, "
            "channel, priority, status, blocking_reason_id, next_step, next_step_due, deadline_set_by_person, "
            "performer_id, owner_id, created_at, updated_at, status_changed_at, first_public_reply_at, done_at, "
            "deadline) VALUES (" + ",".join(["%s"] * 22) + ")",
            ticket_rows,
        )
        cur.executemany(
            "INSERT INTO sla_slaclock (ticket_id, kind, policy_id, calendar_id, target, state, consumed, "
            "state_changed_at, due_at, started_at, stopped_at, breached_at, counts_for_compliance, generation, "
            "red_at) VALUES (" + ",".join(["%s"] * 15) + ")",
            clock_rows,
        )


def _generated(tickets: int, open_: int) -> bool:
    """Whether the database already holds this data set (``--keep``: reuse it instead of generating again)."""
    from tickets.models import OPEN_STATUSES, Ticket

    return Ticket.objects.count() == tickets and Ticket.objects.filter(status__in=OPEN_STATUSES).count() == open_


def worker(tickets: int, open_: int, rounds: int, reuse: bool = False) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from reports import rollups
    from tickets.models import Ticket

    postgres = connection.vendor == "postgresql"
    generate_s = rebuild_s = 0.0
    reused = reuse and _generated(tickets, open_)
    if not reused:
        if reuse and Ticket.objects.exists():
            raise SystemExit("--keep: the database holds another data set; drop it or name another database")
        t0 = time.perf_counter()
        with transaction.atomic():
            (_generate_postgres if postgres else _generate_sqlite)(tickets, open_)
        generate_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        rollups.rebuild()
        rebuild_s = time.perf_counter() - t0
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if postgres else "ANALYZE")  # also after a migration on a kept data set
        cursor.execute("SELECT count(*) FROM sla_slaclock WHERE state = 'running'")
        running = cursor.fetchone()[0]
    User = get_user_model()
    results = []
    for who in ("bench-admin", "bench-manager"):
        client = Client()
        client.force_login(User.objects.get(username=who))
        for label, url in PAGES:
            client.get(url)  # warm caches (calendars, templates)
            timings, cpu, queries = [], [], 0
            for _ in range(rounds):
                with CaptureQueriesContext(connection) as captured:
                    t0, c0 = time.perf_counter(), time.process_time()
                    response = client.get(url)
                    timings.append((time.perf_counter() - t0) * 1000)
                    cpu.append((time.process_time() - c0) * 1000)
                assert response.status_code == 200, (url, response.status_code)
                queries = len(captured)
            timings.sort()
            p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
            results.append(
                {
                    "page": label,
                    "as": "admin" if who == "bench-admin" else "queue manager",
                    "p95_ms": round(p95, 1),
                    "median_ms": round(statistics.median(timings), 1),
                    "cpu_median_ms": round(statistics.median(cpu), 1),
                    "queries": queries,
                }
            )
    database = (
        "postgresql " + ".".join(map(str, divmod(connection.pg_version, 10000)))
        if postgres
        else "sqlite " + connection.Database.sqlite_version
    )
    payload = {
        "database": database,
        "tickets": tickets,
        "open": open_,
        "running_clocks": running,
        "rounds": rounds,
        "reused": reused,
        "generate_s": round(generate_s, 1),
        "rollup_rebuild_s": round(rebuild_s, 1),
        "pages": results,
    }
    print(json.dumps(payload))
    return payload


def markdown(payload: dict[str, Any]) -> str:
    lines = []
    for run in payload["runs"]:
        lines += [
            f"{run['tickets']:,} tickets, {run['open']:,} open ({run['running_clocks']:,} running clocks) on "
            f"{run['database']}: "
            + (
                "the kept data set reused (--keep);"
                if run.get("reused")
                else f"generated in {run['generate_s']} s, rollups rebuilt in {run['rollup_rebuild_s']} s;"
            )
            + f" {run['rounds']} requests per page; load average {payload.get('load_average', '?')}.",
            "",
            "| page | as | p95, ms | median, ms | process CPU median, ms | queries |",
            "|---|---|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {r['page']} | {r['as']} | {r['p95_ms']} | {r['median_ms']} | {r.get('cpu_median_ms', '')} "
            f"| {r['queries']} |"
            for r in run["pages"]
        ]
        lines.append("")
    return "\n".join(lines).rstrip()


if __name__ == "__main__":
    main()
