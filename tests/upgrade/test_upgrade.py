"""An existing database survives the upgrade from the release before the restructuring into floors.

The release before it (git ``OLD_RELEASE``) is extracted from this clone's history with
``git archive``. In subprocesses, with the same Python, that old code migrates a scratch database and
fills it through its own services (``seed_demo`` and ``old_release_fill.py``: every table gets rows);
``probe.py`` records row counts, a few rows of the important tables, content types, permissions and
grants. Then the checkout under test runs ``manage.py migrate`` on the same database and the probe
looks again, this time through the new ORM. The database is built once per backend and module:
SQLite always, PostgreSQL too when the suite runs on it (a scratch ``opsdesk_upgrade_<pid>``).

The comparison is generic (every table, every row count, every model) except for ``MOVED``: the models
that change app, which must keep their table and rows and carry their content types and permissions
to the new app label.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass

import pytest

from .harness import FILL, PROJECT, Release, extract_release, postgres_database, sqlite_database

pytestmark = pytest.mark.upgrade

OLD_RELEASE = "246e1f0"  # the last commit before the apps moved onto floors
SEED_TICKETS = 40  # small: the whole build stays within seconds per database

# Models that change app in this release: (old app label, model name) -> new app label. Tables keep their names.
MOVED: dict[tuple[str, str], str] = {
    ("tickets", "deferralcause"): "deferrals",
    ("tickets", "deferralrequest"): "deferrals",
    ("tickets", "skill"): "routing",
    ("tickets", "agentskill"): "routing",
    ("tickets", "tickettypeskill"): "routing",
    ("tickets", "ticketskip"): "routing",
    ("tickets", "classificationrule"): "routing",
    ("tickets", "customerturnover"): "routing",
    ("tickets", "viprule"): "routing",
    ("tickets", "customertierchange"): "routing",
    ("escalations", "notification"): "notifications",
    ("escalations", "digest"): "notifications",
    ("escalations", "delivery"): "notifications",
    ("escalations", "webhookendpoint"): "notifications",
    ("escalations", "notificationsettings"): "notifications",
    ("reports", "waitsegment"): "tickets",
}

# Old table name -> new one, for a table the upgrade renames. Normally empty: moved models keep db_table.
RENAMED: dict[str, str] = {}

# Bookkeeping tables the upgrade may add rows to (new migrations, content types and permissions of new
# models, grants from the role sync, new schedules); every other table keeps its exact row count.
GROWS = {"django_migrations", "django_content_type", "auth_permission", "auth_group_permissions", "django_q_schedule",
         "tickets_blockingreason",  # reference data a release adds after migrate (the "approval" reason)
         "escalations_escalationlevel"}  # issue 16: the shipped ladders gain the next reply's own levels
# No ticket without control (issue 16): the first migrate adds the catch-all SLA policy when none exists, on a new
# "Working hours" calendar (five windows), whose save queues one recompute task.
CATCH_ALL_ADDS = {"sla_slapolicy": 1, "sla_calendar": 1, "sla_calendarwindow": 5, "django_q_ormq": 1}

# A few rows (the first five and the last, by id) of the important tables, some columns each: same before and after.
FINGERPRINTS: dict[str, list[str]] = {
    # Not the deadline: sla.0005_deadline_in_force brings the SLA's deadlines onto the resolution due (issue 16).
    "tickets_ticket": ["id", "title", "status", "customer_id", "queue_id", "performer_id"],
    "tickets_ticketevent": ["id", "ticket_id", "kind", "created_at"],
    "tickets_customer": ["id", "email", "vip_tier_id", "tier_source"],
    "sla_slaclock": ["id", "ticket_id", "kind", "state", "due_at", "next_escalation_at"],
    "escalations_firing": ["id", "clock_id", "level_id", "ticket_id", "fired_at"],
    "escalations_escalationcase": ["id", "title", "severity", "status", "owner_id", "rule_id"],
    "tickets_deferralrequest": ["id", "ticket_id", "status", "cause_id", "proposed_deadline", "new_deadline"],
    "tickets_deferralcause": ["id", "code", "name"],
    "tickets_agentskill": ["id", "user_id", "skill_id", "level"],
    "tickets_classificationrule": ["id", "keywords", "ticket_type_id", "hits"],
    "tickets_customertierchange": ["id", "customer_id", "from_tier_id", "to_tier_id", "reason"],
    "escalations_notification": ["id", "recipient_id", "kind", "urgency", "title", "ticket_id"],
    "escalations_delivery": ["id", "notification_id", "channel", "status", "digest_id"],
    "escalations_notificationsettings": ["id", "user_id", "digest_window_minutes"],
    "reports_waitsegment": ["id", "ticket_id", "reason_id", "started_at", "ended_at"],
}


@dataclass
class Upgrade:
    vendor: str
    before: dict  # the probe's findings with the old release, after filling
    after: dict  # the probe's findings with the checkout under test, after its migrate
    timings: dict[str, dict[str, float]]


def _suite_on_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith("postgres")


@pytest.fixture(scope="session")
def old_release(tmp_path_factory) -> Release:
    root = tmp_path_factory.mktemp("old-release")
    full_hash = extract_release(OLD_RELEASE, root)
    return Release(root=root, name=f"old release {full_hash[:12]}")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def upgraded(request, old_release: Release, tmp_path_factory) -> Upgrade:
    """The old release's database, filled, then migrated by the checkout under test (built once per backend)."""
    work = tmp_path_factory.mktemp(f"upgrade-{request.param}")
    if request.param == "postgresql":
        if not _suite_on_postgres():
            pytest.skip("the suite runs on SQLite (set DATABASE_URL=postgres://… for the PostgreSQL upgrade)")
        database = postgres_database(os.environ["DATABASE_URL"])
    else:
        if _suite_on_postgres() and os.environ.get("CI"):
            pytest.skip("CI's SQLite pass upgrades the SQLite database (.ci/run)")
        database = sqlite_database(work)
    old = Release(root=old_release.root, name=old_release.name)
    new = Release(root=PROJECT, name="checkout under test")
    try:
        old.manage(database, "migrate", "--noinput", "-v0")
        old.manage(database, "seed_demo", "--tickets", str(SEED_TICKETS))
        old.run_script(database, FILL)
        before = old.probe(database, work / "before.json", fingerprints=FINGERPRINTS, role_sync=True)
        new.manage(database, "migrate", "--noinput", "-v0")
        renamed = {RENAMED.get(table, table): columns for table, columns in FINGERPRINTS.items()}
        after = new.probe(database, work / "after.json", fingerprints=renamed, role_sync=True)
        for release in (old, new):  # shown with -s, or beside a failure
            steps = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in release.timings.items())
            print(f"{database.vendor}, {release.name}: {steps}")
        yield Upgrade(vendor=database.vendor, before=before, after=after,
                      timings={"old": old.timings, "new": new.timings})
    finally:
        database.close()


