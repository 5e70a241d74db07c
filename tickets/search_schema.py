"""The search index in the database, one per backend, kept up to date by the database itself.

- **PostgreSQL**: a stored generated ``tsvector`` column ``search_vector`` on ``tickets_message``
  (the body) and on ``tickets_ticket`` (the title), each with a GIN index. The configuration is
  ``russian``, which stems Russian words with ``russian_stem`` and ASCII words with ``english_stem``
  (``\\dF+ russian``): one column serves Russian and English text and one index is probed per query.
  The database computes the vector on every insert and update, so intake never waits for an indexer
  and nothing can forget to index. At most :data:`search_text.INDEX_MAX` characters are indexed (a
  tsvector holds at most 1 MB; a longer message must still be accepted). The substring searches
  (customer name, email, phone, related object reference) use ``pg_trgm`` GIN indexes.
- **SQLite**: two FTS5 tables, ``tickets_message_fts`` (rowid = message id) and ``tickets_ticket_fts``
  (rowid = ticket id), holding the Snowball stems of the text (``search_text.index_terms``, a SQL
  function ``opsdesk_search_terms`` registered on every connection in ``TicketsConfig.ready``), and
  triggers on insert, update and delete that keep them in step.

SQLite drops a table's triggers when Django's schema editor remakes the table (any later migration
that alters ``tickets_message`` or ``tickets_ticket``): :func:`ensure` runs after every ``migrate``
(``post_migrate``) and rebuilds the index when a trigger was missing.
"""

from __future__ import annotations

from django.db import connection as default_connection
from django.db import connections

from tickets import search_text

SQL_FUNCTION = "opsdesk_search_terms"

# (index table, source table, source expression, columns that change it)
_SQLITE_SOURCES = (
    ("tickets_message_fts", "tickets_message", "body", "body"),
    ("tickets_ticket_fts", "tickets_ticket", "title", "title"),
)
_PG_SOURCES = (("tickets_message", "body"), ("tickets_ticket", "title"))
# Trigram indexes for the substring searches (customer name, email, phone; related object reference): Django's
# ``icontains`` is ``UPPER(col::text) LIKE UPPER(%s)`` on PostgreSQL, so the indexes are on that expression.
_PG_TRIGRAMS = (
    ("tickets_customer_name_trgm", "tickets_customer", "upper((name)::text)"),
    ("tickets_customer_email_trgm", "tickets_customer", "upper((email)::text)"),
    ("tickets_customer_phone_trgm", "tickets_customer", "upper((phone)::text)"),
    ("tickets_customer_digits_trgm", "tickets_customer", "phone"),
    ("tickets_relatedobject_ref_trgm", "tickets_relatedobject", "upper((external_ref)::text)"),
)


def register_function(sender=None, connection=None, **kwargs) -> None:
    """``connection_created``: give a SQLite connection the stemming function the triggers call."""
    if connection is not None and connection.vendor == "sqlite":
        connection.connection.create_function(SQL_FUNCTION, 1, search_text.index_terms, deterministic=True)


def _sqlite_triggers(index: str, table: str, expression: str, columns: str) -> list[str]:
    insert = f"INSERT INTO {index}(rowid, terms) VALUES (new.id, {SQL_FUNCTION}(new.{expression}));"
    delete = f"DELETE FROM {index} WHERE rowid = old.id;"
    return [
        f"CREATE TRIGGER IF NOT EXISTS {index}_ai AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER IF NOT EXISTS {index}_au AFTER UPDATE OF {columns} ON {table} BEGIN {delete} {insert} END",
        f"CREATE TRIGGER IF NOT EXISTS {index}_ad AFTER DELETE ON {table} BEGIN {delete} END",
    ]


def _trigger_names() -> set[str]:
    return {f"{index}_{suffix}" for index, *_ in _SQLITE_SOURCES for suffix in ("ai", "au", "ad")}


def _pg_vector(expression: str) -> str:
    return f"to_tsvector('russian'::regconfig, left(coalesce({expression}, ''), {search_text.INDEX_MAX}))"


