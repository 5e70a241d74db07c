"""SLA calibration: actual percentiles per type against the target, candidate compliance, a suggested target."""

from __future__ import annotations

from django.urls import reverse

from tests.reports.conftest import PERIOD
from tests.reports.helpers import page_sections


def test_percentiles_current_and_suggested_targets_per_type(client, week, viewer):
    client.force_login(viewer)
    response = client.get(reverse("reports:calibration"), {**PERIOD, "goal": 90})
    sections = page_sections(response)
    assert sections["summary"] == [
        # FR 0, 20, 30, 30, 30, 480 min: 90 % needs the sixth value (8 h); RES 0, 3 h, 10 h: needs 10 h.
        ["Standard request", "First response", "6", "30 min", "30 min", "4 h 15 min", "2 h", "83.3 %", "8 h",
         "100 %"],
        ["Standard request", "Resolution", "3", "3 h", "7 h 12 min", "8 h 36 min", "8 h", "66.7 %", "10 h", "100 %"],
    ]
    candidates = {(r[1], r[2]): (r[3], r[4]) for r in sections["candidates"]}
    assert candidates[("First response", "30 min")] == ("83.3 %", "—")
    assert candidates[("First response", "15 min")] == ("16.7 %", "—")
    assert candidates[("Resolution", "8 h")] == ("66.7 %", "current")
    assert candidates[("Resolution", "10 h")] == ("100 %", "suggested")
    assert "First observe, then agree, then control" in response.content.decode()


def test_a_lower_goal_suggests_a_shorter_target(client, week, viewer):
    client.force_login(viewer)
    sections = page_sections(client.get(reverse("reports:calibration"), {**PERIOD, "goal": 80}))
    assert sections["summary"][0][8:] == ["30 min", "83.3 %"]
