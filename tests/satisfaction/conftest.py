"""A ticket of a customer with an email address, performed by the engineer, ready to be done."""

from __future__ import annotations

import pytest

from tests.channels.conftest import gateway  # noqa: F401 - the gateway fixture for the survey by gateway
from tests.factories import CustomerFactory, TicketFactory
from tickets import services
from tickets.models import Status


@pytest.fixture
def customer(db):
    return CustomerFactory(name="Алма", email="alma@client.example", language="ru")


@pytest.fixture
def work(db, queue, engineer, dispatcher, customer):
    ticket = TicketFactory(queue=queue, customer=customer, title="Принтер замял бумагу")
    services.ticket_assign(ticket, performer=engineer, actor=dispatcher)
    return ticket


def finish(ticket, actor):
    """Done: the StatusChanged event opens the survey (channels.handlers.send_survey)."""
    return services.ticket_change_status(ticket, status=Status.DONE, actor=actor)
