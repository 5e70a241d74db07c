"""An admin sets up a calendar (lunch break, KZ holidays) and a policy in Django admin; a ticket gets its clocks."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from playwright.sync_api import expect

from sla.models import Calendar, SLAClock, SLAPolicy
from tests.browser.conftest import ARTIFACTS
from tests.factories import CustomerFactory, QueueFactory, UserFactory
from tickets import services

ALMATY = ZoneInfo("Asia/Almaty")
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def test_an_admin_sets_up_a_calendar_and_a_policy_and_a_friday_ticket_is_due_after_nauryz(
    page, live_server, screenshot
):
    admin = UserFactory(username="boss", role="admin", is_staff=True, is_superuser=True)
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", admin.username)
    page.fill("#id_password", "pass12345")
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()

    # --- the calendar: Mon–Fri 09:00–13:00 and 14:00–18:00, KZ holidays for 2026 ---
    page.goto(f"{live_server.url}/admin/sla/calendar/add/")
    page.fill("#id_name", "Almaty office")
    page.fill("#id_time_zone", "Asia/Almaty")
    page.fill("#id_holiday_country", "KZ")
    page.fill("#id_holiday_years_from", "2026")
    page.fill("#id_holiday_years_to", "2026")
    add_window = page.locator("#windows-group .add-row a")
    row = 0
    for day in WEEKDAYS:
        for start, end in (("09:00", "13:00"), ("14:00", "18:00")):
            if row >= 2:  # two empty rows come with the page; the admin adds the others
                add_window.click()
            page.select_option(f"#id_windows-{row}-weekday", label=day)
            page.fill(f"#id_windows-{row}-start", start)
            page.fill(f"#id_windows-{row}-end", end)
            row += 1
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")

    calendar = Calendar.objects.get(name="Almaty office")
    assert calendar.to_spec()["week"]["fri"] == [["09:00", "13:00"], ["14:00", "18:00"]]

    page.click("button.sla-tool-button")  # Generate holidays
    expect(page.locator(".messagelist .success")).to_contain_text("holidays and")
    assert calendar.holidays.filter(date="2026-03-23").exists()  # Nauryz

    preview = page.locator("#sla-preview")
    expect(preview).to_contain_text("Working windows of the next 14 days (Asia/Almaty)")
    expect(preview.locator("tr.sla-day-work").first).to_contain_text("09:00–13:00, 14:00–18:00")
    page.fill("#id_due_hours", "2")
    page.fill("#id_due_minutes", "30")
    page.click("#sla-due button[type=submit]")
    expect(page.locator(".sla-due-result")).to_contain_text("of business time: due")
    screenshot("calendar")
    page.locator(".object-tools").screenshot(path=str(ARTIFACTS / "sla-admin-object-tools.png"))
    page.locator(".sla-admin-extra").screenshot(path=str(ARTIFACTS / "sla-admin-preview.png"))

    # --- the policy ---
    page.goto(f"{live_server.url}/admin/sla/slapolicy/add/")
    page.fill("#id_name", "Standard request")
    page.fill("#id_precedence", "50")
    page.select_option("#id_calendar", label="Almaty office")
    page.fill("#id_first_response_target", "2:00:00")
    page.fill("#id_resolution_target", "24:00:00")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
    expect(page.locator("#result_list")).to_contain_text("any ticket")
    policy = SLAPolicy.objects.get(name="Standard request")
    screenshot("policies")

    # --- a ticket written on Friday 20 March 2026 at 17:30, before the Nauryz holidays ---
    queue = QueueFactory(slug="service")
    with time_machine.travel(datetime(2026, 3, 20, 17, 30, tzinfo=ALMATY), tick=False):
        ticket = services.ticket_create(
            actor=admin, title="Fridge leaks", customer=CustomerFactory(), queue=queue, description="Water"
        )
    fr = SLAClock.objects.get(ticket=ticket, kind=SLAClock.Kind.FIRST_RESPONSE)
    # 30 min on Friday; 23–25 March are holidays: the next working day is Thursday 26 March, 10:30.
    assert fr.policy == policy
    assert fr.due_at == datetime(2026, 3, 26, 10, 30, tzinfo=ALMATY)
    ticket.refresh_from_db()
    assert ticket.deadline == SLAClock.objects.get(ticket=ticket, kind=SLAClock.Kind.RESOLUTION).due_at

    page.goto(f"{live_server.url}/admin/sla/slaclock/{fr.pk}/change/")
    expect(page.locator("#content")).to_contain_text("First response")
    expect(page.locator(".inline-group")).to_contain_text("Started")

    # --- the ticket page: the SLA panel, then reply / wait for the customer / customer answers ---
    services.ticket_assign(ticket, performer=admin, actor=admin)
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    panel = page.locator(".sla-panel")
    expect(panel).to_contain_text("Standard request")
    first_response = panel.locator("tr.sla-clock-first_response")
    expect(first_response.locator("time")).to_have_attribute("datetime", "2026-03-26T10:30:00+05:00")
    expect(first_response).to_contain_text("Running")
    screenshot("ticket-sla-running")

    page.fill("#reply_body", "We are on it.")
    page.click("text=Send reply")
    expect(page.locator(".message-success")).to_be_visible()
    expect(panel.locator("tr.sla-clock-first_response")).to_contain_text("Stopped")

    page.select_option("#status_status", "waiting")
    page.select_option("#status_reason", label="Waiting for the customer")
    page.click("text=Change status")
    resolution = panel.locator("tr.sla-clock-resolution")
    expect(resolution).to_contain_text("Paused")
    expect(resolution).to_contain_text("paused: Waiting for the customer")

    services.ticket_receive_customer_message(ticket, body="Photo attached", channel="email")
    page.reload()
    expect(panel.locator("tr.sla-clock-resolution")).to_contain_text("Running")
    history = panel.locator("table.sla-history")
    for kind in ("start", "stop", "pause", "resume"):
        expect(history.locator(f"tr.sla-event-{kind}").first).to_be_visible()
    screenshot("ticket-sla-segments")
