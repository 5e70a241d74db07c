"""Canned replies: filling placeholders (pure), which templates a ticket offers, and counting their use."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.factories import CustomerFactory, TicketFactory
from tickets import canned, services
from tickets.errors import TicketError
from tickets.models import CannedReply, Status, display_name

# --- fill (pure) ------------------------------------------------------------------------------------


def test_it_fills_every_known_placeholder():
    filled = canned.fill(
        "Hello {{customer_name}}, {{ ticket_number }} is with {{performer}} until {{due_date}}.",
        {"customer_name": "Anna", "ticket_number": "#7", "performer": "Oleg", "due_date": "1 May"},
    )
    assert filled.text == "Hello Anna, #7 is with Oleg until 1 May."
    assert filled.complete


def test_it_leaves_unknown_placeholders_visible_and_names_them():
    filled = canned.fill("Hi {{customer_name}} {{secret_key}} {{secret_key}}", {"customer_name": "Anna"})
    assert filled.text == "Hi Anna {{secret_key}} {{secret_key}}"
    assert filled.unknown == ["secret_key"]
    assert not filled.complete


def test_a_placeholder_without_a_value_stays_visible_and_counts_as_missing():
    filled = canned.fill("Due {{due_date}}", {"due_date": ""})
    assert filled.text == "Due {{due_date}}"
    assert filled.missing == ["due_date"]


def test_template_syntax_is_never_run():
    text = "{% load static %}{{ settings.SECRET_KEY }} {{ticket.customer.email}} {% debug %}"
    filled = canned.fill(text, {"customer_name": "Anna"})
    assert filled.text == text  # nothing evaluated: dotted names are not placeholders at all


def test_a_value_is_inserted_as_plain_text_not_filled_again():
    filled = canned.fill("{{customer_name}}", {"customer_name": "{{performer}}", "performer": "Oleg"})
    assert filled.text == "{{performer}}"


def test_due_date_is_shown_in_the_customers_time_zone_and_language():
    due = datetime(2027, 3, 12, 12, 30, tzinfo=UTC)
    assert canned.format_due(due, zone="Europe/Moscow", language="ru") == "12 марта 2027, 15:30 (Europe/Moscow)"
    assert canned.format_due(due, zone="Asia/Almaty", language="en") == "12 March 2027, 17:30 (Asia/Almaty)"


def test_an_unknown_time_zone_falls_back_to_the_opsdesk_zone(settings):
    settings.TIME_ZONE = "Asia/Almaty"
    due = datetime(2027, 3, 12, 12, 30, tzinfo=UTC)
    assert canned.format_due(due, zone="Mars/Olympus", language="en").endswith("17:30 (Asia/Almaty)")
    assert canned.format_due(None, zone="", language="en") == ""


# --- On a ticket ------------------------------------------------------------------------------------


@pytest.fixture
def template(db, queue):
    return CannedReply.objects.create(
        name="Received",
        name_ru="Получено",
        queue=queue,
        body="Dear {{customer_name}}, {{ticket_number}} is with {{performer}}.",
        body_ru="Здравствуйте, {{customer_name}}! Заявка {{ticket_number}} у {{performer}}, срок {{due_date}}.",
    )


def test_it_fills_a_template_for_a_ticket(template, queue, engineer):
    customer = CustomerFactory(name="Анна", time_zone="Europe/Moscow")
    ticket = TicketFactory(
        queue=queue, customer=customer, performer=engineer, deadline=datetime(2027, 3, 12, 12, 30, tzinfo=UTC)
    )
    filled = canned.fill_for(template, ticket, language="ru")
    assert filled.text == (
        f"Здравствуйте, Анна! Заявка #{ticket.pk} у {display_name(engineer)}, срок 12 марта 2027, 15:30 "
        "(Europe/Moscow)."
    )
    english = canned.fill_for(template, ticket, language="en")
    assert english.text == f"Dear Анна, #{ticket.pk} is with {display_name(engineer)}."


def test_a_ticket_without_performer_or_deadline_leaves_those_visible(template, ticket):
    filled = canned.fill_for(template, ticket, language="ru")
    assert "{{performer}}" in filled.text and "{{due_date}}" in filled.text
    assert filled.missing == ["performer", "due_date"]


def test_a_ticket_offers_its_queues_and_the_global_templates_only(template, ticket, other_queue):
    global_one = CannedReply.objects.create(name="Thanks", body="Thanks")
    CannedReply.objects.create(name="Sales only", body="x", queue=other_queue)
    CannedReply.objects.create(name="Old", body="x", is_active=False)
    assert set(canned.offered_for(ticket)) == {template, global_one}
    assert canned.offered_template(ticket, str(global_one.pk)) == global_one
    assert canned.offered_template(ticket, "abc") is None
    assert canned.offered_template(ticket, None) is None


def test_sending_a_reply_with_a_template_counts_its_use(template, ticket, engineer):
    canned.ticket_reply_with_template(ticket, template=template, body="Hello", actor=engineer)
    canned.ticket_reply_with_template(ticket, template=None, body="Plain", actor=engineer)
    template.refresh_from_db()
    assert template.usage_count == 1
    assert template.last_used_at is not None
    assert ticket.messages.count() == 2


def test_a_refused_reply_counts_nothing(template, ticket, engineer, dispatcher):
    services.ticket_change_status(ticket, status=Status.CANCELED, actor=dispatcher)
    with pytest.raises(TicketError):
        canned.ticket_reply_with_template(ticket, template=template, body="Hello", actor=engineer)
    template.refresh_from_db()
    assert template.usage_count == 0


def test_the_text_falls_back_to_the_other_language(db):
    only_english = CannedReply(name="x", body="Hello")
    assert only_english.body_in("ru") == "Hello"
    assert only_english.languages == ["en"]
