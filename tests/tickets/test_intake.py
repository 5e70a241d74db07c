"""The inbound intake API, POST /api/intake/v1/messages: new tickets and customers, appending to an open ticket,
idempotent deliveries. Refusals: test_intake_refusals.py; the intake_token command: test_intake_token_command.py."""

from __future__ import annotations

import base64
import threading

import pytest

from intake import services as intake
from tests.factories import CustomerFactory, TicketFactory, TicketTypeFactory
from tests.tickets.intake_helpers import counts, make_gateway, message, send
from tickets import services
from tickets.models import Channel, Customer, Message, Priority, RelatedObject, Status, Ticket

# --- New tickets and customers ---------------------------------------------------------------


def test_a_first_time_sender_by_email_becomes_a_customer_with_a_new_ticket(client, mail, queue):
    response = send(client, mail.token, message())

    assert response.status_code == 201
    body = response.json()
    ticket = Ticket.objects.get()
    msg = Message.objects.get()
    assert body == {"ticket": ticket.pk, "message": msg.pk, "created_ticket": True, "duplicate": False}
    customer = ticket.customer
    assert (customer.name, customer.email, customer.phone, customer.language) == (
        "Anna Ivanova",
        "anna@client.example",
        "",
        "en",
    )
    assert ticket.title == "Printer jams on page two"
    assert ticket.status == Status.NEW and ticket.queue == queue and ticket.channel == Channel.EMAIL
    assert ticket.created_by is None and ticket.priority == Priority.NORMAL
    assert msg.kind == Message.Kind.INBOUND and msg.body == "Hello, the printer jams again."
    assert msg.customer == customer and msg.channel == Channel.EMAIL
    assert msg.intake_channel == mail.channel and msg.external_id == "<m1@mail.client.example>"
    assert list(ticket.events.values_list("kind", flat=True)) == ["ticket.created"]


def test_a_first_time_sender_by_phone_is_stored_with_a_normalized_number(client, bot):
    payload = message(customer={"name": "Berik", "phone": "+7 (701) 123-45-67"}, message_id=48213)

    response = send(client, bot.token, payload)

    assert response.status_code == 201
    customer = Customer.objects.get()
    assert customer.phone == "+77011234567" and customer.email == "" and customer.name == "Berik"
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.MESSENGER and ticket.queue == bot.channel.default_queue
    assert Message.objects.get().external_id == "48213"


def test_an_existing_customer_is_matched_by_email_whatever_its_case(client, mail):
    existing = CustomerFactory(name="Anna I.", email="Anna@Client.Example")

    response = send(client, mail.token, message(customer={"name": "Somebody else", "email": "ANNA@client.example"}))

    assert response.status_code == 201
    assert Customer.objects.count() == 1
    assert Ticket.objects.get().customer == existing
    existing.refresh_from_db()
    assert existing.name == "Anna I."


def test_an_existing_customer_is_matched_by_phone_when_the_email_is_unknown(client, bot):
    existing = CustomerFactory(email="", phone="+77011234567")

    response = send(client, bot.token, message(customer={"email": "new@client.example", "phone": "+7 701 123 4567"}))

    assert response.status_code == 201
    assert Customer.objects.count() == 1
    assert Ticket.objects.get().customer == existing


def test_the_type_chooses_its_default_queue_and_the_priority_and_related_object_are_kept(client, mail, other_queue):
    TicketTypeFactory(slug="complaint", default_queue=other_queue)
    payload = message(type="complaint", priority="high", related={"kind": "order", "ref": "A-1001", "title": "Order"})

    response = send(client, mail.token, payload)

    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert ticket.ticket_type.slug == "complaint" and ticket.queue == other_queue
    assert ticket.priority == Priority.HIGH
    related = ticket.related_object
    assert (related.kind, related.external_ref, related.customer) == ("order", "A-1001", ticket.customer)

    send(client, mail.token, message(message_id="m2", subject="Another", related={"kind": "order", "ref": "A-1001"}))
    assert RelatedObject.objects.count() == 1
    assert Ticket.objects.filter(related_object=related).count() == 2


def test_without_a_type_the_channel_default_type_and_queue_apply(client, queue):
    gateway = make_gateway("Web form", queue, kind=Channel.WEB, default_type=TicketTypeFactory(slug="question"))

    response = send(client, gateway.token, message())

    ticket = Ticket.objects.get(pk=response.json()["ticket"])
    assert ticket.ticket_type.slug == "question" and ticket.queue == queue and ticket.channel == Channel.WEB


