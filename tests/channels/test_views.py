"""The ticket page's delivery states, the Retry button (who may press it) and the logged call."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from channels import outbox
from channels.models import OutboundMessage
from tests.factories import CustomerFactory, MembershipFactory, UserFactory
from tickets import delivery, services
from tickets.models import Channel, DeliveryStatus, Message, Status


@pytest.fixture
def assigned(db, queue, dispatcher, engineer):
    ticket = services.ticket_create(
        actor=dispatcher,
        title="Leak",
        customer=CustomerFactory(language="en"),
        queue=queue,
        description="It leaks",
        performer=engineer,
    )
    return ticket


@pytest.fixture
def failed_reply(assigned, engineer):
    reply = services.ticket_reply(assigned, body="We are on it", actor=engineer)
    OutboundMessage.objects.filter(message=reply).update(status=OutboundMessage.Status.FAILED, last_error="HTTP 410")
    delivery.message_delivery_failed(reply, error="HTTP 410 from the bridge", route="gateway")
    return reply


def retry_url(message) -> str:
    return reverse("channels:retry", args=[message.pk])


@pytest.mark.parametrize("who", ["engineer", "dispatcher", "manager", "admin_user"])
def test_the_performer_dispatcher_manager_and_admin_may_retry_a_failed_reply(client, request, failed_reply, who):
    client.force_login(request.getfixturevalue(who))
    response = client.post(retry_url(failed_reply))
    assert response.status_code == 302
    failed_reply.refresh_from_db()
    assert failed_reply.delivery_status == DeliveryStatus.SENDING and failed_reply.delivery_error == ""
    assert outbox.deliver_pending()["sent"] == 1
    assert len(mail.outbox) == 1
    failed_reply.refresh_from_db()
    assert failed_reply.delivery_status == DeliveryStatus.SENT


def test_a_colleague_in_the_queue_who_does_not_perform_it_gets_403(client, queue, failed_reply):
    colleague = UserFactory(role="engineer")
    MembershipFactory(queue=queue, user=colleague)
    client.force_login(colleague)
    assert client.post(retry_url(failed_reply)).status_code == 403
    failed_reply.refresh_from_db()
    assert failed_reply.delivery_status == DeliveryStatus.FAILED


def test_someone_who_cannot_see_the_ticket_gets_404_and_a_get_is_refused(
    client, other_engineer, engineer, failed_reply
):
    client.force_login(other_engineer)
    assert client.post(retry_url(failed_reply)).status_code == 404
    client.force_login(engineer)
    assert client.get(retry_url(failed_reply)).status_code == 405
    client.logout()
    assert client.post(retry_url(failed_reply)).status_code == 302  # to the login page
    failed_reply.refresh_from_db()
    assert failed_reply.delivery_status == DeliveryStatus.FAILED


def test_retrying_a_reply_that_was_sent_changes_nothing(client, assigned, engineer):
    reply = services.ticket_reply(assigned, body="Hi", actor=engineer)
    outbox.deliver_pending()
    client.force_login(engineer)
    response = client.post(retry_url(reply), follow=True)
    assert "Only a reply that was not delivered can be sent again." in response.content.decode()
    assert OutboundMessage.objects.get(message=reply).attempts == 1


def test_the_page_shows_sending_sent_and_failed_with_retry_for_the_performer_only(
    client, queue, assigned, engineer, failed_reply
):
    sent = services.ticket_reply(assigned, body="Second", actor=engineer)
    outbox.deliver_pending()
    services.ticket_reply(assigned, body="Third", actor=engineer)
    client.force_login(engineer)
    page = client.get(reverse("tickets:detail", args=[assigned.pk])).content.decode()
    assert page.count('data-delivery="failed"') == 1 and "HTTP 410 from the bridge" in page
    assert page.count('data-delivery="sent"') == 1 and page.count('data-delivery="sending"') == 1
    assert retry_url(failed_reply) in page and retry_url(sent) not in page
    colleague = UserFactory(role="engineer")
    MembershipFactory(queue=queue, user=colleague)
    client.force_login(colleague)
    page = client.get(reverse("tickets:detail", args=[assigned.pk])).content.decode()
    assert 'data-delivery="failed"' in page and retry_url(failed_reply) not in page


def test_the_flash_after_a_reply_says_it_is_being_sent(client, assigned, engineer):
    client.force_login(engineer)
    response = client.post(reverse("tickets:reply", args=[assigned.pk]), {"body": "Hello"}, follow=True)
    assert "Your reply is being sent to the customer." in response.content.decode()
    assert "Your reply was sent" not in response.content.decode()


def test_a_reply_nothing_can_carry_is_refused_and_the_logged_call_offered(client, queue, dispatcher, engineer):
    customer = CustomerFactory(email="", phone="+77010000000")
    ticket = services.ticket_create(
        actor=dispatcher,
        title="Call me",
        customer=customer,
        queue=queue,
        channel=Channel.PHONE,
        description="Called",
        performer=engineer,
    )
    client.force_login(engineer)
    page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "a written reply cannot reach this customer" in page
    response = client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "Hello"}, follow=True)
    assert "record it as a logged call" in response.content.decode()
    assert not ticket.messages.filter(kind=Message.Kind.PUBLIC_REPLY).exists()


def test_a_logged_call_is_a_delivered_public_reply_that_stops_nothing_twice(client, queue, dispatcher, engineer):
    customer = CustomerFactory(email="", phone="+77010000000")
    ticket = services.ticket_create(
        actor=dispatcher,
        title="Call me",
        customer=customer,
        queue=queue,
        channel=Channel.PHONE,
        description="Called",
        performer=engineer,
    )
    client.force_login(engineer)
    url = reverse("channels:log_call", args=[ticket.pk])
    response = client.post(url, {"body": "Told them the part arrives Monday"}, follow=True)
    assert "The call is logged" in response.content.decode()
    call = ticket.messages.get(kind=Message.Kind.PUBLIC_REPLY)
    assert call.channel == Channel.PHONE and call.delivery_status == DeliveryStatus.SENT and call.sent_at
    ticket.refresh_from_db()
    assert ticket.first_public_reply_at == call.sent_at and ticket.status == Status.IN_PROGRESS
    assert client.post(url, {"body": "  "}, follow=True).status_code == 200
    assert ticket.messages.filter(kind=Message.Kind.PUBLIC_REPLY).count() == 1
    assert outbox.deliver_pending() == {"sent": 0, "failed": 0, "retrying": 0}


def test_an_observer_may_not_log_a_call_and_an_outsider_gets_404(client, assigned, other_engineer):
    observer = UserFactory(role="engineer")
    assigned.observers.add(observer)
    client.force_login(observer)
    url = reverse("channels:log_call", args=[assigned.pk])
    assert client.post(url, {"body": "x"}).status_code == 403
    client.force_login(other_engineer)
    assert client.post(url, {"body": "x"}).status_code == 404
    assert not assigned.messages.filter(kind=Message.Kind.PUBLIC_REPLY).exists()
