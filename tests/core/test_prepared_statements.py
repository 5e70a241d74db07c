"""PostgreSQL plans the hot lookups once per connection (``Precompiled(…, prepare=True)``, ``DB_PREPARED_STATEMENTS``).

Planning the wide joins of those lookups cost the server several times running them (``bench/bench_intake.py``,
"database server CPU per request"). Only the statements marked one by one are prepared: the ORM's queries keep
Django's client-side binding, because a generic plan cannot use a partial index whose condition a placeholder stands
in for (the admin's intake board took twice as long with every statement prepared).
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from core import bulk, fastinsert
from core.rowcache import Precompiled, PrecompiledUpdate
from tests.factories import CustomerFactory, TicketFactory
from tickets.models import Customer, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")


def _prepared(fragment: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", [f"%{fragment}%"])
        return [row[0] for row in cursor.fetchall()]


# The statements of these tests, told apart from the suite's others by their WHERE and ORDER BY.
_BY_NAME = Precompiled(lambda name: Customer.objects.filter(name=name).order_by("pk"), "\x00placeholder-name",
                       prepare=True)
_BY_NAME_UNPREPARED = Precompiled(lambda name: Customer.objects.filter(name=name).order_by("-pk"),
                                  "\x00placeholder-name", prepare=False)


def test_a_marked_statement_is_prepared_on_the_server_with_its_values_bound_there(postgresql):
    first, second = CustomerFactory(name="first"), CustomerFactory(name="second")
    assert _BY_NAME.objects("first") == [first]
    prepared = _prepared('"tickets_customer"."name" = $1')
    assert len(prepared) == 1 and "ORDER BY" in prepared[0]
    assert _BY_NAME.objects("second") == [second]  # the same prepared statement, other values
    assert _BY_NAME.objects("none") == []
    # Django's queries go on without psycopg's preparing (nothing counted for them, as Django leaves it)
    assert connection.connection.prepare_threshold is None
    assert len(_prepared('"tickets_customer"."name" = $1')) == 1


def test_a_prepared_statement_sees_the_rows_written_after_it_was_prepared(postgresql):
    first = CustomerFactory(name="later")
    assert _BY_NAME.objects("later") == [first]
    second = CustomerFactory(name="later")
    assert _BY_NAME.objects("later") == [first, second]


def test_unmarked_statements_and_the_orm_are_not_prepared(postgresql):
    ticket = TicketFactory()
    CustomerFactory(name="x")
    for _ in range(12):
        assert _BY_NAME_UNPREPARED.rows("x")
        assert Ticket.objects.filter(pk=ticket.pk, deadline_set_by_person=False).exists()
    assert not _prepared("ORDER BY \"tickets_customer\".\"id\" DESC")
    assert not _prepared('"tickets_ticket"."deadline_set_by_person"')


@override_settings(DB_PREPARED_STATEMENTS=False)
def test_the_setting_turns_preparing_off(postgresql):
    CustomerFactory(name="off")
    statement = Precompiled(
        lambda name: Customer.objects.filter(name=name).order_by("name", "email"), "\x00placeholder", prepare=True
    )
    assert statement.rows("off")
    assert not _prepared('"tickets_customer"."email" ASC')


def test_an_error_of_a_prepared_statement_is_djangos_and_marks_the_transaction(postgresql):
    a, b = CustomerFactory(email="a@example.com"), CustomerFactory(email="b@example.com")
    same_email = PrecompiledUpdate(lambda pk: Customer.objects.filter(pk=pk), lambda: {"email": "a@example.com"},
                                   -7_999_001, prepare=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        same_email.run(b.pk)
    b.refresh_from_db()
    assert (a.email, b.email) == ("a@example.com", "b@example.com")


def test_the_query_log_shows_a_prepared_statement_with_its_values(postgresql):
    CustomerFactory(name="logged")
    with CaptureQueriesContext(connection) as queries:
        _BY_NAME.objects("logged")
        _BY_NAME.objects("logged again")  # the second run executes the prepared statement
    assert [q["sql"].count("'logged") for q in queries.captured_queries] == [1, 1]
    assert all(q["sql"].startswith('SELECT "tickets_customer"."id"') for q in queries.captured_queries)


def test_the_query_log_shows_a_prepared_statement_that_failed(postgresql):
    CustomerFactory(email="a@example.com")
    b = CustomerFactory(email="b@example.com")
    same_email = PrecompiledUpdate(lambda pk: Customer.objects.filter(pk=pk), lambda: {"email": "a@example.com"},
                                   -7_999_002, prepare=True)
    with CaptureQueriesContext(connection) as queries, pytest.raises(IntegrityError), transaction.atomic():
        same_email.run(b.pk)
    failed = [q["sql"] for q in queries.captured_queries if "UPDATE" in (q["sql"] or "")]
    assert len(failed) == 1 and f"= {b.pk}" in failed[0] and "'a@example.com'" in failed[0]


def test_new_rows_and_bulk_rows_are_inserted_by_prepared_statements(postgresql):
    # fastinsert: one statement for any number of rows (an array per column), prepared once.
    fastinsert.insert([Customer(name="One", email="one@example.com"), Customer(name="Two", email="two@example.com")])
    fastinsert.insert([Customer(name=f"N{i}", email=f"n{i}@example.com") for i in range(3)])
    (unnest,) = _prepared('INSERT INTO "tickets_customer"')
    assert "UNNEST" in unnest and "$1" in unnest
    # insert_rows: all the rows as one jsonb parameter.
    bulk.insert_rows(Customer, ["name", "email"], [("Three", "three@example.com"), ("Four", "four@example.com")])
    assert any("jsonb_array_elements" in s for s in _prepared('"tickets_customer"'))
    assert set(Customer.objects.values_list("name", flat=True)) >= {"One", "Two", "N0", "N2", "Three", "Four"}