def _problems(problems: list[str]) -> str:
    return f"{len(problems)} problem(s) after the upgrade:\n  " + "\n  ".join(problems)


def test_the_old_release_filled_every_table(upgraded):
    """Without rows in every table (and readable ones), the upgrade would prove nothing about them."""
    before = upgraded.before
    assert before["vendor"] == upgraded.vendor
    assert [t for t, n in before["tables"].items() if n == 0] == []
    assert {label: m["error"] for label, m in before["models"].items() if m["error"]} == {}
    assert {k for k in MOVED if f"{k[0]}.{k[1]}" not in before["models"]} == set(), "MOVED names a model it never had"


def test_every_table_and_row_survives_the_upgrade(upgraded):
    before, after = upgraded.before, upgraded.after
    problems = []
    # Every table is still there, under its (normally unchanged) name, with its rows.
    for table, count in before["tables"].items():
        name = RENAMED.get(table, table)
        if name not in after["tables"]:
            problems.append(f"table {table} is gone" + (f" (expected as {name})" if name != table else ""))
        elif after["tables"][name] < count or (
            table not in GROWS and after["tables"][name] != count + CATCH_ALL_ADDS.get(table, 0)
        ):
            problems.append(f"{name}: {after['tables'][name]} rows, had {count}")
    # The same rows: ids and a few columns of the important tables.
    for table, rows in before["fingerprints"].items():
        name = RENAMED.get(table, table)
        if after["fingerprints"].get(name) != rows:
            problems.append(f"{name}: rows differ: {rows[:2]} … became {after['fingerprints'].get(name, [])[:2]} …")
    # Every model of every project app reads its table through the new ORM, first row and relations included.
    old_names = {RENAMED.get(t, t): t for t in before["tables"]}
    for label, model in sorted(after["models"].items()):
        table = model["table"]
        if model["error"]:
            problems.append(f"{label} (table {table}) does not load:\n{model['error']}")
        elif model["count"] != after["tables"].get(table):
            problems.append(f"{label}: the ORM counts {model['count']}, table {table} has {after['tables'].get(table)}")
        elif (table in old_names and old_names[table] not in GROWS
              and model["count"] != before["tables"][old_names[table]] + CATCH_ALL_ADDS.get(table, 0)):
            problems.append(f"{label}: {model['count']} rows, table {old_names[table]} had "
                            f"{before['tables'][old_names[table]]}")
        elif model["count"] and model["first"] is None:
            problems.append(f"{label}: first() found nothing in {model['count']} rows")
    # No table that had a model is left behind without one (its rows would be unreachable).
    modelled = {m["table"] for m in after["models"].values()}
    for label, model in sorted(before["models"].items()):
        name = RENAMED.get(model["table"], model["table"])
        if name not in modelled:
            problems.append(f"table {name} (of {label}) has no model any more")
    assert not problems, _problems(problems)


