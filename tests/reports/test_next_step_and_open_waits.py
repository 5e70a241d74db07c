"""Issue 16 point 9: an overdue next step is marked and counted; open waits count in the delay figures."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from reports.dashboard.now import now_figures
from reports.dashboard.waiting import waiting_by_reason
from reports.selectors import Period
from tests.factories import TicketFactory
from tests.reports.conftest import ALMATY, almaty
from tickets import services
from tickets.models import Status, Ticket

HOUR = timedelta(hours=1)


@pytest.fixture
def planned(queue, engineer):
    """Three open tickets: next step overdue, next step due later, no next step; and a closed overdue one."""
    now = timezone.now()
    late = TicketFactory(
        queue=queue,
        performer=engineer,
        status=Status.IN_PROGRESS,
        title="Late step",
        next_step="Call the supplier",
        next_step_due=now - HOUR,
    )
    later = TicketFactory(
        queue=queue,
        performer=engineer,
        status=Status.IN_PROGRESS,
        title="Later step",
        next_step="Send the invoice",
        next_step_due=now + HOUR,
    )
    none = TicketFactory(queue=queue, performer=engineer, status=Status.IN_PROGRESS, title="No step")
    TicketFactory(
        queue=queue,
        performer=engineer,
        status=Status.DONE,
        done_at=now,
        title="Closed",
        next_step="Old",
        next_step_due=now - 5 * HOUR,
    )
    return {"late": late, "later": later, "none": none}


def _ids(response) -> set[int]:
    return {int(pk) for pk in re.findall(r'href="/tickets/(\d+)/"', response.content.decode())}


def test_an_overdue_next_step_is_counted_on_the_dashboard_with_a_link(planned, manager):
    figures = {f.key: f for f in now_figures(manager, timezone.now()).main}
    assert figures["next_step_overdue"].value == 1
    assert figures["next_step_overdue"].url == "/tickets/?next_step_overdue=on"
    assert figures["no_next_step"].value == 1 and figures["no_next_step"].url == "/tickets/?no_next_step=on"


def test_both_next_step_links_list_exactly_their_tickets(client, planned, manager):
    client.force_login(manager)
    overdue = client.get(reverse("tickets:list"), {"next_step_overdue": "on"})
    assert overdue.status_code == 200 and _ids(overdue) == {planned["late"].pk}
    without = client.get(reverse("tickets:list"), {"no_next_step": "on"})
    assert _ids(without) == {planned["none"].pk}


def test_lists_mark_an_overdue_next_step(client, planned, engineer):
    client.force_login(engineer)
    html = client.get(reverse("tickets:list")).content.decode()
    assert html.count("data-next-step-overdue") == 1
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*Late step(?:(?!</tr>).)*</tr>", html, re.S).group(0)
    assert "data-next-step-overdue" in row and 'title="Next step overdue"' in row
    assert Ticket.objects.next_step_overdue().get() == planned["late"]


def test_a_wait_still_open_counts_in_the_period_it_overlaps(time_machine, queue, engineer, no_stock):
    time_machine.move_to(almaty(2026, 3, 6, 10), tick=False)  # Friday; no SLA: calendar time
    ticket = TicketFactory(queue=queue, performer=engineer, status=Status.IN_PROGRESS)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=no_stock)
    time_machine.move_to(almaty(2026, 3, 10, 12), tick=False)  # Tuesday, still waiting
    week_before = Period(almaty(2026, 3, 2).date(), almaty(2026, 3, 8).date(), ALMATY)
    this_week = Period(almaty(2026, 3, 9).date(), almaty(2026, 3, 15).date(), ALMATY)
    [before] = waiting_by_reason(manager_of(engineer), week_before)
    [now] = waiting_by_reason(manager_of(engineer), this_week)
    assert (before["hours"], before["tickets"]) == (62.0, 1)  # Friday 10:00 to Monday 00:00
    assert (now["hours"], now["tickets"]) == (36.0, 1)  # Monday 00:00 to now: not counted twice


def manager_of(user):
    return user.profile.manager
