"""Issue 19: escalation level names in the reader's language (notices, the ticket page, history), the default
ladders' Russian names, case status, dashboard units and the 403 page in Russian."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from escalations.defaults import LEVEL_NAMES_RU, install_default_ladders
from escalations.models import CaseStatus, EscalationLevel
from notifications.models import Notification
from reports.dashboard.breakdowns import _group_name

from .ladders import ladder, office_calendar, sla_policy
from .test_sweep import MONDAY_10, at, open_ticket, run

WARNING = {"name": "Warning: 50 % used", "name_ru": "Предупреждение: израсходовано 50 %",
           "clock": "first_response", "trigger_percent": 50, "to_performer": True}


@pytest.fixture
def standard(db):
    return sla_policy(office_calendar(), name="Standard request")


def speaks(user, language):
    user.profile.language = language
    user.profile.save()
    return user


def test_the_notice_title_names_the_level_in_the_recipients_language(standard, queue, engineer, dispatcher):
    ladder("Ladder", [WARNING], sla_policies=[standard])
    russian = open_ticket(MONDAY_10, queue, speaks(engineer, "ru"))
    english = open_ticket(MONDAY_10, queue, speaks(dispatcher, "en"))
    assert run(at(1))["fired"] == 2
    title = Notification.objects.get(recipient=engineer, kind__startswith="escalation").title
    assert title.startswith(f"Предупреждение: израсходовано 50 %: #{russian.pk}")
    assert Notification.objects.get(recipient=dispatcher, kind__startswith="escalation").title.startswith(
        f"Warning: 50 % used: #{english.pk}")


def test_the_ticket_page_shows_the_level_and_its_history_in_russian(client, standard, queue, engineer):
    ladder("Ladder", [WARNING], sla_policies=[standard])
    ticket = open_ticket(MONDAY_10, queue, speaks(engineer, "ru"))
    run(at(1))
    client.force_login(engineer)
    page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "Warning: 50" not in page
    assert "«Предупреждение: израсходовано 50 %»" in page  # the history sentence
    assert page.count("Предупреждение: израсходовано 50 %") >= 2  # the escalation panel and the history sentence


def test_the_default_ladders_ship_russian_names(db):
    install_default_ladders()
    # Shipped levels are unnamed: their names are derived from the trigger in the reader's language.
    assert not EscalationLevel.objects.exclude(name="").exists()
    with translation.override("ru"):
        assert EscalationLevel.objects.get(policy__name="Default ladder", order=10).label.startswith("Предупреждение")
    # A level an earlier release named keeps a shipped Russian name (the data migration fills it).
    assert set(LEVEL_NAMES_RU) >= {"Warning: 50 % used", "Deadline passed"}


def test_the_sla_policy_breakdown_names_the_policy_in_russian():
    row = {"policy_id": 1, "policy__name": "Standard request", "policy__name_ru": "Стандартный запрос"}
    with translation.override("ru"):
        assert _group_name("policy", row) == "Стандартный запрос"
    with translation.override("en"):
        assert _group_name("policy", row) == "Standard request"


def test_an_open_case_is_open_not_a_command():
    with translation.override("ru"):
        assert str(CaseStatus.OPEN.label) == "Открыт"
        assert str(CaseStatus.CLOSED.label) == "Закрыт"


def test_dashboard_units_are_translated():
    change = {"direction": "up", "delta": 2, "previous": 80}
    with translation.override("ru"):
        points = render_to_string("reports/_change.html", {"change": change, "unit": " pp"})
        minutes = render_to_string("reports/_change.html", {"change": change, "unit": " min"})
    assert "п. п." in points and "pp" not in points
    assert "мин" in minutes and "min" not in minutes


def test_the_403_page_is_russian_in_russian(client, engineer):
    client.force_login(speaks(engineer, "ru"))
    response = client.get(reverse("deferrals:team"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "Доступ запрещён" in page
    assert "Access denied" not in page and "Forbidden" not in page
