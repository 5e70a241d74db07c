"""Fill ``SLAClock.red_at`` of the running and paused clocks (``sla.redzone``), in batches.

Stopped clocks keep it empty (the default). Only clocks that count for compliance and are attached
to a policy can be red; each gets the value ``sla.clocks.save_clock`` would store, through the same
pure function, and each batch is written with one ``bulk_update``.
"""

from django.db import migrations

from sla.businesstime import WEEKDAYS, WorkCalendar
from sla.redzone import red_zone_from

BATCH = 1000


def _work_calendar(calendar) -> WorkCalendar:
    """``Calendar.work_calendar`` for the historical model (which has no methods)."""
    week = {day: [] for day in WEEKDAYS}
    for weekday, start, end in calendar.windows.order_by("weekday", "start").values_list("weekday", "start", "end"):
        week[WEEKDAYS[weekday]].append([start, end])
    holidays = [d.isoformat() for d in calendar.holidays.order_by("date").values_list("date", flat=True)]
    overrides = {d.isoformat(): list(w) for d, w in calendar.overrides.order_by("date").values_list("date", "windows")}
    return WorkCalendar.from_spec(
        {"tz": calendar.time_zone, "week": week, "holidays": holidays, "overrides": overrides}
    )


def fill(apps, schema_editor):
    SLAClock = apps.get_model("sla", "SLAClock")
    Calendar = apps.get_model("sla", "Calendar")
    db = schema_editor.connection.alias
    clocks = (
        SLAClock.objects.using(db)
        .filter(state__in=["running", "paused"], counts_for_compliance=True, policy__isnull=False)
        .only(
            "pk",
            "state",
            "consumed",
            "target",
            "state_changed_at",
            "due_at",
            "breached_at",
            "counts_for_compliance",
            "policy_id",
            "calendar_id",
            "red_at",
        )
        .order_by("pk")
    )
    works: dict[int, WorkCalendar] = {}
    last = 0
    while True:
        batch = list(clocks.filter(pk__gt=last)[:BATCH])
        if not batch:
            return
        last = batch[-1].pk
        changed = []
        for clock in batch:
            work = None
            if clock.state == "running":
                if clock.calendar_id not in works:
                    works[clock.calendar_id] = _work_calendar(Calendar.objects.using(db).get(pk=clock.calendar_id))
                work = works[clock.calendar_id]
            red = red_zone_from(clock, work)
            if red != clock.red_at:
                clock.red_at = red
                changed.append(clock)
        SLAClock.objects.using(db).bulk_update(changed, ["red_at"])


class Migration(migrations.Migration):
    dependencies = [("sla", "0007_clock_red_at")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop, elidable=True)]
