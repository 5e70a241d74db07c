"""``core.pgdatetime``: PostgreSQL's ``timestamptz`` read by ``datetime.fromisoformat``, with Django's results."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import pgdatetime
from tests.factories import TicketFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the loader is PostgreSQL's")
    connection.ensure_connection()


def _django_loader():
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader

    return type("SpecificTzLoader", (BaseTzLoader,), {"timezone": connection.timezone})


def _read(sql: str, params=(), loader=None):
    raw = connection.connection
    with raw.cursor() as cursor:
        if loader is not None:
            cursor.adapters.register_loader("timestamptz", loader)
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def test_django_connections_read_timestamptz_with_it(postgresql):
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID
    from psycopg.pq import Format

    loader = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    assert issubclass(loader, pgdatetime.IsoTzLoader) and loader.timezone == connection.timezone
    ticket = TicketFactory()
    read = Ticket.objects.get(pk=ticket.pk)
    assert read.created_at == ticket.created_at and read.created_at.tzinfo is UTC


_MOMENTS = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moments=st.lists(_MOMENTS, min_size=1, max_size=20))
def test_it_reads_what_django_reads(postgresql, moments):
    sql = "SELECT unnest(%s::timestamptz[])"
    ours, theirs = _read(sql, [moments]), _read(sql, [moments], loader=_django_loader())
    assert ours == theirs == moments
    assert all(a.tzinfo is b.tzinfo for a, b in zip(ours, theirs, strict=True))


@pytest.mark.parametrize(
    "text",
    ["2026-12-07 20:31:42+00", "2026-12-07 20:31:42.5+00", "2026-12-07 23:31:42.123456+03", "0001-01-01 00:00:00+00"],
)
def test_other_offsets_and_fractions_as_django_reads_them(postgresql, text):
    sql = "SELECT %s::timestamptz"
    assert _read(sql, [text]) == _read(sql, [text], loader=_django_loader())


@pytest.mark.parametrize("text", ["infinity", "-infinity", "0044-03-15 12:00:00+00 BC"])
def test_what_it_cannot_read_goes_to_djangos_loader_which_refuses_it_as_before(postgresql, text):
    import psycopg

    sql = "SELECT %s::timestamptz"
    with pytest.raises(psycopg.DataError) as theirs:
        _read(sql, [text], loader=_django_loader())
    with pytest.raises(psycopg.DataError) as ours:
        _read(sql, [text])
    assert str(ours.value) == str(theirs.value)


def test_a_session_in_another_zone_keeps_djangos_replacement_of_the_zone(postgresql):
    # Django reads the wall-clock time in the session's zone and puts its own zone on it; so does the loader.
    sql = "SELECT '2026-12-07 20:31:42+00'::timestamptz"
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL TIME ZONE 'Asia/Almaty'")  # until the test's transaction ends
    ours, theirs = _read(sql), _read(sql, loader=_django_loader())
    assert ours == theirs and ours[0] != datetime(2026, 12, 7, 20, 31, 42, tzinfo=UTC)
