"""The django-q2 schedules of OpsDesk, registered idempotently in one place.

``register_schedules`` runs after every ``migrate`` (a ``post_migrate``
handler connected in ``EscalationsConfig.ready``; it also fires after the
table flush of transactional tests) and from ``manage.py setup_schedules``
for deploy scripts. Each schedule is found by its name and updated in place,
so running it again never creates a duplicate.
"""

from __future__ import annotations

import logging

from django.db import DEFAULT_DB_ALIAS, connections

logger = logging.getLogger(__name__)

MINUTES = "I"  # django_q.models.Schedule.MINUTES

SCHEDULES: list[dict] = [
    {"name": "deferrals.open_automatic", "func": "tickets.deferrals.open_automatic_task", "schedule_type": MINUTES, "minutes": 1, "repeats": -1},  # noqa: E501
    # Routing (tickets.assignment, tickets.queue_monitor, tickets.vip): offer queued work to agents who came on
    # shift, queue threshold alerts, and the nightly VIP tier evaluation.
    {"name": "routing.offer_queued_work", "func": "tickets.assignment.offer_queued_work_task", "schedule_type": MINUTES, "minutes": 5, "repeats": -1},  # noqa: E501
    {"name": "routing.queue_alerts", "func": "tickets.queue_monitor.evaluate_alerts_task", "schedule_type": MINUTES, "minutes": 1, "repeats": -1},  # noqa: E501
    {"name": "vip.evaluate_nightly", "func": "tickets.vip.evaluate_nightly_task", "schedule_type": "D", "repeats": -1},
    # Reports: the weekly "causes of delay" digest to managers (reports.digest; idempotent per manager and week).
    {"name": "reports.weekly_digest", "func": "reports.digest.weekly_digest_task", "schedule_type": "W", "repeats": -1},
    # Escalation cases (escalations.case_rules): opening rules, missed-update signals, management escalation.
    {"name": "cases.evaluate", "func": "escalations.case_rules.evaluate_task", "schedule_type": MINUTES, "minutes": 1, "repeats": -1},  # noqa: E501
    {
        "name": "notifications.deliver_pending",
        "func": "escalations.tasks.deliver_pending",
        "schedule_type": MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    {
        "name": "sweep_sla",
        "func": "escalations.tasks.sweep_sla",
        "schedule_type": MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
]


def register_schedules(*, using: str = DEFAULT_DB_ALIAS, apps=None) -> list[str]:
    """Create or update every schedule in ``SCHEDULES``; returns their names. Idempotent."""
    if apps is not None:
        try:
            schedule_model = apps.get_model("django_q", "Schedule")
        except LookupError:
            return []
    else:
        # The flush of transactional tests sends post_migrate without apps: use the global registry.
        from django_q.models import Schedule as schedule_model
    if schedule_model._meta.db_table not in connections[using].introspection.table_names():
        return []  # django_q is not migrated yet
    names = []
    for spec in SCHEDULES:
        spec = dict(spec)
        name = spec.pop("name")
        manager = schedule_model.objects.using(using)
        duplicates = list(manager.filter(name=name).order_by("pk").values_list("pk", flat=True)[1:])
        if duplicates:  # Schedule.name is not unique: heal duplicates made by hand
            manager.filter(pk__in=duplicates).delete()
        manager.update_or_create(name=name, defaults=spec)
        names.append(name)
    return names


def post_migrate_handler(sender, *, using: str = DEFAULT_DB_ALIAS, apps=None, **kwargs) -> None:
    register_schedules(using=using, apps=apps)
