"""Work notices in a real browser: a dispatcher assigns a ticket; the engineer sees the badge and the notice."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from notifications.models import Notification
from tests.factories import CustomerFactory, MembershipFactory, QueueFactory, UserFactory
from tickets import services
from tickets.models import QueueMembership

SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_an_engineer_assigned_by_a_dispatcher_sees_the_badge_and_the_notice(page, live_server, login, screenshot, size):
    queue = QueueFactory(name="Service", slug="service")
    dispatcher = UserFactory(username="dana", role="dispatcher", profile__display_name="Dana Dispatcher")
    MembershipFactory(queue=queue, user=dispatcher, role=QueueMembership.Role.DISPATCHER)
    engineer = UserFactory(username="erlan", role="engineer", profile__display_name="Erlan Engineer")
    MembershipFactory(queue=queue, user=engineer)
    ticket = services.ticket_create(
        actor=dispatcher,
        title="Washing machine leaks",
        customer=CustomerFactory(),
        queue=queue,
        description="Water on the floor",
    )
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    page.set_viewport_size(SIZES[size])

    login("dana")
    page.goto(live_server.url + reverse("tickets:detail", args=[ticket.pk]))
    page.select_option("#assign_performer", str(engineer.pk))
    page.click("button:has-text('Assign')")
    expect(page.locator(".message-success")).to_contain_text("is now with Erlan Engineer")
    expect(page.locator(".inbox-badge")).to_have_attribute("data-unread", "0")  # not told of her own action
    screenshot(f"{size}-1-dispatcher-assigned")

    page.context.clear_cookies()
    login("erlan")
    badge = page.locator(".inbox-badge")
    expect(badge).to_have_attribute("data-unread", "1")
    expect(badge.locator(".inbox-badge-count")).to_contain_text("1")
    screenshot(f"{size}-2-engineer-badge")

    badge.click()
    page.wait_for_url(re.compile(r"/notifications/$"))
    notice = Notification.objects.get(recipient=engineer)
    item = page.locator(f"[data-notification='{notice.pk}']")
    expect(item.locator("strong.inbox-title")).to_have_text(f"{ticket.reference} is assigned to you")
    expect(item).to_contain_text("“Washing machine leaks”, by Dana Dispatcher")
    expect(item.locator(".urgency")).to_have_text("Important")
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]
    screenshot(f"{size}-3-engineer-inbox")

    item.locator("button.inbox-link").click()
    page.wait_for_url(re.compile(rf"/tickets/{ticket.pk}/$"))
    expect(page.locator(".inbox-badge")).to_have_attribute("data-unread", "0")
    assert problems == []
