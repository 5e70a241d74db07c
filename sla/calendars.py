"""Calendar writes: generated holidays, the JSON spec in and out, due instants re-projected after an edit.

An edit of a calendar or of one of its rows gets a new version and enqueues
:func:`calendar_recompute_due` after commit (``sla.models.calendar_changed``, run by every row
save; ``sla.tasks.recompute_calendar`` is the queued entry point). The admin calls the rest; a
broken configuration rule raises :class:`SLAError`, whose message is shown to the user as is.
The spec's format and the arithmetic are ``sla.businesstime``'s.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from sla import lifecycle, ports
from sla.businesstime import WEEKDAYS, WorkCalendar
from sla.clocks import State, projected_due, red_at, store_next_due
from sla.holiday_names import russian_name
from sla.models import Calendar, CalendarHoliday, CalendarOverride, CalendarWindow, SLAClock, calendar_changed
from tickets.models import Ticket


class SLAError(Exception):
    """An SLA configuration rule was broken; the message is shown to the user as is."""


def calendar_recompute_due(calendar_id: int, *, batch_size: int = 500) -> int:
    """Re-project ``due_at`` and ``red_at`` of every running clock on the calendar, in locked batches.

    Returns the number of rows changed.
    """
    calendar = Calendar.objects.filter(pk=calendar_id).first()
    if calendar is None:
        return 0
    work = calendar.work_calendar()
    planner = ports.planner()
    ids = list(
        SLAClock.objects.filter(calendar_id=calendar_id, state=State.RUNNING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    updated = 0
    for offset in range(0, len(ids), batch_size):
        with transaction.atomic():
            rows = list(
                SLAClock.objects.select_for_update()
                .filter(pk__in=ids[offset : offset + batch_size], calendar_id=calendar_id, state=State.RUNNING)
                .select_related("calendar")
                .only(
                    "pk", "ticket_id", "kind", "policy_id", "calendar", "state", "state_changed_at", "consumed",
                    "target", "due_at", "breached_at", "generation", "next_escalation_at", "counts_for_compliance",
                    "red_at",
                )
            )
            changed = {}
            for clock in rows:
                due = projected_due(clock, work)
                if due != clock.due_at:
                    clock.due_at = due
                    changed[clock.pk] = clock
                red = red_at(clock)  # the red zone's 80 % instant moves with the calendar too
                if red != clock.red_at:
                    clock.red_at = red
                    changed[clock.pk] = clock
            # Escalations: the ladder's instants move with the calendar too.
            changed.update({clock.pk: clock for clock in planner.plan(rows)})
            SLAClock.objects.bulk_update(list(changed.values()), ["due_at", "next_escalation_at", "red_at"],
                                         batch_size=batch_size)
            updated += len(changed)
            store_next_due({c.ticket_id for c in changed.values() if c.kind in SLAClock.SLA_KINDS})
            # The deadline in force of tickets nobody set a deadline on follows their resolution due.
            moved = [c.ticket_id for c in changed.values() if c.kind == SLAClock.Kind.RESOLUTION]
            for ticket in Ticket.objects.filter(pk__in=moved, deadline_set_by_person=False):
                lifecycle.follow_resolution(ticket, why="calendar")
    return updated


def _holiday_source(country: str, subdivision: str, years: list[int]):
    import holidays as holidays_lib  # heavy (every country's calendar): loaded only when holidays are imported

    try:
        source = holidays_lib.country_holidays(country, subdiv=subdivision or None, years=years)
        if "en_US" in (source.supported_languages or ()):
            source = holidays_lib.country_holidays(country, subdiv=subdivision or None, years=years, language="en_US")
    except NotImplementedError as exc:
        raise SLAError(
            _("The holidays package does not know “%(country)s” / “%(subdivision)s”: %(error)s")
            % {"country": country, "subdivision": subdivision or "-", "error": exc}
        ) from None
    return source


def _russian_names(country: str, subdivision: str, years: list[int], source) -> dict:
    """``{date: Russian name}``: the package's Russian where it has one, else ``sla.holiday_names``."""
    import holidays as holidays_lib

    if "ru" in (source.supported_languages or ()):
        russian = holidays_lib.country_holidays(country, subdiv=subdivision or None, years=years, language="ru")
        return {day: str(name) for day, name in russian.items()}
    return {day: russian_name(country, str(name)) for day, name in source.items()}


