"""The planner's statistics after a migration adds an index.

SQLite keeps statistics only where ``ANALYZE`` has run (``sqlite_stat1``). A database analysed before an index
existed has rows for every index but the new one, and SQLite then takes the new index for a very selective one: a
customer index added for one panel made the ticket list walk the tickets customer by customer and sort them (25 ->
94 ms at 100,000 tickets). With statistics for every index, or for none, the plans stay right. PostgreSQL gathers an
expression index's statistics on its next ``ANALYZE``, which autovacuum runs in its own time.
"""

from __future__ import annotations

from django.db import migrations


def refresh_statistics(*tables: str) -> migrations.RunPython:
    """A migration operation that analyses ``tables`` again where the database keeps statistics for them."""

    def analyse(apps, schema_editor):
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")
                if cursor.fetchone() is None:
                    return  # never analysed: no statistics to leave half-written
            if connection.vendor in ("sqlite", "postgresql"):
                for table in tables:
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")

    return migrations.RunPython(analyse, migrations.RunPython.noop, elidable=True)
