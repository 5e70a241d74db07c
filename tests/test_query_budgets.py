"""Query budgets of what people and gateways hit all day, pinned at the release before the floors.

Measured on the release before the apps moved onto floors (246e1f0): the ticket page 29 queries,
a new ticket through the intake API 19, a message appended to a ticket 17. Events and the wiring
table must not cost more than the direct calls they replaced.
"""

from __future__ import annotations

import json

from django.urls import reverse

from tests.factories import CustomerFactory
from tickets import services
from tickets.models import Channel, IntakeChannel, Status

# 29, + the attachments of the conversation (one prefetch, issue 14), + the approver list (issue 16),
# + the canned replies the reply box offers (issue 17)
# + the ticket's links and the customer's other tickets (one query each, issue 17; their SLA clocks are one more
# prefetch when there are other tickets: tests/portal/test_merge_and_links_views.py pins that it stays constant)
TICKET_PAGE = 29 + 3 + 2
INTAKE_NEW = 19
INTAKE_APPEND = 17


def test_the_ticket_page_costs_no_more_queries_than_before(
    client, queue, engineer, dispatcher, waiting_reason, django_assert_max_num_queries
):
    ticket = services.ticket_create(actor=dispatcher, title="Leak", customer=CustomerFactory(), queue=queue,
                                    description="It leaks", performer=engineer)
    services.ticket_reply(ticket, body="We are on it", actor=engineer)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=waiting_reason)
    services.ticket_receive_customer_message(ticket, body="Photo attached", channel=Channel.EMAIL)
    services.ticket_add_note(ticket, body="Ask the warehouse", actor=engineer)
    client.force_login(engineer)
    url = reverse("tickets:detail", args=[ticket.pk])
    assert client.get(url).status_code == 200  # warm: session, sites, translations
    with django_assert_max_num_queries(TICKET_PAGE):
        assert client.get(url).status_code == 200


def test_intake_costs_no_more_queries_than_before(client, queue, django_assert_max_num_queries):
    channel = IntakeChannel(name="Mail bridge", channel=Channel.EMAIL, default_queue=queue)
    token = channel.set_token()
    channel.save()

    def post(message_id, **extra):
        body = {"message_id": message_id, "subject": "Printer jam", "body": "It jams",
                "customer": {"name": "Alma", "email": "alma@example.com"}, **extra}
        response = client.post(reverse("api:intake_message"), json.dumps(body), content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code in (200, 201), response.content
        return response.json()

    post("warm-up")
    with django_assert_max_num_queries(INTAKE_NEW):
        first = post("m-1")
    with django_assert_max_num_queries(INTAKE_APPEND):
        post("m-2", ticket=first["ticket"])
