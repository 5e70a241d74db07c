"""The search service on the database the tests run on (SQLite FTS5 by default; PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from tests.factories import CustomerFactory, TicketFactory, UserFactory
from tickets import search, search_schema, services
from tickets.models import Message, Organisation, RelatedObject, Ticket


def _found(user, text, **kwargs):
    return [hit.ticket.pk for hit in search.search(user, text, **kwargs).hits]


def _message(ticket, body, kind=Message.Kind.INBOUND):
    return Message.objects.create(ticket=ticket, kind=kind, body=body)


@pytest.fixture
def printer(ticket):
    _message(ticket, "Принтер в бухгалтерии не печатает, горит красная лампа")
    return ticket


def test_it_finds_a_word_of_a_customer_message_in_another_russian_form(engineer, printer):
    assert _found(engineer, "принтера") == [printer.pk]
    assert _found(engineer, "Лампы") == [printer.pk]


def test_it_stems_english_words(engineer, ticket):
    _message(ticket, "The printers stopped printing after the update", kind=Message.Kind.PUBLIC_REPLY)
    assert _found(engineer, "printer") == [ticket.pk]
    assert _found(engineer, "print updates") == [ticket.pk]
    assert _found(engineer, "printer scanner") == []  # every word must match


def test_the_hit_shows_the_matching_fragment_marked(engineer, printer):
    hit = search.search(engineer, "принтеры").hits[0]
    assert hit.where == "message"
    assert ("Принтер", True) in hit.pieces
    assert "".join(text for text, _ in hit.pieces).startswith("Принтер в бухгалтерии")


def test_an_internal_note_is_found_by_staff_only(engineer, ticket):
    _message(ticket, "Клиент просил не звонить после обеда", kind=Message.Kind.INTERNAL_NOTE)
    hit = search.search(engineer, "звонить").hits[0]
    assert (hit.ticket.pk, hit.where) == (ticket.pk, "note")
    observer = UserFactory(username="observer")  # no role: sees the ticket, never its notes
    ticket.observers.add(observer)
    assert _found(observer, "Обеда") == []
    assert _found(observer, ticket.title) == [ticket.pk]  # the ticket itself is visible to them


def test_nobody_finds_a_ticket_they_cannot_open(engineer, other_engineer, printer):
    assert _found(other_engineer, "принтер") == []
    assert _found(other_engineer, str(printer.pk)) == []
    assert _found(other_engineer, printer.customer.name) == []
    assert search.openable_ticket(other_engineer, f"#{printer.pk}") is None
    assert search.openable_ticket(engineer, f"#{printer.pk}") == printer


def test_it_finds_by_customer_organisation_reference_title_and_number(engineer, queue):
    org = Organisation.objects.create(name="Northwind Trading", name_ru="Нордвинд")
    customer = CustomerFactory(
        name="Ирина Соколова", email="irina@northwind.example", phone="+7 912 345-67-89", organisation=org
    )
    order = RelatedObject.objects.create(kind=RelatedObject.Kind.ORDER, external_ref="A-1001", customer=customer)
    ticket = TicketFactory(queue=queue, customer=customer, related_object=order, title="Доставка задерживается")
    # A customer without digits: the factory's "Customer 408" would match a search for ticket number 408.
    TicketFactory(queue=queue, title="Something else", customer=CustomerFactory(name="Other", email="other@x.example"))
    for text in (
        "Соколова",
        "irina@northwind",
        "345-67-89",
        "northwind trading",
        "Нордвинд",
        "a-1001",
        "доставки",
        f"#{ticket.pk}",
        str(ticket.pk),
    ):
        assert _found(engineer, text) == [ticket.pk], text
    assert search.search(engineer, "A-1001").hits[0].where == "related"
    assert search.search(engineer, "доставка").hits[0].where == "title"
    assert search.search(engineer, "Соколова").hits[0].where == "customer"


def test_the_index_follows_every_write_without_a_rebuild(engineer, queue, ticket):
    message = _message(ticket, "первое слово")
    created = services.ticket_create(
        title="Холодильник шумит",
        customer=CustomerFactory(),
        queue=queue,
        actor=engineer,
        description="Компрессор гудит ночью",
    )
    assert _found(engineer, "компрессоры") == [created.pk]
    assert _found(engineer, "холодильника") == [created.pk]
    message.body = "второе слово"
    message.save()
    assert _found(engineer, "первое") == []
    assert _found(engineer, "второе") == [ticket.pk]
    services.ticket_update(created, actor=engineer, title="Морозильник шумит")
    assert _found(engineer, "холодильник") == []
    assert _found(engineer, "морозильника") == [created.pk]
    message.delete()
    assert _found(engineer, "второе") == []


@pytest.mark.parametrize(
    "text",
    [
        "x" * 60_000,
        "принтер\x00",
        "\ud800принтер",
        '"принтер',
        "принтер AND OR NOT",
        "NEAR(принтер лампа)",
        "принтер*",
        "-принтер",
        "(принтер",
        "принтер)",
        "^принтер",
        "terms:принтер",
        "{принтер}",
        "'; DROP TABLE x; --",
        "",
        "   ",
        "\x00",
        "*",
        '""',
        "#",
        "#0",
        "99999999999999999999999",
        "%_",
        "\\",
    ],
)
def test_no_input_raises(engineer, printer, text):
    results = search.search(engineer, text)
    assert len(results.query) <= search.search_text.QUERY_MAX
    search.openable_ticket(engineer, text)


def test_operators_are_plain_words(engineer, printer):
    assert _found(engineer, '"принтер" AND (лампа*)') == [printer.pk]
    assert _found(engineer, "принтер OR сканер") == []  # OR is a word that is not there, not an operator


def test_results_are_paginated_newest_first(engineer, queue):
    tickets = [TicketFactory(queue=queue, title=f"Сервер {n}") for n in range(3)]
    first = search.search(engineer, "сервер", per_page=2)
    second = search.search(engineer, "сервер", per_page=2, page=2)
    assert [h.ticket.pk for h in first.hits] == [tickets[2].pk, tickets[1].pk] and first.has_next
    assert [h.ticket.pk for h in second.hits] == [tickets[0].pk] and not second.has_next
    assert search.search(engineer, "сервер", page=10_000).page == 1


def test_filters_narrow_the_search(engineer, queue, printer):
    other = TicketFactory(queue=queue, priority=1)
    _message(other, "Принтер сломан")
    assert sorted(_found(engineer, "принтер")) == sorted([printer.pk, other.pk])
    assert _found(engineer, "принтер", tickets=Ticket.objects.filter(pk=other.pk)) == [other.pk]


def test_rebuild_search_restores_the_index(engineer, printer, capsys):
    call_command("rebuild_search")
    assert "Search index rebuilt" in capsys.readouterr().out
    assert _found(engineer, "принтер") == [printer.pk]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite triggers")
def test_sqlite_triggers_dropped_by_a_table_remake_come_back(engineer, printer):
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER tickets_message_fts_ai")
    _message(printer, "Сканер тоже")  # written while the trigger is missing
    assert search_schema.ensure(using="default") is True  # what post_migrate does
    assert _found(engineer, "сканер") == [printer.pk]
    assert search_schema.ensure(using="default") is False


@pytest.mark.postgres
def test_postgres_keeps_a_generated_vector_with_a_gin_index(engineer, printer):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname IN ('tickets_message_search', "
            "'tickets_ticket_search') ORDER BY indexname"
        )
        assert [row[0].split(" USING ")[1] for row in cursor.fetchall()] == ["gin (search_vector)"] * 2
        cursor.execute("SELECT search_vector::text FROM tickets_message WHERE ticket_id = %s", [printer.pk])
        assert "'принтер'" in cursor.fetchone()[0]
    _message(printer, "x" * 200_000 + " длинное")  # beyond the indexed length: accepted, not an error


@pytest.fixture
def common(monkeypatch):
    """Every source counts as common: the tickets are walked newest first and each is tested (the big-data path)."""
    for name in ("CAP_MESSAGES", "CAP_TICKETS", "CAP_PEOPLE"):
        monkeypatch.setattr(search, name, 0)


def test_a_common_word_is_found_by_the_walk_with_the_same_rules(common, engineer, other_engineer, queue, printer):
    org = Organisation.objects.create(name="Northwind Trading")
    customer = CustomerFactory(name="Ирина Соколова", organisation=org)
    order = RelatedObject.objects.create(kind=RelatedObject.Kind.ORDER, external_ref="A-1001", customer=customer)
    titled = TicketFactory(queue=queue, customer=customer, related_object=order, title="Принтер зажевал бумагу")
    noted = TicketFactory(queue=queue)
    _message(noted, "Принтер заменим завтра", kind=Message.Kind.INTERNAL_NOTE)
    assert _found(engineer, "принтеры") == [noted.pk, titled.pk, printer.pk]
    assert [h.where for h in search.search(engineer, "принтеры").hits] == ["note", "title", "message"]
    assert _found(engineer, "принтеры", per_page=2, page=2) == [printer.pk]
    for text in ("Соколова", "northwind", "a-1001"):
        assert _found(engineer, text) == [titled.pk], text
    assert _found(other_engineer, "принтер") == []
    observer = UserFactory(username="observer")
    noted.observers.add(observer)
    assert _found(observer, "принтер") == []  # the note is not theirs to find


def test_a_word_costs_a_fixed_number_of_queries(engineer, queue, printer, django_assert_num_queries):
    for n in range(30):
        _message(TicketFactory(queue=queue), f"Принтер номер {n}")
    # the user's roles and permissions (2), organisations, customers, related objects, message ids, title ids
    # (each capped; on PostgreSQL each of the last two after an EXPLAIN), one statement per kind of match found
    # (here: the ids), the page's rows, the fragments
    with django_assert_num_queries(12 if connection.vendor == "postgresql" else 10):
        assert len(search.search(engineer, "принтер").hits) == search.PER_PAGE
