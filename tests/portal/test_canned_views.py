"""Canned replies in the portal: maintained by managers and admins, inserted from the ticket's reply box."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import TicketFactory
from tickets.models import CannedReply, Message


@pytest.fixture
def template(db, queue):
    return CannedReply.objects.create(
        name="Received",
        name_ru="Получено",
        queue=queue,
        body="Dear {{customer_name}}, we have {{ticket_number}}.",
        body_ru="Здравствуйте, {{customer_name}}! Заявка {{ticket_number}} у нас. {{performer}}",
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


# --- Maintaining them --------------------------------------------------------------------------------


def test_a_manager_creates_edits_and_deletes_a_canned_reply(client, manager, queue):
    client.force_login(manager)
    assert client.get(reverse("tickets:canned_create")).status_code == 200
    response = client.post(
        reverse("tickets:canned_create"),
        {
            "name": "Thanks",
            "name_ru": "Спасибо",
            "queue": "",
            "body": "",
            "body_ru": "Спасибо, {{customer_name}}!",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    reply = CannedReply.objects.get()
    assert (reply.queue, reply.created_by, reply.body_ru) == (None, manager, "Спасибо, {{customer_name}}!")
    listing = client.get(reverse("tickets:canned_list")).content.decode()
    assert "Thanks" in listing
    client.post(
        reverse("tickets:canned_edit", args=[reply.pk]),
        {
            "name": "Thanks",
            "name_ru": "Спасибо",
            "queue": queue.pk,
            "body": "Thanks!",
            "body_ru": "Спасибо!",
        },
    )
    reply.refresh_from_db()
    assert (reply.queue, reply.body, reply.is_active) == (queue, "Thanks!", False)
    client.post(reverse("tickets:canned_delete", args=[reply.pk]))
    assert not CannedReply.objects.exists()


def test_unknown_placeholders_and_empty_texts_are_refused(client, manager):
    client.force_login(manager)
    response = client.post(
        reverse("tickets:canned_create"),
        {
            "name": "Bad",
            "body": "Hi {{customer_email}}",
            "body_ru": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "Unknown placeholders: {{customer_email}}" in response.content.decode()
    response = client.post(reverse("tickets:canned_create"), {"name": "Empty", "body": " ", "body_ru": ""})
    assert "Write the text in Russian, in English, or in both." in response.content.decode()
    assert not CannedReply.objects.exists()


@pytest.mark.parametrize("role", ["engineer", "dispatcher"])
def test_engineers_and_dispatchers_may_not_maintain_them(client, request, role, template):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("tickets:canned_list")).status_code == 403
    assert client.get(reverse("tickets:canned_create")).status_code == 403
    assert client.post(reverse("tickets:canned_create"), {"name": "x", "body": "x"}).status_code == 403
    assert (
        client.post(reverse("tickets:canned_edit", args=[template.pk]), {"name": "x", "body": "x"}).status_code == 403
    )
    assert client.get(reverse("tickets:canned_delete", args=[template.pk])).status_code == 403
    assert client.post(reverse("tickets:canned_delete", args=[template.pk])).status_code == 403
    assert CannedReply.objects.get().name == "Received"


def test_users_without_a_role_are_refused_and_anonymous_ones_sent_to_log_in(client, django_user_model, template):
    delete = reverse("tickets:canned_delete", args=[template.pk])
    assert reverse("login") in client.get(reverse("tickets:canned_list")).url
    assert reverse("login") in client.get(delete).url
    client.force_login(django_user_model.objects.create_user("nobody"))
    assert client.get(reverse("tickets:canned_list")).status_code == 403
    assert client.get(delete).status_code == 403 and client.post(delete).status_code == 403
    assert CannedReply.objects.filter(pk=template.pk).exists()


def test_a_missing_template_is_not_found_and_delete_asks_first(client, manager, template):
    client.force_login(manager)
    assert client.get(reverse("tickets:canned_edit", args=[999999])).status_code == 404
    assert client.get(reverse("tickets:canned_delete", args=[999999])).status_code == 404
    assert client.post(reverse("tickets:canned_delete", args=[999999])).status_code == 404
    asked = client.get(reverse("tickets:canned_delete", args=[template.pk]))
    assert asked.status_code == 200 and "Delete the canned reply “Received”?" in asked.content.decode()
    assert CannedReply.objects.filter(pk=template.pk).exists()  # asking deleted nothing
    assert client.put(reverse("tickets:canned_delete", args=[template.pk])).status_code == 405
    assert client.post(reverse("tickets:canned_delete", args=[template.pk])).status_code == 302
    assert not CannedReply.objects.filter(pk=template.pk).exists()


def test_admins_maintain_them_in_django_admin(client, admin_user, template):
    client.force_login(admin_user)
    assert client.get(reverse("admin:tickets_cannedreply_changelist")).status_code == 200
    page = client.get(reverse("admin:tickets_cannedreply_change", args=[template.pk])).content.decode()
    assert "{{customer_name}}" in page


# --- Inserting one --------------------------------------------------------------------------------------


def test_the_reply_box_offers_the_tickets_templates(client, engineer, ticket, template, other_queue):
    CannedReply.objects.create(name="Sales pitch", body="Buy", queue=other_queue)
    client.force_login(engineer)
    page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "Received" in page and "Sales pitch" not in page


def test_a_get_parameter_fills_the_reply_box_without_javascript(client, engineer, ticket, template):
    client.force_login(engineer)
    response = client.get(reverse("tickets:detail", args=[ticket.pk]), {"canned": template.pk, "canned_lang": "ru"})
    page = response.content.decode()
    assert f"Здравствуйте, {ticket.customer.name}! Заявка #{ticket.pk} у нас. {{{{performer}}}}" in page
    assert f'name="canned" value="{template.pk}"' in page
    assert "Still to fill in by hand:" in page  # no performer yet


def test_english_is_filled_on_request(client, engineer, ticket, template):
    client.force_login(engineer)
    page = client.get(
        reverse("tickets:detail", args=[ticket.pk]), {"canned": template.pk, "canned_lang": "en"}
    ).content.decode()
    assert f"Dear {ticket.customer.name}, we have #{ticket.pk}." in page
    assert "Still to fill in by hand:" not in page


@pytest.mark.parametrize("value", ["999999", "abc", "{{ 7*7 }}"])
def test_a_template_not_offered_is_a_message_and_an_empty_box(client, engineer, ticket, value, other_queue):
    foreign = CannedReply.objects.create(name="Sales", body="Buy", queue=other_queue)
    client.force_login(engineer)
    for wanted in (value, str(foreign.pk)):
        response = client.get(reverse("tickets:detail", args=[ticket.pk]), {"canned": wanted})
        assert response.status_code == 200
        assert "This canned reply is not offered for this ticket." in messages_of(response)
        assert "Buy" not in response.content.decode()


def test_sending_the_reply_counts_the_templates_use(client, engineer, ticket, template):
    client.force_login(engineer)
    response = client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "Здравствуйте!", "canned": template.pk})
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.usage_count == 1
    assert Message.objects.filter(ticket=ticket, body="Здравствуйте!").exists()


def test_a_bad_or_foreign_template_id_sends_the_reply_and_counts_nothing(
    client, engineer, ticket, template, other_queue
):
    foreign = CannedReply.objects.create(name="Sales", body="Buy", queue=other_queue)
    client.force_login(engineer)
    for value in ("abc", foreign.pk):
        client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "Hello", "canned": value})
    foreign.refresh_from_db()
    template.refresh_from_db()
    assert (foreign.usage_count, template.usage_count) == (0, 0)
    assert ticket.messages.filter(body="Hello").count() == 2


def test_an_observer_who_cannot_reply_gets_no_reply_box(client, django_user_model, template, queue):
    watcher = django_user_model.objects.create_user("watcher")
    ticket = TicketFactory(queue=queue)
    ticket.observers.add(watcher)
    client.force_login(watcher)
    page = client.get(reverse("tickets:detail", args=[ticket.pk]), {"canned": template.pk}).content.decode()
    assert "Received" not in page and "canned_pick" not in page


def test_the_pages_speak_russian(client, manager, dispatcher, template, ticket):
    client.cookies["django_language"] = "ru"
    client.force_login(manager)
    assert "Шаблоны ответов" in client.get(reverse("tickets:canned_list")).content.decode()
    client.force_login(dispatcher)
    page = client.get(reverse("tickets:list")).content.decode()
    assert "Массовое действие" in page and "Применить к заявкам" in page
    page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "Вставить на русском" in page