def test_grants_and_admin_history_survive_the_upgrade(upgraded):
    """Permission rows keep their ids, so every grant to a group or a person stays; admin history opens."""
    before, after = upgraded.before, upgraded.after
    problems = []
    permission_ids = {p[0] for p in after["permissions"]}
    for pk, app_label, model, codename in before["permissions"]:
        if pk not in permission_ids:
            problems.append(f"permission {app_label}.{codename} (id {pk}, model {model}) is gone")
    for kind in ("group_grants", "user_grants"):
        for holder, grants in before[kind].items():
            has = {pk for pk, _app, _codename in after[kind].get(holder, [])}
            problems += [f"{kind[:-7]} {holder} lost {app}.{codename} (id {pk})"
                         for pk, app, codename in grants if pk not in has]
    problems += [f"admin log entry {entry['id']} ({entry['content_type']}) does not open: {entry['error']}"
                 for entry in after["admin_log"] if entry["error"]]
    assert len(after["admin_log"]) == len(before["admin_log"])
    assert not problems, _problems(problems)


def test_background_work_survives_the_upgrade(upgraded):
    """Schedules (re-registered after migrate) and tasks queued by the old release name functions that exist."""
    before, after = upgraded.before, upgraded.after
    names = {name for name, _func, _error in after["schedules"]}
    problems = [f"schedule {name} is gone" for name, _f, _e in before["schedules"] if name not in names]
    problems += [f"schedule {name} runs {func}: {error}" for name, func, error in after["schedules"] if error]
    problems += [f"queued task {name} runs {func}: {error}" for name, func, error in after["queued"] if error]
    assert len(after["queued"]) == len(before["queued"]) + CATCH_ALL_ADDS["django_q_ormq"]
    assert not problems, _problems(problems)