# --- Appending to an open ticket ----------------------------------------------------------------


@pytest.mark.parametrize(
    "reference",
    [
        {"ticket": "PK"},
        {"ticket": "#PK"},
        {"ticket": "PK", "subject": None},
        {"subject": "Re: [#PK] Printer jams"},
        {"subject": "[#PK]"},
    ],
    ids=["number", "hash-string", "number-without-subject", "subject-re", "subject-only-reference"],
)
def test_a_message_with_a_reference_is_appended_to_the_customers_ticket(client, mail, annas_ticket, reference):
    payload = message(
        **{k: (v.replace("PK", str(annas_ticket.pk)) if isinstance(v, str) else v) for k, v in reference.items()}
    )
    if payload.get("ticket", "").isdigit():
        payload["ticket"] = int(payload["ticket"])
    before = counts()

    response = send(client, mail.token, payload)

    assert response.status_code == 201
    msg = Message.objects.get(pk=response.json()["message"])
    assert response.json() == {
        "ticket": annas_ticket.pk,
        "message": msg.pk,
        "created_ticket": False,
        "duplicate": False,
    }
    assert msg.ticket == annas_ticket and msg.customer == annas_ticket.customer
    assert msg.intake_channel == mail.channel
    after = counts()
    assert (after["customers"], after["tickets"], after["messages"]) == (
        before["customers"],
        before["tickets"],
        before["messages"] + 1,
    )
    assert annas_ticket.events.last().kind == "ticket.customer_wrote"


def test_the_ticket_field_wins_over_a_reference_in_the_subject(client, mail, anna, annas_ticket):
    other = TicketFactory(customer=anna)

    response = send(client, mail.token, message(ticket=other.pk, subject=f"Re: [#{annas_ticket.pk}] Printer"))

    assert response.json()["ticket"] == other.pk


def test_a_reply_to_a_ticket_waiting_for_the_customer_puts_it_back_in_progress(
    client, mail, annas_ticket, engineer, dispatcher, waiting_reason
):
    services.ticket_assign(annas_ticket, performer=engineer, actor=dispatcher)
    services.ticket_change_status(annas_ticket, status=Status.WAITING, actor=engineer, reason=waiting_reason)

    response = send(client, mail.token, message(ticket=annas_ticket.pk))

    assert response.status_code == 201
    annas_ticket.refresh_from_db()
    assert annas_ticket.status == Status.IN_PROGRESS and annas_ticket.blocking_reason is None
    assert annas_ticket.events.last().data["cause"] == "customer_message"


def test_a_reply_to_a_ticket_waiting_for_stock_leaves_it_waiting(
    client, mail, annas_ticket, engineer, dispatcher, no_stock
):
    services.ticket_assign(annas_ticket, performer=engineer, actor=dispatcher)
    services.ticket_change_status(annas_ticket, status=Status.WAITING, actor=engineer, reason=no_stock)

    send(client, mail.token, message(ticket=annas_ticket.pk))

    annas_ticket.refresh_from_db()
    assert annas_ticket.status == Status.WAITING and annas_ticket.blocking_reason == no_stock


def test_a_reply_to_a_done_ticket_reopens_it(client, mail, annas_ticket, engineer, dispatcher):
    services.ticket_assign(annas_ticket, performer=engineer, actor=dispatcher)
    services.ticket_change_status(annas_ticket, status=Status.DONE, actor=engineer)

    response = send(client, mail.token, message(subject=f"Re: [#{annas_ticket.pk}] thanks, but it is back"))

    assert response.status_code == 201 and response.json()["created_ticket"] is False
    annas_ticket.refresh_from_db()
    assert annas_ticket.status == Status.IN_PROGRESS and annas_ticket.done_at is None


def test_a_reply_to_a_canceled_ticket_opens_a_new_one_that_mentions_the_old_reference(
    client, mail, annas_ticket, dispatcher
):
    services.ticket_change_status(annas_ticket, status=Status.CANCELED, actor=dispatcher)

    response = send(client, mail.token, message(ticket=annas_ticket.pk, subject=None))

    assert response.status_code == 201 and response.json()["created_ticket"] is True
    new = Ticket.objects.get(pk=response.json()["ticket"])
    assert new.pk != annas_ticket.pk and new.customer == annas_ticket.customer
    assert new.title == annas_ticket.title  # no subject: the old title carries over
    note = new.messages.get(kind=Message.Kind.INTERNAL_NOTE)
    assert annas_ticket.reference in note.body
    inbound = new.messages.get(kind=Message.Kind.INBOUND)
    assert inbound.pk == response.json()["message"] and inbound.body == "Hello, the printer jams again."
    annas_ticket.refresh_from_db()
    assert annas_ticket.status == Status.CANCELED and annas_ticket.messages.count() == 0


