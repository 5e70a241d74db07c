"""The report period selector shows the period in force (issue 19, careful user point 5): it said "Today"
over 30 days of figures, and pressing "Show" changed them."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from tests.portal.html_checks import form_values

REPORTS = ["sla", "delays", "workload", "repetitive", "calibration", "staffing"]


@pytest.fixture
def today(time_machine):
    time_machine.move_to(datetime(2026, 3, 20, 12, tzinfo=ZoneInfo("Asia/Almaty")), tick=False)
    return date(2026, 3, 20)


@pytest.fixture
def lead(client, manager):
    manager.profile.time_zone = "Asia/Almaty"
    manager.profile.save()
    client.force_login(manager)
    return client


def show(client, name, params):
    response = client.get(reverse(f"reports:{name}"), params)
    assert response.status_code == 200
    return response.context["report"].period, form_values(response.content.decode(), "report-filters")


@pytest.mark.parametrize("name", REPORTS)
def test_the_default_period_is_what_the_selector_shows_and_show_keeps_it(lead, today, name):
    period, shown = show(lead, name, {})
    assert (period.first, period.last) == (date(2026, 2, 19), today)  # the default: 30 days ending today
    assert shown["period"] == "30d"
    assert (shown["date_from"], shown["date_to"]) == ("2026-02-19", "2026-03-20")
    again, shown_again = show(lead, name, shown)  # the user presses "Show" without touching anything
    assert (again.first, again.last) == (period.first, period.last)
    assert shown_again == shown


def test_a_preset_shows_itself_and_its_dates(lead, today):
    period, shown = show(lead, "sla", {"period": "7d"})
    assert (period.first, period.last) == (date(2026, 3, 14), today)
    assert shown["period"] == "7d"
    assert (shown["date_from"], shown["date_to"]) == ("2026-03-14", "2026-03-20")


def test_dates_without_a_period_show_custom(lead, today):
    period, shown = show(lead, "sla", {"date_from": "2026-03-01", "date_to": "2026-03-05"})
    assert (period.first, period.last) == (date(2026, 3, 1), date(2026, 3, 5))
    assert shown["period"] == "custom"
    again, _ = show(lead, "sla", shown)
    assert (again.first, again.last) == (period.first, period.last)


def test_dates_typed_over_a_preset_win(lead, today):
    """The form shows the preset's dates; a user who changes them without switching to "Custom" means them."""
    period, shown = show(lead, "sla", {"period": "30d", "date_from": "2026-03-02", "date_to": "2026-03-06"})
    assert (period.first, period.last) == (date(2026, 3, 2), date(2026, 3, 6))
    assert shown["period"] == "custom"


def test_an_invalid_request_shows_the_default_period_it_falls_back_to(lead, today):
    period, shown = show(lead, "sla", {"period": "forever"})
    assert (period.first, period.last) == (date(2026, 2, 19), today)
    assert shown["period"] == "30d"
