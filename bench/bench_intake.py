"""Intake API throughput over HTTP: gunicorn (2 workers) on PostgreSQL, 8 concurrent gateway clients.

Phase 1 opens new tickets through ``POST /api/intake/v1/messages`` (half from customers who already exist,
half from first-time senders; some bodies hit a keyword rule), each one matched or created as a customer,
given its SLA clocks, classified and routed by the least-loaded strategy among the queue's agents. Phase 2
appends customer messages to those tickets (``"ticket": id``). Every response is checked (201 expected).

Results go to ``bench/results.json`` under ``"intake"``.
Run: ``python bench/bench_intake.py --postgres postgres://postgres@127.0.0.1:5432/SCRATCH_DB``
(the database is migrated and filled; use a scratch database). Options: ``--tickets``, ``--messages``,
``--clients``, ``--workers``, ``--agents``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: ``bench`` is then the script's folder, not a package
    sys.path.insert(0, str(ROOT))

from bench import reference_ms  # noqa: E402

RESULTS = ROOT / "bench" / "results.json"
PATH = "/api/intake/v1/messages"

DESCRIPTION = """
New tickets and appended customer messages per second through the intake API over HTTP: gunicorn with
2 sync workers on PostgreSQL, 8 concurrent clients on loopback, every request a full intake (channel token,
idempotency check, customer matching or creation, keyword classification, SLA clocks, least-loaded routing
among the queue's agents with its notification, history rows). Targets: 200 tickets/s and 500 messages/s.
Rerun: `python bench/bench_intake.py --postgres postgres://…/SCRATCH_DB`.

What made it cheaper: the customer lookup (`email__iexact`, i.e. `UPPER(email) = UPPER(…)`) was a
sequential scan of all customers on PostgreSQL and now uses the functional index `customer_email_upper`,
so matching a sender costs the same at any number of customers. An intake request is one transaction
(the check for a duplicate delivery, the plan's row locks and the writes) instead of two nested ones; a
concurrent twin losing the unique constraint is answered after the rollback. The keyword rules are applied
once (the ticket service is told the intake already classified), a first-time sender is created without
being looked up a second time, and the routing of the new ticket reads its whole team in one query. The
query counts of a new ticket and of an appended message are pinned by
`tests/tickets/test_routing_intake_queries.py` and do not grow with agents, open tickets or customers.
Since: a new ticket's SLA clocks are written in two inserts with their escalation instants planned
together (see "Receiving email"), the SLA's default deadline needs no second pass over the clocks, and
a move among the open statuses (new → assigned when routing assigns it) re-reads neither clocks nor
waiting segments, because nothing about them changes; an appended message's ticket is read once under
its row lock, with its customer, performer and owner (whom the notice goes to). 45 → 37 queries per new
ticket and 22 → 19 per appended message in the pinned test.
Then, for CPU per request (profiled through the real WSGI application with cProfile:
`python bench/profile_intake.py --postgres postgres://…/SCRATCH_DB`, which prints CPU ms, queries and
Python function calls per request): the lookups every request makes run SQL compiled once per process
(`core.rowcache.Precompiled`, which now also works out its converters and row-to-object steps once
instead of per query): the channel's token, the appended-to ticket's locking read, the queue's
routing-cursor lock and `core.locks.lock` (the row lock of every ticket service). The person routing
picks is read with their OpsDesk roles (one `EXISTS` per role, what `roles_of` reads), profile,
working calendar and notification settings in one query, so the assignment's role check and its
notice read nothing more; an appended message's ticket is read with its performer's and owner's
profile and notification settings for the same reason. The keyword rules' patterns are compiled once
per keywords text and the routed person's last assignment time is written without building an ORM
query. 33 → 31 queries per new ticket and 19 → 17 per appended message in the pinned test (a routing
decision 17 → 15); Python function calls per request through the WSGI app, about 31,400 → 19,400 for
a new ticket and 25,000 → 12,600 for an appended message. The middleware stack costs about 0.2 ms of
an API request, of which the browser-only part (session, CSRF, authentication, messages) about 0.1 ms:
left as it is. What remains is mostly the ticket service and the SLA clocks (start and the locking
read of an appended message's clocks).
Then (2026-12-07): the history rows of a whole intake (created, classified, assigned, status, routed) are
checked when recorded and written in one insert at the end of its transaction (`tickets.history.deferred`);
with django-q's ORM broker the delivery task's row is written inside the request's transaction instead of in
a second transaction after the commit (`core.outbox.enqueue_on_commit`: one commit, and a commit on
PostgreSQL waits for the disk, about 4 ms on this machine); `core.bulk.insert_rows` (the notification and
its delivery) works out its statement once per call shape. 29 → 26 queries per new ticket in the pinned
test. The SLA now also stores each ticket's next SLA due (one `UPDATE` per clock change, for the intake
board's order); its statement is compiled once per process (`core.rowcache.PrecompiledUpdate`: the ORM spent
about half a millisecond compiling it, thirty times what SQLite takes to run it).
Sync or threaded workers: py-spy on the two sync workers during this benchmark put about 60 % of their
samples inside psycopg's wait for PostgreSQL, which suggested that threads would overlap those waits. They
do not help here: with gunicorn's gthread worker (2 processes × 4 threads) new tickets went from 110.7 to
69.2 per second and appended messages from 229.7 to 181.4 in the same run, with more CPU per request (the
threads of a process share one interpreter lock, and both cores are already busy with the workers,
PostgreSQL and the clients). The table keeps both rows; production stays on sync workers
(`docs/operations.md`).
Where the 200 per second is: a new ticket costs its web worker 8.3 ms of CPU and an appended message 4.0 ms
(the table's last column, 2026-12-07 at the machine's usual speed; twice that the session before, while it ran
at half speed), and PostgreSQL and the clients share the same two cores. 200 new tickets per second would need
the whole request, database and client included, under 10 ms of CPU, and 500 messages per second under 4 ms:
about half of what the web worker alone spends now.
Then (2026-12-07, later): fewer statements per request, none of them a change of behaviour the gateway sees.
A message without files is no longer looked up by its id before the writes: the unique constraint on
(channel, message id) refuses a retry, the request's transaction rolls back and the first delivery is answered
(a refused retry is looked up before its error is answered; a message with files is still looked up first, so a
retry stores no file the rollback would leave behind). The customer message, its next-reply clock and the
notices no longer open savepoints inside the intake's transaction (a savepoint is two statements; every caller
that goes on after an error holds a savepoint of its own). A ticket assigned while it is being created is neither
locked nor read again (its transaction inserted it a moment ago) and is checked before anything is written, so
the refusal routing may meet needs no savepoint either. 26 → 20 queries per new ticket and 17 → 10 per appended
message in the pinned test. Measured beside the code before, same machine, same hour, alternating runs of 1,000
tickets and 2,000 messages on fresh databases, sync workers (the machine ran at about half the speed of the
session before: the code before spent 18.6 ms of web-worker CPU per ticket, against 8.3 then): new tickets
54.6 → 59.7 per second (CPU per ticket 18.6 → 16.9 ms, −9 %), appended messages 111.9 → 132.9 per second (CPU
per message 9.35 → 7.70 ms, −18 %). The table below is a run of the final code on that slower machine, with the
load of the previous run still on it (one a few minutes earlier: 54.5 tickets and 123.3 messages per second).
Then (2026-12-07, evening): the database server's CPU, now measured beside the web workers' (the last column: the
local PostgreSQL's processes read from /proc, the backends that exited included). It was as large as the web
workers': the two cores were busy with gunicorn and PostgreSQL in about equal parts. Most of it was planning:
Django leaves psycopg's prepared statements off, so the server planned every statement on every run, and planning
the appended message's locking read of its ticket (nine tables joined for the notice's recipients) cost 2-4 ms
against 0.3 ms of running it. The hot lookups compiled once per process (`core.rowcache.Precompiled`) whose plan
does not depend on their values are now prepared on the server (`prepare=True`: the channel's token, the
appended-to ticket's locking read, the customer by email, the routed person with their roles, the queue's routing
cursor, the SLA clocks' locking read and next-due update, row locks, the session, the signed-in user, their roles
and permissions, the ticket page's ticket; `DB_PREPARED_STATEMENTS`, `docs/operations.md`), so each connection
plans them once. Preparing every statement instead (Django's `server_side_binding` with a `prepare_threshold`)
gave the same intake figures, but PostgreSQL then kept generic plans for some of the ORM's page queries, which
cannot use a partial index whose condition a parameter stands in for: the admin's intake board at 1,000,000
tickets went from a median of 83 to 130 ms (p95 100 → 201 ms) in the same hour. Same machine and hour,
alternating runs of 1,000 tickets and 3,000 messages on fresh databases, sync workers, without and with the
prepared lookups: appended messages 124.6 and 134.8 → 185.4 and 208.3 per second, database server CPU per message
6.75 and 6.09 → 2.80 and 2.51 ms; new tickets unchanged (78.7 and 74.5 → 75.6 and 74.3 per second, server CPU
9.7 and 9.9 → 8.8 and 8.9 ms).
The largest part of a new ticket's server time is the routing team's read (2 ms of 9.7 at about seven open tickets
per agent): each agent's open tickets are counted, an index-only scan that still visits the heap for rows written
since the last vacuum (at 31 open tickets per agent, 1,532 heap fetches and 4.2 ms of execution per decision), so it
grows with the open tickets and is what a stored per-agent count would remove. The server's CPU per new ticket
varied between runs (9-18 ms for the same code: more or fewer open tickets to count).
Then (2026-12-07, night): three steps, each measured against the one before with alternating runs on fresh
databases (sync workers; the machine ran about twice as fast as the evening before, so these figures are not
comparable with the ones above). Every agent now performs ``--open-work`` open tickets (default 20) when the run
starts, as in a helpdesk at work: with none, a routing decision had nothing to count and the bench hid what open
work costs.
1. Each person's open-ticket count is stored (``tickets.Workload``), moved by the ticket services in the
   transaction of each change (one upsert), and read by the routing team read instead of counting every agent's
   open tickets. At 30 open tickets per agent: new tickets 90.4 and 80.7 → 164.0 and 126.6 per second, database
   server CPU per ticket 9.88 and 10.86 → 4.07 and 5.25 ms; with none it changed nothing measurable.
2. More prepared statements where the plan does not depend on the values: the hot inserts (``core.fastinsert``, one
   text for any number of rows; ``core.bulk.insert_rows``' jsonb form), the routing team read and the row-checked
   reads of the SLA policies and classification rules. New tickets 155.9 and 153.1 → 175.1 and 185.4 per second
   (server CPU 4.21 and 4.36 → 3.08 and 2.94 ms), appended messages 392.5 and 373.7 → 443.7 and 433.1 per second
   (1.33 and 1.41 → 1.05 and 1.05 ms).
3. A new ticket's row is written once: the SLA plans its clocks before the ``INSERT`` (``tickets.ports.plan_clocks``),
   so the default deadline and the earliest due go in with the row instead of two ``UPDATE``s after it: 25.2 → 23.2
   statements and 15,109 → 14,424 Python function calls per new ticket (``bench/profile_intake.py``; both
   deterministic). The throughput A/B of this step drowned in the machine's swings: within one pair of runs the
   unchanged appended-message phase moved from 303.7 to 467.5 per second.
``bench/profile_intake.py --statements`` prints the database server's CPU per statement kind (the backend's
``/proc/<pid>/schedstat`` around each execute). What is left of a new ticket's server time is spread over its 23
statements, 0.05-0.26 ms each; the largest are the routing ``UPDATE`` of the ticket (its performer, owner and
status) and the team read.
4. A customer message that starts no next-reply clock (the usual case) decides from its clocks' kinds and states
   (one read of three columns, no row locks) instead of locking and building every clock with its policy and
   calendars: 5,727 → 5,152 Python calls per appended message, the clocks' read 0.2 → 0.1 ms of server CPU.
The full run of that code gave 190.1 new tickets and 437.9 appended messages per second on sync workers (gthread
138.5 and 358.9); the one before it, of step 3's code, 210.4 and 444.8: between two such runs the figures move by
about a tenth with the machine's speed, so the new-ticket target (200) is met in some runs and missed by a few per
cent in others, and appended messages stay about a tenth short of 500.
Then (a later session the same day, on a machine about 1.4 times slower for this code: the code above spent 4.7 ms of
web-worker CPU per appended message where it had spent 2.65): what every request pays around its own work.
1. The django-q task row of a change (the delivery of a notice, the customer outbox) is written in the caller's
   transaction with no savepoint of its own (``core.outbox.enqueue_task``: a database error there now fails the
   change instead of being swallowed, which on PostgreSQL would have left the commit to roll back in silence), by
   django-q's ORM broker with its ``INSERT`` compiled once and prepared (``core.taskqueue.OrmBroker``).
2. ``core.fastinsert`` prepares the usual values without Django's per-field round (a shortcut per exact field class,
   checked against ``get_db_prep_save`` for every field of every model).
3. django-csp's policy for a response without a nonce is built once per process (``core.csp``), and PostgreSQL's
   ``timestamptz`` is read by ``datetime.fromisoformat`` (``core.pgdatetime``).
4. Four indexes fewer on ``tickets_ticket`` (a duplicate, and three single-column ones composites lead with).
5. Each person's last routing time moved from ``Profile`` to ``Workload``, written in the upsert of the open-ticket
   count (``tickets.workload.routed``) instead of an ``UPDATE`` of the profile after it.
Deterministic figures (``bench/profile_intake.py``): statements per new ticket 23.2 → 20.2 and per appended message
11 → 9; Python function calls 14,425 → 12,217 and 5,151 → 4,343; write-ahead log per new ticket 18,596 → 18,014
bytes (the new line of ``profile_intake``). Alternating runs on fresh databases beside the code before (``b42f8cb``),
sync workers, 1,500 tickets and 3,000 messages: new tickets 100.8 and 116.6 → 127.0 and 146.1 per second (web CPU per
ticket 11.69 and 9.68 → 9.16 and 7.92 ms), appended messages 268.4 and 264.2 → 313.7 and 354.8 per second (4.73 and
4.65 → 3.88 and 3.43 ms; database server 1.66 and 1.74 → 1.42 and 1.29 ms). Three full runs of this code within the
hour, sync workers: 153.2 new tickets and 362.0 appended messages per second, then 134.3 and 280.8 (reference loop
29.8 ms), then 120.3 and 260.3 (45.9 ms; the table below), all before step 5: short of both targets on this
machine, as the code before was by more, and a reminder that only same-hour alternating runs compare code.
Then (the next session, 2026-12-07, late; the machine's reference loop moved between 36 and 68 ms within the hour, so
only alternating runs compare):
1. The outboxes' django-q task is written by ``core.taskqueue.enqueue``: the signed package ``async_task`` builds, with
   its human-readable name, without building a broker for each task, logged at DEBUG instead of an INFO
   line per task on the web workers.
2. The ticket services' saves of named fields (the assignment's above all) go through ``core.fastinsert.update``:
   Django's ``save(update_fields=…)`` with its ``UPDATE`` written once per field list and prepared on PostgreSQL.
3. The load generator builds every request before and reads the responses after the timed part, its threads only
   sending and receiving on sockets: its CPU per request, now measured (the last column), went from about 0.6 to 0.33
   ms, out of the two cores the server and PostgreSQL share.
Python function calls per request (``bench/profile_intake.py``, deterministic): 12,195 → 11,843 per new ticket and
4,336 → 4,212 per appended message. Alternating runs beside the code before (``b4d87eb``), fresh databases, sync
workers, 1,200 tickets and 2,400 messages, both with the old load generator: new tickets 101.3 and 98.8 → 128.3 and
114.3 per second (web CPU per ticket 11.5 and 11.56 → 8.94 and 10.05 ms; database server 4.63 and 4.65 → 3.78 and
4.19 ms, the update now prepared); appended messages 233.9 and 215.4 → 228.0 and 247.8 per second (5.2 and 5.71 →
5.15 and 4.91 ms), within the machine's swings. Two full runs of this code within the hour, sync workers: 94.7 new
tickets and 214.6 appended messages per second (reference loop 64.2 ms), then 127.7 and 201.2 (47.3 ms at its start
and 67.7 after it; the table below), against 120.3 and 260.3 in the run before at 45.9 ms. gthread workers gave 110.1
and 248.3 in the first and 58.6 and 151.6 in the second: a run's halves differ by as much as its code could.
"""


def _env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "HTTPS": "false",
        "BEHIND_PROXY": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECRET_KEY": "bench-intake-" + "x" * 60,
        "DJANGO_SETTINGS_MODULE": "opsdesk.settings",
    }


# --- setup runs in a child process with Django loaded ------------------------------------------------------


def _setup(args) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command

    from routing.models import ClassificationRule
    from tickets.models import (
        Customer,
        IntakeChannel,
        Profile,
        Queue,
        QueueMembership,
        RoutingStrategy,
        TicketType,
    )

    call_command("migrate", verbosity=0, interactive=False)
    run = args.run
    queue = Queue.objects.create(
        slug=f"bench-intake-{run}", name=f"Bench intake {run}", strategy=RoutingStrategy.LEAST_LOADED
    )
    engineer = Group.objects.get(name="engineer")
    users = User.objects.bulk_create([User(username=f"bench-intake-{run}-{i}") for i in range(args.agents)])
    users = list(User.objects.filter(username__startswith=f"bench-intake-{run}-"))
    engineer.user_set.add(*users)
    Profile.objects.bulk_create([Profile(user=u, language="en") for u in users], ignore_conflicts=True)
    QueueMembership.objects.bulk_create([QueueMembership(queue=queue, user=u) for u in users])
    billing = TicketType.objects.create(slug=f"bench-billing-{run}", name="Billing", default_queue=queue)
    ClassificationRule.objects.create(keywords="invoice, refund, счёт", ticket_type=billing, position=10)
    Customer.objects.bulk_create(
        [Customer(name=f"Known {run} {i}", email=f"known-{run}-{i}@bench.example") for i in range(args.known)]
    )
    channel = IntakeChannel(name=f"Bench gateway {run}", channel="email", default_queue=queue)
    token = channel.set_token()
    channel.save()
    _open_work(queue, users, args.open_work)
    return {"token": token}


def _open_work(queue, users: list, per_agent: int) -> None:
    """``per_agent`` open tickets for every agent when the run starts, as in a helpdesk at work (written in bulk,
    then vacuumed and analysed, as autovacuum would leave them)."""
    from django.db import connection
    from django.utils import timezone

    from tickets import workload
    from tickets.models import Customer, Status, Ticket

    if not per_agent:
        return
    customer = Customer.objects.create(name=f"Open work {queue.slug}", email=f"open-{queue.slug}@bench.example")
    now = timezone.now()
    Ticket.objects.bulk_create(
        [
            Ticket(
                title="Open work",
                customer=customer,
                queue=queue,
                performer=u,
                owner=u,
                status=Status.IN_PROGRESS,
                created_at=now,
                status_changed_at=now,
            )
            for u in users
            for _ in range(per_agent)
        ],
        batch_size=2000,
    )
    workload.recount(log=False)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {Ticket._meta.db_table}")


# --- load ----------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(port: int, token: str, payload: dict) -> bytes:
    """The whole HTTP request for ``payload``, built before the timed part (what a gateway sends)."""
    body = json.dumps(payload).encode()
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def _send(port: int, request: bytes) -> bytes:
    """Send one request on a new connection and read the response until the server closes it (gunicorn's sync
    workers close every connection)."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
        conn.sendall(request)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _drive(port: int, token: str, payloads: list[dict], clients: int) -> tuple[float, float, list[dict]]:
    """Send every payload with ``clients`` threads; the wall time, this process's CPU seconds meanwhile (the load
    generator's) and the responses (in payload order).

    The requests are built before and the responses read after the timed part, and each client thread does no more
    than a socket's send and receive: the load generator shares the machine's two cores with the server and the
    database (``http.client`` cost it about 0.6 ms of CPU per request, a tenth of what the server spends).
    """
    requests = [_request(port, token, payload) for payload in payloads]
    raw: list[bytes | None] = [None] * len(payloads)
    cursor = iter(range(len(payloads)))
    lock = threading.Lock()

    def client() -> None:
        while True:
            with lock:
                i = next(cursor, None)
            if i is None:
                return
            raw[i] = response = _send(port, requests[i])
            if not response.startswith(b"HTTP/1.1 201 "):
                return

    threads = [threading.Thread(target=client) for _ in range(clients)]
    cpu = time.process_time()
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    results = []
    for response in raw:
        head, _, body = (response or b"no response").partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 201 "):
            raise SystemExit(f"intake refused a bench message: {head[:200]!r} {body[:500]!r}")
        results.append(json.loads(body))
    return elapsed, cpu, results


def _ticket_payloads(run: str, n: int, known: int, tag: str) -> list[dict]:
    payloads = []
    for i in range(n):
        email = f"known-{run}-{i % known}@bench.example" if i % 2 == 0 else f"new-{run}-{tag}-{i}@bench.example"
        payloads.append(
            {
                "message_id": f"<{tag}-{i}-{run}@bench.example>",
                "customer": {"name": f"Customer {i}", "email": email, "language": "en"},
                "subject": f"Request {i}: " + ("invoice is wrong" if i % 5 == 0 else "printer jams"),
                "body": f"Hello, this is request number {i}. It happens every morning.",
            }
        )
    return payloads


def _stat(pid: int | str) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (Linux): [11], [12] are utime and stime, [13], [14]
    the reaped children's cutime and cstime, in clock ticks."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _children_ticks(pid: int | str) -> int:
    """utime + stime of the live children of ``pid`` (one that exits meanwhile is skipped)."""
    total = 0
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            fields = _stat(child)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total


def _workers_cpu(master: int) -> float:
    """CPU seconds (user + system) the gunicorn workers of ``master`` have used so far (Linux /proc)."""
    try:
        return _children_ticks(master) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def _postgres_cpu() -> float:
    """CPU seconds the local PostgreSQL server has used so far: its postmaster with every process it started, the
    exited ones included (their time is added to the parent's ``cutime``/``cstime`` when it reaps them), read from
    Linux /proc; NaN where the server is not a local process this user can read."""
    try:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if (entry / "comm").read_text().strip() != "postgres":
                    continue
                fields = _stat(entry.name)
                if (Path(f"/proc/{fields[1]}/comm")).read_text().strip() == "postgres":
                    continue  # a child of the postmaster: counted with it
            except OSError:
                continue
            ticks = sum(int(f) for f in fields[11:15]) + _children_ticks(entry.name)
            return ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        pass
    return float("nan")


def _wait_ready(port: int, token: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited before it served")
        try:
            _send(port, _request(port, token, {}))
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not answer within 60 s")


def run_bench(args, threads: int = 1) -> dict[str, Any]:
    env = _env(args.postgres)
    run = f"{args.run}-{threads}"
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        path = out.name
    subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--setup",
            path,
            "--run",
            run,
            "--postgres",
            args.postgres,
            "--agents",
            str(args.agents),
            "--known",
            str(args.known),
            "--open-work",
            str(args.open_work),
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )
    token = json.loads(Path(path).read_text())["token"]
    Path(path).unlink()
    port = _free_port()
    log = open(Path(tempfile.gettempdir()) / f"bench-intake-{run}.log", "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "opsdesk.wsgi",
            "--workers",
            str(args.workers),
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "-" if args.verbose else "/dev/null",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    try:
        _wait_ready(port, token, proc)
        # Warm up both workers (imports, connections, caches) before anything is timed.
        _drive(port, token, _ticket_payloads(run, 4 * args.clients, args.known, "warm"), args.clients)
        payloads = _ticket_payloads(run, args.tickets, args.known, "t")
        cpu, db_cpu = _workers_cpu(proc.pid), _postgres_cpu()
        t_elapsed, t_client_cpu, created = _drive(port, token, payloads, args.clients)
        t_cpu, t_db_cpu = _workers_cpu(proc.pid) - cpu, _postgres_cpu() - db_cpu
        tickets = [r["ticket"] for r in created]
        assert all(r["created_ticket"] for r in created)
        originals = _ticket_payloads(run, args.tickets, args.known, "t")
        messages = []
        for i in range(args.messages):
            k = i % len(tickets)
            messages.append(
                {
                    "message_id": f"<m-{i}-{run}@bench.example>",
                    "customer": {"email": originals[k]["customer"]["email"]},
                    "ticket": tickets[k],
                    "body": f"One more detail, number {i}.",
                }
            )
        cpu, db_cpu = _workers_cpu(proc.pid), _postgres_cpu()
        m_elapsed, m_client_cpu, appended = _drive(port, token, messages, args.clients)
        m_cpu, m_db_cpu = _workers_cpu(proc.pid) - cpu, _postgres_cpu() - db_cpu
        assert not any(r["created_ticket"] for r in appended)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
    return {
        "threads": threads,
        "tickets": args.tickets,
        "tickets_per_s": round(args.tickets / t_elapsed, 1),
        "messages": args.messages,
        "messages_per_s": round(args.messages / m_elapsed, 1),
        # CPU of the web workers per request (the database server's and the clients' time are not in it)
        "app_cpu_ms_per_ticket": round(1000 * t_cpu / args.tickets, 2),
        "app_cpu_ms_per_message": round(1000 * m_cpu / args.messages, 2),
        # CPU of the PostgreSQL server per request (all its processes; NaN where it is not local)
        "db_cpu_ms_per_ticket": round(1000 * t_db_cpu / args.tickets, 2),
        "db_cpu_ms_per_message": round(1000 * m_db_cpu / args.messages, 2),
        # CPU of this process, the load generator, per request (it shares the machine with the server)
        "client_cpu_ms_per_ticket": round(1000 * t_client_cpu / args.tickets, 2),
        "client_cpu_ms_per_message": round(1000 * m_client_cpu / args.messages, 2),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_DATABASE_URL", ""),
        help="a scratch PostgreSQL database (migrated and filled)",
    )
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=[1, 4],
        help="threads per worker, one run each (1: sync workers; above 1: gunicorn's gthread worker)",
    )
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument(
        "--open-work", type=int, default=20, help="open tickets each agent performs when the run starts"
    )
    parser.add_argument("--known", type=int, default=1000, help="existing customers half of the senders match")
    parser.add_argument("--verbose", action="store_true", help="gunicorn access log into the log file")
    parser.add_argument("--run", default=str(time.time_ns()), help=argparse.SUPPRESS)
    parser.add_argument("--setup", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.setup:
        Path(args.setup).write_text(json.dumps(_setup(args)))
        return {}
    if not args.postgres.startswith("postgres"):
        parser.error("give a scratch PostgreSQL database: --postgres postgres://… (or BENCH_DATABASE_URL)")
    print(
        f"  intake: {args.tickets} tickets then {args.messages} messages, {args.clients} clients, "
        f"gunicorn {args.workers} workers",
        flush=True,
    )
    payload: dict[str, Any] = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_before": round(os.getloadavg()[0], 2),
        "reference_ms": reference_ms(),
        "clients": args.clients,
        "workers": args.workers,
        "agents": args.agents,
        "open_work": args.open_work,
    }
    runs = [run_bench(args, threads) for threads in args.threads]
    payload.update(runs[0])  # the first run's figures at the top level, as before
    payload["runs"] = runs
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data["intake"] = payload
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    print(markdown(payload))
    return payload


def markdown(payload: dict[str, Any]) -> str:
    runs = payload.get("runs") or [payload]
    opening = f", each performing {payload['open_work']} open tickets at the start" if payload.get("open_work") else ""
    lines = [
        f"gunicorn {payload['workers']} workers, {payload['clients']} clients, PostgreSQL, "
        f"{payload['agents']} agents in the least-loaded queue{opening}; load average before the run "
        f"{payload.get('load_before', '?')} on {payload.get('cpus', '?')} CPUs; the machine's reference loop "
        f"(`bench.reference_ms`, lower is faster) {payload.get('reference_ms', 'not measured')} ms:",
        "",
        "| workers | phase | requests | per second | target | web worker CPU per request, ms "
        "| database server CPU per request, ms | load generator CPU per request, ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        threads = run.get("threads", 1)
        kind = "sync" if threads == 1 else f"gthread, {threads} threads each"
        lines += [
            f"| {kind} | new tickets | {run['tickets']:,} | {run['tickets_per_s']} | 200 "
            f"| {run.get('app_cpu_ms_per_ticket', '—')} | {run.get('db_cpu_ms_per_ticket', '—')} "
            f"| {run.get('client_cpu_ms_per_ticket', '—')} |",
            f"| {kind} | appended customer messages | {run['messages']:,} | {run['messages_per_s']} | 500 "
            f"| {run.get('app_cpu_ms_per_message', '—')} | {run.get('db_cpu_ms_per_message', '—')} "
            f"| {run.get('client_cpu_ms_per_message', '—')} |",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
