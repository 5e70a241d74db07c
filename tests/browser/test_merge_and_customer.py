"""Issue 17: a dispatcher merges a duplicate from the ticket page and sees both tickets' state, links a child
ticket, and opens the customer page (desktop and phone)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.factories import CustomerFactory, MembershipFactory, QueueFactory, TicketFactory, UserFactory
from tickets.models import Message, QueueMembership, Status

PHONE = {"width": 390, "height": 844}


def _no_horizontal_scroll(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1


def test_a_dispatcher_merges_a_duplicate_and_reads_the_customer_page(page, live_server, login, screenshot):
    queue = QueueFactory(name="Service", slug="service")
    dina = UserFactory(username="dina", role="dispatcher", profile__display_name="Dina Dispatcher")
    MembershipFactory(queue=queue, user=dina, role=QueueMembership.Role.DISPATCHER)
    erlan = UserFactory(username="erlan", role="engineer", profile__display_name="Erlan Engineer")
    MembershipFactory(queue=queue, user=erlan)
    olga = CustomerFactory(name="Olga Smirnova", email="olga@client.example")
    original = TicketFactory(
        queue=queue, customer=olga, title="Printer on floor 3 jams", performer=erlan, status=Status.IN_PROGRESS
    )
    duplicate = TicketFactory(queue=queue, customer=olga, title="Printer jams again")
    Message.objects.create(
        ticket=duplicate,
        kind=Message.Kind.INBOUND,
        customer=olga,
        body="Sending a second request, the printer still jams on page two.",
    )
    older = TicketFactory(queue=queue, customer=olga, title="Toner order", status=Status.DONE)
    child = TicketFactory(queue=queue, customer=olga, title="Replace the fuser unit")

    login("dina")
    page.goto(f"{live_server.url}/tickets/{duplicate.pk}/")
    expect(page.locator("[data-organisation-tickets]")).to_contain_text("Printer on floor 3 jams")
    merge = page.locator("[data-merge]")
    merge.locator("summary").click()
    merge.get_by_label("Merge into ticket").fill(f"#{original.pk}")
    screenshot("before-merge-desktop")
    merge.get_by_role("button", name="Merge and close this ticket").click()

    # The survivor: the duplicate's message, the link, the history row.
    expect(page).to_have_url(f"{live_server.url}/tickets/{original.pk}/")
    expect(page.locator(".messages")).to_contain_text("merged into")
    expect(page.locator("#conversation")).to_contain_text("still jams on page two")
    link = page.locator(f'[data-ticket-link="{duplicate.pk}"]')
    expect(link).to_contain_text("Duplicate")
    expect(link).to_contain_text("Canceled")
    expect(page.locator("main")).to_contain_text(f"merged the duplicate #{duplicate.pk} into this ticket")

    # A child ticket: the parent shows its status.
    links = page.locator("[data-ticket-links]")
    links.locator("summary").click()
    links.get_by_label("This ticket is").select_option("parent")
    links.get_by_label("Ticket", exact=True).fill(str(child.pk))
    links.get_by_role("button", name="Link", exact=True).click()
    expect(page.locator("[data-children-summary]")).to_contain_text(f"#{child.pk} new")
    screenshot("survivor-desktop")

    # The duplicate: closed, pointing at the survivor, no merge form any more.
    page.goto(f"{live_server.url}/tickets/{duplicate.pk}/")
    expect(page.locator(f'[data-merged-into="{original.pk}"]')).to_be_visible()
    expect(page.locator("[data-merged-badge]")).to_contain_text(f"Merged into #{original.pk}")
    expect(page.locator("[data-merge]")).to_have_count(0)
    screenshot("duplicate-desktop")

    # The customer page: every ticket, open first, with totals.
    page.locator("[data-customer-page]").click()
    expect(page.locator("h1")).to_contain_text("Olga Smirnova")
    expect(page.locator("[data-total]")).to_have_text("4")
    expect(page.locator("[data-open]")).to_have_text("2")
    expect(page.locator("[data-satisfaction]")).to_contain_text("Not recorded yet")
    rows = page.locator("[data-customer-tickets] tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.nth(0)).to_contain_text(child.title)  # open first, newest first
    expect(rows.nth(1)).to_contain_text(original.title)
    expect(rows.nth(2)).to_contain_text(older.title)
    screenshot("customer-desktop")

    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.locator("[data-customer-totals]")).to_be_visible()
    _no_horizontal_scroll(page)
    screenshot("customer-phone")
    page.goto(f"{live_server.url}/tickets/{original.pk}/")
    page.locator("[data-ticket-links]").scroll_into_view_if_needed()
    _no_horizontal_scroll(page)
    screenshot("survivor-phone")
