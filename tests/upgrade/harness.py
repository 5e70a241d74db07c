"""The machinery of the upgrade test: the old release from git, scratch databases, subprocesses.

Nothing here imports the project: both releases run in their own ``manage.py`` subprocess with the
same Python (``sys.executable``), so the old code and the new never share a process.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parents[1]  # the checkout under test: its manage.py runs the new code
PROBE = HERE / "probe.py"
FILL = HERE / "old_release_fill.py"
TIMEOUT = 600  # seconds per command; a whole build takes a few

# Settings of the suite's environment that must not leak into either release's subprocess.
DROPPED_ENV = ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "PYTHONPATH", "REDIS_URL", "EMAIL_URL", "DEBUG",
               "SECRET_KEY", "ALLOWED_HOSTS", "LANGUAGE_CODE", "TIME_ZONE", "SMS_PROVIDER")


def unavailable(reason: str):
    """No old release to build from: a failure under CI (history must be there), a skip elsewhere."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"upgrade test cannot run under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def _git(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(PROJECT), *args], capture_output=True, timeout=120, **kwargs)


def extract_release(commit: str, into: Path) -> str:
    """``git archive <commit> | tar -x`` into ``into`` (from the repository of this checkout); the full hash."""
    if shutil.which("git") is None:
        unavailable("git is not installed")
    top = _git("rev-parse", "--show-toplevel", text=True)
    if top.returncode != 0:
        unavailable(f"{PROJECT} is not a git checkout: {top.stderr.strip()}")
    full = _git("rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}", text=True)
    if full.returncode != 0:
        unavailable(f"commit {commit} (the release before the restructuring) is not in this clone's history "
                    "(a shallow clone? fetch with --unshallow)")
    full_hash = full.stdout.strip()
    archive = subprocess.run(["git", "-C", top.stdout.strip(), "archive", "--format=tar", full_hash],
                             capture_output=True, timeout=120, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout), mode="r:") as tar:
        tar.extractall(into, filter="data")
    return full_hash


@dataclass
class Database:
    """A scratch database for one upgrade run: a SQLite file, or a PostgreSQL database created and dropped."""

    url: str
    vendor: str
    drop: object = None  # callable

    def close(self) -> None:
        if self.drop is not None:
            self.drop()


def sqlite_database(directory: Path) -> Database:
    return Database(url=f"sqlite:///{directory / 'upgrade.sqlite3'}", vendor="sqlite")


def postgres_database(suite_url: str) -> Database:
    """``opsdesk_upgrade_<pid>`` on the suite's server (never the suite's own or another worker's database)."""
    import psycopg

    name = f"opsdesk_upgrade_{os.getpid()}"
    parts = urlsplit(suite_url)
    params = {"host": parts.hostname or "", "port": parts.port or 5432, "user": parts.username or "",
              "password": parts.password or "", "dbname": "postgres", "autocommit": True}
    params = {k: v for k, v in params.items() if v != ""}

    def execute(sql: str) -> None:
        with psycopg.connect(**params, connect_timeout=10) as conn:
            conn.execute(sql)

    execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # left by a crashed run of the same pid
    execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(parts._replace(path=f"/{name}", query=""))
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    return Database(url=url, vendor="postgresql", drop=lambda: execute(drop))


@dataclass
class Release:
    """One release's code on disk, run as ``manage.py`` subprocesses against one database."""

    root: Path
    name: str
    timings: dict[str, float] = field(default_factory=dict)

    def env(self, database: Database, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
        env.update(
            DATABASE_URL=database.url,
            DJANGO_SETTINGS_MODULE="opsdesk.settings",
            DEBUG="true",  # seed_demo runs only in development; the dev SECRET_KEY is shared by both releases
            EMAIL_URL="dummymail://",  # deliveries and digests are "sent" without a mail server
            LOG_LEVEL="WARNING",
            PYTHONDONTWRITEBYTECODE="1",
            **extra,
        )
        return env

    def manage(self, database: Database, *args: str, **extra_env: str) -> str:
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, str(self.root / "manage.py"), *args], cwd=self.root, env=self.env(database, **extra_env),
            capture_output=True, text=True, timeout=TIMEOUT,
        )
        self.timings[args[0]] = self.timings.get(args[0], 0.0) + time.monotonic() - started
        if result.returncode != 0:
            pytest.fail(
                f"{self.name}: manage.py {' '.join(args)[:200]} failed (exit {result.returncode})\n"
                f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-8000:]}",
                pytrace=False,
            )
        return result.stdout

    def run_script(self, database: Database, script: Path, **extra_env: str) -> str:
        return self.manage(database, "shell", "--no-imports", "-c",
                           f"import runpy; runpy.run_path({str(script)!r}, run_name='__main__')", **extra_env)

    def probe(self, database: Database, out: Path, *, fingerprints: dict, role_sync: bool = False) -> dict:
        args = {"out": str(out), "fingerprints": fingerprints, "rows": 5, "role_sync": role_sync}
        self.run_script(database, PROBE, UPGRADE_PROBE_ARGS=json.dumps(args))
        return json.loads(out.read_text())
