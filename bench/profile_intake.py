"""Where one intake API request spends its CPU: the real WSGI application, in process, under cProfile.

Fills a scratch PostgreSQL database the way ``bench_intake`` does (its ``_setup``: a least-loaded queue of
agents, a keyword rule, known customers, a channel token), then calls ``opsdesk.wsgi.application`` with
WSGI environs built like gunicorn's (production settings: DEBUG=false, every middleware), one request
type at a time: new tickets, then customer messages appended to them. After a warm-up it prints, per
request type, the CPU milliseconds per request (``time.process_time``: this process only, not the
database server), the queries per request, and the top of the profile (``--top``).

Run: ``python bench/profile_intake.py --postgres postgres://postgres@127.0.0.1:5432/SCRATCH_DB [--n 300]``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import bench_intake as bench  # noqa: E402


def _environ(token: str, body: bytes) -> dict:
    return {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": bench.PATH,
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "HTTP_USER_AGENT": "bench-gateway/1.0",
        "HTTP_ACCEPT": "*/*",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def _call(app, token: str, payload: dict) -> dict:
    status_line = []

    def start_response(status, headers, exc_info=None):
        status_line.append(status)

    body = json.dumps(payload).encode()
    result = app(_environ(token, body), start_response)
    try:
        out = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    if not status_line[0].startswith("201"):
        raise SystemExit(f"refused: {status_line[0]} {out[:300]!r}")
    return json.loads(out)


DUMP = ""


def _backend_cpu(pid: int) -> int:
    """Nanoseconds the database backend ``pid`` has run on a CPU (Linux schedstat: exact, unlike the ticks of stat)."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def _wal_position() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
        return int(cursor.fetchone()[0])


def _measure(app, token, payloads, label, top, profile, sql=False, statements=False):
    from django.db import connection

    queries = 0
    by_statement: dict[str, list] = {}  # statement's first words -> [runs, server CPU ns]

    def count(execute, statement, params, many, context):
        nonlocal queries
        queries += 1
        if sql:
            print("   ", statement[:300])
        if not statements:
            return execute(statement, params, many, context)
        pid = connection.connection.info.backend_pid
        before = _backend_cpu(pid)
        try:
            return execute(statement, params, many, context)
        finally:
            words = statement.split()
            shape = words[0] if words[0] in ("SAVEPOINT", "RELEASE") else " ".join(words[:6])[:90]
            entry = by_statement.setdefault(shape, [0, 0])
            entry[0] += 1
            entry[1] += _backend_cpu(pid) - before

    first = []
    if sql:
        print(f"{label}: the statements of one request")
        with connection.execute_wrapper(count):
            first.append(_call(app, token, payloads[0]))
        payloads, queries, sql = payloads[1:], 0, False

    results = []
    profiler = None
    if profile:  # CPU time by default (the database server's time is not ours); PROFILE_WALL=1 for wall time
        profiler = cProfile.Profile() if os.environ.get("PROFILE_WALL") else cProfile.Profile(time.process_time)
    with connection.execute_wrapper(count):
        wal_started = _wal_position()
        started, db_started = time.process_time(), bench._postgres_cpu()
        if profiler:
            profiler.enable()
        for payload in payloads:
            results.append(_call(app, token, payload))
        if profiler:
            profiler.disable()
        cpu, db_cpu = time.process_time() - started, bench._postgres_cpu() - db_started
    wal = _wal_position() - wal_started
    n = len(payloads)
    print(f"{label}: {n} requests, {1000 * cpu / n:.2f} ms CPU/request, {queries / n:.2f} queries/request, "
          f"{1000 * db_cpu / n:.2f} ms database server CPU/request")
    # Write-ahead log written: every row version and index entry written shows in it, whatever the machine's load.
    print(f"{label}: {wal / n:,.0f} bytes of write-ahead log/request")
    if profiler:  # a deterministic proxy of the CPU time, unaffected by the machine's load
        calls = pstats.Stats(profiler).total_calls
        print(f"{label}: {calls / n:,.0f} Python function calls/request")
    if by_statement:  # the local server's backend, measured around each statement (psql would run on the same host)
        print(f"{label}: database server CPU per request by statement (ms)")
        for shape, (runs, ns) in sorted(by_statement.items(), key=lambda item: -item[1][1]):
            print(f"  {ns / n / 1e6:6.3f}  {runs / n:4.1f}x  {shape}")
        total = sum(ns for _runs, ns in by_statement.values())
        print(f"  {total / n / 1e6:6.3f}  in all")
    if profiler and DUMP:
        profiler.dump_stats(f"{DUMP}-{label.replace(' ', '_')}.prof")
    if profiler:
        for sort in ("tottime", "cumulative"):
            stream = io.StringIO()
            pstats.Stats(profiler, stream=stream).sort_stats(sort).print_stats(top)
            print(stream.getvalue())
    return first + results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", required=True)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--known", type=int, default=1000)
    parser.add_argument("--open-work", type=int, default=20, help="open tickets each agent performs at the start")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--no-profile", action="store_true", help="CPU and queries only, without cProfile")
    parser.add_argument("--only", choices=("tickets", "messages"), default=None)
    parser.add_argument("--dump", default="", help="write the cProfile stats of each phase to DUMP-<phase>.prof")
    parser.add_argument("--sql", action="store_true", help="print the statements of one request of each type")
    parser.add_argument(
        "--statements", action="store_true", help="the database server's CPU per request by statement (local server)"
    )
    args = parser.parse_args()
    global DUMP
    DUMP = args.dump
    os.environ.update(bench._env(args.postgres))
    args.run = str(time.time_ns())
    import django

    django.setup()
    token = bench._setup(args)["token"]
    from opsdesk.wsgi import application

    run = args.run
    # warm up: imports, connection, caches
    warm = bench._ticket_payloads(run, 30, args.known, "warm")
    for payload in warm:
        _call(application, token, payload)
    profile = not args.no_profile
    originals = bench._ticket_payloads(run, args.n, args.known, "t")
    created = _measure(
        application,
        token,
        originals,
        "new tickets",
        args.top,
        profile and args.only in (None, "tickets"),
        args.sql,
        args.statements,
    )
    if args.only == "tickets":
        return
    messages = [
        {
            "message_id": f"<m-{i}-{run}@bench.example>",
            "customer": {"email": originals[i % len(created)]["customer"]["email"]},
            "ticket": created[i % len(created)]["ticket"],
            "body": f"One more detail, number {i}.",
        }
        for i in range(args.n)
    ]
    _measure(application, token, messages[:20], "warm messages", 0, False)
    _measure(application, token, messages[20:], "appended messages", args.top, profile, args.sql, args.statements)


if __name__ == "__main__":
    main()