def create(connection=None) -> None:
    """Create the index of the connection's backend (the migration; idempotent)."""
    connection = connection or default_connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table, expression in _PG_SOURCES:
                # Looked up first: an ALTER TABLE, even one with nothing to do, fails in a transaction that has
                # deferred constraint checks pending (rebuild_search inside a test, or after other writes).
                cursor.execute(
                    "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
                    "AND table_name = %s AND column_name = 'search_vector'",
                    [table],
                )
                if cursor.fetchone() is None:
                    cursor.execute(
                        f"ALTER TABLE {table} ADD COLUMN search_vector tsvector "
                        f"GENERATED ALWAYS AS ({_pg_vector(expression)}) STORED"
                    )
                cursor.execute(
                    "SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = %s",
                    [f"{table}_search"],
                )
                if cursor.fetchone() is None:
                    cursor.execute(f"CREATE INDEX {table}_search ON {table} USING gin (search_vector)")
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for name, table, expression in _PG_TRIGRAMS:
                cursor.execute(
                    "SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = %s", [name]
                )
                if cursor.fetchone() is None:
                    cursor.execute(f"CREATE INDEX {name} ON {table} USING gin ({expression} gin_trgm_ops)")
        elif connection.vendor == "sqlite":
            register_function(connection=connection)
            for index, table, expression, columns in _SQLITE_SOURCES:
                cursor.execute(
                    f"CREATE VIRTUAL TABLE IF NOT EXISTS {index} "
                    "USING fts5(terms, tokenize='unicode61 remove_diacritics 0')"
                )
                for statement in _sqlite_triggers(index, table, expression, columns):
                    cursor.execute(statement)
            _sqlite_fill(cursor)


def drop(connection=None) -> None:
    """Remove the index (the migration's reverse)."""
    connection = connection or default_connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for name, _table, _expression in _PG_TRIGRAMS:
                cursor.execute(f"DROP INDEX IF EXISTS {name}")
            for table, _expression in _PG_SOURCES:
                cursor.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_vector")
        elif connection.vendor == "sqlite":
            for name in sorted(_trigger_names()):
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            for index, *_ in _SQLITE_SOURCES:
                cursor.execute(f"DROP TABLE IF EXISTS {index}")


def _sqlite_fill(cursor) -> int:
    count = 0
    for index, table, expression, _columns in _SQLITE_SOURCES:
        cursor.execute(f"DELETE FROM {index}")
        cursor.execute(f"INSERT INTO {index}(rowid, terms) SELECT id, {SQL_FUNCTION}({expression}) FROM {table}")
        count += cursor.rowcount
    return count


def ensure(sender=None, using="default", **kwargs) -> bool:
    """``post_migrate``: put back SQLite triggers a table remake dropped, and rebuild then. True if it rebuilt."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('trigger', 'table')")
        present = {row[0] for row in cursor.fetchall()}
    if not {index for index, *_ in _SQLITE_SOURCES} <= present:
        return False  # not migrated that far (or migrated back): the migration creates it
    if _trigger_names() <= present:
        return False
    create(connection)
    return True


def rebuild(connection=None, *, batch: int = 50_000) -> int:
    """Recompute the whole index (``manage.py rebuild_search``); returns the number of rows indexed.

    SQLite: refills both FTS5 tables from the rows, after putting back any missing trigger.
    PostgreSQL: re-creates a missing column or index, recomputes every vector (``SET col = col``
    re-evaluates the generated column, in batches of ``batch`` ids) and rebuilds the GIN indexes.
    """
    connection = connection or default_connection
    if connection.vendor == "sqlite":
        create(connection)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT count(*) FROM tickets_message_fts) + (SELECT count(*) FROM tickets_ticket_fts)"
            )
            return cursor.fetchone()[0]
    create(connection)
    count = 0
    with connection.cursor() as cursor:
        for table, expression in _PG_SOURCES:
            cursor.execute(f"SELECT coalesce(min(id), 0), coalesce(max(id), 0) FROM {table}")
            low, high = cursor.fetchone()
            for start in range(low, high + 1, batch):
                cursor.execute(
                    f"UPDATE {table} SET {expression} = {expression} WHERE id >= %s AND id < %s", [start, start + batch]
                )
                count += cursor.rowcount
            cursor.execute(f"REINDEX INDEX {table}_search")
    return count
