"""The psycopg cursor behind ``core.rowcache.cursor(…, prepare=True)``: server-side binding, every statement prepared.

Django's own server-binding cursor class with ``prepare=True`` on each ``execute``: psycopg prepares the statement on
the first run (a name per statement and parameter types, kept per connection, the least recently used of more than
``prepared_max`` deallocated; a rollback of the connection's transaction deallocates them all) and runs the prepared
statement after that. Imported only on PostgreSQL.
"""

from __future__ import annotations

from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, ServerBindingCursor
from django.db.backends.postgresql.psycopg_any import register_tzloader
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

    @staticmethod
    def follow_time_zone(cursor, connection) -> None:
        """What Django's ``create_cursor`` does: read ``timestamptz`` in the connection's time zone when the
        connection's loader was set up for another one."""
        loader = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        if connection.timezone != loader.timezone:
            register_tzloader(connection.timezone, cursor)
