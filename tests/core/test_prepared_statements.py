"""PostgreSQL plans a statement a connection runs again and again once, not on every run (``DB_PREPARED_STATEMENTS``).

Django turns psycopg's automatic prepared statements off unless ``prepare_threshold`` is given, and they need
server-side parameter binding; without both, the server plans every statement on every run, which cost more of its
CPU than running them did (``bench/bench_intake.py``, "database server CPU per request").
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from tests.factories import TicketFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")


def _threshold() -> int:
    threshold = settings.DATABASES["default"]["OPTIONS"].get("prepare_threshold")
    assert threshold, "the settings do not turn prepared statements on (DB_PREPARED_STATEMENTS)"
    return threshold


def _prepared(fragment: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", [f"%{fragment}%"])
        return [row[0] for row in cursor.fetchall()]


def test_a_statement_run_the_threshold_times_is_prepared_on_the_server(postgresql):
    threshold = _threshold()
    tickets = TicketFactory.create_batch(threshold + 1)
    marker = '"tickets_ticket"."deadline_set_by_person"'  # a column only this test's query names in its WHERE

    def run(ticket):
        return Ticket.objects.filter(pk=ticket.pk, deadline_set_by_person=False).values_list("pk", flat=True).first()

    for ticket in tickets[:threshold - 1]:
        assert run(ticket) == ticket.pk
    assert not [s for s in _prepared(marker) if "WHERE" in s and marker in s.split("WHERE", 1)[1]]

    for ticket in tickets[threshold - 1:]:
        assert run(ticket) == ticket.pk  # the same statement with other values: the same answers
    prepared = [s for s in _prepared(marker) if "WHERE" in s and marker in s.split("WHERE", 1)[1]]
    assert len(prepared) == 1
    assert "$1" in prepared[0]  # the values are bound on the server, not written into the text


def test_a_prepared_statement_sees_the_rows_written_after_it_was_prepared(postgresql):
    threshold = _threshold()
    first = TicketFactory()
    for _ in range(threshold + 1):
        assert Ticket.objects.filter(customer=first.customer).count() == 1
    TicketFactory(customer=first.customer)
    assert Ticket.objects.filter(customer=first.customer).count() == 2
