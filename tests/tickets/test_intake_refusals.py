"""The inbound intake API refuses what it cannot take, and every refusal changes nothing: invalid fields,
mismatched references, bad bodies, tokens, channels, sizes, methods and content types."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory
from django.utils import timezone

from intake import api
from tests.factories import CustomerFactory
from tests.tickets.intake_helpers import assert_refused, counts, message, send, url
from tickets.models import Customer

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
