"""The psycopg cursor behind ``core.rowcache.cursor(…, prepare=True)``: server-side binding, every statement prepared.

Django's own server-binding cursor class with ``prepare=True`` on each ``execute``: psycopg prepares the statement on
the first run (a name per statement and parameter types, kept per connection, the least recently used of more than
``prepared_max`` deallocated; a rollback of the connection's transaction deallocates them all) and runs the prepared
statement after that. Imported only on PostgreSQL.
"""

from __future__ import annotations

from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, ServerBindingCursor
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg import ClientCursor
from psycopg.pq import Format


class PreparingCursor(ServerBindingCursor):
    def execute(self, query, params=None, *, prepare=None, binary=None):
        # Django opens connections with psycopg's preparing turned off (no threshold), so that its own queries are
        # neither prepared nor counted towards it: turned on for this statement only.
        connection = self.connection
        previous = connection.prepare_threshold
        if previous is None:
            connection.prepare_threshold = 1
        try:
            return super().execute(query, params, prepare=True, binary=binary)
        finally:
            connection.prepare_threshold = previous
            # psycopg keeps no query text for a prepared run; Django's query log reads one, of a failed run too.
            if self._query is None:
                self._query = _LoggedQuery(connection, query, params)

    @classmethod
    def on(cls, connection) -> PreparingCursor:
        """A cursor on Django ``connection``'s open psycopg connection, reading ``timestamptz`` in the connection's
        time zone as Django's ``create_cursor`` makes its cursors do when the connection was set up for another."""
        cursor = cls(connection.connection)
        loader = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        if connection.timezone != loader.timezone:
            register_tzloader(connection.timezone, cursor)
        return cursor


class _LoggedQuery:
    """What Django's ``last_executed_query`` reads of a psycopg cursor (``cursor._query.query``, bytes) for a prepared
    run: the statement with its values written in, as a client-side binding cursor would have sent it; worked out
    only when read (``DEBUG``, ``CaptureQueriesContext``)."""

    def __init__(self, connection, query, params):
        self._connection, self._sql, self._params = connection, query, params

    @property
    def query(self) -> bytes:
        return ClientCursor(self._connection).mogrify(self._sql, self._params).encode()
