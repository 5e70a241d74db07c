"""Issue 15's story in a browser, through a real IMAP server: a customer's email with a screenshot arrives
through the mailbox, the engineer answers from the portal (really sent, its Message-ID recorded), and the
customer's reply, threaded only by ``In-Reply-To`` (no tag in its subject), lands on the same ticket and
resumes the resolution clock.
"""

# ruff: noqa: F811 - the fixtures imported below are parameters of the tests
from __future__ import annotations

import io
import json
from datetime import timedelta

from django.core.management import call_command
from playwright.sync_api import expect

from channels import outbox
from channels.inbound.receive import email_receive
from sla.models import SLAClock, SLAPolicy
from tests.channels.conftest import smtp  # noqa: F401 (fixture)
from tests.channels.inbound.conftest import channel, dovecot, dovecot_server, mailbox  # noqa: F401 (fixtures)
from tests.channels.inbound.test_real_mail import mail
from tests.factories import MembershipFactory, UserFactory
from tests.sla.conftest import make_calendar
from tickets import services
from tickets.models import Message, Status, Ticket


def fetch() -> dict:
    out = io.StringIO()
    call_command("email_fetch", stdout=out)
    return json.loads(out.getvalue())


def test_an_email_with_a_screenshot_is_answered_and_the_threaded_reply_resumes_the_clock(
    page,
    live_server,
    login,
    screenshot,
    mailbox,
    dovecot,
    queue,
    waiting_reason,
    monkeypatch,
):
    monkeypatch.setattr(outbox, "enqueue", lambda: None)  # no cluster here: the delivery pass below sends
    calendar = make_calendar("24/7", {day: [("00:00", "24:00")] for day in range(7)})
    SLAPolicy.objects.create(
        name="Standard",
        precedence=100,
        calendar=calendar,
        first_response_target=timedelta(hours=2),
        resolution_target=timedelta(hours=24),
    )
    erlan = UserFactory(username="erlan", role="engineer", profile__display_name="Erlan Engineer")
    MembershipFactory(queue=queue, user=erlan)
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))

    # Pyotr writes from mutt, in KOI8-R, with a screenshot; the mailbox is read.
    dovecot.deliver(mail("mutt-koi8r.eml"))
    assert fetch()["created"] == 1
    ticket = Ticket.objects.get()
    services.ticket_assign(ticket, performer=erlan, actor=None)

    # The engineer reads it on the portal, sees the screenshot and answers.
    page.set_viewport_size({"width": 1280, "height": 900})
    login("erlan")
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    expect(page.locator(".conversation")).to_contain_text("Принтер снова не печатает")
    expect(page.locator(".msg-thumb img")).to_be_visible()
    page.fill("#reply_body", "Мы заменили картридж, проверьте, пожалуйста.")
    page.click(".compose-reply button[type=submit]")
    expect(page.locator(".message-success")).to_contain_text("is being sent")
    assert outbox.deliver_pending()["sent"] == 1
    answer = Message.objects.get(ticket=ticket, kind=Message.Kind.PUBLIC_REPLY)
    assert answer.mail_message_id  # the Message-ID the customer's mail program will answer to
    ticket.refresh_from_db()
    services.ticket_change_status(ticket, status=Status.WAITING, reason=waiting_reason, actor=erlan)
    resolution = SLAClock.objects.get(ticket=ticket, kind=SLAClock.Kind.RESOLUTION)
    assert resolution.state == SLAClock.State.PAUSED
    page.reload()
    expect(page.locator(".msg-reply .msg-delivery")).to_have_attribute("data-delivery", "sent")
    screenshot("1-answered")

    # His reply names our email in In-Reply-To only; its subject carries no [#id] tag.
    reply = mail("mutt-reply-cp1251.eml").replace(b"<reply-1@opsdesk.example>", answer.mail_message_id.encode())
    assert b"[#" not in reply.split(b"\r\n\r\n", 1)[0]
    dovecot.deliver(reply)
    assert fetch()["appended"] == 1
    assert Ticket.objects.count() == 1
    resolution.refresh_from_db()
    assert resolution.state == SLAClock.State.RUNNING
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.locator(".conversation .msg").last).to_contain_text("Спасибо, заработало.")
    expect(page.locator(".pill-in_progress").first).to_have_text("In progress")  # the customer wrote: back to work
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("2-threaded-reply-phone")
    assert problems == []


def test_the_engineer_sees_whom_the_email_named_and_the_reply_goes_there(
    page,
    live_server,
    login,
    screenshot,
    channel,
    queue,
    smtp,
    settings,
    monkeypatch,
):
    """Alma writes from a shared mailbox, asks for answers at her own address and copies Boris: the ticket page
    shows both on her email, says where the reply will go, and the reply really goes there (SMTP envelope)."""
    monkeypatch.setattr(outbox, "enqueue", lambda: None)  # no cluster here: the delivery pass below sends
    settings.EMAIL_INTAKE_OWN_ADDRESSES = ["support@shop.example"]
    erlan = UserFactory(username="erlan", role="engineer", profile__display_name="Erlan Engineer")
    MembershipFactory(queue=queue, user=erlan)
    raw = (
        b"From: Alma <alma@client.example>\r\nTo: support@shop.example\r\n"
        b"Reply-To: Alma Personal <alma.personal@client.example>\r\n"
        b"Cc: Boris <boris@client.example>, support@shop.example\r\n"
        b"Subject: Printer jam\r\nMessage-ID: <first@client.example>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nThe printer jams again.\r\n"
    )
    ticket = email_receive(channel, raw).ticket
    services.ticket_assign(ticket, performer=erlan, actor=None)

    login("erlan")
    for width, height, name in ((1280, 900, "1-addressing-desktop"), (390, 844, "2-addressing-phone")):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
        addressing = page.locator(".msg-inbound .msg-addressing")
        expect(addressing).to_contain_text("Reply-To: alma.personal@client.example")
        expect(addressing).to_contain_text("Cc: boris@client.example, support@shop.example")
        expect(page.locator("[data-reply-addressing]")).to_have_text(
            "The reply goes by email to alma.personal@client.example; copy to boris@client.example."
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(name)

    page.fill("#reply_body", "We are replacing the drum.")
    page.click(".compose-reply button[type=submit]")
    expect(page.locator(".message-success")).to_contain_text("is being sent")
    assert outbox.deliver_pending()["sent"] == 1
    # The reply's envelope (the engineer's own notices go through the same server).
    [sent] = [mail for mail in smtp.messages() if "erlan@" not in mail["X-RcptTo"]]
    assert sorted(sent["X-RcptTo"].split(", ")) == ["alma.personal@client.example", "boris@client.example"]
