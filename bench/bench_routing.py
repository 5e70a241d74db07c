"""Benchmark of routing (pure choice and the assignment service) and of the nightly VIP evaluation.

* pure: ``routing.choose`` over 200 agents for a burst of 10,000 tickets per strategy, each decision fed back
  (open tickets, last assignment) as the service does;
* service: ``assignment.route_ticket`` on 10,000 waiting tickets of a least-loaded and a hybrid queue with
  200 agents, on a scratch database (SQLite by default, PostgreSQL with ``--database-url``); burst: the same
  through ``assignment.route_waiting``, 200 tickets a call (what the queued-work offer does);
* VIP: ``vip.evaluate_customers`` over 100,000 customers with 3 turnover rows each and four rules (first run
  with the upgrades, then the steady-state night).

Results go to ``bench/results.json`` under ``"routing"``.
Run: ``python bench/bench_routing.py [--tickets N] [--db-tickets N] [--customers N] [--database-url URL]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: ``bench`` is then the script's folder, not a package
    sys.path.insert(0, str(ROOT))

from bench import reference_ms  # noqa: E402

RESULTS = ROOT / "bench" / "results.json"

DESCRIPTION = """
Routing decisions per second with 200 agents and a burst of tickets: the pure
choice (`routing/strategies.py`, dataclasses in, decision out, each decision fed
back as load) and the service (`routing/assignment.route_ticket`: lock the
queue, load the agents, assign through `ticket_assign`, write the
`ticket.routed` history) on a scratch database. The nightly VIP evaluation
(`routing/vip.py`) runs set-based over 100,000 customers with 300,000 turnover
rows: one aggregate per period, one read of every customer's tier state,
grouped updates and one bulk insert of tier changes. Target: under 60 s on
PostgreSQL.

What makes a decision cheap: the whole team is read in **one query** whatever
its size: memberships with each agent's profile columns, open-ticket count
(stored: `tickets.Workload`, one row per person kept by the ticket services as
tickets move; before, a correlated count of the agent's open tickets, which
grew with open work) and today's absence
and substitute (correlated subqueries) come back as plain tuples, not model
instances; the statement is compiled once per process (`routing/team.py`:
building and compiling it cost three times what running it does) and run
with the queue and the day put in. Working calendars come in one more query
only when someone has one, skills only for skills/hybrid queues. Routing adds
no savepoint of its own around `ticket_assign`, and writes the `ticket.routed`
row with the bulk writer. The count per decision is pinned by
`tests/tickets/test_routing_intake_queries.py` and
`tests/tickets/test_routing_burst.py` (the same for 10 or 200 agents).

