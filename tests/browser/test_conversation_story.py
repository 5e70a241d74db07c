"""Issue 14's story in one browser walk: a call with a photo, the engineer told of it, a PDF reply that is
really sent by email, and the customer's answer through the intake API that tells the engineer and shows its file.
"""

from __future__ import annotations

import base64
import re

from django.core import mail
from django.test import Client
from playwright.sync_api import expect

from channels import outbox
from tests.browser.test_attachments import PDF, drop_file, png
from tests.factories import MembershipFactory, QueueFactory, UserFactory
from tests.tickets.intake_helpers import make_gateway, send
from tickets.models import Channel, QueueMembership, Ticket


def test_call_with_a_photo_notice_pdf_reply_sent_and_the_customer_answers_with_a_file(
    page, live_server, login, screenshot, monkeypatch
):
    monkeypatch.setattr(outbox, "enqueue", lambda: None)  # no cluster here: the delivery pass below sends
    queue = QueueFactory(name="Service", slug="service")
    dana = UserFactory(username="dana", role="dispatcher", profile__display_name="Dana Dispatcher")
    MembershipFactory(queue=queue, user=dana, role=QueueMembership.Role.DISPATCHER)
    erlan = UserFactory(username="erlan", role="engineer", profile__display_name="Erlan Engineer")
    MembershipFactory(queue=queue, user=erlan)
    bridge = make_gateway("Mail bridge", queue, kind=Channel.EMAIL)
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))

    # The dispatcher takes down a call, with the photo the caller sent, and gives it to Erlan.
    page.set_viewport_size({"width": 1280, "height": 900})
    login("dana")
    page.goto(f"{live_server.url}/tickets/new/")
    page.fill("#id_customer_name", "Aigerim")
    page.fill("#id_customer_phone", "+7 701 555 11 22")
    page.fill("#id_customer_email", "aigerim@example.kz")
    page.fill("#id_title", "Boiler leaks in the basement")
    page.fill("#id_description", "Water under the boiler since the morning.")
    page.select_option("#id_queue", label="Service")
    page.select_option("#id_performer", label="Erlan Engineer")
    page.set_input_files("#id_attachments", files=[{"name": "boiler.png", "mimeType": "image/png", "buffer": png()}])
    page.click(".form-actions button[type=submit]")
    page.wait_for_url(re.compile(r"/tickets/\d+/$"))
    ticket = Ticket.objects.get()
    expect(page.locator(".msg-thumb img")).to_be_visible()
    page.click(".logout-form button")
    page.wait_for_url(re.compile(r"/login/"))

    # On the phone the engineer sees the badge, reads the notice and opens the ticket from it.
    page.set_viewport_size({"width": 390, "height": 844})
    login("erlan")
    badge = page.locator(".inbox-badge")
    expect(badge).to_have_attribute("data-unread", "1")
    screenshot("1-engineer-badge")
    badge.click()
    page.wait_for_url(re.compile(r"/notifications/$"))
    notice = page.locator("[data-notification]", has_text="Boiler leaks in the basement")
    expect(notice).to_be_visible()
    notice.locator("button.inbox-link").click()
    page.wait_for_url(re.compile(rf"/tickets/{ticket.pk}/$"))

    # The reply with the signed act: "Sending…" until the outbox has sent it, then "Sent".
    drop_file(page, "form.compose-reply", "act.pdf", PDF, "application/pdf")
    page.fill("#reply_body", "The technician comes at 15:00; the act is attached.")
    page.click(".compose-reply button[type=submit]")
    expect(page.locator(".message-success")).to_contain_text("is being sent")
    state = page.locator(".msg-reply .msg-delivery")
    expect(state).to_have_attribute("data-delivery", "sending")
    assert outbox.deliver_pending() == {"sent": 1, "failed": 0, "retrying": 0}
    [email] = [sent for sent in mail.outbox if sent.to == ["Aigerim <aigerim@example.kz>"]]  # the rest: staff
    assert email.subject == f"Ваше обращение [#{ticket.pk}] Boiler leaks in the basement"  # her language: Russian
    assert [name for name, _content, _type in email.attachments] == ["act.pdf"]
    page.reload()
    expect(state).to_have_attribute("data-delivery", "sent")
    screenshot("2-reply-sent")

    # The customer answers by email through the bridge, with a scan: Erlan hears of it and sees the file.
    response = send(Client(), bridge.token, {
        "message_id": "<answer-1@example.kz>",
        "customer": {"name": "Aigerim", "email": "aigerim@example.kz"},
        "ticket": ticket.pk,
        "subject": f"Re: [#{ticket.pk}] Boiler leaks in the basement",
        "body": "Thank you, the signed act is attached.",
        "attachments": [{"filename": "signed-act.pdf", "content_type": "application/pdf",
                         "data_base64": base64.b64encode(PDF).decode()}],
    })
    assert response.status_code in (200, 201), response.content
    page.reload()
    expect(badge).to_have_attribute("data-unread", "1")
    files = page.locator(".conversation .msg-file")
    expect(files).to_have_count(3)
    expect(files.nth(2)).to_contain_text("signed-act.pdf")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("3-customer-answered")
    assert problems == []
