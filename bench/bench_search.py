"""Benchmark of search (docs/search.md) on PostgreSQL: 1,000,000 tickets and 3,000,000 messages by default.

A scratch database is migrated, then filled set-based (``INSERT … SELECT generate_series``): 100,000
customers, N tickets over ten queues, three messages per ticket (customer message, reply, internal note),
each one of 20,000 twelve-word sentences (drawn from 80 real and 5,000 generated words) picked by a hash,
joined (not a subquery per row), plus three marker words at known frequencies ("задержка" in 10 % of
messages, "принтер" in 1 %, "кофемашина" in 0.01 %). The plain indexes of the three tables are dropped
for the load and built afterwards, the foreign-key triggers are off during it
(``session_replication_role = replica``: the rows are consistent by construction), the ``tsvector``
columns are computed by the inserts, and ``VACUUM ANALYZE`` gives the planner its statistics.
Each query is then requested ``--rounds`` times through the Django test client (``/search/?q=``, the
whole page) and through the service alone (``tickets.search.search``: the SQL and the fragments) as an
admin (sees every ticket) and as an engineer who sees one queue of ten; p95 and median are recorded,
with the CPU time of the Django process for the page and the statements of the service. Last, 200 notes
are written one by one through ``ticket_add_note`` (the index is kept by the database on insert) to show
what indexing costs intake; they are rolled back, so a kept database stays as generated.

The scratch database is dropped at the end unless ``--keep``; ``--reuse`` measures a kept one generated
with the same ``--tickets`` (a table ``bench_search_generated`` records it) instead of generating again,
and generates it when it is missing. ``--rounds 0`` only generates.

Results are merged into ``bench/results.json`` under the key ``"search"``.
Run: ``python bench/bench_search.py [--tickets N] [--rounds R] [--postgres postgres://…/postgres]
[--db NAME] [--keep | --reuse]`` (``--tickets 100000`` for a quick run; always three messages per ticket).
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
SCRATCH = "opsdesk_bench_search"
META = "bench_search_generated"  # one row in a kept scratch database: its size and how long it took

DESCRIPTION = """
Search reads one generated `tsvector` column per table (`tickets_message.search_vector`,
`tickets_ticket.search_vector`, configuration `russian`: Russian and English stems) through GIN
indexes, and the customers by substring (`pg_trgm`). Results are the newest matching tickets the
viewer may open (`Ticket.objects.visible_to`), 25 per page, with no total count. Each kind of match
(message text, title, customer, related object, number) is looked up on its own, and the newest
tickets of each are merged: a source with few matches (at most 5,000 messages or tickets, 200
customers) is fetched through its index and the tickets looked up by id; a common word (the planner's
statistics expect over 20,000 messages, or more than 5,000 are found) is instead answered by walking
the tickets the user may see newest first (`created_at` index) and testing each ticket's messages
(`ticket_id` index) until the page is full. The fragments are cut from the newest matching message of
the 25 tickets shown only. The data is generated set-based (`generate_series`, sentences joined by
hash, indexes built after the load, `VACUUM ANALYZE`). Each word is searched through the whole page
(`/search/?q=`) and through the service alone, as an admin and as an engineer who sees one queue of
ten. Wall times on a shared 2-core machine depend on its load (given below); the page CPU column is the
Django process alone.
"""
QUERIES = [
    ("common word (10 % of messages)", "задержки"),
    ("medium word (1 %)", "принтера"),
    ("rare word (0.01 %)", "кофемашину"),
    ("two words (1 % and 10 %)", "принтер задержка"),
    ("absent word", "экскаватор"),
    ("generated word (0.19 %: just over the lookup cap, the slowest case)", "слово123"),
    ("customer email", "customer4242@"),
]
_WORDS_TEXT = (
    "заявка клиент заказ доставка оплата счёт договор сервер сеть почта пароль доступ ошибка отчёт склад "
    "товар возврат гарантия ремонт монтаж установка настройка звонок письмо менеджер инженер офис филиал "
    "касса чек терминал клавиатура сканер ноутбук монитор кабель роутер камера лицензия обновление база "
    "данных резерв копия срок задача проект встреча акт накладная скидка цена тариф абонент линия "
    "order invoice payment delivery refund warranty repair install setup server network mail password "
    "access error report stock return license update backup contract meeting discount price account"
)
WORDS = _WORDS_TEXT.split()


def _psql(base_url: str, sql: str) -> None:
    subprocess.run(["psql", base_url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True)


def _with_db(url: str, name: str) -> str:
    head, _sep, _db = url.rpartition("/")
    return f"{head}/{name}"


def _exists(base_url: str, name: str) -> bool:
    out = subprocess.run(
        ["psql", base_url, "-Atc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return out.stdout.strip() == "1"


def _generated_size(url: str) -> int | None:
    """The ticket count a finished generation recorded in the scratch database (None: none finished there)."""
    out = subprocess.run(
        ["psql", url, "-Atc", f"SELECT to_regclass('{META}') IS NOT NULL"],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    if out.stdout.strip() != "t":
        return None
    out = subprocess.run(
        ["psql", url, "-Atc", f"SELECT tickets FROM {META}"], check=True, stdout=subprocess.PIPE, text=True
    )
    return int(out.stdout.strip() or 0) or None


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL URL whose server gets a scratch database",
    )
    parser.add_argument("--db", default=SCRATCH, help=f"name of the scratch database (default {SCRATCH})")
    parser.add_argument("--keep", action="store_true", help="leave the scratch database in place afterwards")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure a kept scratch database generated with the same --tickets instead of generating it (implies "
        "--keep; generates it when it is missing or of another size)",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.tickets, args.rounds, generate=args.generate)
    if not args.db.replace("_", "").isalnum():
        parser.error("--db: letters, digits and underscores only")
    scratch = _with_db(args.postgres, args.db)
    keep = args.keep or args.reuse
    generate = not (args.reuse and _exists(args.postgres, args.db) and _generated_size(scratch) == args.tickets)
    env = {
        **os.environ,
        "DATABASE_URL": scratch,
        "DEBUG": "true",
        "ALLOWED_HOSTS": "testserver,localhost",
        "LOG_LEVEL": "WARNING",
    }
    try:
        if generate:
            _psql(args.postgres, f"DROP DATABASE IF EXISTS {args.db}")
            _psql(args.postgres, f"CREATE DATABASE {args.db}")
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
            )
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            "--tickets",
            str(args.tickets),
            "--rounds",
            str(args.rounds),
        ]
        out = subprocess.run(
            command + (["--generate"] if generate else []),
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        )
    finally:
        if not keep:
            _psql(args.postgres, f"DROP DATABASE IF EXISTS {args.db}")
    payload = json.loads(out.stdout.strip().splitlines()[-1])
    if args.rounds <= 0:
        print(f"generated in {payload['generate']['total_s']} s, nothing measured (--rounds 0)")
        return payload
    payload["generated"] = datetime.now(UTC).isoformat(timespec="seconds")
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data["search"] = payload
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    print(markdown(payload))
    return payload


# --- inside the scratch database ----------------------------------------------------------------------------


def _generate(tickets: int) -> dict[str, float]:
    from django.db import connection

    from tests.factories import MembershipFactory, QueueFactory, UserFactory

    timings = {}
    t0 = time.perf_counter()
    queues = [QueueFactory(name=f"Queue {n}", slug=f"bench-{n}") for n in range(10)]
    engineer = UserFactory(username="bench-engineer", role="engineer")
    MembershipFactory(queue=queues[0], user=engineer)  # one queue of ten: a tenth of the tickets
    agents = []
    for n in range(20):
        agent = UserFactory(username=f"agent{n}", role="engineer")
        MembershipFactory(queue=queues[n % 10], user=agent)
        agents.append(agent.pk)
    UserFactory(username="bench-admin", role="admin", is_superuser=True, is_staff=True)
    q_ids = ",".join(str(q.pk) for q in queues)
    a_ids = ",".join(map(str, agents))
    vocabulary = (
        "ARRAY["
        + ",".join(f"'{w}'" for w in WORDS)
        + "] || "
        + "ARRAY(SELECT 'слово' || n FROM generate_series(1, 5000) n)"
    )
    tables = ("tickets_customer", "tickets_ticket", "tickets_message")
    with connection.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute("SET jit = off")
        # The plain indexes (not the primary keys and unique constraints) are dropped for the load and built after
        # it, and the foreign-key triggers are off (the generated rows are consistent by construction).
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ANY(%s) "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint) AND indexdef NOT LIKE 'CREATE UNIQUE%%'",
            [list(tables)],
        )
        indexes = cur.fetchall()
        for name, _definition in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        cur.execute("SET session_replication_role = replica")
        cur.execute("""
            INSERT INTO tickets_customer (name, email, phone, language, created_at, strategic_partner, tier_source,
                is_internal, time_zone)
            SELECT 'Customer ' || g, 'customer' || g || '@client.example', '+7 700 ' || lpad(g::text, 7, '0'),
                   'ru', now(), false, '', false, 'Asia/Almaty'
            FROM generate_series(1, 100000) g
        """)
        cur.execute("SELECT min(id) FROM tickets_customer WHERE NOT is_internal")
        first_customer = cur.fetchone()[0]
        cur.execute(f"""
            INSERT INTO tickets_ticket (title, description, kind, customer_id, queue_id, channel, priority, status,
                next_step, performer_id, deadline_set_by_person, created_at, updated_at, status_changed_at)
            SELECT 'Request ' || (g % 97) || ' about order ' || g, '', 'customer', {first_customer} + (g % 100000),
                (ARRAY[{q_ids}])[1 + g % 10], 'email', 2, 'in_progress', '', (ARRAY[{a_ids}])[1 + g % 20], false,
                c, c, c
            FROM (SELECT g, now() - interval '730 days' + (g::float / {tickets}) * interval '730 days' AS c
                  FROM generate_series(1, {tickets}) g) s
        """)
        timings["tickets_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        # 20,000 twelve-word sentences, picked per message by a hash (a hash join, not a subquery per row).
        cur.execute(
            f"CREATE TEMPORARY TABLE bench_word AS SELECT n - 1 AS n, w FROM unnest({vocabulary}) "
            "WITH ORDINALITY u(w, n)"
        )
        cur.execute("""
            CREATE TEMPORARY TABLE bench_sentence AS
            SELECT s AS n, string_agg(w.w, ' ' ORDER BY i) AS body
            FROM generate_series(0, 19999) s CROSS JOIN generate_series(1, 12) i
            JOIN bench_word w ON w.n = (hashint4(s * 16 + i) & 2147483647) % (SELECT count(*) FROM bench_word)
            GROUP BY s
        """)
        cur.execute("ANALYZE bench_sentence")
        cur.execute("""
            INSERT INTO tickets_message (ticket_id, kind, channel, body, external_id, created_at, delivery_error,
                delivery_status, mail_message_id)
            SELECT t.id, (ARRAY['inbound', 'reply', 'note'])[k], 'email',
                   s.body
                   || CASE WHEN h.h % 10 = 0 THEN ' задержка' ELSE '' END
                   || CASE WHEN (h.h / 10) % 100 = 0 THEN ' принтер' ELSE '' END
                   || CASE WHEN (h.h / 1000) % 10000 = 0 THEN ' кофемашина' ELSE '' END,
                   '', t.created_at + k * interval '1 hour', '', '', ''
            FROM tickets_ticket t CROSS JOIN LATERAL generate_series(1, 3) k
            -- independent of the queue (id % 10) and of each other: hashes of the message's place
            CROSS JOIN LATERAL (SELECT (hashint8(t.id * 4 + k) & 2147483647)::bigint AS h,
                                       (hashint8(t.id * 4 + k + 4000000000) & 2147483647)::bigint % 20000 AS s) h
            JOIN bench_sentence s ON s.n = h.s
        """)
        cur.execute("DROP TABLE bench_word")
        cur.execute("DROP TABLE bench_sentence")
        cur.execute("SET session_replication_role = DEFAULT")
        timings["messages_s"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        for _name, definition in indexes:
            cur.execute(definition)
        timings["index_s"] = time.perf_counter() - t2
        cur.execute("VACUUM ANALYZE")  # what autovacuum does on a live database
    timings["total_s"] = time.perf_counter() - t0
    return {k: round(v, 1) for k, v in timings.items()}


def _p95(timings: list[float]) -> float:
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def worker(tickets: int, rounds: int, *, generate: bool = True) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tickets import search, services
    from tickets.models import Message, Ticket

    with connection.cursor() as cur:
        if generate:
            timings = _generate(tickets)
            cur.execute(f"CREATE TABLE {META} (tickets integer NOT NULL, generate jsonb NOT NULL)")
            cur.execute(f"INSERT INTO {META} VALUES (%s, %s)", [tickets, json.dumps(timings)])
        cur.execute(f"SELECT generate FROM {META}")
        generated = cur.fetchone()[0]
        generated = json.loads(generated) if isinstance(generated, str) else generated
    generated["reused"] = not generate
    User = get_user_model()
    results = []
    if rounds <= 0:  # generate only
        print(json.dumps({"tickets": tickets, "generate": generated}))
        return {}
    for who, label in (("bench-admin", "admin"), ("bench-engineer", "engineer (a tenth)")):
        client = Client()
        client.force_login(User.objects.get(username=who))
        for name, text in QUERIES:
            response = client.get("/search/", {"q": text})  # warm
            assert response.status_code == 200, response.status_code
            found = response.content.decode().count('class="search-hit"')
            timings, cpu = [], []
            for _ in range(rounds):
                t0, c0 = time.perf_counter(), time.process_time()
                client.get("/search/", {"q": text})
                timings.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
            service, queries = [], 0
            user = User.objects.get(username=who)
            for _ in range(rounds):
                with CaptureQueriesContext(connection) as captured:
                    t0 = time.perf_counter()
                    search.search(user, text)
                    service.append((time.perf_counter() - t0) * 1000)
                queries = len(captured)
            results.append(
                {
                    "query": name,
                    "q": text,
                    "as": label,
                    "hits_on_page": found,
                    "p95_ms": round(_p95(timings), 1),
                    "median_ms": round(statistics.median(timings), 1),
                    "service_p95_ms": round(_p95(service), 1),
                    "service_median_ms": round(statistics.median(service), 1),
                    "service_queries": queries,
                    "page_cpu_p95_ms": round(_p95(cpu), 1),
                }
            )
    # Intake: notes written one by one through the service; the database computes the vector on insert.
    engineer = User.objects.get(username="bench-engineer")
    sample = list(Ticket.objects.visible_to(engineer).order_by("-pk").values_list("pk", flat=True)[:200])
    writes = []
    with transaction.atomic():  # rolled back: a kept database stays as generated, and the next run finds the same
        for pk in sample:
            ticket = Ticket.objects.get(pk=pk)
            t0 = time.perf_counter()
            services.ticket_add_note(
                ticket, body="Проверили кофемашину и принтер после обновления " * 5, actor=engineer
            )
            writes.append((time.perf_counter() - t0) * 1000)
        transaction.set_rollback(True)
    payload = {
        "tickets": tickets,
        "messages": Message.objects.count(),
        "rounds": rounds,
        "generate": generated,
        "cpus": os.cpu_count(),
        "load": [round(x, 2) for x in os.getloadavg()],
        "database": "postgresql " + ".".join(map(str, divmod(connection.pg_version, 10000))),
        "queries": results,
        "note_write_p95_ms": round(_p95(writes), 1),
        "note_write_median_ms": round(statistics.median(writes), 1),
    }
    print(json.dumps(payload))
    return payload


def markdown(payload: dict[str, Any]) -> str:
    gen = payload["generate"]
    reused = "; a kept database, measured again" if gen.get("reused") else ""
    lines = [
        f"{payload['tickets']:,} tickets and {payload['messages']:,} messages on {payload['database']}, "
        f"generated in {gen['total_s']} s (tickets {gen['tickets_s']} s, messages with their vectors "
        f"{gen['messages_s']} s, indexes {gen['index_s']} s{reused}); "
        f"{payload['rounds']} requests per query; "
        f"load average at the end {payload.get('load', '?')} on {payload['cpus']} CPUs.",
        "",
        "| query | as | tickets on the page | page p95, ms | page median, ms | page CPU p95 (Django), ms "
        "| service p95, ms | service median, ms | service queries |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in payload["queries"]:
        lines.append(
            f"| {row['query']} (`{row['q']}`) | {row['as']} | {row['hits_on_page']} | {row['p95_ms']} "
            f"| {row['median_ms']} | {row.get('page_cpu_p95_ms', '?')} | {row.get('service_p95_ms', '?')} "
            f"| {row.get('service_median_ms', '?')} | {row.get('service_queries', '?')} |"
        )
    lines += [
        "",
        f"Writing an internal note through `ticket_add_note` (vector computed on insert): "
        f"p95 {payload['note_write_p95_ms']} ms, median {payload['note_write_median_ms']} ms.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
