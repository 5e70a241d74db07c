"""Notifications in a real browser: an engineer sets preferences, gets a notice, opens its ticket from the inbox."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from notifications.models import Delivery, Notification, NotificationSettings, Urgency
from notifications.service import notify
from tests.factories import MembershipFactory, QueueFactory, TicketFactory, UserFactory


def test_an_engineer_sets_preferences_then_opens_a_ticket_from_the_inbox(page, live_server, login, screenshot):
    queue = QueueFactory(name="Service", slug="service")
    engineer = UserFactory(username="erlan", role="engineer", profile__display_name="Erlan Engineer")
    MembershipFactory(queue=queue, user=engineer)
    ticket = TicketFactory(queue=queue, title="Washing machine leaks", performer=engineer, owner=engineer)
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))

    login("erlan")
    page.goto(f"{live_server.url}/notifications/settings/")
    expect(page.locator("h1")).to_have_text("Notification settings")
    page.get_by_label("Routine: Email").check()
    page.get_by_label("Important: Messenger (webhook)").check()
    page.get_by_label("Critical: SMS").check()
    page.get_by_label("Critical: In-app inbox").uncheck()  # not allowed: the form says so and saves nothing
    page.click("button:has-text('Save settings')")
    expect(page.locator(".prefs-error")).to_contain_text("Critical notices always go to the in-app inbox")
    assert not NotificationSettings.objects.filter(user=engineer).exists()

    page.get_by_label("Critical: In-app inbox").check()
    page.fill("#id_digest_window_minutes", "30")
    page.get_by_label("Quiet hours").check()
    page.fill("#id_messenger_handle", "@erlan")
    page.fill("#id_phone", "+7 701 555 11 22")
    screenshot("1-settings")
    page.click("button:has-text('Save settings')")
    expect(page.locator(".message-success")).to_contain_text("saved")
    prefs = NotificationSettings.objects.get(user=engineer)
    assert prefs.routine_channels == ["in_app", "email"]
    assert prefs.important_channels == ["in_app", "email", "webhook"]
    assert prefs.critical_channels == ["in_app", "email", "webhook", "sms"]
    assert (prefs.digest_window_minutes, prefs.quiet_hours, prefs.phone) == (30, True, "+77015551122")

    # An escalation fires for the engineer's ticket (the sweep will call the same service).
    notification = notify(
        engineer,
        kind="escalation.level_1",
        urgency=Urgency.IMPORTANT,
        title="30 minutes left to answer: Washing machine leaks",
        body="80 % of the first-response target is used.",
        ticket=ticket,
    )
    assert dict(Delivery.objects.values_list("channel", "status")) == {"email": "sent", "webhook": "skipped"}

    page.goto(f"{live_server.url}/notifications/")
    item = page.locator(f"[data-notification='{notification.pk}']")
    expect(item.locator("strong.inbox-title")).to_have_text("30 minutes left to answer: Washing machine leaks")
    expect(page.locator(".page-head")).to_contain_text("1 unread notification")
    screenshot("2-inbox")

    item.locator("button.inbox-link").click()
    page.wait_for_url(re.compile(rf"/tickets/{ticket.pk}/$"))
    expect(page.locator("h1")).to_contain_text("Washing machine leaks")
    notification.refresh_from_db()
    assert notification.read_at is not None

    page.goto(f"{live_server.url}/notifications/")
    expect(item.locator("span.inbox-title")).to_be_visible()
    expect(page.locator(".page-head")).to_contain_text("Nothing unread.")
    screenshot("3-inbox-read")
    assert Notification.objects.filter(recipient=engineer, read_at__isnull=True).count() == 0
    assert problems == []