def test_another_channel_may_append_to_the_customers_ticket_and_is_recorded_on_the_message(
    client, mail, bot, annas_ticket
):
    response = send(client, bot.token, message(ticket=annas_ticket.pk, customer={"email": "anna@client.example"}))

    assert response.status_code == 201
    msg = Message.objects.get(pk=response.json()["message"])
    assert msg.ticket == annas_ticket
    assert msg.intake_channel == bot.channel and msg.channel == Channel.MESSENGER
    annas_ticket.refresh_from_db()
    assert annas_ticket.channel == Channel.EMAIL


# --- Idempotency --------------------------------------------------------------------------------


def test_a_retried_delivery_returns_the_same_ids_and_creates_nothing(client, mail):
    first = send(client, mail.token, message())
    before = counts()

    again = send(client, mail.token, message())

    assert again.status_code == 200
    assert again.json() == {**first.json(), "created_ticket": False, "duplicate": True}
    assert counts() == before


def test_a_retry_is_still_a_duplicate_when_the_rest_of_the_payload_would_now_be_refused(client, mail):
    kind = TicketTypeFactory(slug="complaint")
    first = send(client, mail.token, message(type="complaint"))
    kind.is_active = False
    kind.save()
    before = counts()

    again = send(client, mail.token, message(type="complaint"))

    assert again.status_code == 200 and again.json()["message"] == first.json()["message"]
    assert counts() == before


def test_the_same_message_id_on_another_channel_is_another_message(client, mail, bot):
    first = send(client, mail.token, message())

    second = send(client, bot.token, message(ticket=first.json()["ticket"]))

    assert second.status_code == 201 and second.json()["duplicate"] is False
    assert second.json()["message"] != first.json()["message"]
    assert Message.objects.filter(external_id="<m1@mail.client.example>").count() == 2


NOTES = {"filename": "notes.txt", "content_type": "text/plain", "data_base64": base64.b64encode(b"notes").decode()}


@pytest.mark.parametrize("files", [False, True], ids=["no-files", "files"])
@pytest.mark.parametrize("append", [False, True], ids=["new-ticket", "append"])
def test_a_delivery_that_loses_the_unique_constraint_gets_the_first_deliverys_ids(
    client, mail, monkeypatch, append, files
):
    extra = {"attachments": [NOTES]} if files else {}
    first = send(client, mail.token, message(**extra))
    payload = message(ticket=first.json()["ticket"], **extra) if append else message(**extra)
    real = intake.find_delivered
    calls = []

    def look(channel, message_id):
        # Without files the id is looked up only after the constraint refused the message. A message with files is
        # looked up first too; that look stands for a concurrent twin's, made before the first delivery committed.
        calls.append(message_id)
        return None if files and len(calls) == 1 else real(channel, message_id)

    monkeypatch.setattr(intake, "find_delivered", look)
    before = counts()

    again = send(client, mail.token, payload)

    assert len(calls) == (2 if files else 1)
    assert again.status_code == 200
    assert again.json() == {**first.json(), "created_ticket": False, "duplicate": True}
    assert counts() == before


@pytest.mark.postgres
@pytest.mark.parametrize("first_time_sender", [True, False], ids=["new-customer", "known-customer"])
def test_two_simultaneous_deliveries_of_one_message_create_it_once(
    transactional_db, queue, monkeypatch, first_time_sender
):
    from django.db import connection
    from django.test import Client

    gateway = make_gateway("Mail bridge", queue)
    if not first_time_sender:
        CustomerFactory(email="anna@client.example")
    real = intake._plan
    both_planned = threading.Barrier(2, timeout=10)

    def plan_together(*args, **kwargs):
        # Both requests have planned (found no ticket to append to, the customer or nobody) before either writes:
        # the database must settle it.
        plan = real(*args, **kwargs)
        both_planned.wait()
        return plan

    monkeypatch.setattr(intake, "_plan", plan_together)
    responses = []

    def deliver():
        try:
            responses.append(send(Client(), gateway.token, message()))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(r.status_code for r in responses) == [200, 201]
    assert len({(r.json()["ticket"], r.json()["message"]) for r in responses}) == 1
    assert (Customer.objects.count(), Ticket.objects.count(), Message.objects.count()) == (1, 1, 1)
