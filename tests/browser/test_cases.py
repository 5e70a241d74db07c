"""An escalation case in a real browser: from an outage ticket to a closed case with its root-cause analysis."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from escalations.models import CaseStatus, EscalationCase
from tests.factories import CustomerFactory, MembershipFactory, QueueFactory, UserFactory
from tickets import services
from tickets.models import Message, Status, Ticket


def test_a_manager_runs_an_outage_case_from_ticket_to_closure(page, live_server, login, screenshot):
    boss = UserFactory(username="dana", role="manager", profile__display_name="Dana Director")
    manager = UserFactory(username="aigul", role="manager", profile__display_name="Aigul Manager",
                          profile__manager=boss)
    queue = QueueFactory(name="Service", slug="service", manager=manager)
    engineers = []
    for username, name in (("erlan", "Erlan Engineer"), ("saule", "Saule Support")):
        engineer = UserFactory(username=username, role="engineer", profile__display_name=name)
        MembershipFactory(queue=queue, user=engineer)
        engineers.append(engineer)
    tickets = []
    for name in ("Kaspi Shop", "Almaty Foods", "Steppe Logistics"):
        customer = CustomerFactory(name=name, account_manager=manager)
        tickets.append(services.ticket_create(actor=manager, title=f"Payments fail at {name}", customer=customer,
                                              queue=queue, performer=engineers[0]))
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    login("aigul")

    # From the first customer's ticket: "Open an escalation case", prefilled with the ticket.
    page.goto(f"{live_server.url}/tickets/{tickets[0].pk}/")
    page.click("[data-open-case]")
    expect(page.locator("input[name=title]")).to_have_value(tickets[0].title)
    page.fill("input[name=title]", "Payment gateway outage")
    page.select_option("select[name=severity]", "sev1")
    page.click("button:has-text('Open the case')")
    expect(page.locator(".message-success")).to_contain_text("opened")
    case = EscalationCase.objects.get()
    assert list(case.tickets.all()) == [tickets[0]]

    # The two other customers' tickets, two members, a plan of two tasks.
    for ticket in tickets[1:]:
        page.click("[data-affected] summary")
        page.fill("[data-affected] input[name=ticket]", str(ticket.pk))
        page.click("button:has-text('Link the ticket')")
        expect(page.locator(f"[data-affected-ticket='{ticket.pk}']")).to_be_visible()
    expect(page.locator("[data-affected-customer]")).to_have_count(3)
    for engineer in engineers:
        page.select_option("[data-member-form] select[name=user]", str(engineer.pk))
        page.click("button:has-text('Add to the task force')")
        expect(page.locator(f"[data-member='{engineer.pk}']")).to_be_visible()
    due = timezone.localtime(timezone.now() + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    for title, engineer in (("Fail over to the backup gateway", engineers[0]), ("Call the bank", engineers[1])):
        page.click("[data-task-form] summary")
        page.fill("[data-task-form] input[name=title]", title)
        page.select_option("[data-task-form] select[name=performer]", str(engineer.pk))
        page.select_option("[data-task-form] select[name=queue]", str(queue.pk))
        page.fill("[data-task-form] input[name=due]", due)
        page.click("button:has-text('Plan the task')")
        expect(page.locator(".message-success")).to_contain_text("planned")
    expect(page.locator("[data-plan] [data-task]")).to_have_count(2)

    # A public update reaches every customer's ticket conversation.
    page.fill("[data-update-form] textarea[name=body]", "We switched to the backup gateway; payments resume.")
    page.check("[data-update-form] input[name=public]")
    page.click("button:has-text('Post the update')")
    expect(page.locator("[data-update]")).to_have_count(1)
    expect(page.locator("[data-countdown]")).not_to_have_class("is-missed")
    screenshot("1-case-with-plan")
    for ticket in tickets:
        page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
        expect(page.locator(".msg-reply .msg-body")).to_contain_text("payments resume")
        expect(page.locator("[data-ticket-case]")).to_contain_text(case.reference)

    # The next update is missed: red on the case page and in the list.
    EscalationCase.objects.filter(pk=case.pk).update(next_update_due=timezone.now() - timedelta(minutes=5))
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect(page.locator("[data-missed]")).to_be_visible()
    expect(page.locator("[data-countdown]")).to_have_class("case-countdown is-missed")
    expect(page.locator("[data-countdown-left]")).to_contain_text("missed by")
    screenshot("2-update-missed")
    page.goto(f"{live_server.url}/cases/")
    expect(page.locator(f"[data-case='{case.pk}']")).to_have_class("case-row case-open is-missed")

    # The tasks get done: one through its ticket page, one by its performer through the service.
    task_a, task_b = (link.ticket for link in case.ticket_links.filter(role="task").order_by("pk"))
    page.goto(f"{live_server.url}/tickets/{task_a.pk}/")
    page.select_option("form[data-status-form] select[name=status]", "done")
    page.click("button:has-text('Change status')")
    expect(page.locator(".message-success")).to_contain_text("Done")
    services.ticket_change_status(task_b, status=Status.DONE, actor=engineers[1])
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect(page.locator("[data-plan] .pill-done")).to_have_count(2)

    # Resolution, both parts of the RCA, the owner's approval, closure.
    page.fill("[data-resolve-form] textarea[name=summary]", "The bank renewed its certificate; gateway is back.")
    page.click("button:has-text('Announce the resolution')")
    expect(page.locator("[data-case-status]")).to_have_text("Resolved")
    page.select_option("[data-rca-form] select[name=cause]", "supplier")
    page.fill("[data-rca-form] textarea[name=internal]", "The bank's TLS certificate expired; no expiry alert.")
    page.fill("[data-rca-form] textarea[name=customer]", "A partner certificate expired. We now monitor it.")
    page.click("button:has-text('Save the analysis')")
    expect(page.locator("[data-rca-state]")).to_contain_text("Waiting for the owner's approval")
    assert not Message.objects.filter(body__startswith="A partner certificate").exists()
    page.click("button:has-text('Approve and send to the customers')")
    expect(page.locator("[data-rca-state]")).to_contain_text("Approved by Aigul Manager")
    assert Message.objects.filter(body__startswith="A partner certificate", kind="reply").count() == 3
    page.check(f"[data-close-form] input[name=ticket_{tickets[0].pk}][value=close]")
    page.click("button:has-text('Close the case')")
    expect(page.locator(".message-success")).to_contain_text("closed")
    expect(page.locator("[data-case-status]")).to_have_text("Closed")
    screenshot("3-closed")

    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    statuses = [Ticket.objects.get(pk=t.pk).status for t in tickets]
    assert statuses[0] == Status.DONE and Status.DONE not in statuses[1:]
    assert case.events.filter(kind="case.member_added").count() == 2
    assert problems == []
