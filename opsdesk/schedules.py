"""The django-q2 schedules of OpsDesk, registered idempotently in one place.

``register_schedules`` runs after every ``migrate`` (a ``post_migrate``
handler connected in ``OpsdeskConfig.ready``, the last app; it also fires after the
table flush of transactional tests) and from ``manage.py setup_schedules``
for deploy scripts. Each schedule is found by its name and updated in place,
so running it again never creates a duplicate.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

logger = logging.getLogger(__name__)

MINUTES, DAILY, WEEKLY = "I", "D", "W"  # django_q.models.Schedule.MINUTES / DAILY / WEEKLY


def every(name: str, func: str, minutes: int) -> dict:
    return {"name": name, "func": func, "schedule_type": MINUTES, "minutes": minutes, "repeats": -1}


def daily(name: str, func: str, *, at: time, weekday: int | None = None) -> dict:
    """Once a day (or a week, on ``weekday``, Monday = 0) at ``at`` in the site's time zone.

    The first run is pinned to that local time when the schedule is created; django-q2 then repeats it
    every day (week) from there. Later registrations leave ``next_run`` alone.
    """
    kind = DAILY if weekday is None else WEEKLY
    return {"name": name, "func": func, "schedule_type": kind, "repeats": -1, "_at": at, "_weekday": weekday}


SCHEDULES: list[dict] = [
    # The SLA sweep: escalation levels and breaches (escalations.sweep).
    every("sweep_sla", "escalations.tasks.sweep_sla", 1),
    # Outbox deliveries that were not sent right after commit, retries and quiet-hours releases.
    every("notifications.deliver_pending", "escalations.tasks.deliver_pending", 1),
    # The customer outbox: replies not sent right after commit, and retries (channels.outbox).
    every("channels.deliver_outbox", "channels.tasks.deliver_outbox", 1),
    # Automatic deferral requests for deadlines that passed (deferrals.services).
    every("deferrals.open_automatic", "deferrals.services.open_automatic_task", 1),
    # Escalation cases: opening rules, missed-update signals, management escalation (escalations.case_rules).
    every("cases.evaluate", "escalations.case_rules.evaluate_task", 1),
    # Routing: queue threshold alerts, and queued work offered to agents who came on shift.
    every("routing.queue_alerts", "routing.queue_monitor.evaluate_alerts_task", 1),
    every("routing.offer_queued_work", "routing.assignment.offer_queued_work_task", 5),
    # Report rollups: apply the clock and ticket changes of the last minute (reports.rollups).
    every("reports.rollups", "reports.rollups.refresh_task", 1),
    # The IMAP mailboxes: new customer emails become tickets and messages (channels.inbound.imap).
    every("channels.poll_mailboxes", "channels.inbound.imap.poll_mailboxes_task", 1),
    # The nightly VIP tier evaluation (routing.vip) and the weekly causes-of-delay digest (reports.digest).
    daily("vip.evaluate_nightly", "routing.vip.evaluate_nightly_task", at=time(2, 0)),
    daily("reports.weekly_digest", "reports.digest.weekly_digest_task", at=time(8, 0), weekday=0),
    # The stored open-ticket counts routing reads, checked against the tickets and corrected (tickets.workload).
    daily("tickets.recount_workload", "tickets.workload.recount_task", at=time(3, 45)),
    # Expired browser sessions (core.sessions): the table would otherwise keep every session ever opened.
    daily("sessions.clear_expired", "core.sessions.clear_expired_task", at=time(3, 30)),
]


def first_run(at: time, weekday: int | None, now: datetime | None = None) -> datetime:
    """The next instant at local ``at`` (on ``weekday`` if given) after ``now``, in the site's time zone."""
    now = timezone.localtime(now or timezone.now())
    day = now.date()
    if weekday is not None:
        day += timedelta(days=(weekday - day.weekday()) % 7)
    candidate = timezone.make_aware(datetime.combine(day, at))
    if candidate <= now:
        candidate = timezone.make_aware(datetime.combine(day + timedelta(days=1 if weekday is None else 7), at))
    return candidate


def register_schedules(*, using: str = DEFAULT_DB_ALIAS, apps=None) -> list[str]:
    """Create or update every schedule in ``SCHEDULES``; returns their names. Idempotent."""
    # The flush of transactional tests sends post_migrate without apps: then the global registry answers.
    try:
        schedule_model = (apps if apps is not None else global_apps).get_model("django_q", "Schedule")
    except LookupError:
        return []
    if schedule_model._meta.db_table not in connections[using].introspection.table_names():
        return []  # django_q is not migrated yet
    names = []
    for spec in SCHEDULES:
        spec = dict(spec)
        name = spec.pop("name")
        at, weekday = spec.pop("_at", None), spec.pop("_weekday", None)
        manager = schedule_model.objects.using(using)
        duplicates = list(manager.filter(name=name).order_by("pk").values_list("pk", flat=True)[1:])
        if duplicates:  # Schedule.name is not unique: heal duplicates made by hand
            manager.filter(pk__in=duplicates).delete()
        create_defaults = {**spec, "next_run": first_run(at, weekday)} if at is not None else spec
        manager.update_or_create(name=name, defaults=spec, create_defaults=create_defaults)
        names.append(name)
    return names


def post_migrate_handler(sender, *, using: str = DEFAULT_DB_ALIAS, apps=None, **kwargs) -> None:
    register_schedules(using=using, apps=apps)
