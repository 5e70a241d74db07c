"""Issue 19: configurable SLA names (policies, calendars, holidays) in Russian, and admin titles in good Russian."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation

from sla.calendars import calendar_generate_holidays
from sla.demo import seed_sla
from sla.holiday_names import russian_name
from sla.models import Calendar, SLAPolicy
from tests.factories import CustomerFactory
from tickets import services


def speaks_russian(user):
    user.profile.language = "ru"
    user.profile.save()
    return user


@pytest.fixture
def russian_admin(client, admin_user):
    client.force_login(speaks_russian(admin_user))
    return client


def test_the_ticket_page_names_the_policy_and_calendar_in_russian(client, engineer, queue, office, make_policy):
    office.name, office.name_ru = "Almaty office", "Офис в Алматы"
    office.save()
    make_policy(name="Standard request", name_ru="Стандартный запрос")
    ticket = services.ticket_create(actor=None, title="Leak", customer=CustomerFactory(), queue=queue)
    client.force_login(speaks_russian(engineer))
    page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "Стандартный запрос" in page and "Офис в Алматы" in page
    assert "Standard request" not in page and "Almaty office" not in page
    with translation.override("en"):
        assert str(SLAPolicy.objects.get()) == "Standard request"


def test_an_empty_russian_name_means_the_same_name(office):
    with translation.override("ru"):
        assert office.label == office.name and str(office) == office.name


def test_generated_kz_holidays_carry_russian_names(office):
    office.holiday_country, office.holiday_years_from, office.holiday_years_to = "KZ", 2026, 2026
    office.save()
    calendar_generate_holidays(office)
    new_year = office.holidays.get(date=date(2026, 1, 1))
    assert new_year.name == "New Year's Day" and new_year.name_ru == "Новый год"
    assert office.holidays.get(date=date(2026, 3, 8)).name_ru == "Международный женский день"
    assert not office.holidays.filter(name_ru="").exists()  # every KZ holiday of the year has a Russian name
    with translation.override("ru"):
        assert new_year.label == "Новый год"
    with translation.override("en"):
        assert new_year.label == "New Year's Day"


def test_the_translation_table_handles_observed_days_and_substituted_days_off():
    assert russian_name("KZ", "Victory Day (observed)") == "День Победы (перенесённый)"
    assert russian_name("KZ", "Day off (substituted from 01/05/2025)") == "Выходной день (перенесён с 05.01.2025)"
    assert russian_name("KZ", "Something new") == "" and russian_name("DE", "Good Friday") == ""


def test_the_demo_ships_russian_names(db):
    seed_sla()
    office = Calendar.objects.get(name="Almaty office")
    assert office.name_ru == "Офис в Алматы"
    assert SLAPolicy.objects.get(name="Standard request").name_ru == "Стандартный запрос"
    assert office.holidays.exists() and not office.holidays.filter(name_ru="").exists()


def test_the_policy_admin_reads_as_russian(russian_admin, make_policy):
    for n in range(7):
        make_policy(name=f"Policy {n}", name_ru=f"Политика {n}")
    page = russian_admin.get(reverse("admin:sla_slapolicy_changelist")).content.decode()
    assert "Выберите политика SLA" not in page and "7 политики SLA" not in page
    assert "Выберите для изменения: политика SLA" in page
    assert "Политики SLA: 7" in page
    assert "Политика 3" in page
    change = russian_admin.get(reverse("admin:sla_slapolicy_change", args=[SLAPolicy.objects.first().pk]))
    assert 'name="name_ru"' in change.content.decode()
    add = russian_admin.get(reverse("admin:sla_slapolicy_add")).content.decode()
    assert "Добавить политика SLA" not in add and "Добавить: политика SLA" in add


def test_the_calendar_admin_shows_both_names(russian_admin, office):
    office.name_ru = "Офис"
    office.save()
    page = russian_admin.get(reverse("admin:sla_calendar_change", args=[office.pk])).content.decode()
    assert 'name="name_ru"' in page and 'name="holidays-__prefix__-name_ru"' in page
