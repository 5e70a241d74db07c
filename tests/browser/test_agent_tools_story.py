"""Issue 17's story in one walk, at desktop and phone widths: the engineer finds a ticket by a word of the
customer's message and answers it with a canned reply in Russian (really sent by email); the dispatcher
bulk-assigns five tickets from the intake board and merges the customer's duplicate into it; the ticket is
done, the customer answers the survey from the email actually sent, and the answer is on the ticket."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from playwright.sync_api import expect

from channels import outbox
from tests.factories import CustomerFactory, MembershipFactory, QueueFactory, TicketFactory, UserFactory
from tickets import services
from tickets.models import CannedReply, Message, QueueMembership, SatisfactionRating, Status, Ticket

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width", WIDTHS)
def test_search_canned_reply_bulk_assign_merge_and_the_survey_answer(
    page, live_server, login, screenshot, monkeypatch, width
):
    monkeypatch.setattr(outbox, "enqueue", lambda: None)  # no worker: the delivery passes below send
    page.set_viewport_size(WIDTHS[width])
    service = QueueFactory(slug="service", name="Service", name_ru="Сервис")
    engineer = UserFactory(username="aigerim", role="engineer", profile__display_name="Айгерим")
    dispatcher = UserFactory(username="dina", role="dispatcher", profile__display_name="Dina")
    MembershipFactory(queue=service, user=engineer)
    MembershipFactory(queue=service, user=dispatcher, role=QueueMembership.Role.DISPATCHER)
    customer = CustomerFactory(name="Анна Петрова", email="anna@client.example", language="ru")
    ticket = services.ticket_create(
        actor=None, title="Стиральная машина", customer=customer, queue=service, channel="email",
        performer=engineer, description="Под машиной вода с понедельника, шланг мокрый.",
    )
    duplicate = services.ticket_create(
        actor=None, title="Опять вода", customer=customer, queue=service, channel="email",
        description="Пишу второй раз: вода всё ещё течёт.",
    )
    waiting = [TicketFactory(queue=service, title=f"Звонок {n}") for n in range(6)]
    CannedReply.objects.create(
        name="On our way", name_ru="Выезжаем", queue=service,
        body="Hello {{customer_name}}, {{ticket_number}} is with {{performer}}.",
        body_ru="Здравствуйте, {{customer_name}}! Заявкой {{ticket_number}} занимается {{performer}}.",
    )

    # The engineer finds the ticket by a word of the customer's message (another form of it: stemming).
    login("aigerim")
    page.locator("#topbar-search-q").fill("шланга")
    page.locator("#topbar-search-q").press("Enter")
    page.wait_for_url(re.compile(r"/search/\?q="))
    expect(page.locator(".search-hit")).to_have_count(1)
    expect(page.locator(".search-hit mark").first).to_have_text(re.compile("шланг"))
    _fits(page)
    screenshot(f"{width}-1-search")
    page.click(f"text={ticket.reference} {ticket.title}")
    page.wait_for_url(re.compile(rf"/tickets/{ticket.pk}/$"))

    # ... and answers with the canned reply in Russian, filled for this ticket.
    page.select_option("#canned_pick", label="On our way")
    page.get_by_role("button", name="Insert in Russian").click()
    expected = f"Здравствуйте, Анна Петрова! Заявкой #{ticket.pk} занимается Айгерим."
    expect(page.locator("#reply_body")).to_have_value(expected)
    screenshot(f"{width}-2-canned")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator("#conversation")).to_contain_text("Заявкой #")
    reply = Message.objects.get(ticket=ticket, kind=Message.Kind.PUBLIC_REPLY)
    assert reply.body == expected and reply.delivery_status == "sending"  # nothing says sent before it is
    assert outbox.deliver_pending()["sent"] == 1
    [sent] = [m for m in mail.outbox if expected in m.body]
    assert sent.to[0].endswith("<anna@client.example>")
    page.reload()
    expect(page.locator("#conversation")).to_contain_text("Sent")
    page.context.clear_cookies()

    # The dispatcher ticks five tickets on the intake board and assigns them in one action.
    login("dina")
    page.goto(f"{live_server.url}/tickets/intake/")
    page.locator(".bulk-toggle > summary").click()
    for row in waiting[:5]:
        page.locator(f'input[name="ticket"][value="{row.pk}"]').check()
    page.select_option("#bulk_action", value="assign")
    page.select_option("#bulk_performer", label="Айгерим")
    page.get_by_role("button", name="Apply to the tickets").click()
    expect(page.locator("[data-count=done]")).to_have_text("5")
    screenshot(f"{width}-3-bulk")
    assert [Ticket.objects.get(pk=row.pk).performer_id for row in waiting] == [engineer.pk] * 5 + [None]

    # ... then merges the customer's duplicate into the ticket.
    page.goto(f"{live_server.url}/tickets/{duplicate.pk}/")
    merge = page.locator("[data-merge]")
    merge.locator("summary").click()
    merge.get_by_label("Merge into ticket").fill(f"#{ticket.pk}")
    merge.get_by_role("button", name="Merge and close this ticket").click()
    expect(page).to_have_url(f"{live_server.url}/tickets/{ticket.pk}/")
    expect(page.locator("#conversation")).to_contain_text("вода всё ещё течёт")
    expect(page.locator(f'[data-ticket-link="{duplicate.pk}"]')).to_contain_text("Duplicate")
    _fits(page)
    screenshot(f"{width}-4-merged")
    assert Ticket.objects.get(pk=duplicate.pk).merged_into_id == ticket.pk
    page.context.clear_cookies()

    # The work is done: the survey goes out by email, and the customer answers from it.
    services.ticket_change_status(Ticket.objects.get(pk=ticket.pk), status=Status.DONE, actor=engineer)
    assert outbox.deliver_pending()["sent"] == 1
    [survey_mail] = [m for m in mail.outbox if "?rating=" in (m.alternatives[0][0] if m.alternatives else "")]
    link = urlsplit(re.search(r'href="([^"]+\?rating=good)"', survey_mail.alternatives[0][0]).group(1))
    page.goto(f"{live_server.url}{link.path}?{link.query}")
    expect(page.locator("h1")).to_have_text("Стиральная машина")
    page.fill("textarea[name=comment]", "Спасибо, всё сухо")
    page.get_by_role("button", name="Отправить ответ").click()
    expect(page.locator("[data-survey-thanks]")).to_be_visible()
    screenshot(f"{width}-5-survey")
    assert SatisfactionRating.objects.get().ticket_id == ticket.pk

    # The answer is on the ticket.
    login("aigerim")
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    card = page.locator("[data-satisfaction]")
    expect(card.locator("[data-satisfaction-rating=good]")).to_be_visible()
    expect(card.locator("[data-satisfaction-comment]")).to_have_text("Спасибо, всё сухо")
    card.scroll_into_view_if_needed()
    _fits(page)
    screenshot(f"{width}-6-answer")
