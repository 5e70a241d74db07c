"""What a database holds, as seen by one release: run inside ``manage.py shell`` of that release.

The same file runs against the old release (before the upgrade) and the checkout under test (after
it), so it only uses what both have: Django's introspection and app registry, ``django_q`` and
``tickets.access.sync_roles``. It reads its arguments from the JSON in ``UPGRADE_PROBE_ARGS``
and writes its findings as JSON to the file named there (stdout is left to the logs).

Findings
    ``tables``: row count of every table; ``fingerprints``: the first and last rows (by id) of a few
    tables, some columns each; ``models``: for every model of a project app (auto-created m2m tables
    included), its table, the ORM count, and whether its first row loads with every field and every
    related object; ``content_types``, ``permissions``, ``group_grants``, ``user_grants``;
    ``admin_log``: each log entry's content type and whether its object still loads;
    ``schedules`` and ``queued``: django-q2 schedules and broker tasks with whether their function
    imports; ``role_sync_grants`` (on request): what ``sync_roles`` alone grants each role group.
"""

from __future__ import annotations

import json
import os
import traceback
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils.module_loading import import_string

ARGS = json.loads(os.environ["UPGRADE_PROBE_ARGS"])


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def scalar(sql: str):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def rows(sql: str) -> list[list]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [list(row) for row in cursor.fetchall()]


def project_apps():
    """The apps whose code lives in this release's tree (not Django's, not installed packages)."""
    base = Path(settings.BASE_DIR).resolve()
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if path.is_relative_to(base) and "site-packages" not in path.parts:
            yield config


def load_first(model) -> int | None:
    """The first row through the ORM, every field read and every related object loaded; its pk."""
    obj = model._base_manager.order_by("pk").first()
    if obj is None:
        return None
    for field in model._meta.get_fields():
        if field.concrete and not field.many_to_many:
            getattr(obj, field.attname)
            if field.is_relation:
                getattr(obj, field.name)  # DoesNotExist if the reference dangles
        elif field.many_to_many and not field.auto_created:
            list(getattr(obj, field.name).all()[:3])
    return obj.pk


def model_findings() -> dict:
    found = {}
    for config in project_apps():
        for model in config.get_models(include_auto_created=True):
            meta = model._meta
            if meta.proxy or not meta.managed:
                continue
            entry = {"table": meta.db_table, "count": None, "first": None, "error": None}
            try:
                entry["count"] = model._base_manager.count()
                entry["first"] = load_first(model)
            except Exception:
                entry["error"] = traceback.format_exc(limit=4)
            found[meta.label_lower] = entry
    return found


def fingerprints(spec: dict[str, list[str]]) -> dict:
    tables = set(connection.introspection.table_names())
    found = {}
    for table, columns in spec.items():
        if table not in tables:
            continue
        select = ", ".join(quote(c) for c in columns)
        first = rows(f"SELECT {select} FROM {quote(table)} ORDER BY {quote('id')} LIMIT {int(ARGS['rows'])}")
        last = rows(f"SELECT {select} FROM {quote(table)} ORDER BY {quote('id')} DESC LIMIT 1")
        found[table] = first + last
    return found


def importable(path: str) -> str | None:
    """None when ``path`` imports, else the error."""
    try:
        import_string(path)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def grants(permissions) -> list[list]:
    """``[permission id, app label, codename]`` of each permission granted."""
    return sorted([p.pk, p.content_type.app_label, p.codename] for p in permissions.select_related("content_type"))


def admin_log() -> list[dict]:
    found = []
    for entry in LogEntry.objects.select_related("content_type").order_by("pk"):
        try:
            obj = entry.get_edited_object()
            error = None if obj is not None else "no object"
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        ct = entry.content_type
        found.append({"id": entry.pk, "content_type": [ct.pk, ct.app_label, ct.model], "object_id": entry.object_id,
                      "error": error})
    return found


def background_work() -> tuple[list, list]:
    from django_q.models import OrmQ, Schedule

    schedules = [[s.name, s.func, importable(s.func)] for s in Schedule.objects.order_by("name")]
    queued = []
    for row in OrmQ.objects.order_by("pk"):
        task = row.task  # unsigned with SECRET_KEY: both releases share the development key here
        func = task.get("func")
        queued.append([task.get("name"), func, importable(func) if isinstance(func, str) else None])
    return schedules, queued


def role_sync_grants() -> dict:
    """What the role sync grants on its own: every role group emptied, synced, read, rolled back."""
    from tickets.access import ROLES, sync_roles

    with transaction.atomic():
        for group in Group.objects.filter(name__in=ROLES):
            group.permissions.clear()
        sync_roles()
        found = {g.name: grants(g.permissions.all()) for g in Group.objects.filter(name__in=ROLES)}
        transaction.set_rollback(True)
    return found


with connection.cursor() as cursor:
    all_tables = sorted(connection.introspection.table_names(cursor))
schedules, queued = background_work()
findings = {
    "vendor": connection.vendor,
    "tables": {t: scalar(f"SELECT COUNT(*) FROM {quote(t)}") for t in all_tables},
    "fingerprints": fingerprints(ARGS["fingerprints"]),
    "models": model_findings(),
    "content_types": sorted([ct.pk, ct.app_label, ct.model] for ct in ContentType.objects.all()),
    "permissions": sorted(
        [p.pk, p.content_type.app_label, p.content_type.model, p.codename]
        for p in Permission.objects.select_related("content_type")
    ),
    "group_grants": {g.name: grants(g.permissions.all()) for g in Group.objects.order_by("name")},
    "user_grants": {
        u.username: grants(u.user_permissions.all()) for u in User.objects.filter(user_permissions__isnull=False)
        .distinct().order_by("username")
    },
    "admin_log": admin_log(),
    "schedules": schedules,
    "queued": queued,
    "role_sync_grants": role_sync_grants() if ARGS.get("role_sync") else None,
}
Path(ARGS["out"]).write_text(json.dumps(findings, default=str, indent=1, sort_keys=True))
