"""The approval story in a real browser: the engineer sends a ticket to approval, the approver rejects it with a
comment from the ticket page, the engineer sends it again, the approver approves and closes it."""

from __future__ import annotations

from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import CustomerFactory, MembershipFactory, QueueFactory, TicketTypeFactory, UserFactory
from tickets import services
from tickets.models import Status, Ticket

PHONE = {"width": 390, "height": 844}


def test_the_engineer_sends_to_approval_and_the_approver_rejects_then_approves(page, live_server, login, screenshot):
    queue = QueueFactory(name="Service", slug="service")
    manager = UserFactory(username="maria", role="manager", profile__display_name="Maria Manager")
    engineer = UserFactory(
        username="erlan", role="engineer", profile__display_name="Erlan Engineer", profile__manager=manager
    )
    MembershipFactory(queue=queue, user=engineer)
    refund = TicketTypeFactory(name="Refund", slug="refund", approval_closes=True)
    ticket = services.ticket_create(
        actor=engineer,
        title="Refund 40 000 ₸",
        customer=CustomerFactory(),
        queue=queue,
        ticket_type=refund,
        description="Please refund",
        performer=engineer,
    )
    services.ticket_change_status(ticket, status=Status.IN_PROGRESS, actor=engineer)
    url = live_server.url + reverse("tickets:detail", args=[ticket.pk])
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))

    def send_to_approval(comment):
        page.goto(url)
        approver = page.locator("[data-approver-field]")
        expect(approver).to_be_hidden()  # only for "on approval"
        page.select_option("#status_status", Status.ON_APPROVAL)
        expect(approver).to_be_visible()
        expect(page.locator("#status_approver")).to_have_value(str(manager.pk))  # the performer's manager
        page.fill("#status_comment", comment)
        page.click("button:has-text('Change status')")
        expect(page.locator(".message-success")).to_contain_text("waits for approval by Maria Manager")
        expect(page.locator(".approval-card")).to_contain_text("Waits for the decision of Maria Manager")
        expect(page.locator("#status_status option[value=done]")).to_have_count(0)  # only the approver closes it

    login("erlan")
    send_to_approval("Refund above my limit")
    screenshot("1-engineer-sent")

    page.context.clear_cookies()
    login("maria")
    expect(page.locator(".inbox-badge")).to_have_attribute("data-unread", "1")
    page.goto(url)
    card = page.locator("#approval")
    expect(card.locator("h2")).to_have_text("Your approval")
    card.locator("button[value=reject]").click()
    expect(page.locator(".message-error")).to_contain_text("Say why you reject")
    page.locator("#approval_comment").fill("Offer a 10 % discount first")
    page.locator("#approval button[value=reject]").click()
    expect(page.locator(".message-success")).to_contain_text("Rejected")
    expect(page.locator(".timeline")).to_contain_text("Maria Manager rejected: Offer a 10 % discount first")
    screenshot("2-approver-rejected")

    page.context.clear_cookies()
    login("erlan")
    page.goto(live_server.url + reverse("notifications:inbox"))
    expect(page.locator(".inbox-item").first).to_contain_text(f"{ticket.reference}: approval rejected")
    expect(page.locator(".inbox-item").first).to_contain_text("Maria Manager: Offer a 10 % discount first")
    send_to_approval("The customer refused the discount")

    page.context.clear_cookies()
    login("maria")
    page.set_viewport_size(PHONE)
    page.goto(url)
    page.locator("#approval").scroll_into_view_if_needed()
    screenshot("3-approver-on-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("#approval_comment").fill("Agreed")
    page.locator("#approval button[value=close]").click()
    expect(page.locator(".message-success")).to_contain_text("Approved")
    screenshot("4-approved-and-closed")
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.status == Status.DONE
    assert list(
        ticket.events.filter(kind__in=["ticket.approved", "ticket.approval_rejected"])
        .order_by("pk")
        .values_list("kind", flat=True)
    ) == ["ticket.approval_rejected", "ticket.approved"]
    assert problems == []
