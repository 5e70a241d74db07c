"""SLA admin: calendar pages (preview, due helper, import/export, holidays), policies, read-only clocks."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sla.models import Calendar, CalendarHoliday, SLAClock, SLAPolicy
from tests.factories import CustomerFactory
from tickets import services

from .conftest import almaty


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    client.cookies["django_language"] = "en"  # the profile's default is Russian
    return client


def change_url(calendar):
    return reverse("admin:sla_calendar_change", args=[calendar.pk])


def calendar_post(name="Office", tz="Asia/Almaty", windows=(), overrides=(), **extra):
    data = {
        "name": name,
        "time_zone": tz,
        "holiday_country": extra.pop("holiday_country", ""),
        "holiday_subdivision": "",
        "holiday_years_from": "",
        "holiday_years_to": "",
        "windows-TOTAL_FORMS": str(len(windows)),
        "windows-INITIAL_FORMS": "0",
        "overrides-TOTAL_FORMS": str(len(overrides)),
        "overrides-INITIAL_FORMS": "0",
        "holidays-TOTAL_FORMS": "0",
        "holidays-INITIAL_FORMS": "0",
        **extra,
    }
    for i, (weekday, start, end) in enumerate(windows):
        data.update({f"windows-{i}-weekday": str(weekday), f"windows-{i}-start": start, f"windows-{i}-end": end})
    for i, (day, text) in enumerate(overrides):
        data.update({f"overrides-{i}-date": day, f"overrides-{i}-windows": text, f"overrides-{i}-note": ""})
    return data


def test_anonymous_and_non_staff_users_are_sent_to_the_admin_login(client, engineer, office):
    for url in (change_url(office), reverse("admin:sla_calendar_export", args=[office.pk]),
                reverse("admin:sla_calendar_import")):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(engineer)
    assert "/admin/login/" in client.get(change_url(office))["Location"]


def test_the_calendar_list_summarises_the_week(staff, office):
    response = staff.get(reverse("admin:sla_calendar_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Mon 09:00–13:00, 14:00–18:00" in html and "Import JSON" in html


def test_the_change_page_previews_the_next_fourteen_days_in_the_calendars_zone(staff, office, time_machine):
    CalendarHoliday.objects.create(calendar=office, date=date(2026, 2, 17), name="Test holiday")
    time_machine.move_to(almaty(2026, 2, 13, 23, 30), tick=False)  # still Friday in Almaty, Friday 18:30 UTC
    response = staff.get(change_url(office))
    assert response.status_code == 200
    preview = response.context["preview"]
    assert len(preview) == 14 and preview[0].day == date(2026, 2, 13)
    assert preview[0].windows == [("09:00", "13:00"), ("14:00", "18:00")] and preview[0].total == timedelta(hours=8)
    assert preview[1].windows == [] and preview[2].windows == []  # the weekend
    assert preview[4].windows == [] and preview[4].note == "Test holiday"
    html = response.content.decode()
    assert "Working windows of the next 14 days (Asia/Almaty)" in html
    assert "09:00–13:00" in html and "day off" in html and "Test holiday" in html


def test_the_due_helper_shows_when_a_clock_started_now_would_be_due(staff, office, time_machine):
    time_machine.move_to(almaty(2026, 2, 13, 17, 30), tick=False)
    response = staff.get(change_url(office), {"due_hours": "2", "due_minutes": "0"})
    assert response.context["due_result"]["due"] == almaty(2026, 2, 16, 10, 30)
    assert "due <strong>Mon 16.02.2026 10:30</strong> (Asia/Almaty)" in response.content.decode()
    response = staff.get(change_url(office), {"due_hours": "-1", "due_minutes": "0"})
    assert "due_result" not in response.context and response.context["due_form"].errors


def test_a_calendar_with_a_lunch_break_is_added_through_inline_windows(staff):
    windows = [(day, start, end) for day in range(5) for start, end in (("9:00", "13:00"), ("14:00", "18:00"))]
    response = staff.post(reverse("admin:sla_calendar_add"), calendar_post(windows=windows))
    assert response.status_code == 302, response.context["errors"] if response.context else response
    calendar = Calendar.objects.get(name="Office")
    assert calendar.to_spec()["week"]["wed"] == [["09:00", "13:00"], ["14:00", "18:00"]]


def test_overlapping_windows_are_refused_with_the_engines_message(staff):
    windows = [(0, "09:00", "13:00"), (0, "12:00", "18:00")]
    response = staff.post(reverse("admin:sla_calendar_add"), calendar_post(windows=windows))
    assert response.status_code == 200
    assert "Invalid working windows: week.mon[1]: 12:00-18:00 overlaps week.mon[0] 09:00-13:00" in (
        response.content.decode()
    )
    assert not Calendar.objects.exists()


@pytest.mark.parametrize(
    ("post", "message"),
    [
        ({"tz": "Mars/Olympus"}, "tz: unknown time zone"),
        ({"windows": [(0, "18:00", "09:00")]}, "The window must end after it starts."),
        ({"windows": [(0, "25:00", "26:00")]}, "Enter a time as HH:MM"),
        ({"overrides": [("2026-03-20", "17:00-09:00")]}, "overrides.2026-03-20[0]: end 09:00 is not after start 17:00"),
        ({"overrides": [("2026-03-20", "nine to five")]}, "Write windows as HH:MM-HH:MM"),
        ({"holiday_country": "XX"}, "does not know the country code"),
    ],
)
def test_invalid_calendar_input_is_a_form_error(staff, post, message):
    response = staff.post(reverse("admin:sla_calendar_add"), calendar_post(**post))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Calendar.objects.exists()


def test_an_override_can_make_a_short_day_or_a_day_off(staff, office):
    data = calendar_post(
        name=office.name,
        windows=[],
        overrides=[("2026-03-20", "09:00-13:00, 14:00-17:00"), ("2026-03-21", "")],
    )
    data["windows-TOTAL_FORMS"] = "0"
    response = staff.post(change_url(office), data)
    assert response.status_code == 302
    spec = Calendar.objects.get(pk=office.pk).to_spec()
    assert spec["overrides"] == {"2026-03-20": [["09:00", "13:00"], ["14:00", "17:00"]], "2026-03-21": []}


def test_the_spec_is_exported_as_a_json_download(staff, office):
    response = staff.get(reverse("admin:sla_calendar_export", args=[office.pk]))
    assert response["Content-Type"].startswith("application/json")
    assert 'filename="calendar-almaty-office.json"' in response["Content-Disposition"]
    assert json.loads(response.content) == office.work_calendar().spec()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"tz": "Asia/Almaty", "week": ', "Not valid JSON (line 1, column"),
        ('{"tz": "Mars/Olympus"}', "Invalid calendar: tz: unknown time zone"),
        ('{"tz": "Asia/Almaty", "week": {"mon": [["09:00", "13:00"], ["12:00", "14:00"]]}}', "week.mon[1]"),
        ('{"tz": "Asia/Almaty", "holidays": ["2026-02-30"]}', "holidays[0]"),
        ('{"tz": "Asia/Almaty", "weeks": {}}', "unknown key"),
        ("", "Paste a calendar spec or choose a file."),
    ],
)
def test_an_invalid_spec_import_names_the_problem_and_changes_nothing(staff, office, text, message):
    before = office.to_spec()
    response = staff.post(reverse("admin:sla_calendar_import_into", args=[office.pk]), {"spec_text": text})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Calendar.objects.get(pk=office.pk).to_spec() == before


def test_a_pasted_spec_replaces_the_calendar(staff, office):
    spec = {"tz": "Asia/Almaty", "week": {"sat": [["10:00", "14:00"]]}, "holidays": ["2026-03-23"]}
    response = staff.post(reverse("admin:sla_calendar_import_into", args=[office.pk]), {"spec_text": json.dumps(spec)})
    assert response.status_code == 302 and response["Location"] == change_url(office)
    spec_now = Calendar.objects.get(pk=office.pk).to_spec()
    assert spec_now["week"]["mon"] == [] and spec_now["week"]["sat"] == [["10:00", "14:00"]]
    assert spec_now["holidays"] == ["2026-03-23"]


def test_an_uploaded_spec_creates_a_new_calendar(staff, office):
    spec = office.work_calendar().spec()
    upload = SimpleUploadedFile("office.json", json.dumps(spec).encode(), content_type="application/json")
    url = reverse("admin:sla_calendar_import")
    response = staff.post(url, {"name": "Copy of the office", "spec_file": upload})
    assert response.status_code == 302
    assert Calendar.objects.get(name="Copy of the office").work_calendar().spec() == spec
    response = staff.post(url, {"name": "", "spec_text": json.dumps(spec)})
    assert "A calendar needs a name." in response.content.decode()
    response = staff.post(url, {"name": "Copy of the office", "spec_text": json.dumps(spec)})
    assert "already exists" in response.content.decode()


def test_the_generate_holidays_button_fills_kz_holidays(staff, office):
    office.holiday_country, office.holiday_years_from, office.holiday_years_to = "KZ", 2026, 2027
    office.save()
    url = reverse("admin:sla_calendar_generate_holidays", args=[office.pk])
    assert staff.get(url).status_code == 405
    response = staff.post(url, follow=True)
    assert office.holidays.filter(date=date(2026, 3, 23), generated=True).exists()
    assert office.holidays.filter(date=date(2027, 12, 16)).exists()
    assert "holidays and" in response.content.decode()


def test_the_generate_holidays_action_reports_calendars_without_a_country(staff, office):
    response = staff.post(
        reverse("admin:sla_calendar_changelist"),
        {"action": "generate_holidays", "_selected_action": [office.pk]},
        follow=True,
    )
    assert "Set the holiday country" in response.content.decode()
    assert not office.holidays.exists()


def test_the_policy_list_edits_precedence_in_place(staff, make_policy):
    first = make_policy(name="First", precedence=10)
    second = make_policy(name="Second", precedence=20)
    url = reverse("admin:sla_slapolicy_changelist")
    html = staff.get(url).content.decode()
    assert 'name="form-0-precedence"' in html and "any ticket" in html and "2 h / 24 h / —" in html
    response = staff.post(url, {
        "form-TOTAL_FORMS": "2", "form-INITIAL_FORMS": "2", "form-0-id": first.pk, "form-0-precedence": "30",
        "form-1-id": second.pk, "form-1-precedence": "20", "_save": "Save",
    })
    assert response.status_code == 302
    assert list(SLAPolicy.objects.values_list("name", flat=True)) == ["Second", "First"]


def test_clocks_and_their_events_are_read_only_in_admin(staff, make_policy, dispatcher, queue):
    make_policy()
    ticket = services.ticket_create(actor=dispatcher, title="x", customer=CustomerFactory(), queue=queue)
    clock = SLAClock.objects.filter(ticket=ticket).first()
    assert staff.get(reverse("admin:sla_slaclock_add")).status_code == 403
    response = staff.get(reverse("admin:sla_slaclock_change", args=[clock.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="_save"' not in html
    assert "Started" in html  # the clock's events, inline
    assert staff.post(reverse("admin:sla_slaclock_delete", args=[clock.pk])).status_code == 403
    assert staff.get(reverse("admin:sla_slaclockevent_changelist")).status_code == 200
