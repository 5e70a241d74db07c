"""A reply's delivery state in a real browser: "Sending…" after the click, "Sent" after a delivery pass."""

from __future__ import annotations

from playwright.sync_api import expect

from channels import outbox
from tests.factories import CustomerFactory, MembershipFactory, QueueFactory, UserFactory
from tickets import services


def test_the_conversation_shows_the_reply_sending_then_sent_on_desktop_and_phone(
    page, live_server, login, screenshot, monkeypatch
):
    monkeypatch.setattr(outbox, "enqueue", lambda: None)  # no worker: the pass below delivers
    queue = QueueFactory(name="Service", slug="service")
    engineer = UserFactory(username="erlan", role="engineer", profile__display_name="Erlan Engineer")
    MembershipFactory(queue=queue, user=engineer)
    customer = CustomerFactory(name="Aigerim Sadykova", email="aigerim@example.kz", language="ru")
    ticket = services.ticket_create(
        actor=None,
        title="Washing machine leaks",
        customer=customer,
        queue=queue,
        performer=engineer,
        channel="email",
        description="Water under the machine.",
    )

    login("erlan")
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    page.fill("#reply_body", "A technician comes tomorrow at 10:00.")
    page.click("text=Send reply")
    expect(page.locator(".message-success")).to_contain_text("is being sent")
    state = page.locator(".msg-reply .msg-delivery")
    expect(state).to_have_attribute("data-delivery", "sending")
    expect(state).to_contain_text("Sending…")
    screenshot("desktop-sending")

    assert outbox.deliver_pending() == {"sent": 1, "failed": 0, "retrying": 0}
    page.reload()
    expect(state).to_have_attribute("data-delivery", "sent")
    expect(state).to_contain_text("Sent")
    expect(state.locator("time")).to_be_visible()
    screenshot("desktop-sent")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(state).to_contain_text("Sent")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator("#conversation").scroll_into_view_if_needed()
    screenshot("phone-sent")