@transaction.atomic
def calendar_generate_holidays(calendar: Calendar, *, years: Iterable[int] | None = None) -> tuple[int, int]:
    """(Re)generate the calendar's holidays from the holidays package for its country and years.

    Generated rows of those years are replaced; manual holidays and manual overrides win. A weekend
    day the country declares a working day (a transferred working Saturday) becomes a generated
    override with Monday's windows. Returns (holidays, working-day overrides) created.
    """
    country = (calendar.holiday_country or "").strip().upper()
    if not country:
        raise SLAError(_("Set the holiday country of “%(name)s” first.") % {"name": calendar.label})
    years = sorted(set(years or calendar.holiday_years()))
    source = _holiday_source(country, calendar.holiday_subdivision.strip(), years)
    names_ru = _russian_names(country, calendar.holiday_subdivision.strip(), years, source)

    CalendarHoliday.objects.filter(calendar=calendar, generated=True, date__year__in=years).delete()
    manual = set(calendar.holidays.filter(date__year__in=years).values_list("date", flat=True))
    holiday_rows = [
        CalendarHoliday(
            calendar=calendar, date=day, name=str(name)[:200], name_ru=names_ru.get(day, "")[:200], generated=True
        )
        for day, name in sorted(source.items())
        if day.year in years and day not in manual
    ]
    CalendarHoliday.objects.bulk_create(holiday_rows)

    CalendarOverride.objects.filter(calendar=calendar, generated=True, date__year__in=years).delete()
    manual_overrides = set(calendar.overrides.filter(date__year__in=years).values_list("date", flat=True))
    monday = [[s, e] for s, e in calendar.windows.filter(weekday=0).order_by("start").values_list("start", "end")]
    override_rows = []
    if monday:
        override_rows = [
            CalendarOverride(
                calendar=calendar, date=day, windows=monday, note=_("Transferred working day"), generated=True
            )
            for day in sorted(getattr(source, "weekend_workdays", ()) or ())
            if day.year in years and day not in manual_overrides
        ]
        CalendarOverride.objects.bulk_create(override_rows)
    calendar_changed(calendar.pk)
    return len(holiday_rows), len(override_rows)


def _validated_spec(spec) -> dict:
    try:
        return WorkCalendar.from_spec(spec).spec()
    except ValueError as exc:
        raise SLAError(_("Invalid calendar: %(error)s") % {"error": exc}) from None


@transaction.atomic
def calendar_import_spec(calendar: Calendar, spec: dict) -> Calendar:
    """Replace the calendar's time zone, windows, holidays and overrides with ``spec``.

    The spec is validated first; an invalid one raises ``SLAError`` naming the field and changes
    nothing. Names and the generated flag of holidays/overrides on dates that stay are kept.
    """
    spec = _validated_spec(spec)
    holiday_meta = {d: (n, g) for d, n, g in calendar.holidays.values_list("date", "name", "generated")}
    override_meta = {d: (n, g) for d, n, g in calendar.overrides.values_list("date", "note", "generated")}
    calendar.windows.all().delete()
    calendar.holidays.all().delete()
    calendar.overrides.all().delete()
    CalendarWindow.objects.bulk_create(
        CalendarWindow(calendar=calendar, weekday=WEEKDAYS.index(day), start=start, end=end)
        for day, windows in spec["week"].items()
        for start, end in windows
    )
    holiday_rows = []
    for text in spec["holidays"]:
        day = datetime.fromisoformat(text).date()
        name, generated = holiday_meta.get(day, ("", False))
        holiday_rows.append(CalendarHoliday(calendar=calendar, date=day, name=name, generated=generated))
    CalendarHoliday.objects.bulk_create(holiday_rows)
    override_rows = []
    for text, windows in spec["overrides"].items():
        day = datetime.fromisoformat(text).date()
        note, generated = override_meta.get(day, ("", False))
        override_rows.append(
            CalendarOverride(calendar=calendar, date=day, windows=windows, note=note, generated=generated)
        )
    CalendarOverride.objects.bulk_create(override_rows)
    calendar.time_zone = spec["tz"]
    calendar.save()
    return calendar


@transaction.atomic
def calendar_create_from_spec(*, name: str, spec: dict) -> Calendar:
    """A new calendar called ``name`` holding ``spec``."""
    name = (name or "").strip()
    if not name:
        raise SLAError(_("A calendar needs a name."))
    if Calendar.objects.filter(name=name).exists():
        raise SLAError(_("A calendar called “%(name)s” already exists.") % {"name": name})
    spec = _validated_spec(spec)
    calendar = Calendar.objects.create(name=name, time_zone=spec["tz"])
    return calendar_import_spec(calendar, spec)


def calendar_export_spec(calendar: Calendar) -> dict:
    """The normalised spec (every weekday present, sorted dates)."""
    return calendar.work_calendar().spec()