The burst (`route_waiting`, used by the queued-work offer): the queue and the
tickets still waiting are locked once, the team is read once, the decisions
are planned in memory with each one fed back (one more open ticket, the
assignment time, the round-robin cursor) exactly as the next read would see
it, the chosen people are read in one query with their roles, profiles and
notification settings (what `ticket_assign`'s role check and the notice read),
and the open-ticket counts (`tickets.workload.deferred`: one upsert) and the
last assignment times are written once at the end. The history rows
(`ticket.assigned`, the status change, `ticket.routed`) and the performers'
notices of the whole burst are collected while it assigns
(`tickets.history.deferred`, `notifications.service.deferred`) and written
when it ends: one insert of history rows, one `notify_many` (notifications and
their deliveries), the same rows as one by one (a test compares them), and an
assignment refused after it recorded something drops what it left. What
remains per ticket is `ticket_assign`'s savepoint, its ticket lock and the
ticket update: 4 queries (12 before; the SLA handlers read nothing for a move
from new to assigned). One ticket (`route_ticket`) writes its three history
rows in one insert too: 12 queries (15 before; 11 before the stored
open-ticket count added its upsert and took the counting out of the team read).

The SQLite figures before this change also paid for django-q's ORM broker
closing the connection after every commit that enqueued a delivery (SQLite
keeps no connection open between requests, and its last close checkpoints the
WAL); `notifications.delivery.enqueue` now enqueues inside an atomic block, so
the broker leaves the connection alone. `--postgres URL --no-sqlite
--customers 0` measures the service on PostgreSQL alone; runs on this shared
2-core machine were taken while other engineers loaded it (see the load
average and the pure choice's figures), so rerun on a quiet machine for the
real figure.

Then (2026-12-07, night): each agent's open-ticket count is stored
(`tickets.Workload`, kept by the ticket services) and the team read takes it
from one joined row instead of counting the agent's open tickets, a count
that grew with every ticket routed; the team read is a prepared statement on
PostgreSQL. The run below routes 10,000 tickets one by one over 200 agents
(50 open tickets each by the end): 145.0 decisions per second on PostgreSQL
and 289.5 on SQLite, where the run before, of 500 tickets, gave 110.9 and
257.8; bursts 718.9 and 1,132.7 (512.0 and 1,038.8 before). As this bench
counts them (the ticket's read and the delivery task included), a decision by
`route_ticket` took 15 statements on PostgreSQL and 16 on SQLite (16 and 17
in the run before).

Then (a later session the same day, on a machine about 1.4 times slower for
this code): the team read becomes the `Agent`s in one pass (no intermediate
objects), the pure choice walks the team with availability spelled out for the
usual case, PostgreSQL's `timestamptz` values (184 per decision: the team's last
assignments) are read by `datetime.fromisoformat` (`core.pgdatetime`, 3.6 → 1.1
µs each), and the delivery task's row takes no savepoint and is written by a
prepared insert (`core.taskqueue`): 13 statements per decision on PostgreSQL
and 14 on SQLite in the runs below; then the last routing time moved to the
open-ticket count's row and its upsert (`tickets.workload.routed`; before, an
`UPDATE` of the profile): one statement fewer per decision and per burst
(`ROUTE_QUERIES` 12 → 11, `BURST_OF_5_QUERIES` 29 → 28). Alternating runs beside the code before, 1,000 tickets one by
one on PostgreSQL: 102.5, 105.9 and 91.6 → 120.3, 118.2 and 118.9 decisions per
second, Python CPU per decision 6.18, 6.02 and 7.07 → 4.96, 5.19 and 5.02 ms.
Two full runs (10,000 tickets) within the hour: 133.4 and 124.2 decisions per
second on PostgreSQL and 274.0 and 247.8 on SQLite one by one (145.0 and 289.5
in the run before, on the faster machine), bursts 547.3 and 368.8 on PostgreSQL,
984.2 and 990.2 on SQLite; the second is the table below (reference loop 29.3
ms). One by one stays under 300 on PostgreSQL: what is left
is the assignment itself (its history rows, the performer's notice and its
delivery, the ticket's update), not the choice.

Then (the next session, on a machine whose reference loop moved between 36 and
68 ms within the hour): the assignment's `UPDATE` of the ticket is written by
`core.fastinsert.update` (Django's `save(update_fields=…)` with the statement
written once per field list and prepared on PostgreSQL), and the performer's
delivery task by `core.taskqueue.enqueue` (django-q's package without
`async_task`'s broker per call and its INFO log line). Same statements.
Alternating runs beside the code before, 750 tickets one by one on PostgreSQL
with 200 agents (`DEBUG` off): 70.4, 85.3 and 71.1 → 89.9, 82.2 and 97.1
decisions per second, Python CPU per decision 8.67, 7.13 and 8.39 → 6.64, 7.45
and 6.14 ms. Then `Agent` (and `Member`) became named tuples: a frozen
dataclass's constructor sets each of its nine fields through
`object.__setattr__`, and every decision builds one per member (200 agents:
about 290 → 70-115 µs, best of 25; the choice itself unchanged within noise),
and the team read looks an absent member's substitute up only for someone
absent (a `CASE` on the same `EXISTS`) instead of one index probe and sort per
member. The team read of 200 agents: 1.16 → 0.88-0.93 ms of CPU per decision.
The machine ran at about half its best speed for much of this session, and
its speed moved within each run: the pure choice, which reads no database,
shows it (least-loaded, 200 agents: 7,247 decisions per second in the run
before, 4,349 and 3,443 in two runs of this code within the hour; the second is
the table below, reference loop 61.6 ms against 29.3). In those two runs
`route_ticket` made 63.3 and 85.8 decisions per second on PostgreSQL (124.2
before) and 174.5 and 233.9 on SQLite (247.8), bursts 224.2 and 295.9 (368.8)
and 399.5 and 588.9 (990.2): only the alternating runs above compare code.
"""


def bench_pure(agents: int, tickets: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from routing import strategies as routing
    from routing.strategies import Agent, Requirement

    t0 = datetime(2026, 3, 2, tzinfo=UTC)
    need = (Requirement("network", 2),)
    result = {}
    for strategy in (routing.ROUND_ROBIN, routing.LEAST_LOADED, routing.SKILLS, routing.HYBRID):
        team = {
            i: Agent(i, skills={"network": i % 5} if i % 3 == 0 else {}, away=i % 17 == 0, capacity=None)
            for i in range(1, agents + 1)
        }
        cursor = None
        started = time.perf_counter()
        for n in range(tickets):
            decision = routing.choose(strategy, team.values(), required=need, cursor=cursor)
            cursor = decision.cursor
            chosen = team[decision.user_id]
            team[chosen.user_id] = chosen._replace(
                open_tickets=chosen.open_tickets + 1, last_assigned_at=t0 + timedelta(seconds=n)
            )
        elapsed = time.perf_counter() - started
        loads = [a.open_tickets for a in team.values() if not a.away]
        result[strategy] = {"decisions_per_s": round(tickets / elapsed), "spread": max(loads) - min(loads)}
    return result


# --- the database part runs in a child process with its own DATABASE_URL -----------------------------------


class _QueryCounter:
    """An execute wrapper counting the queries of the decisions."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


def _worker(args) -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from routing import assignment, vip
    from routing.models import AgentSkill, CustomerTurnover, Skill, TicketTypeSkill, VipRule
    from tickets.models import Customer, Profile, Queue, QueueMembership, RoutingStrategy, Ticket, TicketType, VipTier

    out: dict[str, Any] = {"vendor": connection.vendor}
    engineer = Group.objects.get(name="engineer")
    users = User.objects.bulk_create([User(username=f"bench-agent-{i}") for i in range(args.agents)])
    users = list(User.objects.filter(username__startswith="bench-agent-").order_by("pk"))
    engineer.user_set.add(*users)
    Profile.objects.bulk_create([Profile(user=u, language="en") for u in users], ignore_conflicts=True)
    network = Skill.objects.create(code="bench-network", name="Network")
    AgentSkill.objects.bulk_create(
        [AgentSkill(user=u, skill=network, level=i % 5 + 1) for i, u in enumerate(users) if i % 3 == 0]
    )
    outage = TicketType.objects.create(slug="bench-outage", name="Outage")
    TicketTypeSkill.objects.create(ticket_type=outage, skill=network, min_level=2)
    customer = Customer.objects.create(name="Bench customer", email="bench@example.kz")
    for strategy in (RoutingStrategy.LEAST_LOADED, RoutingStrategy.HYBRID):
        for mode in ("service", "burst"):
            # service: route_ticket per ticket (what ticket creation and a return to the queue do);
            # burst: route_waiting over the queue's waiting tickets, OFFER_BATCH at a time (offer_queued_work).
            queue = Queue.objects.create(
                slug=f"bench-{mode}-{strategy}", name=f"Bench {mode} {strategy}", strategy=strategy
            )
            QueueMembership.objects.bulk_create([QueueMembership(queue=queue, user=u) for u in users])
            now = timezone.now()
            Ticket.objects.bulk_create(
                [
                    Ticket(
                        title=f"T{i}",
                        customer=customer,
                        queue=queue,
                        ticket_type=outage,
                        created_at=now,
                        status_changed_at=now,
                    )
                    for i in range(args.db_tickets)
                ],
                batch_size=2000,
            )
            tickets = list(Ticket.objects.filter(queue=queue).select_related("queue", "customer").order_by("pk"))
            queries = _QueryCounter()
            cpu = time.process_time()
            started = time.perf_counter()
            with connection.execute_wrapper(queries):
                if mode == "service":
                    for ticket in tickets:
                        assignment.route_ticket(ticket, trigger="bench")
                else:
                    for i in range(0, len(tickets), assignment.OFFER_BATCH):
                        assignment.route_waiting(queue, tickets[i : i + assignment.OFFER_BATCH], trigger="bench")
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu
            counts = list(
                Ticket.objects.filter(queue=queue)
                .values("performer")
                .annotate(n=django.db.models.Count("pk"))
                .values_list("n", flat=True)
            )
            key = f"{mode}_{strategy}"
            out[key] = {
                "tickets": len(tickets),
                "decisions_per_s": round(len(tickets) / elapsed, 1),
                "assigned": Ticket.objects.filter(queue=queue, performer__isnull=False).count(),
                "agents_used": len(counts),
                "queries_per_decision": round(queries.n / max(1, len(tickets)), 1),
                # Python time of this process per decision (the database server's time is not in it)
                "app_cpu_ms_per_decision": round(1000 * cpu / max(1, len(tickets)), 2),
            }
            print(f"  {mode} {strategy}: {out[key]}", flush=True)

    if not args.customers:
        return out
    # --- VIP evaluation ---
    gold = VipTier.objects.create(name="Bench Gold", rank=101)
    platinum = VipTier.objects.create(name="Bench Platinum", rank=102)
    VipRule.objects.create(tier=gold, kind=VipRule.Kind.TURNOVER, months=12, amount=600_000)
    VipRule.objects.create(tier=platinum, kind=VipRule.Kind.TOP_PERCENT, months=6, percent=5)
    VipRule.objects.create(tier=gold, kind=VipRule.Kind.STRATEGIC)
    VipRule.objects.create(tier=platinum, kind=VipRule.Kind.PREMIUM)
    today = timezone.localdate()
    started = time.perf_counter()
    batch = 10_000
    for offset in range(0, args.customers, batch):
        n = min(batch, args.customers - offset)
        Customer.objects.bulk_create(
            [
                Customer(
                    name=f"C{offset + i}",
                    strategic_partner=(offset + i) % 97 == 0,
                    premium_contract_until=today + timedelta(days=30) if (offset + i) % 101 == 0 else None,
                )
                for i in range(n)
            ],
            batch_size=batch,
        )
    ids = list(Customer.objects.filter(name__startswith="C").values_list("pk", flat=True))
    rows = []
    for k, pk in enumerate(ids):
        for j in range(3):
            rows.append(
                CustomerTurnover(
                    customer_id=pk,
                    date=today - timedelta(days=(k * 7 + j * 61) % 360),
                    amount=(k * 7919 + j * 104_729) % 300_000,
                )
            )
        if len(rows) >= 30_000:
            CustomerTurnover.objects.bulk_create(rows, batch_size=10_000)
            rows = []
    CustomerTurnover.objects.bulk_create(rows, batch_size=10_000)
    out["vip_setup_s"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    first = vip.evaluate_customers(today)
    out["vip_first_run"] = {
        "customers": len(ids),
        "seconds": round(time.perf_counter() - started, 2),
        "changes": len(first.changes),
    }
    started = time.perf_counter()
    second = vip.evaluate_customers(today + timedelta(days=1))
    out["vip_next_night"] = {
        "customers": len(ids),
        "seconds": round(time.perf_counter() - started, 2),
        "changes": len(second.changes),
    }
    print(f"  vip: {out['vip_first_run']} then {out['vip_next_night']}", flush=True)
    return out


def bench_db(args, database_url: str) -> dict[str, Any]:
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "false", "SECRET_KEY": "bench-" + "x" * 60}
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        path = out.name
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        path,
        "--agents",
        str(args.agents),
        "--db-tickets",
        str(args.db_tickets),
        "--customers",
        str(args.customers),
    ]
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)
    result = json.loads(Path(path).read_text())
    Path(path).unlink()
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--tickets", type=int, default=10_000, help="burst size for the pure choice")
    parser.add_argument("--db-tickets", type=int, default=10_000, help="burst size for the database service")
    parser.add_argument("--customers", type=int, default=100_000, help="VIP evaluation size (0: skip it)")
    parser.add_argument("--no-sqlite", action="store_true", help="only the --database-url database")
    parser.add_argument(
        "--database-url",
        "--postgres",
        default=os.environ.get("BENCH_DATABASE_URL", ""),
        help="a scratch PostgreSQL database (it is migrated and filled); default: a temporary SQLite",
    )
    parser.add_argument("--worker", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        Path(args.worker).write_text(json.dumps(_worker(args)))
        return {}
    print(f"  pure choice: {args.agents} agents, {args.tickets} tickets", flush=True)
    payload: dict[str, Any] = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_before": round(os.getloadavg()[0], 2),
        "reference_ms": reference_ms(),
        "agents": args.agents,
        "pure": {"tickets": args.tickets, **bench_pure(args.agents, args.tickets)},
        "db": {},
    }
    print(f"  {payload['pure']}", flush=True)
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            payload["db"]["sqlite"] = bench_db(args, f"sqlite:///{tmp}/bench.sqlite3")
    if args.database_url:
        payload["db"]["postgresql"] = bench_db(args, args.database_url)
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    previous = data.get("routing") or {}
    for name, row in (previous.get("db") or {}).items():
        # A database not measured this time keeps its last figures, with their date.
        if name not in payload["db"]:
            payload["db"][name] = {**row, "measured": row.get("measured") or previous.get("generated", "?")}
    data["routing"] = payload
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    print(markdown(payload))
    return payload


def markdown(payload: dict[str, Any]) -> str:
    pure = payload["pure"]
    lines = [
        f"Pure choice, {payload['agents']} agents, burst of {pure['tickets']:,} tickets:",
        "",
        "| strategy | decisions/s | load spread (max − min) |",
        "|---|---:|---:|",
    ]
    for strategy in ("round_robin", "least_loaded", "skills", "hybrid"):
        row = pure.get(strategy)
        if row:
            lines.append(f"| {strategy} | {row['decisions_per_s']:,} | {row['spread']} |")
    lines += [
        "",
        "Service and VIP evaluation on a scratch database:",
        "",
        f"Load average before the run: {payload.get('load_before', '?')} on {payload.get('cpus', '?')} CPUs; the "
        f"machine's reference loop (`bench.reference_ms`, lower is faster): "
        f"{payload.get('reference_ms', 'not measured')} ms.",
        "",
        "| database | path | least-loaded, decisions/s | queries each | app CPU each, ms | hybrid, decisions/s "
        "| VIP first night, s (customers, changes) | VIP next night, s |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in payload.get("db", {}).items():
        label = f"{name} (measured {row['measured']})" if row.get("measured") else name
        first, nxt = row.get("vip_first_run"), row.get("vip_next_night")
        vip = (
            f"{first['seconds']} ({first['customers']:,}, {first['changes']:,}) | {nxt['seconds']}"
            if first
            else "— | —"
        )
        for mode, path in (("service", "route_ticket, one ticket"), ("burst", "route_waiting, 200 at a time")):
            ll, hy = row.get(f"{mode}_least_loaded"), row.get(f"{mode}_hybrid")
            if not ll or not hy:
                continue
            cpu = ll.get("app_cpu_ms_per_decision", "—")
            lines.append(
                f"| {label} | {path} | {ll['decisions_per_s']} ({ll['tickets']:,} tickets) | "
                f"{ll.get('queries_per_decision', '—')} | {cpu} | {hy['decisions_per_s']} | {vip} |"
            )
            vip = "— | —"
    return "\n".join(lines)


if __name__ == "__main__":
    main()
