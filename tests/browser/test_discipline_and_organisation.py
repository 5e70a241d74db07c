"""Issue 16: a manager reads declined requests and the decision time in the discipline report, and the ticket
page shows the customer organisation's other open tickets (desktop and phone)."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from deferrals import services as deferrals
from deferrals.models import DeferralCause
from tests.factories import CustomerFactory, MembershipFactory, QueueFactory, TicketFactory, UserFactory
from tickets.models import Organisation, Status

PHONE = {"width": 390, "height": 844}


def test_the_manager_reads_declines_and_decision_time_and_the_organisations_open_tickets(
    page, live_server, login, screenshot
):
    from django.utils import timezone

    queue = QueueFactory(name="Service", slug="service")
    maria = UserFactory(username="maria", role="manager", profile__display_name="Maria Manager")
    erlan = UserFactory(
        username="erlan", role="engineer", profile__display_name="Erlan Engineer", profile__manager=maria
    )
    MembershipFactory(queue=queue, user=erlan)
    queue.manager = maria
    queue.save()
    now = timezone.now().replace(second=0, microsecond=0)
    acme = Organisation.objects.create(name="Acme LLP", name_ru="ТОО «Акме»")
    anna = CustomerFactory(name="Anna Petrova", organisation=acme)
    boris = CustomerFactory(name="Boris Kim", organisation=acme)
    ticket = TicketFactory(
        queue=queue,
        title="Router swap at the warehouse",
        customer=anna,
        performer=erlan,
        owner=erlan,
        status=Status.IN_PROGRESS,
        deadline=now + timedelta(hours=2),
    )
    sibling = TicketFactory(
        queue=queue,
        title="Invoice copy for March",
        customer=boris,
        status=Status.NEW,
        deadline=now + timedelta(hours=5),
    )
    request = deferrals.deferral_request(
        ticket,
        actor=erlan,
        cause=DeferralCause.objects.get(code="supplier"),
        explanation="The router ships on Thursday.",
        proposed_deadline=now + timedelta(days=2),
    )
    deferrals.deferral_decline(request, actor=maria, comment="Use the spare router from stock.")

    login("maria")
    page.goto(f"{live_server.url}/reports/discipline/")
    row = page.locator("table.discipline-table tbody tr", has_text="Erlan Engineer")
    expect(row.locator('[data-metric="declined"]')).to_have_text("1")
    expect(row.locator('[data-metric="lead_time"]')).to_be_visible()
    expect(page.locator('[data-rule="declined"]')).to_contain_text("neither objective nor subjective")
    expect(page.locator('[data-rule="automatic"]')).to_contain_text("withdrawn")
    screenshot("discipline-desktop")
    row.locator('[data-metric="declined"]').click()
    expect(page.locator("[data-lead-time]")).to_have_count(1)
    expect(page.locator("table.deferral-table")).to_contain_text("Use the spare router")

    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    panel = page.locator("[data-organisation-tickets]")
    expect(panel).to_contain_text("Other tickets of Acme LLP")
    expect(panel.locator(f'[data-organisation-ticket="{sibling.pk}"]')).to_contain_text("Invoice copy for March")
    expect(page.locator("[data-organisation]")).to_contain_text("Acme LLP")
    screenshot("ticket-desktop")

    page.set_viewport_size(PHONE)
    page.reload()
    expect(panel).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1
    panel.scroll_into_view_if_needed()
    screenshot("ticket-phone")
    page.goto(f"{live_server.url}/reports/discipline/")
    expect(page.locator('[data-rule="lead-time"]')).to_be_visible()
    screenshot("discipline-phone")
    panel = None
    page.goto(f"{live_server.url}/tickets/{sibling.pk}/")
    expect(page.locator("[data-organisation-tickets]")).to_contain_text("Router swap at the warehouse")
