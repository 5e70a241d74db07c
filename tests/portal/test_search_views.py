"""``GET /search/``: who may search, what a bare number opens, filters, escaping, hostile input."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import TicketFactory, UserFactory
from tickets.models import Message, Priority

URL = reverse("search")


def _message(ticket, body, kind=Message.Kind.INBOUND):
    return Message.objects.create(ticket=ticket, kind=kind, body=body)


def test_anonymous_is_sent_to_log_in(client, ticket):
    response = client.get(URL, {"q": str(ticket.pk)})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_bare_number_opens_the_ticket_the_user_may_open(client, engineer, ticket):
    client.force_login(engineer)
    for text in (str(ticket.pk), f"#{ticket.pk}", f" # {ticket.pk} "):
        response = client.get(URL, {"q": text})
        assert response.status_code == 302 and response["Location"] == reverse("tickets:detail", args=[ticket.pk])


def test_a_number_of_a_ticket_the_user_cannot_open_reveals_nothing(client, other_engineer, ticket):
    ticket.title = "Тайна соседней очереди"
    ticket.save()
    client.force_login(other_engineer)
    response = client.get(URL, {"q": f"#{ticket.pk}"})
    assert response.status_code == 200
    assert "Тайна" not in response.content.decode() and response.context["results"].hits == []


@pytest.mark.parametrize("role", ["engineer", "other_engineer", "dispatcher", "manager", "admin_user"])
def test_each_role_finds_exactly_what_the_ticket_list_shows(client, request, role, ticket, other_queue):
    _message(ticket, "Кондиционер течёт")
    hidden = TicketFactory(queue=other_queue)
    _message(hidden, "Кондиционер шумит")
    user = request.getfixturevalue(role)
    client.force_login(user)
    found = {hit.ticket.pk for hit in client.get(URL, {"q": "кондиционер"}).context["results"].hits}
    listed = set(client.get(reverse("tickets:list")).context["table"].data.data.values_list("pk", flat=True))
    assert found == listed & {ticket.pk, hidden.pk}


def test_a_user_without_a_role_finds_only_what_they_observe_and_never_notes(client, ticket):
    observer = UserFactory(username="watcher")
    ticket.observers.add(observer)
    _message(ticket, "Секретная заметка про скидку", kind=Message.Kind.INTERNAL_NOTE)
    _message(TicketFactory(queue=ticket.queue), "Скидка для другого клиента")
    client.force_login(observer)
    response = client.get(URL, {"q": "скидка"})
    assert response.status_code == 200 and response.context["results"].hits == []
    assert "Секретная" not in response.content.decode()


def test_message_text_is_escaped_and_the_hit_is_marked(client, engineer, ticket):
    _message(ticket, '<script>alert("x")</script> <b>Роутер</b> перезагружается')
    client.force_login(engineer)
    html = client.get(URL, {"q": "роутеры"}).content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "<mark>Роутер</mark>" in html and "&lt;b&gt;" in html
    assert 'value="роутеры"' in html  # the top bar keeps the words


def test_the_ticket_list_filters_narrow_the_results(client, engineer, queue, ticket):
    urgent = TicketFactory(queue=queue, priority=Priority.CRITICAL)
    _message(ticket, "Сервер недоступен")
    _message(urgent, "Сервер недоступен снова")
    client.force_login(engineer)
    found = client.get(URL, {"q": "сервер", "priority": Priority.CRITICAL}).context["results"].hits
    assert [hit.ticket.pk for hit in found] == [urgent.pk]
    refused = client.get(URL, {"q": "сервер", "priority": "nonsense"})  # as on the ticket list: said, not applied
    assert refused.status_code == 200 and refused.context["filter"].form.errors["priority"]


def test_the_filter_fields_are_fetched_when_the_box_opens_unless_a_filter_is_set(client, engineer, queue, ticket):
    client.force_login(engineer)
    plain = client.get(URL, {"q": "сервер"}).content.decode()
    assert 'name="priority"' not in plain and "?filters=form" in plain  # no field choices read for a plain search
    fields = client.get(URL, {"filters": "form"})
    assert fields.status_code == 200 and 'name="priority"' in fields.content.decode()
    assert "search-results" not in fields.content.decode()  # the fields alone, no search
    filtered = client.get(URL, {"q": "сервер", "queue": queue.pk}).content.decode()
    assert 'name="priority"' in filtered and '<details class="filters-toggle" open>' in filtered
    client.logout()
    assert client.get(URL, {"filters": "form"}).status_code == 302  # a login first, as for the search


def test_pages_link_to_each_other_with_the_filters_kept(client, engineer, queue):
    for n in range(27):
        TicketFactory(queue=queue, title=f"Счётчик {n}")
    client.force_login(engineer)
    first = client.get(URL, {"q": "счётчик", "queue": queue.pk})
    assert len(first.context["results"].hits) == 25
    html = first.content.decode()
    assert f"queue={queue.pk}" in html and "page=2" in html
    second = client.get(URL, {"q": "счётчик", "queue": queue.pk, "page": "2"})
    assert len(second.context["results"].hits) == 2


@pytest.mark.parametrize("q", ["x" * 60_000, "a\x00b", '"NEAR(a b)" OR *', "-(", "1" * 40, "#-1", "Роутер*"])
@pytest.mark.parametrize("page", ["1", "-1", "x", "99999999999999999999", "\x00"])
def test_hostile_input_never_errors(client, engineer, ticket, q, page):
    client.force_login(engineer)
    assert client.get(URL, {"q": q, "page": page}).status_code == 200


@pytest.mark.parametrize("raw", ["q=%ED%A0%80", "q=%00%00", "q=%FF%FE", "q=%22%22%22&page=%ED%A0%80", "q[]=1&q=2"])
def test_undecodable_bytes_never_error(client, engineer, raw):
    client.force_login(engineer)
    assert client.get(f"{URL}?{raw}").status_code == 200


def test_the_page_speaks_russian(client, engineer, ticket):
    _message(ticket, "Касса не печатает чек")
    client.force_login(engineer)
    client.cookies["django_language"] = "ru"
    html = client.get(URL, {"q": "чеки"}).content.decode()
    assert "Поиск" in html and "найдено в сообщении" in html
