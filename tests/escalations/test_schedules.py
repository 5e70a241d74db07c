"""The per-minute delivery schedule: registered idempotently after migrate and by a command."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.db.models.signals import post_migrate
from django_q.models import Schedule
from django_q.tasks import async_task

from opsdesk.schedules import register_schedules

NAME = "notifications.deliver_pending"


def test_migrate_already_registered_the_delivery_schedule(db):
    schedule = Schedule.objects.get(name=NAME)
    assert (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        "escalations.tasks.deliver_pending",
        Schedule.MINUTES,
        1,
        -1,
    )


def test_registering_again_updates_in_place_and_heals_duplicates(db):
    Schedule.objects.filter(name=NAME).update(minutes=60, func="old.path")
    Schedule.objects.create(name=NAME, func="duplicate.by.hand", schedule_type=Schedule.MINUTES, minutes=5)
    register_schedules()
    register_schedules()
    [schedule] = Schedule.objects.filter(name=NAME)
    assert (schedule.func, schedule.minutes) == ("escalations.tasks.deliver_pending", 1)


def test_the_flush_signal_without_apps_recreates_the_schedule(db):
    from django.apps import apps

    Schedule.objects.all().delete()
    post_migrate.send(
        sender=apps.get_app_config("opsdesk"), app_config=apps.get_app_config("opsdesk"), using="default"
    )
    assert Schedule.objects.filter(name=NAME).count() == 1


def test_the_setup_schedules_command_reports_each_schedule(db):
    Schedule.objects.all().delete()
    out = StringIO()
    call_command("setup_schedules", stdout=out)
    from opsdesk.schedules import SCHEDULES

    assert out.getvalue() == "".join(f"schedule {spec['name']}: ok\n" for spec in SCHEDULES)
    assert Schedule.objects.filter(name=NAME).count() == 1


def test_the_task_entry_point_delivers(engineer):
    from notifications.models import Delivery, Urgency
    from notifications.service import notify

    notify(engineer, kind="t", urgency=Urgency.IMPORTANT, title="x", body="")
    result = async_task("escalations.tasks.deliver_pending")  # sync in tests
    assert result is not None
    assert Delivery.objects.get().status == "sent"
