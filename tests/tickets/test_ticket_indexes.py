"""The ticket table carries no index another one already provides.

Every index of ``tickets_ticket`` is written again for each new version of a ticket row (a new ticket, its
assignment, each status change), so one that duplicates another, or whose key columns begin another's, costs
every write and serves no read. Checked on PostgreSQL's catalog, where partial and expression indexes can be told
apart (they are left out: their conditions make them different indexes).
"""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

# ``created_at``'s own index stays: the covering index that leads with it (``reports_ticket_created_cov``) exists on
# PostgreSQL alone (``reports`` 0005), and on SQLite this is the only index of the column.
KEPT = {("created_at",)}


def _plain_indexes(table: str) -> dict[str, tuple[str, ...]]:
    """Name -> key columns of the table's non-unique, non-partial btree indexes without expressions."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, array_agg(a.attname ORDER BY k.n)
            FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            JOIN pg_am am ON am.oid = c.relam
            CROSS JOIN LATERAL unnest(i.indkey[0:i.indnkeyatts - 1]) WITH ORDINALITY AS k(attnum, n)
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indrelid = %s::regclass AND NOT i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
              AND am.amname = 'btree'
            GROUP BY c.relname
            """,
            [table],
        )
        return {name: tuple(columns) for name, columns in cursor.fetchall()}


def test_no_ticket_index_is_covered_by_another():
    if connection.vendor != "postgresql":
        pytest.skip("read from PostgreSQL's catalog")
    indexes = _plain_indexes("tickets_ticket")
    assert ("performer_id", "status") in indexes.values()  # the query found the indexes
    redundant = sorted(
        (name, other)
        for name, keys in indexes.items()
        for other, longer in indexes.items()
        if name != other and keys not in KEPT and longer[: len(keys)] == keys
        and (len(keys) < len(longer) or name > other)
    )
    assert redundant == []
