"""Fixtures of the intake API tests (tests/tickets/test_intake*.py): two gateways, a customer with a ticket."""

from __future__ import annotations

import pytest

from tests.factories import CustomerFactory, TicketFactory
from tests.tickets.intake_helpers import make_gateway
from tickets.models import Channel


@pytest.fixture
def mail(queue):
    return make_gateway("Mail bridge", queue)


@pytest.fixture
def bot(other_queue):
    return make_gateway("Telegram bot", other_queue, kind=Channel.MESSENGER)


@pytest.fixture
def anna(db):
    return CustomerFactory(name="Anna", email="anna@client.example")


@pytest.fixture
def annas_ticket(anna, queue):
    return TicketFactory(customer=anna, queue=queue, channel=Channel.EMAIL)
