"""The deadline in force in a real browser: a wait for the customer, then a re-classification (issue 16)."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from sla.models import SLAPolicy
from tests.factories import CustomerFactory, MembershipFactory, QueueFactory, TicketTypeFactory, UserFactory
from tests.sla.conftest import make_calendar
from tickets import services
from tickets.models import BlockingReason, QueueMembership, Status, Ticket
from tickets.templatetags.opsdesk import format_dt

ALMATY = ZoneInfo("Asia/Almaty")
H = timedelta(hours=1)


def shown(value) -> str:
    from django.utils import timezone

    with timezone.override(ALMATY):
        return format_dt(value)


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_the_ticket_page_deadline_follows_a_wait_and_a_reclassification(
    page, live_server, login, screenshot, width, height
):
    from django.utils import timezone

    page.set_viewport_size({"width": width, "height": height})
    around_the_clock = make_calendar("24/7", {d: [("00:00", "24:00")] for d in range(7)})
    standard = TicketTypeFactory(slug="standard-request", name="Standard request")
    critical = TicketTypeFactory(slug="critical-incident", name="Critical incident")
    SLAPolicy.objects.create(
        name="Standard request",
        precedence=50,
        ticket_type=standard,
        calendar=around_the_clock,
        first_response_target=2 * H,
        resolution_target=24 * H,
    )
    SLAPolicy.objects.create(
        name="Critical incident",
        precedence=10,
        ticket_type=critical,
        calendar=around_the_clock,
        first_response_target=H / 4,
        resolution_target=4 * H,
    )
    queue = QueueFactory(name="Service", slug="service")
    erlan = UserFactory(username="erlan", role="engineer", profile__display_name="Erlan Engineer")
    dana = UserFactory(username="dana", role="dispatcher", profile__display_name="Dana Dispatcher")
    MembershipFactory(queue=queue, user=erlan)
    MembershipFactory(queue=queue, user=dana, role=QueueMembership.Role.DISPATCHER)

    # Yesterday: the ticket came in, and an hour later it waited for the customer.
    created = timezone.now().replace(second=0, microsecond=0) - 26 * H
    with time_machine.travel(created, tick=False):
        ticket = services.ticket_create(
            actor=dana,
            title="Cash register offline",
            customer=CustomerFactory(),
            queue=queue,
            ticket_type=standard,
            description="No sales since 9:00.",
            performer=erlan,
        )
    assert ticket.deadline == created + 24 * H
    with time_machine.travel(created + H, tick=False):
        services.ticket_change_status(
            ticket, status=Status.WAITING, actor=erlan, reason=BlockingReason.objects.get(code="customer")
        )

    deadline = page.locator("[data-deadline-in-force]")
    login("erlan")
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    expect(deadline).to_contain_text("On hold while the SLA is paused")
    expect(deadline).to_contain_text("follows the SLA")
    screenshot("1-on-hold")

    # The customer answered: the engineer takes it up again; the deadline is 23 hours of work away.
    page.select_option("#status_status", Status.IN_PROGRESS.value)
    page.locator("[data-status-form] button[type=submit]").click()
    expect(page.locator(".message-success")).to_be_visible()
    resumed = Ticket.objects.get(pk=ticket.pk).deadline
    assert resumed > created + 24 * H + 24 * H
    expect(deadline.locator("time")).to_have_text(shown(resumed))
    expect(deadline.locator("time")).not_to_have_class(re.compile("overdue"))
    screenshot("2-resumed")
    page.click(".logout-form button")
    page.wait_for_url(re.compile(r"/login/"))

    # The dispatcher re-classifies it as a critical incident: four hours from creation, the wait left out.
    login("dana")
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    page.select_option("#triage_ticket_type", str(critical.pk))
    page.get_by_role("button", name="Save triage").click()
    expect(page.locator(".message-success")).to_contain_text("Triage saved")
    critical_due = Ticket.objects.get(pk=ticket.pk).deadline
    assert critical_due < resumed
    expect(deadline.locator("time")).to_have_text(shown(critical_due))
    expect(page.locator(".history, #history, body")).to_contain_text("follows the SLA resolution due")
    screenshot("3-critical")
