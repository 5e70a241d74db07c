"""The weekly causes-of-delay digest: content per manager, in their language and zone, sent once per week."""

from __future__ import annotations

from datetime import date

from django.core import mail

from reports import digest
from reports.models import DigestSent
from reports.selectors import Period
from tests.factories import UserFactory
from tests.reports.conftest import ALMATY, almaty


def test_last_week_is_monday_to_sunday_before_today():
    assert digest.last_week(date(2026, 3, 9), ALMATY) == Period(date(2026, 3, 2), date(2026, 3, 8), ALMATY)
    assert digest.last_week(date(2026, 3, 15), ALMATY) == Period(date(2026, 3, 2), date(2026, 3, 8), ALMATY)


def test_each_manager_gets_the_weeks_compliance_and_top_causes_once(week, viewer, time_machine):
    time_machine.move_to(almaty(2026, 3, 9, 8), tick=False)  # Monday morning
    assert digest.send_weekly_digests() == 1
    assert digest.send_weekly_digests() == 0  # already sent this week
    [message] = mail.outbox
    assert message.to == [viewer.email]
    assert message.subject == "OpsDesk weekly: causes of delay, 2 Mar – 8 Mar 2026"
    assert "First response compliance: 83.3 % (week before: 100.0 %)" in message.body
    assert "Resolution compliance: 66.7 % (week before: 100.0 %)" in message.body
    # T9 still waits for the customer: it counts up to the end of the week (Friday 15–18).
    assert "1. Waiting for the customer: 11.0 h (week before: 0.0 h), 2 tickets" in message.body
    assert "2. No stock: 6.0 h (week before: 0.0 h), 1 ticket" in message.body
    html = message.alternatives[0][0]
    assert "/tickets/?waited=" in html and "Waiting for the customer" in html
    assert DigestSent.objects.filter(user=viewer, week_start=date(2026, 3, 2)).exists()


def test_a_russian_manager_reads_it_in_russian(week, viewer, time_machine):
    viewer.profile.language = "ru"
    viewer.profile.save()
    time_machine.move_to(almaty(2026, 3, 9, 8), tick=False)
    digest.send_weekly_digests()
    [message] = mail.outbox
    assert "Ожидание клиента" in message.body  # the reason's Russian name
    assert "Первый ответ" in message.body
    assert "Мар" in message.subject  # dates in Russian


def test_engineers_and_managers_without_email_get_nothing(week, viewer, engineer, time_machine):
    UserFactory(username="quiet", role="manager", email="")
    time_machine.move_to(almaty(2026, 3, 9, 8), tick=False)
    assert digest.send_weekly_digests() == 1
    assert [m.to for m in mail.outbox] == [[viewer.email]]


def test_the_schedule_is_registered_weekly(db):
    from django_q.models import Schedule

    from opsdesk.schedules import register_schedules

    register_schedules()
    schedule = Schedule.objects.get(name="reports.weekly_digest")
    assert (schedule.func, schedule.schedule_type, schedule.repeats) == (
        "reports.digest.weekly_digest_task", Schedule.WEEKLY, -1)

