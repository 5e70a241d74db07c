"""Canned replies and bulk actions in the browser (issue 17), at desktop and phone widths: a manager writes a
canned reply, an engineer inserts it in Russian and sends it, a dispatcher bulk-assigns five tickets from the
intake board."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tests.factories import CustomerFactory, MembershipFactory, QueueFactory, TicketFactory, UserFactory
from tickets import services
from tickets.models import BulkJob, CannedReply, Message, QueueMembership, Status

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_a_canned_reply_written_inserted_and_sent_then_five_tickets_bulk_assigned(
    page, live_server, login, screenshot, width
):
    page.set_viewport_size(WIDTHS[width])
    service = QueueFactory(slug="service", name="Service", name_ru="Сервис")
    manager = UserFactory(username="marat", role="manager", profile__display_name="Marat")
    engineer = UserFactory(
        username="aigerim", role="engineer", profile__display_name="Айгерим", profile__manager=manager
    )
    dispatcher = UserFactory(username="dina", role="dispatcher", profile__display_name="Dina")
    MembershipFactory(queue=service, user=engineer)
    MembershipFactory(queue=service, user=dispatcher, role=QueueMembership.Role.DISPATCHER)
    customer = CustomerFactory(name="Анна Петрова", time_zone="Europe/Moscow", language="ru")
    ticket = TicketFactory(
        queue=service, customer=customer, title="Не работает касса", deadline=datetime(2027, 3, 12, 12, 30, tzinfo=UTC)
    )
    services.ticket_assign(ticket, performer=engineer, actor=dispatcher)
    waiting = [TicketFactory(queue=service, title=f"Звонок {n}") for n in range(6)]

    # A manager writes the canned reply in the portal.
    login("marat")
    page.goto(f"{live_server.url}/tickets/canned/")
    page.get_by_role("link", name="New canned reply").click()
    page.fill("#id_name_ru", "Приняли в работу")
    page.fill("#id_name", "Taken on")
    page.select_option("#id_queue", label="Service")
    page.fill(
        "#id_body_ru", "Здравствуйте, {{customer_name}}! Заявка {{ticket_number}} у {{performer}}, срок: {{due_date}}."
    )
    page.fill("#id_body", "Hello {{customer_name}}, {{ticket_number}} is with {{performer}}, due {{due_date}}.")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages, .message").first).to_contain_text("saved")
    expect(page.locator(".canned-table")).to_contain_text("Taken on")
    screenshot(f"{width}-1-manager-list")
    template = CannedReply.objects.get()

    # The engineer inserts it in Russian in one step, sees the filled text, and sends it.
    page.context.clear_cookies()
    login("aigerim")
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    page.select_option("#canned_pick", label="Taken on")
    page.get_by_role("button", name="Insert in Russian").click()
    expected = f"Здравствуйте, Анна Петрова! Заявка #{ticket.pk} у Айгерим, срок: 12 марта 2027, 15:30 (Europe/Moscow)."
    expect(page.locator("#reply_body")).to_have_value(expected)
    screenshot(f"{width}-2-engineer-inserted")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".conversation, body").first).to_contain_text("Заявка #")
    assert Message.objects.filter(ticket=ticket, kind=Message.Kind.PUBLIC_REPLY, body=expected).exists()
    template.refresh_from_db()
    assert template.usage_count == 1
    screenshot(f"{width}-3-engineer-sent")

    # The dispatcher ticks five tickets on the intake board and assigns them in one action.
    page.context.clear_cookies()
    login("dina")
    page.goto(f"{live_server.url}/tickets/intake/")
    page.locator(".bulk-toggle > summary").click()
    for t in waiting[:5]:
        page.locator(f'input[name="ticket"][value="{t.pk}"]').check()
    page.select_option("#bulk_action", value="assign")
    page.select_option("#bulk_performer", label="Айгерим")
    screenshot(f"{width}-4-dispatcher-selected")
    page.get_by_role("button", name="Apply to the tickets").click()
    expect(page.locator("[data-count=done]")).to_have_text("5")
    expect(page.locator("body")).to_contain_text("5 of 5 tickets changed.")
    screenshot(f"{width}-5-dispatcher-job")
    job = BulkJob.objects.get()
    assert (job.done, job.skipped, job.failed) == (5, 0, 0)
    for t in waiting:
        t.refresh_from_db()
    assert [t.performer_id for t in waiting] == [engineer.pk] * 5 + [None]
    assert all(t.status == Status.ASSIGNED for t in waiting[:5])


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_a_manager_deletes_a_canned_reply_only_after_confirming(page, live_server, login, screenshot, width):
    page.set_viewport_size(WIDTHS[width])
    UserFactory(username="marat", role="manager", profile__display_name="Marat")
    CannedReply.objects.create(name="Old greeting", body="Hi", usage_count=4)
    CannedReply.objects.create(name="Taken on", body="We took it on.")

    login("marat")
    page.goto(f"{live_server.url}/tickets/canned/")
    page.get_by_role("link", name="Delete Old greeting").click()
    expect(page.locator("h1")).to_have_text("Delete the canned reply “Old greeting”?")
    expect(page.locator(".page-head")).to_contain_text("Used 4 times.")
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width]["width"]
    screenshot(f"{width}-1-confirm")

    page.get_by_role("link", name="Cancel").click()  # changing one's mind deletes nothing
    expect(page.locator(".canned-table")).to_contain_text("Old greeting")
    assert CannedReply.objects.count() == 2

    page.get_by_role("link", name="Delete Old greeting").click()
    page.locator("[data-canned-delete]").get_by_role("button", name="Delete").click()
    expect(page.locator(".messages, .message").first).to_contain_text("“Old greeting” deleted")
    expect(page.locator(".canned-table")).not_to_contain_text("Old greeting")
    expect(page.locator(".canned-table")).to_contain_text("Taken on")
    assert list(CannedReply.objects.values_list("name", flat=True)) == ["Taken on"]
    screenshot(f"{width}-2-deleted")
