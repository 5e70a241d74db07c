"""The workload report: per person, queue and day; capacity use when memberships have a capacity."""

from __future__ import annotations

from django.urls import reverse

from tests.reports.conftest import PERIOD
from tests.reports.helpers import csv_sections, page_sections
from tickets.models import QueueMembership


def test_per_person_queue_and_day(client, week, viewer):
    client.force_login(viewer)
    sections = page_sections(client.get(reverse("reports:workload"), PERIOD))
    assert sections["people"] == [["Engineer", "3", "6", "3", "—", "—"]]
    assert sections["queues"] == [["Service", "4", "7", "3"]]
    assert sections["days"] == [
        ["2026-03-02", "3", "3", "2"],  # T3 created 00:30 local counts on Monday
        ["2026-03-03", "0", "0", "0"],
        ["2026-03-04", "0", "0", "1"],
        ["2026-03-05", "0", "0", "0"],
        ["2026-03-06", "4", "3", "0"],
    ]
    assert sections["person_days"] == [["2026-03-02", "Engineer", "3", "2"], ["2026-03-04", "Engineer", "0", "1"],
                                       ["2026-03-06", "Engineer", "3", "0"]]


def test_capacity_use_is_open_work_over_capacity(client, week, viewer, engineer):
    QueueMembership.objects.filter(user=engineer).update(capacity=4)
    client.force_login(viewer)
    sections = page_sections(client.get(reverse("reports:workload"), PERIOD))
    assert sections["people"] == [["Engineer", "3", "6", "3", "4", "75 %"]]


def test_the_export_equals_the_page(client, week, viewer):
    client.force_login(viewer)
    page = page_sections(client.get(reverse("reports:workload"), PERIOD))
    blocks = csv_sections(client.get(reverse("reports:workload"), {**PERIOD, "format": "csv"}))
    assert blocks["Per day"][1:] == page["days"]
    assert blocks["Per queue"][1:] == page["queues"]
