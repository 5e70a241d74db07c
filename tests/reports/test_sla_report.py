"""The SLA report: compliance and times, breakdowns, breaches with their cause; the CSV equals the page."""

from __future__ import annotations

from django.urls import reverse

from tests.reports.conftest import PERIOD
from tests.reports.helpers import csv_sections, page_sections


def test_the_summary_and_the_breakdowns_are_the_hand_computed_figures(client, week, viewer):
    client.force_login(viewer)
    sections = page_sections(client.get(reverse("reports:sla"), PERIOD))
    assert sections["summary"] == [
        ["First response", "6", "1", "83.3 %", "100 %", "30 min", "1 h 38 min", "4 h 15 min"],
        ["Resolution", "3", "1", "66.7 %", "100 %", "3 h", "4 h 20 min", "8 h 36 min"],
    ]
    for name in ("policy", "type", "queue", "agent"):
        assert [row[1:] for row in sections[name]] == [["6", "83.3 %", "1 h 38 min", "3", "66.7 %", "4 h 20 min",
                                                        "1"]], name
    assert sections["tier"][0][0] == "No tier"


def test_breaches_name_their_cause(client, week, viewer):
    client.force_login(viewer)
    sections = page_sections(client.get(reverse("reports:sla"), PERIOD))
    t2 = f"#{week['tickets']['T2'].pk}"
    assert [(r[0], r[2], r[3], r[4]) for r in sections["breaches"]] == [
        (t2, "First response", "6 h", "Escalation"),  # it waited only after its first reply
        (t2, "Resolution", "2 h", "Waiting: Waiting for the customer"),
    ]


def test_the_csv_has_the_pages_numbers(client, week, viewer):
    client.force_login(viewer)
    page = page_sections(client.get(reverse("reports:sla"), PERIOD))
    response = client.get(reverse("reports:sla"), {**PERIOD, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="sla_2026-03-02_2026-03-06.csv"' in response["Content-Disposition"]
    blocks = csv_sections(response)
    summary = blocks["Compliance and times"]
    assert summary[0][:5] == ["Clock", "Stopped", "Breached", "Met", "Met, previous period"]
    assert [[row[0], *map(float, row[1:5])] for row in summary[1:]] == [
        [r[0], *(float(v.removesuffix(" %")) for v in r[1:5])] for r in page["summary"]]
    assert [row[5:] for row in summary[1:]] == [["0.5", "1.64", "4.25"], ["3.0", "4.33", "8.6"]]  # hours
    assert len(blocks["Breaches and their cause"]) - 1 == len(page["breaches"])


def test_the_xlsx_has_one_sheet_per_section(client, week, viewer):
    from io import BytesIO

    from openpyxl import load_workbook

    client.force_login(viewer)
    response = client.get(reverse("reports:sla"), {**PERIOD, "format": "xlsx"})
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames[0] == "Compliance and times"
    sheet = book["Compliance and times"]
    assert [c.value for c in sheet[3]][:4] == ["First response", 6, 1, 83.3]


def test_a_queue_filter_narrows_every_figure(client, week, viewer, other_queue):
    client.force_login(viewer)
    sections = page_sections(client.get(reverse("reports:sla"), {**PERIOD, "queue": other_queue.pk}))
    assert [r[1] for r in sections["summary"]] == ["0", "0"]
