"""Issue 16 point 9: the demo's people work real calendars in roles that match them, and its tickets waited."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from escalations.models import ContactRole, QueueEscalationContact
from notifications.preferences import settings_for
from reports.selectors import Period
from reports.tabular.staffing import agents_on_shift
from tests.reports.helpers import page_sections
from tickets.demo.people import DEMO_USERS
from tickets.models import Profile, Status, Ticket, WaitSegment


@pytest.fixture
def seeded(db):
    call_command("seed_demo", tickets=80, seed=42, force=True, stdout=StringIO())


def test_every_demo_person_but_the_admin_works_a_calendar(seeded):
    profiles = {p.user.username: p for p in Profile.objects.select_related("user", "work_calendar")}
    assert profiles["admin"].work_calendar is None
    working = {name: p.work_calendar.name for name, p in profiles.items() if name != "admin"}
    assert set(working) == {spec.username for spec in DEMO_USERS} - {"admin"}
    assert working["aigerim"] == "Almaty office" and working["timur"] == "Support late shift"
    assert settings_for(profiles["aigerim"].user) is not None  # quiet hours read the calendar


def test_the_escalation_contacts_are_the_people_the_descriptions_name(seeded):
    contacts = {c.role: c.user.username for c in QueueEscalationContact.objects.filter(queue=None)}
    assert contacts == {ContactRole.SHIFT_LEAD: "lead", ContactRole.HEAD: "manager", ContactRole.DIRECTOR: "director"}
    labels = {spec.username: spec.label for spec in DEMO_USERS}
    assert labels["lead"].startswith("shift lead") and labels["manager"].startswith("head of department")
    assert labels["director"].startswith("service director")
    assert Profile.objects.get(user__username="lead").manager.username == "manager"
    assert Profile.objects.get(user__username="manager").manager.username == "director"


def test_the_demo_records_waits_so_the_delay_report_has_data(seeded, client):
    assert WaitSegment.objects.filter(ended_at__isnull=False, business_seconds__gt=0).exists()
    for ticket in Ticket.objects.filter(status=Status.WAITING):
        open_wait = WaitSegment.objects.get(ticket=ticket, ended_at__isnull=True)
        assert open_wait.reason_id == ticket.blocking_reason_id
    before = WaitSegment.objects.count()
    call_command("seed_demo", tickets=80, seed=42, force=True, stdout=StringIO())  # again: no second set of waits
    assert WaitSegment.objects.count() == before
    client.force_login(Profile.objects.get(user__username="manager").user)
    today = timezone.localdate()
    response = client.get(
        reverse("reports:delays"),
        {"period": "custom", "date_to": today.isoformat(), "date_from": (today - timedelta(days=90)).isoformat()},
    )
    assert response.status_code == 200
    assert page_sections(response)["reason"]  # waiting time per blocking reason


def test_staffing_sees_agents_on_shift_in_working_hours_only(seeded):
    week = Period(date(2026, 3, 2), date(2026, 3, 6), ZoneInfo("Asia/Almaty"))  # Monday to Friday
    hours = agents_on_shift(SimpleNamespace(queue=None), week)
    assert hours[3] == 0  # nobody at 03:30
    assert hours[10] == 3 and hours[15] == 5 and hours[20] == 2  # office; office + late shift; late shift
