"""The portal in a real browser: the walk from the issue, the Russian interface, a phone screen."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from playwright.sync_api import expect

from tests.factories import IntakeChannelFactory, MembershipFactory, QueueFactory, UserFactory
from tickets import services
from tickets.models import BlockingReason, Message, Profile, QueueMembership, Status, Ticket

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "ru" / "LC_MESSAGES" / "django.mo"


def desk():
    """A service queue with a dispatcher and an engineer, as the issue's walk needs."""
    queue = QueueFactory(name="Service", slug="service")
    dispatcher = UserFactory(username="dina", role="dispatcher", profile__display_name="Dina Dispatcher")
    MembershipFactory(queue=queue, user=dispatcher, role=QueueMembership.Role.DISPATCHER)
    engineer = UserFactory(username="erlan", role="engineer", profile__display_name="Erlan Engineer")
    MembershipFactory(queue=queue, user=engineer)
    return queue, dispatcher, engineer


def log_out(page):
    page.click(".logout-form button")
    page.wait_for_url(re.compile(r"/login/"))


def test_the_walk_from_a_phone_call_to_done(page, live_server, login, screenshot):
    queue, _dispatcher, _engineer = desk()
    channel = IntakeChannelFactory(name="Mail bridge", default_queue=queue)
    token = channel.set_token()
    channel.save()

    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))

    # The dispatcher takes a phone call from a new customer: nobody with this phone yet (htmx lookup).
    login("dina")
    expect(page.locator("h1")).to_contain_text("Intake")
    page.click("nav.mainnav >> text=New ticket")
    page.wait_for_load_state()  # htmx (a deferred script) must be listening before we type
    page.fill("#id_customer_q", "701 555")
    expect(page.locator("#customer-matches")).to_contain_text("Nobody matches", timeout=15_000)  # a busy CI host
    page.fill("#id_customer_name", "Aigerim Sadykova")
    page.fill("#id_customer_phone", "+7 701 555 11 22")
    page.fill("#id_customer_email", "aigerim@example.kz")  # a written reply needs a way to her
    page.fill("#id_title", "Washing machine leaks")
    page.fill("#id_description", "Water under the machine since Monday. Order A-1001.")
    page.select_option("#id_related_kind", "order")
    page.fill("#id_related_ref", "A-1001")
    screenshot("1-create")
    page.click("button.btn-large")
    expect(page.locator(".message-success")).to_contain_text("created")
    ticket = Ticket.objects.get()
    expect(page.locator(".ticket-head h1")).to_have_text("Washing machine leaks")

    # ... and gives it to the engineer from the intake board.
    page.click("nav.mainnav >> text=Intake")
    row = page.locator("tr", has_text="Washing machine leaks")
    row.locator("select[name=performer]").select_option(label="Erlan Engineer")
    screenshot("2-intake")
    row.locator("button[type=submit]").click()
    expect(page.locator(".message-success")).to_contain_text("is now with Erlan Engineer")
    expect(page.locator(".empty-state")).to_be_visible()
    log_out(page)

    # The engineer finds it in My work and answers the customer.
    login("erlan")
    expect(page.locator("h1")).to_contain_text("My work")
    expect(page.locator("table")).to_contain_text("Washing machine leaks")
    screenshot("3-my-work")
    page.click("text=Washing machine leaks")
    page.fill("#reply_body", "Hello! A technician comes tomorrow at 10:00. Please send a photo of the label.")
    page.click("text=Send reply")
    expect(page.locator(".ticket-head .pill")).to_have_text("In progress")

    # The reason select only shows for "waiting" (JS), and the ticket waits for the customer.
    reason = page.locator("[data-reason-field]")
    expect(reason).to_be_hidden()
    page.select_option("#status_status", "waiting")
    expect(reason).to_be_visible()
    page.select_option("#status_reason", label="Waiting for the customer")
    page.click("text=Change status")
    expect(page.locator(".ticket-head .pill")).to_have_text("Waiting for external action")
    expect(page.locator(".ticket-head .badge-reason")).to_have_text("Waiting for the customer")
    screenshot("4-waiting")

    # The customer answers by email through the intake API.
    response = page.request.post(
        f"{live_server.url}/api/intake/v1/messages",
        headers={"Authorization": f"Bearer {token}"},
        data={
            "message_id": "mail-1",
            "customer": {"name": "Aigerim Sadykova", "phone": "+77015551122"},
            "ticket": ticket.pk,
            "subject": f"Re: {ticket.title}",
            "body": "Here is the photo of the label.",
        },
    )
    assert response.status == 201, response.text()
    page.reload()
    expect(page.locator(".ticket-head .pill")).to_have_text("In progress")
    expect(page.locator(".msg-inbound").last).to_contain_text("Here is the photo of the label.")

    # The engineer finishes the job.
    page.select_option("#status_status", "done")
    page.click("text=Change status")
    expect(page.locator(".ticket-head .pill")).to_have_text("Done")
    screenshot("5-done")

    history = page.locator(".timeline")
    for sentence in (
        "Dina Dispatcher created the ticket in Service (channel: Phone).",
        "Dina Dispatcher assigned the ticket to Erlan Engineer.",
        "Dina Dispatcher changed the status from “New” to “Assigned”.",
        "Erlan Engineer replied to the customer (first response).",
        "The reply reached the customer by email (first response).",
        "Erlan Engineer's reply moved the ticket from “Assigned” to “In progress”.",
        "Erlan Engineer changed the status from “In progress” to “Waiting for external action”: "
        "Waiting for the customer.",
        "Aigerim Sadykova wrote (Email).",
        "The customer's message moved the ticket from “Waiting for external action” to “In progress”.",
        "Erlan Engineer changed the status from “In progress” to “Done”.",
        "The satisfaction survey reached the customer by email.",
    ):
        expect(history).to_contain_text(sentence)
    assert history.locator("time").count() == ticket.events.count() == 11
    ticket.refresh_from_db()
    assert ticket.status == Status.DONE and ticket.first_public_reply_at is not None
    assert problems == []  # no CSP violation or script error on the way
    assert list(ticket.messages.values_list("kind", flat=True)) == [
        Message.Kind.INBOUND,
        Message.Kind.PUBLIC_REPLY,
        Message.Kind.INBOUND,
    ]