def _moved_model_problems(before: dict, after: dict, old_app: str, model: str, new_app: str) -> list[str]:
    """What is wrong with one moved model: its class, table, rows, content type and permission rows."""
    old_label, new_label = f"{old_app}.{model}", f"{new_app}.{model}"
    old_model, new_model = before["models"][old_label], after["models"].get(new_label)
    problems = []
    if old_label in after["models"]:
        problems.append(f"still a model of {old_app}")
    if new_model is None:
        problems.append(f"not a model of {new_app}")
    elif new_model["table"] != RENAMED.get(old_model["table"], old_model["table"]):
        problems.append(f"reads table {new_model['table']}, its rows are in {old_model['table']}")
    elif new_model["count"] != old_model["count"]:
        problems.append(f"{new_model['count']} rows, had {old_model['count']}")
    ct_before = {(app, name): pk for pk, app, name in before["content_types"]}
    ct_after = {(app, name): pk for pk, app, name in after["content_types"]}
    if (old_app, model) in ct_after:
        problems.append(f"content type {old_label} still there (id {ct_after[(old_app, model)]})")
    if ct_after.get((new_app, model)) != ct_before[(old_app, model)]:
        problems.append(f"content type {new_label} has id {ct_after.get((new_app, model))}, "
                        f"not {ct_before[(old_app, model)]} (relabel it in place)")
    perms_after = {p[0]: p for p in after["permissions"]}
    wrong = [f"{codename} (id {pk}): {perms_after[pk][1] if pk in perms_after else 'gone'}"
             for pk, app, name, codename in before["permissions"]
             if (app, name) == (old_app, model) and perms_after.get(pk, [None])[1:] != [new_app, model, codename]]
    if wrong:
        problems.append(f"permissions not under {new_app}: {', '.join(wrong)}")
    return problems


def test_moved_models_keep_rows_content_types_and_permissions(upgraded):
    """Each model of ``MOVED`` lives in its new app on its old table, with its content type relabelled in
    place (same id), its permissions (same ids) under the new label, and every grant of them kept, by the
    role sync on its own as well (a fresh install grants the same)."""
    before, after = upgraded.before, upgraded.after
    problems = []
    for (old_app, model), new_app in sorted(MOVED.items()):
        issues = _moved_model_problems(before, after, old_app, model, new_app)
        if issues:
            problems.append(f"{old_app}.{model} -> {new_app}: " + "; ".join(issues))
    # Grants: whoever had a moved permission has it under the new label, and the role sync alone grants it.
    moved_perms = {(app, codename): (MOVED[(app, name)], codename)
                   for _pk, app, name, codename in before["permissions"] if (app, name) in MOVED}
    lacking = defaultdict(list)
    for kind in ("group_grants", "user_grants"):
        for holder, grants in before[kind].items():
            has = {(app, codename) for _pk, app, codename in after[kind].get(holder, [])}
            targets = [moved_perms.get((app, codename)) for _pk, app, codename in grants]
            lacking[f"{kind[:-7]} {holder}"] += [".".join(t) for t in targets if t and t not in has]
    for group, synced in before["role_sync_grants"].items():  # what the old role table granted, on its own
        has = {(app, codename) for _pk, app, codename in after["role_sync_grants"].get(group, [])}
        targets = [moved_perms.get((app, codename)) for _pk, app, codename in synced]
        lacking[f"the role sync for group {group}"] += [".".join(t) for t in targets if t and t not in has]
    problems += [f"{holder} lacks {len(perms)} moved permission(s): {', '.join(perms[:6])}{' …' * (len(perms) > 6)}"
                 for holder, perms in lacking.items() if perms]
    # Admin history of a moved model names it under the new label.
    moved_cts = {pk: f"{MOVED[app, name]}.{name}" for pk, app, name in before["content_types"] if (app, name) in MOVED}
    for entry in after["admin_log"]:
        pk, app, name = entry["content_type"]
        if pk in moved_cts and f"{app}.{name}" != moved_cts[pk]:
            problems.append(f"admin log entry {entry['id']} names {app}.{name}, expected {moved_cts[pk]}")
    assert not problems, _problems(problems)
