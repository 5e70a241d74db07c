"""Staffing: arrivals per local hour, Erlang C agents needed, agents on shift from their calendars."""

from __future__ import annotations

from django.urls import reverse

from tests.reports.conftest import PERIOD
from tests.reports.helpers import page_sections


def test_arrivals_per_hour_agents_needed_and_on_shift(client, week, viewer, engineer, office):
    engineer.profile.work_calendar = office
    engineer.profile.save()
    client.force_login(viewer)
    sections = page_sections(client.get(reverse("reports:staffing"), {**PERIOD, "handling": 30, "goal": 80}))
    hours = {row[0]: row[1:] for row in sections["hours"]}
    # 7 tickets over 5 days: 00:xx T3; 09 T1, T6; 10 T2, T8; 14 T9; 16 T7.
    assert hours["10:00"][0] == "0.4" and hours["09:00"][0] == "0.4" and hours["00:00"][0] == "0.2"
    assert hours["11:00"] == ["0", "0", "1", "1"]  # nobody arrives, the engineer is on shift
    # Erlang C: 0.4 an hour × 30 min = 0.2 erlangs; one agent answers 80 % within the 2 h target.
    assert hours["10:00"][1] == "1"
    # The engineer's office calendar: on shift 09–13 and 14–18 on weekdays, averaged over the period's last
    # seven days (5 working of 7) — the period has five days, so 5 of 5.
    assert hours["10:00"][2] == "1" and hours["13:00"][2] == "0" and hours["00:00"][2:] == ["0", "-1"]


def test_the_first_response_target_defaults_to_the_observed_one(client, week, viewer):
    client.force_login(viewer)
    response = client.get(reverse("reports:staffing"), PERIOD)
    assert "within 2 h" in response.content.decode()
