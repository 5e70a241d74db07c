"""Internal tasks in the portal (issue 16, point 6): any role asks another department; never delivered to customers."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import CustomerFactory, TicketFactory, UserFactory
from tickets import services
from tickets.models import Message, Ticket, TicketKind

URL = reverse("tickets:create_internal")


def test_an_engineer_asks_another_department_and_sees_the_task(client, engineer, queue, other_queue):
    client.force_login(engineer)
    page = client.get(URL)
    assert page.status_code == 200
    assert "New internal task" in page.content.decode()
    response = client.post(
        URL,
        {
            "title": "Confirm the reserve for order 42",
            "description": "Two units by noon",
            "queue": other_queue.pk,
            "requester_queue": queue.pk,
            "priority": 2,
        },
    )
    task = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("tickets:detail", args=[task.pk])
    assert (task.kind, task.requester_user, task.requester_queue, task.queue) == (
        TicketKind.INTERNAL,
        engineer,
        queue,
        other_queue,
    )
    detail = client.get(response["Location"]).content.decode()
    assert "Internal task" in detail and "Requested by" in detail
    reply_url = reverse("tickets:reply", args=[task.pk])
    assert f'action="{reply_url}"' not in detail  # no reply form
    listing = client.get(reverse("tickets:list")).content.decode()
    assert "Confirm the reserve for order 42" in listing


def test_bad_input_creates_nothing_and_says_why(client, engineer, queue, other_queue):
    client.force_login(engineer)
    response = client.post(URL, {"title": "", "queue": other_queue.pk, "priority": 2})
    assert response.status_code == 200 and not Ticket.objects.exists()
    response = client.post(
        URL, {"title": "Invoice", "queue": queue.pk, "requester_queue": other_queue.pk, "priority": 2}
    )
    assert "You can only ask on behalf of your own queues." in response.content.decode()
    assert not Ticket.objects.exists()
    response = client.post(URL, {"title": "Invoice", "queue": 999999, "priority": "x"})
    assert response.status_code == 200 and not Ticket.objects.exists()


@pytest.mark.parametrize("who", ["anonymous", "no_role"])
def test_people_without_a_role_may_not_create_internal_tasks(client, db, who, queue):
    if who == "no_role":
        client.force_login(UserFactory(username="visitor"))
        assert client.get(URL).status_code == 403
        assert client.post(URL, {"title": "x", "queue": queue.pk, "priority": 2}).status_code == 403
    else:
        assert client.get(URL).status_code == 302
    assert not Ticket.objects.exists()


def test_a_public_reply_to_an_internal_task_is_refused_with_a_clear_message(client, engineer, queue):
    task = services.ticket_create(actor=engineer, title="Issue an invoice", queue=queue, requester_user=engineer)
    client.force_login(engineer)
    response = client.post(reverse("tickets:reply", args=[task.pk]), {"body": "Hello"}, follow=True)
    assert "An internal task has no customer to reply to" in response.content.decode()
    assert not Message.objects.filter(ticket=task, kind=Message.Kind.PUBLIC_REPLY).exists()


def test_a_customer_ticket_page_still_shows_the_customer_and_the_reply_form(client, engineer, queue):
    ticket = TicketFactory(queue=queue, customer=CustomerFactory(name="Aigerim"), performer=engineer)
    client.force_login(engineer)
    page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "Aigerim" in page and reverse("tickets:reply", args=[ticket.pk]) in page and "Internal task" not in page
