"""The satisfaction survey in a real browser: the link from the email actually sent, a bad answer with a comment,
then the answer on the ticket page for the engineer; the survey page and the ticket page on a phone too."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core import mail
from playwright.sync_api import expect

from channels import outbox
from tests.factories import CustomerFactory, MembershipFactory, QueueFactory, UserFactory
from tickets import services
from tickets.models import SatisfactionRating, Status

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def test_the_customer_answers_bad_from_the_email_and_the_engineer_sees_it(
    page, live_server, login, screenshot, monkeypatch
):
    monkeypatch.setattr(outbox, "enqueue", lambda: None)  # no worker: the pass below delivers
    queue = QueueFactory(name="Service", slug="service")
    engineer = UserFactory(username="erlan", role="engineer", profile__display_name="Erlan Engineer")
    MembershipFactory(queue=queue, user=engineer)
    customer = CustomerFactory(name="Aigerim Sadykova", email="aigerim@example.kz", language="ru")
    ticket = services.ticket_create(
        actor=None,
        title="Стиральная машина протекает",
        customer=customer,
        queue=queue,
        performer=engineer,
        channel="email",
        description="Вода под машиной.",
    )
    services.ticket_change_status(ticket, status=Status.DONE, actor=engineer)
    assert outbox.deliver_pending()["sent"] == 1
    [email] = [m for m in mail.outbox if m.to[0].endswith("<aigerim@example.kz>")]
    html = email.alternatives[0][0]
    sent_link = re.search(r'href="([^"]+\?rating=bad)"', html).group(1)
    parts = urlsplit(sent_link)
    link = f"{live_server.url}{parts.path}?{parts.query}"

    # The customer opens the "bad" button of the email on a phone: the page asks in Russian, "bad" is chosen.
    page.set_viewport_size(PHONE)
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Стиральная машина протекает")
    expect(page.locator("input[value=bad]")).to_be_checked()
    expect(page.get_by_text("Как мы справились?", exact=False).first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot("phone-survey")
    assert not SatisfactionRating.objects.exists()  # opening the link answers nothing

    page.set_viewport_size(DESKTOP)
    page.reload()
    page.locator("label.survey-choice-bad").click()
    page.fill("textarea[name=comment]", "Через день снова потекла")
    screenshot("desktop-survey")
    page.get_by_role("button", name="Отправить ответ").click()
    expect(page.locator("[data-survey-thanks]")).to_contain_text("Спасибо за ответ")
    screenshot("desktop-thanks")

    page.goto(link)  # a second visit: already answered, nothing changes
    expect(page.locator("[data-survey-closed=answered]")).to_contain_text("Ответ уже получен")
    page.set_viewport_size(PHONE)
    screenshot("phone-already-answered")
    assert SatisfactionRating.objects.get().comment == "Через день снова потекла"

    page.context.clear_cookies()
    page.set_viewport_size(DESKTOP)
    login("erlan")
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    card = page.locator("[data-satisfaction]")
    expect(card.locator("[data-satisfaction-rating=bad]")).to_contain_text("Bad")
    expect(card.locator("[data-satisfaction-comment]")).to_have_text("Через день снова потекла")
    card.scroll_into_view_if_needed()
    screenshot("desktop-ticket")
    page.set_viewport_size(PHONE)
    page.reload()
    expect(card).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    card.scroll_into_view_if_needed()
    screenshot("phone-ticket")
