"""Emails ingested per second: through the receiving service (what ``email_receive`` runs) and ``email_fetch``.

The issue's target: at least 100 emails per second on SQLite, with attachments of 100 KB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"

DESCRIPTION = """
On an empty, migrated database: N emails, each from its own sender (a new customer and a new
ticket each), with a 100 KB attachment, taken by `channels.inbound.receive.email_receive` (the
service behind `manage.py email_receive`; the command itself adds the start of a Python process
per email, measured separately as `pipe, one process per email`), then N more delivered into a
private Dovecot and read by one `email_fetch` poll (IMAP fetch, store, mark read). The original
`.eml` is stored as an attachment too, so each email writes about 200 KB of files.
"""


def make_email(n: int, attachment: bytes) -> bytes:
    message = EmailMessage()
    message["From"] = f"Customer {n} <customer{n}@bench.example>"
    message["To"] = "support@opsdesk.example"
    message["Subject"] = f"Bench request {n}"
    message["Message-ID"] = f"<bench-{n}-{time.time_ns()}@bench.example>"
    message.set_content(f"Hello, request number {n}.\n\nOn Mon, Support wrote:\n> earlier text\n")
    message.add_attachment(attachment, maintype="application", subtype="octet-stream", filename=f"data-{n}.bin")
    return message.as_bytes()


def child(count: int, fetch: bool) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from channels.inbound.imap import poll_mailboxes
    from channels.inbound.receive import email_receive
    from channels.models import Mailbox
    from tickets.models import Channel, IntakeChannel, Queue

    queue = Queue.objects.create(name="Bench", slug="bench")
    channel = IntakeChannel(name="Bench mail", channel=Channel.EMAIL, default_queue=queue)
    channel.set_token()
    channel.save()
    attachment = os.urandom(100 * 1024)
    emails = [make_email(n, attachment) for n in range(count)]
    started = time.perf_counter()
    for raw in emails:
        assert email_receive(channel, raw).outcome == "created"
    service_s = time.perf_counter() - started
    result: dict[str, Any] = {"emails": count, "service_per_s": round(count / service_s, 1)}

    env = {**os.environ}
    pipe_count = min(count, 5)
    started = time.perf_counter()
    for n in range(pipe_count):
        subprocess.run(
            [sys.executable, "manage.py", "email_receive", "--channel", "Bench mail"],
            input=make_email(100_000 + n, attachment),
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    result["pipe_process_per_s"] = round(pipe_count / (time.perf_counter() - started), 1)

    if fetch:
        sys.path.insert(0, str(ROOT))
        from tests.channels.inbound import dovecot

        root = Path(tempfile.mkdtemp(prefix="opsdesk-bench-dovecot-"))
        server = dovecot.start(root)
        try:
            server.deliver(*[make_email(200_000 + n, attachment) for n in range(count)])
            os.environ["BENCH_MAILBOX_PASSWORD"] = server.password
            Mailbox.objects.create(
                intake_channel=channel,
                host="127.0.0.1",
                port=server.port,
                security=Mailbox.Security.NONE,
                username=server.user,
                password_env="BENCH_MAILBOX_PASSWORD",
            )
            with _settings(EMAIL_FETCH_BATCH=count):
                started = time.perf_counter()
                polled = poll_mailboxes()[0]
                fetch_s = time.perf_counter() - started
            assert polled["created"] == count, polled
            result["fetch_per_s"] = round(count / fetch_s, 1)
        finally:
            dovecot.stop(server)
    return result


def _settings(**values):
    from django.test import override_settings

    return override_settings(**values)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=500)
    parser.add_argument("--postgres", default="", help="also measure on this (scratch!) PostgreSQL database URL")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-fetch", action="store_true", help="skip the Dovecot part")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.emails, not args.no_fetch)))
        return {}
    runs = {}
    urls = {"sqlite": None}
    if args.postgres:
        urls["postgresql"] = args.postgres
    for name, url in urls.items():
        with tempfile.TemporaryDirectory() as tmp:
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "opsdesk.settings",
                "DEBUG": "true",
                "DATABASE_URL": url or f"sqlite:///{tmp}/bench.sqlite3",
                "MEDIA_ROOT": f"{tmp}/media",
                "EMAIL_INTAKE_RATE_LIMIT": "0",
                "PYTHONPATH": str(ROOT),
            }
            cmd = [sys.executable, str(Path(__file__)), "--child", "--emails", str(args.emails)]
            cmd += ["--no-fetch"] if args.no_fetch else []
            done = subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
            runs[name] = json.loads(done.stdout.strip().splitlines()[-1])
    payload = {"generated": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(), "runs": runs}
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data["email"] = payload
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    print(markdown(payload))
    return payload


def markdown(payload: dict[str, Any]) -> str:
    rows = [
        "| database | emails (100 KB attachment each) | service, emails/s | `email_fetch`, emails/s "
        "| pipe, one process per email, emails/s |",
        "|---|---:|---:|---:|---:|",
    ]
    for db, r in payload["runs"].items():
        rows.append(
            f"| {db} | {r['emails']:,} | {r['service_per_s']} | {r.get('fetch_per_s', '—')} "
            f"| {r['pipe_process_per_s']} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    main()