def test_the_portal_in_russian(page, live_server, login, screenshot):
    queue, dispatcher, engineer = desk()
    customer = services.customer_find_or_create(name="Айгерим", phone="+77015551122")
    ticket = services.ticket_create(actor=dispatcher, title="Течёт стиральная машина", customer=customer,
                                    queue=queue, performer=engineer)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer,
                                  reason=BlockingReason.objects.get(code="customer"))

    login("erlan", language="en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.click(".lang-switch button[value=ru]")
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies[settings.LANGUAGE_COOKIE_NAME] == "ru"
    assert Profile.objects.get(user=engineer).language == "ru"
    # Catalogue rows carry their own Russian names.
    expect(page.locator("table")).to_contain_text("Ожидание клиента")
    if CATALOGUE.exists():
        expect(page.locator("nav.mainnav")).not_to_contain_text("My work")
        assert re.search("[А-Яа-яЁё]", page.locator("nav.mainnav").inner_text())
        assert re.search("[А-Яа-яЁё]", page.locator("h1").inner_text())
    screenshot("my-work-ru")

    page.click("text=Течёт стиральная машина")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator(".ticket-head .badge-reason")).to_have_text("Ожидание клиента")
    if CATALOGUE.exists():
        expect(page.locator(".ticket-head .pill")).not_to_have_text("Waiting for external action")
    screenshot("ticket-ru")

    # And back to English with the same switch.
    page.click(".lang-switch button[value=en]")
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".ticket-head .pill")).to_have_text("Waiting for external action")


def test_my_work_and_the_ticket_on_a_phone(page, live_server, login, screenshot):
    queue, dispatcher, engineer = desk()
    customer = services.customer_find_or_create(name="Aigerim Sadykova", phone="+77015551122",
                                                email="aigerim@example.kz")
    ticket = services.ticket_create(actor=dispatcher, title="Washing machine leaks", customer=customer,
                                    queue=queue, performer=engineer, channel="phone",
                                    description="Water under the machine since Monday.")
    services.ticket_create(actor=dispatcher, title="Fridge makes noise at night", customer=customer, queue=queue,
                           performer=engineer, priority=4)
    services.ticket_reply(ticket, body="A technician comes tomorrow at 10:00.", actor=engineer)
    services.ticket_add_note(ticket, body="Spare hose is in the Almaty warehouse.", actor=engineer)

    page.set_viewport_size({"width": 390, "height": 844})
    login("erlan")
    expect(page.locator("h1")).to_contain_text("My work")
    # The table scrolls inside its card; the page itself never scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("phone-my-work")
    page.click("text=Washing machine leaks")
    expect(page.locator(".ticket-head h1")).to_have_text("Washing machine leaks")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("phone-ticket")
