"""The top bar's search in a real browser: an engineer finds a ticket by a word of the customer's message."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import CustomerFactory, MembershipFactory, QueueFactory, TicketFactory, UserFactory
from tickets.models import Message

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("width", WIDTHS)
def test_an_engineer_finds_a_ticket_by_a_word_of_the_customer_message(page, live_server, login, screenshot, width):
    queue = QueueFactory(name="Service", slug="service")
    engineer = UserFactory(username="erlan", role="engineer", profile__display_name="Erlan Engineer")
    MembershipFactory(queue=queue, user=engineer)
    customer = CustomerFactory(name="Айгерим Садыкова")
    ticket = TicketFactory(queue=queue, customer=customer, title="Стиральная машина")
    Message.objects.create(
        ticket=ticket,
        kind=Message.Kind.INBOUND,
        customer=customer,
        body="Под машиной вода с понедельника, <b>шланг</b> мокрый. Заказ A-1001.",
    )
    other = TicketFactory(queue=queue, title="Холодильник")
    Message.objects.create(ticket=other, kind=Message.Kind.INBOUND, body="Шланги новые не подошли")
    hidden = TicketFactory(queue=QueueFactory(name="Sales", slug="sales"), title="Чужой шланг")
    Message.objects.create(ticket=hidden, kind=Message.Kind.INBOUND, body="Шланг в другой очереди")

    page.set_viewport_size(WIDTHS[width])
    login("erlan")
    box = page.locator("#topbar-search-q")
    expect(box).to_be_visible()
    box.fill("шланга")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search/\?q="))
    hits = page.locator(".search-hit")
    expect(hits).to_have_count(2)  # the hidden queue's ticket is never found
    expect(page.locator(".search-hit mark").first).to_have_text(re.compile("[Шш]ланг"))
    expect(page.locator(".search-results")).to_contain_text("<b>шланг</b>")  # shown as text, never as markup
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(f"{width}-results")
    page.click(f"text={ticket.reference} {ticket.title}")
    page.wait_for_url(re.compile(rf"/tickets/{ticket.pk}/$"))
    expect(page.locator(".ticket-head h1")).to_have_text("Стиральная машина")

    page.locator("#topbar-search-q").fill(f"#{other.pk}")  # a bare number opens the ticket
    page.locator("#topbar-search-q").press("Enter")
    page.wait_for_url(re.compile(rf"/tickets/{other.pk}/$"))
    screenshot(f"{width}-number")
