"""Hostile text and paging never give a 500 (issue 19): lone surrogates and NUL are refused with the
field named, on SQLite and PostgreSQL alike; ``per_page`` is clamped; search input is bounded."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import CustomerFactory, TicketFactory

from .intake_helpers import assert_refused, counts, message, send

LONE_SURROGATE = "x\ud800"
NUL = "x\x00y"


@pytest.mark.parametrize("bad", [LONE_SURROGATE, NUL], ids=["lone-surrogate", "nul"])
@pytest.mark.parametrize(
    ("field", "build"),
    [
        ("subject", lambda bad: message(subject=bad)),
        ("body", lambda bad: message(body=bad)),
        ("customer.name", lambda bad: message(customer={"name": bad, "email": "anna@client.example"})),
        ("message_id", lambda bad: message(message_id=bad)),
        ("related.ref", lambda bad: message(related={"kind": "order", "ref": bad})),
    ],
)
def test_the_intake_api_refuses_unstorable_text_with_the_field_named(client, mail, field, build, bad):
    before = counts()
    error = assert_refused(send(client, mail.token, build(bad)), 422, "validation_error", before)
    assert field in error["fields"]


def test_the_customer_search_of_the_new_ticket_form_drops_nul(client, dispatcher):
    CustomerFactory(name="Alma Nurova")
    client.force_login(dispatcher)
    response = client.get(reverse("tickets:customer_search"), {"customer_q": "Al\x00ma"})
    assert response.status_code == 200
    assert "Alma Nurova" in response.content.decode()


@pytest.mark.parametrize("per_page", ["-1", "0", "100000", "abc", "1e9"])
@pytest.mark.parametrize("page", ["tickets:list", "tickets:my_work", "tickets:intake"])
def test_per_page_is_clamped_on_every_list(client, dispatcher, queue, page, per_page):
    for _ in range(3):
        TicketFactory(queue=queue)
    client.force_login(dispatcher)
    response = client.get(reverse(page), {"per_page": per_page})
    assert response.status_code == 200
    table = response.context["table"]
    assert 1 <= table.paginator.per_page <= 100


def test_an_enormous_search_is_refused_not_a_500(client, dispatcher):
    client.force_login(dispatcher)
    response = client.get(reverse("tickets:list"), {"q": "a" * 60_000, "customer": "b" * 60_000})
    assert response.status_code == 200
    assert response.context["filter"].errors
