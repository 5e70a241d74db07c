"""Quiet hours: off shift, non-critical notices wait for the next working window; critical ones go at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from notifications import delivery, preferences
from notifications.models import Delivery, Urgency
from notifications.service import notify
from sla.businesstime import WorkCalendar

ALMATY = ZoneInfo("Asia/Almaty")
T0 = datetime(2026, 3, 16, 3, 0, tzinfo=UTC)  # Monday 08:00 in Almaty


class FakeShift:
    """Off shift until ``opens_at``, on shift from then on."""

    def __init__(self, opens_at: datetime) -> None:
        self.opens_at = opens_at

    def is_working(self, at: datetime) -> bool:
        return at >= self.opens_at

    def next_opening(self, at: datetime) -> datetime:
        return max(at, self.opens_at)


@pytest.fixture
def calendar_of(monkeypatch):
    def install(calendar):
        monkeypatch.setattr(preferences, "working_calendar_for", lambda user: calendar)

    return install


def send(user, urgency):
    return notify(user, kind="t", urgency=urgency, title=f"{urgency} notice", body="")


def test_off_shift_an_important_notice_waits_for_the_next_working_window(engineer, calendar_of):
    opens_at = T0 + timedelta(hours=3)
    calendar_of(FakeShift(opens_at))
    with time_machine.travel(T0, tick=False) as clock:
        notification = send(engineer, Urgency.IMPORTANT)
        row = Delivery.objects.get()
        assert row.next_attempt_at == opens_at
        assert notification.in_app and notification.read_at is None, "the inbox is never held back"
        assert delivery.deliver_pending()["sent"] == 0 and mail.outbox == []
        clock.move_to(opens_at)
        assert delivery.deliver_pending()["sent"] == 1
    assert len(mail.outbox) == 1


def test_off_shift_a_critical_notice_goes_through_at_once(engineer, calendar_of, set_prefs):
    set_prefs(engineer, critical=["in_app", "email"])
    calendar_of(FakeShift(T0 + timedelta(hours=3)))
    with time_machine.travel(T0, tick=False):
        send(engineer, Urgency.CRITICAL)
        assert Delivery.objects.get().next_attempt_at == T0
        assert delivery.deliver_pending()["sent"] == 1


def test_on_shift_or_with_quiet_hours_off_nothing_waits(engineer, manager, calendar_of, set_prefs):
    set_prefs(manager, quiet_hours=False)
    with time_machine.travel(T0, tick=False):
        calendar_of(FakeShift(T0))  # on shift now
        send(engineer, Urgency.IMPORTANT)
        calendar_of(FakeShift(T0 + timedelta(hours=3)))  # off shift, but the manager turned quiet hours off
        send(manager, Urgency.IMPORTANT)
    assert list(Delivery.objects.values_list("next_attempt_at", flat=True)) == [T0, T0]


def test_without_a_work_calendar_a_person_counts_as_always_on_shift(engineer):
    assert not hasattr(engineer.profile, "work_calendar") or engineer.profile.work_calendar is None
    assert preferences.working_calendar_for(engineer) is None


def test_the_work_calendar_comes_from_the_profile_when_it_has_one(engineer):
    from tests.sla.conftest import make_calendar

    office = make_calendar("Office", {day: [("09:00", "18:00")] for day in range(5)})
    engineer.profile.work_calendar = office
    engineer.profile.save()
    engineer.refresh_from_db()
    assert preferences.working_calendar_for(engineer) == office.work_calendar()
    engineer.profile.work_calendar = None
    assert preferences.working_calendar_for(engineer) is None


def test_a_broken_work_calendar_counts_as_always_on_shift(engineer):
    from sla.models import Calendar

    engineer.profile.work_calendar = Calendar.objects.create(name="Broken", time_zone="Mars/Base")
    assert preferences.working_calendar_for(engineer) is None


OFFICE = WorkCalendar.from_spec(
    {
        "tz": "Asia/Almaty",
        "week": {day: [["09:00", "13:00"], ["14:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": ["2026-03-23"],
    }
)


def test_a_friday_evening_notice_waits_for_monday_morning_on_a_real_calendar(engineer, calendar_of):
    calendar_of(OFFICE)
    friday_evening = datetime(2026, 3, 13, 20, 0, tzinfo=ALMATY)
    with time_machine.travel(friday_evening, tick=False) as clock:
        send(engineer, Urgency.IMPORTANT)
        assert Delivery.objects.get().next_attempt_at == datetime(2026, 3, 16, 9, 0, tzinfo=ALMATY)
        clock.move_to(datetime(2026, 3, 15, 12, 0, tzinfo=ALMATY))  # Sunday noon: still quiet
        assert delivery.deliver_pending()["sent"] == 0
        clock.move_to(datetime(2026, 3, 16, 9, 0, tzinfo=ALMATY))
        assert delivery.deliver_pending()["sent"] == 1


def test_the_lunch_break_and_holidays_are_off_shift_too(engineer, calendar_of):
    calendar_of(OFFICE)
    with time_machine.travel(datetime(2026, 3, 17, 13, 20, tzinfo=ALMATY), tick=False):
        send(engineer, Urgency.IMPORTANT)
    with time_machine.travel(datetime(2026, 3, 22, 19, 0, tzinfo=ALMATY), tick=False):  # Sunday before a holiday
        send(engineer, Urgency.IMPORTANT)
    assert sorted(Delivery.objects.values_list("next_attempt_at", flat=True)) == [
        datetime(2026, 3, 17, 14, 0, tzinfo=ALMATY),
        datetime(2026, 3, 24, 9, 0, tzinfo=ALMATY),
    ]


def test_a_weekend_critical_notice_is_sent_at_once_on_a_real_calendar(engineer, calendar_of, set_prefs):
    set_prefs(engineer, critical=["in_app", "email"])
    calendar_of(OFFICE)
    saturday = datetime(2026, 3, 14, 3, 0, tzinfo=ALMATY)
    with time_machine.travel(saturday, tick=False):
        send(engineer, Urgency.CRITICAL)
        assert delivery.deliver_pending()["sent"] == 1


def test_routine_notices_over_the_weekend_arrive_as_one_digest_on_monday(engineer, calendar_of, set_prefs):
    set_prefs(engineer, routine=["in_app", "email"])
    calendar_of(OFFICE)
    with time_machine.travel(datetime(2026, 3, 13, 20, 0, tzinfo=ALMATY), tick=False) as clock:
        send(engineer, Urgency.ROUTINE)
        clock.move_to(datetime(2026, 3, 14, 11, 0, tzinfo=ALMATY))
        send(engineer, Urgency.ROUTINE)
        assert delivery.deliver_pending()["sent"] == 0
        clock.move_to(datetime(2026, 3, 16, 9, 0, tzinfo=ALMATY))
        assert delivery.deliver_pending()["sent"] == 2
    [email] = mail.outbox
    assert "2" in email.subject
    assert Delivery.objects.values("digest").distinct().count() == 1


def test_a_calendar_without_working_time_does_not_swallow_notices(engineer, calendar_of):
    calendar_of(WorkCalendar.from_spec({"tz": "UTC", "week": {}}))
    with time_machine.travel(T0, tick=False):
        send(engineer, Urgency.IMPORTANT)
    assert Delivery.objects.get().next_attempt_at == T0


def test_an_sla_calendar_on_the_profile_defers_notices_until_it_opens(engineer):
    from sla.models import Calendar, CalendarWindow

    calendar = Calendar.objects.create(name="Service desk", time_zone="Asia/Almaty")
    CalendarWindow.objects.bulk_create(
        CalendarWindow(calendar=calendar, weekday=day, start="09:00", end="18:00") for day in range(5)
    )
    calendar.save()
    # Profile.work_calendar (a foreign key to sla.Calendar) is added later; its value is all this needs.
    engineer.profile.work_calendar = calendar
    with time_machine.travel(datetime(2026, 3, 14, 12, 0, tzinfo=ALMATY), tick=False):  # Saturday
        send(engineer, Urgency.IMPORTANT)
    assert Delivery.objects.get().next_attempt_at == datetime(2026, 3, 16, 9, 0, tzinfo=ALMATY)
