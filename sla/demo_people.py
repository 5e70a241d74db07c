"""Demo seeders that need the SLA's calendars: the people's working calendars and the waits of the tickets.

Listed in ``opsdesk.demo.DEMO_SEEDERS`` right after ``sla.demo.seed_demo_sla`` (which creates the
calendars and the clocks). Both are idempotent: a person who has a calendar keeps it (an admin's
choice is not overwritten), a ticket that has waiting segments is not given more.

- Working calendars: the desk works the office hours (Mon–Fri 09:00–13:00, 14:00–18:00); the tech
  support engineers work a late shift (Mon–Fri 13:00–22:00, Sat 10:00–16:00), so quiet hours,
  "on shift" in the queue monitor and the staffing report show real values. The administrator
  has none (always reachable).
- Waits: the demo's history says when tickets waited and for what; ``sla.waits.backfill_waits``
  turns it into the waiting segments the delay report, the dashboard and the digest read.
"""

from __future__ import annotations

from sla.demo import OFFICE
from sla.models import Calendar, CalendarWindow
from sla.waits import backfill_waits
from tickets.models import Profile, Ticket

LATE_SHIFT = "Support late shift"
LATE_SHIFT_RU = "Поддержка, вечерняя смена"
LATE_WINDOWS = {**dict.fromkeys(range(5), (("13:00", "22:00"),)), 5: (("10:00", "16:00"),)}
# Who works which calendar (demo usernames, tickets/demo/people.py); anyone else on the list: the office.
LATE_SHIFT_PEOPLE = ("bekzat", "timur")
NO_CALENDAR = ("admin",)


def _late_shift() -> Calendar:
    calendar, created = Calendar.objects.get_or_create(
        name=LATE_SHIFT, defaults={"time_zone": "Asia/Almaty", "holiday_country": "KZ", "name_ru": LATE_SHIFT_RU}
    )
    if created:
        CalendarWindow.objects.bulk_create(
            CalendarWindow(calendar=calendar, weekday=day, start=start, end=end)
            for day, pairs in LATE_WINDOWS.items()
            for start, end in pairs
        )
        calendar.save()  # new version: the rows above were bulk-created
    return calendar


def seed_demo_work_calendars(ctx) -> int:
    """Give the demo people without a working calendar the office's (or the late shift); returns how many."""
    office = Calendar.objects.filter(name=OFFICE).first()
    if office is None:  # the SLA seeder did not run
        return 0
    late = _late_shift()
    changed = 0
    for username, user in ctx.users.items():
        if username in NO_CALENDAR:
            continue
        calendar = late if username in LATE_SHIFT_PEOPLE else office
        changed += Profile.objects.filter(user=user, work_calendar__isnull=True).update(work_calendar=calendar)
    return changed


def seed_demo_waits(ctx) -> int:
    """Waiting segments for the demo tickets, from their history; returns how many were written."""
    return backfill_waits(Ticket.objects.all(), now=ctx.now)
