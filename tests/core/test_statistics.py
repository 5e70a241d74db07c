"""``core.statistics.refresh_statistics``: a migration that adds an index leaves SQLite statistics for every index
or for none, never for all but the new one (which SQLite then takes for a very selective index)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from core.statistics import refresh_statistics
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def _stat_rows(index: str) -> list:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return []
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE idx = %s", [index])
        return cursor.fetchall()


@pytest.fixture
def sqlite():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's statistics table")


def _add_index_after_analyse() -> None:
    TicketFactory.create_batch(3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")
        cursor.execute("CREATE INDEX test_new_index ON tickets_ticket (title, customer_id)")


def test_an_analysed_table_gets_the_new_index_statistics(sqlite):
    _add_index_after_analyse()
    assert _stat_rows("ticket_updated") and not _stat_rows("test_new_index")
    refresh_statistics("tickets_ticket").code(apps, SimpleNamespace(connection=connection))
    assert _stat_rows("test_new_index")


def test_a_database_never_analysed_stays_without_statistics(sqlite):
    _add_index_after_analyse()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE sqlite_stat1")
    refresh_statistics("tickets_ticket").code(apps, SimpleNamespace(connection=connection))
    assert not _stat_rows("test_new_index") and not _stat_rows("ticket_updated")
