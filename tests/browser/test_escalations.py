"""Escalations in a real browser: preferences, a sweep fires, the inbox badge, the ticket; a manual escalation."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from escalations.models import ManualEscalation
from escalations.sweep import sweep
from notifications.models import Notification, NotificationSettings
from sla.models import Calendar, CalendarWindow
from tests.escalations.ladders import ladder, sla_policy
from tests.factories import CustomerFactory, MembershipFactory, QueueFactory, UserFactory
from tickets import services


def around_the_clock() -> Calendar:
    calendar = Calendar.objects.create(name="24/7", time_zone="Asia/Almaty")
    CalendarWindow.objects.bulk_create(
        CalendarWindow(calendar=calendar, weekday=day, start="00:00", end="24:00") for day in range(7)
    )
    calendar.save()
    return calendar


def test_a_sweep_reaches_the_engineer_who_opens_the_ticket_and_escalates_it_to_the_manager(
    page, live_server, login, screenshot
):
    queue = QueueFactory(name="Service", slug="service")
    boss = UserFactory(username="marat", role="manager", profile__display_name="Marat Manager")
    engineer = UserFactory(username="erlan", role="engineer", profile__display_name="Erlan Engineer",
                           profile__manager=boss)
    MembershipFactory(queue=queue, user=engineer)
    policy = sla_policy(around_the_clock(), first_response_target=timedelta(hours=1))
    ladder("Shop", [{"name": "Half the first response used", "clock": "first_response", "trigger_percent": 50,
                     "urgency": "important", "to_performer": True, "mark_urgent": True}], sla_policies=[policy])
    ticket = services.ticket_create(actor=None, title="Washing machine leaks", customer=CustomerFactory(),
                                    queue=queue, performer=engineer)
    # The engineer has read the notice that the ticket is theirs (issue 14): only escalations count below.
    Notification.objects.filter(recipient=engineer).update(read_at=timezone.now())
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))

    # The engineer chooses channels and quiet hours.
    login("erlan")
    page.goto(f"{live_server.url}/notifications/settings/")
    page.get_by_label("Important: Email").uncheck()
    page.get_by_label("Critical: SMS").uncheck()
    page.get_by_label("Quiet hours").check()
    page.click("button:has-text('Save settings')")
    expect(page.locator(".message-success")).to_contain_text("saved")
    prefs = NotificationSettings.objects.get(user=engineer)
    assert (prefs.important_channels, prefs.quiet_hours) == (["in_app"], True)
    expect(page.locator(".inbox-badge-count")).to_have_count(0)

    # Half an hour later the sweep fires the first level.
    result = sweep(timezone.now() + timedelta(minutes=31))
    assert (result["fired"], result["failed"]) == (1, 0)
    page.goto(f"{live_server.url}/tickets/my/")
    # The level marked the ticket urgent: the engineer's list shows it beside the title.
    expect(page.locator("tr", has_text="Washing machine leaks").locator("[data-urgent]")).to_have_text("Urgent")
    badge = page.locator(".inbox-badge-count")
    expect(badge).to_contain_text("1")
    screenshot("1-badge")

    page.locator("a.inbox-badge").click()
    notice = Notification.objects.get(recipient=engineer, read_at__isnull=True)
    item = page.locator(f"[data-notification='{notice.pk}']")
    expect(item.locator("strong.inbox-title")).to_have_text(
        f"Half the first response used: #{ticket.pk} Washing machine leaks"
    )
    screenshot("2-inbox")
    item.locator("button.inbox-link").click()
    page.wait_for_url(re.compile(rf"/tickets/{ticket.pk}/$"))
    panel = page.locator("[data-escalation-panel]")
    expect(panel.locator("[data-urgent]")).to_have_text("Urgent")
    expect(panel).to_contain_text("Half the first response used")
    expect(page.locator(".inbox-badge-count")).to_have_count(0)

    # A hierarchical escalation to the performer's manager, with a reason.
    panel.locator("summary", has_text="Escalate to the manager").click()
    form = panel.locator("form[data-escalate-hierarchical]")
    expect(form).to_contain_text("To Marat Manager, who becomes the approver.")
    form.locator("textarea").fill("The customer asks for a refund beyond my limit")
    screenshot("3-escalate-form")
    form.locator("button[type=submit]").click()
    expect(page.locator(".message-success")).to_contain_text("was escalated to Marat Manager")
    expect(page.locator("[data-manual-escalation]")).to_contain_text("The customer asks for a refund beyond my limit")
    expect(page.locator(".tl-text", has_text="escalated the ticket to Marat Manager")).to_have_count(1)
    screenshot("4-escalated")
    ticket.refresh_from_db()
    assert ticket.approver == boss
    assert ManualEscalation.objects.get().to_user == boss
    assert Notification.objects.filter(recipient=boss, kind="escalation.manual_hierarchical").exists()
    assert problems == []
