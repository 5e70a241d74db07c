"""The inbound intake API: POST /api/intake/v1/messages, and the intake_token command."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from intake import api
from intake import services as intake
from tests.factories import CustomerFactory, TicketFactory, TicketTypeFactory
from tickets import services
from tickets.models import (
    Channel,
    Customer,
    IntakeChannel,
    Message,
    Priority,
    RelatedObject,
    Status,
    Ticket,
    TicketEvent,
    hash_token,
)


@dataclass
class Gateway:
    channel: IntakeChannel
    token: str


def make_gateway(name, queue, kind=Channel.EMAIL, **fields) -> Gateway:
    channel = IntakeChannel(name=name, channel=kind, default_queue=queue, **fields)
    token = channel.set_token()
    channel.save()
    return Gateway(channel, token)


@pytest.fixture
def mail(queue):
    return make_gateway("Mail bridge", queue)


@pytest.fixture
def bot(other_queue):
    return make_gateway("Telegram bot", other_queue, kind=Channel.MESSENGER)


def url():
    return reverse("api:intake_message")


def send(client, token, payload, content_type="application/json", **extra):
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    if token is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.post(url(), data=body, content_type=content_type, **extra)


def message(**overrides):
    payload = {
        "message_id": "<m1@mail.client.example>",
        "customer": {"name": "Anna Ivanova", "email": "anna@client.example", "language": "en"},
        "subject": "Printer jams on page two",
        "body": "Hello, the printer jams again.",
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def counts():
    return {
        "customers": Customer.objects.count(),
        "tickets": Ticket.objects.count(),
        "messages": Message.objects.count(),
        "events": TicketEvent.objects.count(),
        "related": RelatedObject.objects.count(),
    }


def assert_refused(response, status, code, before):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert counts() == before
    return error


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
        "Anna Ivanova", "anna@client.example", "", "en",
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


@pytest.fixture
def anna(db):
    return CustomerFactory(name="Anna", email="anna@client.example")


@pytest.fixture
def annas_ticket(anna, queue):
    return TicketFactory(customer=anna, queue=queue, channel=Channel.EMAIL)


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
    payload = message(**{k: (v.replace("PK", str(annas_ticket.pk)) if isinstance(v, str) else v)
                         for k, v in reference.items()})
    if payload.get("ticket", "").isdigit():
        payload["ticket"] = int(payload["ticket"])
    before = counts()

    response = send(client, mail.token, payload)

    assert response.status_code == 201
    msg = Message.objects.get(pk=response.json()["message"])
    assert response.json() == {"ticket": annas_ticket.pk, "message": msg.pk, "created_ticket": False,
                               "duplicate": False}
    assert msg.ticket == annas_ticket and msg.customer == annas_ticket.customer
    assert msg.intake_channel == mail.channel
    after = counts()
    assert (after["customers"], after["tickets"], after["messages"]) == (
        before["customers"], before["tickets"], before["messages"] + 1,
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


@pytest.mark.parametrize("append", [False, True], ids=["new-ticket", "append"])
def test_a_concurrent_twin_that_loses_the_unique_constraint_gets_the_winners_ids(client, mail, monkeypatch, append):
    first = send(client, mail.token, message())
    payload = message(ticket=first.json()["ticket"]) if append else message()
    real = intake.find_delivered
    calls = []

    def blind_first_look(channel, message_id):
        # The twin's first look happens before the winner commits: it sees nothing.
        calls.append(message_id)
        return None if len(calls) == 1 else real(channel, message_id)

    monkeypatch.setattr(intake, "find_delivered", blind_first_look)
    before = counts()

    again = send(client, mail.token, payload)

    assert len(calls) == 2
    assert again.status_code == 200
    assert again.json() == {**first.json(), "created_ticket": False, "duplicate": True}
    assert counts() == before


@pytest.mark.postgres
@pytest.mark.parametrize("first_time_sender", [True, False], ids=["new-customer", "known-customer"])
def test_two_simultaneous_deliveries_of_one_message_create_it_once(transactional_db, queue, monkeypatch,
                                                                    first_time_sender):
    from django.db import connection
    from django.test import Client

    gateway = make_gateway("Mail bridge", queue)
    if not first_time_sender:
        CustomerFactory(email="anna@client.example")
    real = intake.find_delivered
    both_looked = threading.Barrier(2, timeout=10)
    seen = threading.local()

    def look_together(channel, message_id):
        # Both requests check for a duplicate before either writes: the database must settle it.
        found = real(channel, message_id)
        if not getattr(seen, "looked", False):
            seen.looked = True
            both_looked.wait()
        return found

    monkeypatch.setattr(intake, "find_delivered", look_together)
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


# --- Refusals: every one changes nothing -------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"message_id": None}, "message_id"),
        ({"message_id": "   "}, "message_id"),
        ({"message_id": "x" * 201}, "message_id"),
        ({"message_id": {"id": 1}}, "message_id"),
        ({"body": None}, "body"),
        ({"body": "  \n "}, "body"),
        ({"body": 42}, "body"),
        ({"subject": None}, "subject"),
        ({"subject": "   "}, "subject"),
        ({"customer": None}, "customer"),
        ({"customer": "anna@client.example"}, "customer"),
        ({"customer": {"name": "Anna"}}, "customer"),
        ({"customer": {"email": "not-an-email"}}, "customer.email"),
        ({"customer": {"email": ["anna@client.example"]}}, "customer.email"),
        ({"customer": {"phone": "12"}}, "customer.phone"),
        ({"customer": {"phone": "call me"}}, "customer.phone"),
        ({"customer": {"email": "anna@client.example", "language": "de"}}, "customer.language"),
        ({"priority": "urgent"}, "priority"),
        ({"priority": 3}, "priority"),
        ({"type": "no-such-type"}, "type"),
        ({"related": {"kind": "planet", "ref": "Mars"}}, "related.kind"),
        ({"related": {"kind": "order"}}, "related.ref"),
        ({"related": "A-1001"}, "related"),
        ({"ticket": "abc"}, "ticket"),
        ({"ticket": True}, "ticket"),
        ({"ticket": -5}, "ticket"),
        ({"sent_at": "yesterday"}, "sent_at"),
        ({"sent_at": "2025-02-30T10:00:00"}, "sent_at"),
    ],
)
def test_an_invalid_field_is_refused_with_its_name_and_changes_nothing(client, mail, overrides, field):
    before = counts()

    response = send(client, mail.token, message(**overrides))

    error = assert_refused(response, 422, "validation_error", before)
    assert field in error["fields"], error


def test_every_invalid_field_is_listed_at_once(client, mail):
    before = counts()

    response = send(client, mail.token, {"customer": {}, "priority": "asap"})

    error = assert_refused(response, 422, "validation_error", before)
    assert set(error["fields"]) == {"message_id", "customer", "body", "priority"}


def test_a_first_time_sender_is_not_created_when_the_type_is_unknown(client, mail):
    before = counts()

    response = send(client, mail.token, message(customer={"email": "new@client.example"}, type="nope"))

    assert_refused(response, 422, "validation_error", before)
    assert not Customer.objects.filter(email="new@client.example").exists()


def test_a_reference_to_another_customers_ticket_is_a_mismatch_that_changes_nothing(client, mail, annas_ticket):
    CustomerFactory(email="boris@client.example")
    before = counts()

    response = send(client, mail.token, message(customer={"email": "boris@client.example"}, ticket=annas_ticket.pk))

    error = assert_refused(response, 422, "ticket_mismatch", before)
    assert "anna" not in json.dumps(error).lower()
    assert annas_ticket.title not in error["message"]


def test_a_nonexistent_ticket_gives_the_same_mismatch_as_someone_elses(client, mail, anna, annas_ticket):
    CustomerFactory(email="boris@client.example")
    boris = message(customer={"email": "boris@client.example"})
    foreign = send(client, mail.token, {**boris, "ticket": annas_ticket.pk}).json()
    before = counts()

    missing = send(client, mail.token, {**boris, "subject": "Re: [#999999] Hello"})

    assert_refused(missing, 422, "ticket_mismatch", before)
    assert missing.json() == foreign
    huge = send(client, mail.token, {**boris, "ticket": "#9999999999999999999"})
    assert_refused(huge, 422, "ticket_mismatch", before)


def test_a_first_time_sender_referencing_a_ticket_is_refused_without_becoming_a_customer(client, mail, annas_ticket):
    before = counts()

    response = send(client, mail.token, message(customer={"phone": "+7 777 000 11 22"}, ticket=annas_ticket.pk))

    assert_refused(response, 422, "ticket_mismatch", before)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{not json", "malformed_json"),
        ("", "malformed_json"),
        ('{"message_id": NaN}', "malformed_json"),
        ("[" * 100_000 + "]" * 100_000, "malformed_json"),
        (b'{"body": "\xff"}', "malformed_json"),
        ("[1, 2]", "not_an_object"),
        ('"a string"', "not_an_object"),
        ("null", "not_an_object"),
    ],
    ids=["broken", "empty", "nan", "deeply-nested", "not-utf8", "array", "string", "null"],
)
def test_a_body_that_is_not_a_json_object_is_a_400(client, mail, settings, body, code):
    settings.INTAKE_MAX_BODY_BYTES = 512 * 1024
    before = counts()

    # The test client leaves out the content type of an empty body; a gateway would send it.
    response = send(client, mail.token, body, CONTENT_TYPE="application/json")

    assert_refused(response, 400, code, before)


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not-a-real-token"],
    ids=["absent", "empty", "scheme-only", "blank-token", "basic", "unknown"],
)
def test_a_missing_or_unknown_token_is_a_401_with_a_bearer_challenge(client, mail, authorization):
    before = counts()
    extra = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}

    response = send(client, None, message(), **extra)

    assert_refused(response, 401, "unauthorized", before)
    assert response["WWW-Authenticate"] == "Bearer"


def test_the_scheme_is_case_insensitive(client, mail):
    response = send(client, None, message(), HTTP_AUTHORIZATION=f"bearer {mail.token}")

    assert response.status_code == 201


@pytest.mark.parametrize("switch_off", ["revoked", "inactive"])
def test_a_revoked_or_inactive_channel_is_a_403(client, mail, switch_off):
    if switch_off == "revoked":
        mail.channel.revoked_at = timezone.now()
    else:
        mail.channel.is_active = False
    mail.channel.save()
    before = counts()

    response = send(client, mail.token, message())

    assert_refused(response, 403, "channel_revoked", before)


def test_an_oversized_body_is_a_413(client, mail, settings):
    settings.INTAKE_MAX_BODY_BYTES = 300
    before = counts()

    response = send(client, mail.token, message(body="x" * 400))

    assert_refused(response, 413, "payload_too_large", before)
    assert send(client, mail.token, message(body="fits")).status_code == 201


def test_a_body_longer_than_its_declared_length_is_still_a_413(mail, settings):
    settings.INTAKE_MAX_BODY_BYTES = 300
    request = RequestFactory().post(
        url(), data=json.dumps(message(body="x" * 400)), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {mail.token}",
    )
    request.META["CONTENT_LENGTH"] = "100"  # a gateway (or proxy) that lies about the length
    before = counts()

    response = api.intake_message(request)

    assert response.status_code == 413
    assert json.loads(response.content)["error"]["code"] == "payload_too_large"
    assert counts() == before


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_methods_are_a_405_in_json(client, mail, method):
    before = counts()

    response = getattr(client, method)(url(), HTTP_AUTHORIZATION=f"Bearer {mail.token}")

    assert_refused(response, 405, "method_not_allowed", before)
    assert response["Allow"] == "POST"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_a_body_that_is_not_declared_json_is_a_415(client, mail, content_type):
    before = counts()

    response = send(client, mail.token, json.dumps(message()), content_type=content_type)

    assert_refused(response, 415, "unsupported_media_type", before)


def test_json_with_a_charset_is_accepted_and_no_csrf_token_is_needed(mail):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)

    response = send(strict, mail.token, message(), content_type="application/json; charset=utf-8")

    assert response.status_code == 201


# --- The intake_token command --------------------------------------------------------------------


def run_command(*args, **options):
    out, err = StringIO(), StringIO()
    call_command("intake_token", *args, stdout=out, stderr=err, **options)
    return out.getvalue().strip(), err.getvalue()


def test_the_command_creates_a_channel_and_prints_a_working_token_once(client, queue):
    token, notes = run_command("Mail bridge", queue="service")

    channel = IntakeChannel.objects.get(name="Mail bridge")
    assert channel.token_hash == hash_token(token) and token not in channel.token_hash
    assert channel.channel == Channel.EMAIL and channel.default_queue == queue and channel.default_type is None
    assert channel.token_hint == token[:6]
    assert token not in notes
    assert send(client, token, message()).status_code == 201


def test_the_command_sets_the_channel_kind_and_default_type(queue):
    TicketTypeFactory(slug="question")

    run_command("Telegram bot", queue="service", channel="messenger", ticket_type="question")

    channel = IntakeChannel.objects.get(name="Telegram bot")
    assert channel.channel == Channel.MESSENGER and channel.default_type.slug == "question"


@pytest.mark.parametrize(
    ("options", "words"),
    [({}, "--queue"), ({"queue": "nowhere"}, "nowhere"), ({"queue": "service", "ticket_type": "nope"}, "nope")],
)
def test_creating_a_channel_needs_a_real_queue_and_type(queue, options, words):
    with pytest.raises(CommandError, match=words):
        run_command("Mail bridge", **options)
    assert not IntakeChannel.objects.exists()


def test_an_existing_channel_needs_rotate_and_keeps_its_token_otherwise(client, mail):
    with pytest.raises(CommandError, match="--rotate"):
        run_command("Mail bridge")

    mail.channel.refresh_from_db()
    assert mail.channel.token_hash == hash_token(mail.token)


def test_rotating_replaces_the_token_and_lifts_a_revocation_like_the_admin_action(client, mail):
    mail.channel.revoked_at = timezone.now()
    mail.channel.is_active = False
    mail.channel.save()

    token, notes = run_command("Mail bridge", rotate=True)

    assert token != mail.token and token not in notes
    mail.channel.refresh_from_db()
    assert mail.channel.token_hash == hash_token(token) and mail.channel.token_hint == token[:6]
    assert mail.channel.revoked_at is None and mail.channel.is_active
    assert send(client, mail.token, message()).status_code == 401
    assert send(client, token, message()).status_code == 201


def test_rotating_an_unknown_channel_creates_nothing(queue):
    with pytest.raises(CommandError, match="leave out --rotate"):
        run_command("Mail brige", rotate=True, queue="service")
    assert not IntakeChannel.objects.exists()


def test_rotating_refuses_creation_options(mail):
    with pytest.raises(CommandError, match="only when a channel is created"):
        run_command("Mail bridge", rotate=True, queue="service")
    mail.channel.refresh_from_db()
    assert mail.channel.token_hash == hash_token(mail.token)
