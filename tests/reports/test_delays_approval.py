"""The time spent on approval is visible in the causes-of-delay report (issue 16, point 8)."""

from __future__ import annotations

from django.urls import reverse

from tests.reports.conftest import almaty
from tests.reports.helpers import page_sections
from tickets import approval


def test_the_delay_report_shows_the_business_time_on_approval(client, week, viewer, time_machine, engineer, manager):
    ticket = week["tickets"]["T7"]  # office calendar through its resolution clock
    time_machine.move_to(almaty(2026, 3, 9, 12), tick=False)  # Monday
    approval.ticket_send_to_approval(ticket, approver=manager, comment="Refund above my limit", actor=engineer)
    time_machine.move_to(almaty(2026, 3, 9, 15), tick=False)
    approval.ticket_approve(ticket, actor=manager)
    client.force_login(viewer)
    period = {"period": "custom", "date_from": "2026-03-09", "date_to": "2026-03-13"}
    sections = page_sections(client.get(reverse("reports:delays"), period))
    # 12–13 and 14–15 (lunch is off); the week's other waits, still open at the time, count beside it.
    assert ["On approval", "2 h", "1", "1"] in sections["reason"]
    assert (ticket.reference, "On approval", "2 h", "ended") in [(r[0], r[2], r[4], r[5]) for r in sections["stalls"]]
