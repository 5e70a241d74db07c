"""SLA models: calendars as specs, the cached engine, constraints, append-only events, the demo seed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction

from sla.businesstime import WorkCalendar
from sla.calendars import (
    SLAError,
    calendar_create_from_spec,
    calendar_export_spec,
    calendar_generate_holidays,
    calendar_import_spec,
)
from sla.demo import AROUND_THE_CLOCK, OFFICE, seed_demo_sla, seed_sla
from sla.models import (
    Calendar,
    CalendarHoliday,
    CalendarOverride,
    CalendarWindow,
    SLAClock,
    SLAClockEvent,
    SLAPolicy,
)
from tests.factories import TicketFactory, TicketTypeFactory, VipTierFactory
from tickets.models import BlockingReason

from .conftest import almaty


def test_a_calendar_is_its_spec(office):
    CalendarHoliday.objects.create(calendar=office, date=date(2026, 3, 23), name="Nauryz")
    CalendarOverride.objects.create(calendar=office, date=date(2026, 3, 20), windows=[["09:00", "17:00"]])
    CalendarOverride.objects.create(calendar=office, date=date(2026, 3, 21), windows=[])
    spec = office.to_spec()
    assert spec["tz"] == "Asia/Almaty"
    assert spec["week"]["mon"] == [["09:00", "13:00"], ["14:00", "18:00"]] and spec["week"]["sat"] == []
    assert spec["holidays"] == ["2026-03-23"]
    assert spec["overrides"] == {"2026-03-20": [["09:00", "17:00"]], "2026-03-21": []}
    assert office.work_calendar() == WorkCalendar.from_spec(spec)


def test_the_engine_is_built_once_and_rebuilt_after_any_edit(office):
    first = Calendar.objects.get(pk=office.pk).work_calendar()
    assert Calendar.objects.get(pk=office.pk).work_calendar() is first
    versions = [Calendar.objects.get(pk=office.pk).version]
    edits = [
        lambda: CalendarHoliday.objects.create(calendar=office, date=date(2026, 2, 16)),
        lambda: CalendarOverride.objects.create(calendar=office, date=date(2026, 2, 21), windows=[["10:00", "12:00"]]),
        lambda: CalendarWindow.objects.filter(calendar=office, weekday=0).first().delete(),
        lambda: Calendar.objects.get(pk=office.pk).save(),
    ]
    for edit in edits:
        edit()
        fresh = Calendar.objects.get(pk=office.pk)
        assert fresh.version not in versions
        versions.append(fresh.version)
        assert fresh.work_calendar() is not first
        first = fresh.work_calendar()
    work = Calendar.objects.get(pk=office.pk).work_calendar()
    assert not work.is_working(almaty(2026, 2, 16, 10))  # the holiday
    assert work.is_working(almaty(2026, 2, 21, 10, 30))  # the working Saturday
    assert not work.is_working(almaty(2026, 2, 23, 10))  # Monday's morning window was deleted
    assert work.is_working(almaty(2026, 2, 23, 15))


def test_an_invalid_stored_calendar_raises_value_error_naming_the_field(office):
    CalendarWindow.objects.create(calendar=office, weekday=0, start="12:00", end="15:00")
    with pytest.raises(ValueError, match=r"week\.mon"):
        Calendar.objects.get(pk=office.pk).work_calendar()


def test_the_customer_reason_pauses_resolution_and_the_others_do_not(db):
    pausing = set(BlockingReason.objects.filter(pauses_resolution=True).values_list("code", flat=True))
    assert pausing == {"customer"}


def test_policy_precedence_is_unique(make_policy):
    make_policy(precedence=10)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_policy(precedence=10)


def _clock(ticket, calendar, kind, state=SLAClock.State.STOPPED):
    return SLAClock.objects.create(
        ticket=ticket, kind=kind, calendar=calendar, target=timedelta(hours=1), state=state,
        state_changed_at=almaty(2026, 2, 16, 9), started_at=almaty(2026, 2, 16, 9),
        due_at=almaty(2026, 2, 16, 10) if state == SLAClock.State.RUNNING else None,
    )


def test_a_ticket_has_one_first_response_and_one_resolution_clock(office):
    ticket = TicketFactory()
    _clock(ticket, office, SLAClock.Kind.FIRST_RESPONSE)
    _clock(ticket, office, SLAClock.Kind.RESOLUTION)
    for kind in (SLAClock.Kind.FIRST_RESPONSE, SLAClock.Kind.RESOLUTION):
        with pytest.raises(IntegrityError), transaction.atomic():
            _clock(ticket, office, kind)


def test_a_ticket_has_at_most_one_open_next_reply_clock_and_keeps_the_stopped_ones(office):
    ticket = TicketFactory()
    _clock(ticket, office, SLAClock.Kind.NEXT_REPLY)
    _clock(ticket, office, SLAClock.Kind.NEXT_REPLY)
    _clock(ticket, office, SLAClock.Kind.NEXT_REPLY, SLAClock.State.RUNNING)
    with pytest.raises(IntegrityError), transaction.atomic():
        _clock(ticket, office, SLAClock.Kind.NEXT_REPLY, SLAClock.State.PAUSED)


def test_a_running_clock_has_a_due_instant_and_no_other_does(office):
    ticket = TicketFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        SLAClock.objects.create(
            ticket=ticket, kind=SLAClock.Kind.RESOLUTION, calendar=office, target=timedelta(hours=1),
            state=SLAClock.State.RUNNING, state_changed_at=almaty(2026, 2, 16, 9), started_at=almaty(2026, 2, 16, 9),
        )


def test_clock_events_cannot_be_edited_or_deleted(office):
    clock = _clock(TicketFactory(), office, SLAClock.Kind.RESOLUTION)
    event = SLAClockEvent.objects.create(
        clock=clock, kind="start", at=clock.started_at, state="running", consumed=timedelta(0), target=clock.target
    )
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        SLAClockEvent.objects.filter(pk=event.pk).update(kind="stop")
    with pytest.raises(TypeError):
        SLAClockEvent.objects.filter(pk=event.pk).delete()


def test_generating_holidays_keeps_manual_ones_and_is_repeatable(office):
    office.holiday_country = "KZ"
    office.save()
    CalendarHoliday.objects.create(calendar=office, date=date(2026, 3, 23), name="Our Nauryz")
    created, _workdays = calendar_generate_holidays(office, years=[2026])
    assert created > 10
    assert office.holidays.get(date=date(2026, 3, 23)).name == "Our Nauryz"
    assert office.holidays.filter(date=date(2026, 12, 16), generated=True).exists()  # Independence Day
    again, _workdays = calendar_generate_holidays(office, years=[2026])
    assert again == created and office.holidays.count() == created + 1


def test_a_transferred_working_weekend_day_becomes_an_override_with_mondays_windows(office):
    office.holiday_country = "KZ"
    office.save()
    _holidays, workdays = calendar_generate_holidays(office, years=[2025])
    assert workdays >= 1
    override = office.overrides.get(date=date(2025, 1, 5))
    assert override.generated and override.windows == [["09:00", "13:00"], ["14:00", "18:00"]]
    assert Calendar.objects.get(pk=office.pk).work_calendar().is_working(almaty(2025, 1, 5, 10))


def test_generating_holidays_without_a_country_is_refused(office):
    with pytest.raises(SLAError, match="country"):
        calendar_generate_holidays(office)


def test_a_spec_import_replaces_everything_and_an_invalid_one_changes_nothing(office):
    CalendarHoliday.objects.create(calendar=office, date=date(2026, 3, 23), name="Nauryz", generated=True)
    before = office.to_spec()
    with pytest.raises(SLAError, match="tz"):
        calendar_import_spec(office, {**before, "tz": "Mars/Olympus"})
    with pytest.raises(SLAError, match=r"week\.tue\[1\]"):
        calendar_import_spec(office, {**before, "week": {"tue": [["09:00", "13:00"], ["12:00", "14:00"]]}})
    assert Calendar.objects.get(pk=office.pk).to_spec() == before
    spec = {"tz": "Europe/Berlin", "week": {"sat": [["10:00", "14:00"]]}, "holidays": ["2026-03-23", "2026-05-01"],
            "overrides": {"2026-05-02": []}}
    calendar_import_spec(office, spec)
    office = Calendar.objects.get(pk=office.pk)
    assert office.time_zone == "Europe/Berlin"
    assert office.work_calendar().spec() == WorkCalendar.from_spec(spec).spec()
    assert office.holidays.get(date=date(2026, 3, 23)).name == "Nauryz"  # names of dates that stay are kept


def test_a_calendar_is_created_from_a_spec_and_exports_the_same_spec(db):
    spec = WorkCalendar.always("Asia/Almaty").spec()
    calendar = calendar_create_from_spec(name="Round the clock", spec=spec)
    assert calendar_export_spec(calendar) == spec
    with pytest.raises(SLAError, match="already exists"):
        calendar_create_from_spec(name="Round the clock", spec=spec)


# --- demo seed ----------------------------------------------------------------------------------------


def test_the_demo_seed_creates_calendars_and_policies_once(db):
    gold, diamond = VipTierFactory(name="Gold", rank=1), VipTierFactory(name="Diamond", rank=3)
    TicketTypeFactory(slug="standard-request", name="Standard request")
    first = seed_sla()
    assert seed_sla() == first
    office = Calendar.objects.get(name=OFFICE)
    assert office.time_zone == "Asia/Almaty" and office.holiday_country == "KZ"
    assert office.to_spec()["week"]["fri"] == [["09:00", "13:00"], ["14:00", "18:00"]]
    assert office.holidays.filter(date__month=12, date__day=16).count() == 3  # Independence Day, three years
    assert Calendar.objects.get(name=AROUND_THE_CLOCK).to_spec()["week"]["sun"] == [["00:00", "24:00"]]
    policies = {p.name: p for p in SLAPolicy.objects.select_related("ticket_type", "vip_tier")}
    assert {"Simple question", "Standard request", "Complex case", "Critical incident", "VIP Gold",
            "VIP Diamond", "Everything else"} == set(policies)
    assert policies["Critical incident"].calendar.name == AROUND_THE_CLOCK
    assert policies["Critical incident"].first_response_target == timedelta(minutes=15)
    assert policies["Simple question"].ticket_type.name_ru == "Простой вопрос"  # created with the Russian name
    assert policies["VIP Diamond"].precedence < policies["VIP Gold"].precedence < policies["Complex case"].precedence
    assert policies["VIP Gold"].vip_tier == gold and policies["VIP Diamond"].vip_tier == diamond
    assert policies["VIP Gold"].resolution_target == timedelta(hours=4)


def test_the_demo_hook_seeds_the_policies_and_gives_existing_tickets_clocks(db):
    critical = TicketTypeFactory(slug="critical-incident", name="Critical incident")
    ticket = TicketFactory(ticket_type=critical, created_at=almaty(2026, 2, 14, 3, 0))  # Saturday night
    untyped = TicketFactory(ticket_type=None)
    assert seed_demo_sla() == 2  # the untyped one too: the catch-all policy (issue 16)
    fr = SLAClock.objects.get(ticket=ticket, kind=SLAClock.Kind.FIRST_RESPONSE)
    assert fr.calendar.name == AROUND_THE_CLOCK and fr.started_at == almaty(2026, 2, 14, 3, 0)
    assert fr.breached_at == almaty(2026, 2, 14, 3, 15)  # 24/7: long past due
    assert SLAClock.objects.get(ticket=untyped, kind=SLAClock.Kind.RESOLUTION).policy.name == "Everything else"
