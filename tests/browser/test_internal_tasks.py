"""An engineer asks another department for something (issue 16, point 6): an internal task, on a desktop and a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import MembershipFactory, QueueFactory, UserFactory
from tickets.models import Ticket


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_an_engineer_creates_an_internal_task_for_another_department_and_sees_it_in_the_list(
    page, live_server, login, screenshot, width, height
):
    sales = QueueFactory(name="Sales", slug="sales")
    QueueFactory(name="Warehouse", slug="warehouse")
    engineer = UserFactory(username="erlan", role="engineer", profile__display_name="Erlan Engineer")
    MembershipFactory(queue=sales, user=engineer)
    page.set_viewport_size({"width": width, "height": height})
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))

    login("erlan")
    page.goto(f"{live_server.url}/tickets/")
    page.click("text=New internal task")
    expect(page.locator("h1")).to_have_text("New internal task")
    page.fill("#id_title", "Confirm the reserve for order A-1001")
    page.fill("#id_description", "Two units, by noon: the customer pays today.")
    page.select_option("#id_queue", label="Warehouse")
    page.select_option("#id_requester_queue", label="Sales")
    screenshot("1-form")
    page.click("button.btn-large")
    expect(page.locator(".message-success")).to_contain_text("Internal task")
    expect(page.locator(".ticket-head .badge-internal")).to_have_text("Internal task")
    expect(page.locator(".ticket-head")).to_contain_text("Erlan Engineer")
    expect(page.locator(".ticket-head")).to_contain_text("Sales")
    expect(page.locator("form.compose-reply")).to_have_count(0)  # never delivered to a customer
    screenshot("2-task")

    page.goto(f"{live_server.url}/tickets/")
    row = page.locator("tr", has_text="Confirm the reserve for order A-1001")
    expect(row).to_be_visible()
    expect(row.locator(".badge-internal")).to_be_visible()
    screenshot("3-list")
    task = Ticket.objects.get()
    assert task.is_internal and task.queue.slug == "warehouse"
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    assert problems == []
