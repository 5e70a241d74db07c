"""Time ``manage.py seed_demo`` on a fresh SQLite database (the issue's target: 100,000 tickets under 2 minutes)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"

DESCRIPTION = """
`seed_demo --tickets N` on an empty, migrated SQLite database (and optionally
PostgreSQL with `--postgres URL`): the first run creates everything, the second
run with the same N must create nothing (idempotent) and is timed too.
"""


def run(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def measure(database_url: str, tickets: int) -> dict[str, Any]:
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "true"}
    py = sys.executable
    run([py, "manage.py", "migrate", "--noinput"], env)
    first = run([py, "manage.py", "seed_demo", "--tickets", str(tickets)], env)
    second = run([py, "manage.py", "seed_demo", "--tickets", str(tickets)], env)
    return {"tickets": tickets, "first_run_s": round(first, 1), "second_run_s": round(second, 1)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--postgres", default="", help="also measure on this (scratch!) PostgreSQL database URL")
    args = parser.parse_args(argv)
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        runs["sqlite"] = measure(f"sqlite:///{tmp}/bench.sqlite3", args.tickets)
    if args.postgres:
        runs["postgresql"] = measure(args.postgres, args.tickets)
    payload = {"generated": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(), "runs": runs}
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data["seed_demo"] = payload
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    print(markdown(payload))
    return payload


def markdown(payload: dict[str, Any]) -> str:
    rows = ["| database | tickets | first run, s | second run (idempotent), s |", "|---|---:|---:|---:|"]
    for db, r in payload["runs"].items():
        rows.append(f"| {db} | {r['tickets']:,} | {r['first_run_s']} | {r['second_run_s']} |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
