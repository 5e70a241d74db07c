"""Fast bulk writes for seeding and backfills: plain ``executemany`` with values adapted once.

``bulk_create`` spends most of its time compiling every value through the
field machinery; for hundreds of thousands of rows (``seed_demo``, the SLA
clock backfill) these helpers write the same rows several times faster. They
write no history and call no ``save()``: use them only where the caller builds
consistent state itself, inside a transaction.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from django.conf import settings
from django.db import connection
from django.db.models import NOT_PROVIDED
from django.utils.duration import duration_microseconds


def reserve_ids(model, count: int) -> list[int]:
    """``count`` primary keys nobody else will use.

    PostgreSQL hands them out from the table's sequence. On SQLite the seed
    holds the database's write lock (it has already written in this
    transaction, or runs ``BEGIN IMMEDIATE``), so the keys above the current
    maximum are ours; AUTOINCREMENT moves its counter past explicit keys.
    """
    if count == 0:
        return []
    table, pk = model._meta.db_table, model._meta.pk.column
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, pk, count]
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT MAX({qn(pk)}) FROM {qn(table)}")
        start = (cursor.fetchone()[0] or 0) + 1
        if connection.vendor == "sqlite":
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            if row and row[0] is not None:
                start = max(start, row[0] + 1)
    return list(range(start, start + count))


def _datetime_adapter():
    """Django's adapter, or on SQLite the same text (naive, in the connection's zone) at a fraction of the cost."""
    django_adapt = connection.ops.adapt_datetimefield_value
    if connection.vendor != "sqlite" or not settings.USE_TZ:
        return django_adapt
    zone = connection.timezone

    def adapt(value: datetime | None) -> str | None:
        if value is None or value.tzinfo is None:
            return django_adapt(value)
        return value.astimezone(zone).isoformat(" ")[:-6]  # drop the "+00:00"

    return adapt


def _duration_adapter(value):
    return None if value is None else duration_microseconds(value)


class RowWriter:
    """``INSERT`` many rows given as {attname: python value}.

    The columns come from the model, so a field added later (with a default)
    gets its default instead of breaking the seed.
    """

    def __init__(self, model):
        ops = connection.ops
        self.table = ops.quote_name(model._meta.db_table)
        self.plan = []
        for model_field in model._meta.concrete_fields:
            internal = model_field.get_internal_type()
            if internal == "DateTimeField":
                convert = _datetime_adapter()
            elif internal == "JSONField":
                convert = partial(ops.adapt_json_value, encoder=model_field.encoder)
            elif internal == "DurationField" and not connection.features.has_native_duration_field:
                convert = _duration_adapter
            else:
                convert = None
            self.plan.append((model_field.attname, convert, model_field))

    def insert(self, rows: list[dict]) -> None:
        """Insert ``rows`` (dicts with the same keys); model fields missing from them get their defaults."""
        if not rows:
            return
        keys = rows[0].keys()
        given = [(attname, convert) for attname, convert, _f in self.plan if attname in keys]
        absent = [
            f
            for attname, _c, f in self.plan
            if attname not in keys and not f.primary_key and f.db_default is NOT_PROVIDED  # else the database fills it
        ]
        qn = connection.ops.quote_name
        columns = [qn(f.column) for _a, _c, f in self.plan if f.attname in keys] + [qn(f.column) for f in absent]
        sql = f"INSERT INTO {self.table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
        params = []
        for row in rows:
            values = [row[a] if convert is None else convert(row[a]) for a, convert in given]
            if absent:
                values += [f.get_db_prep_save(f.get_default(), connection) for f in absent]
            params.append(values)
        with connection.cursor() as cursor:
            for start in range(0, len(params), 20000):
                cursor.executemany(sql, params[start : start + 20000])



def insert_instances(model, objects: list) -> None:
    """Insert unsaved model instances (their primary keys, if set, are kept)."""
    if not objects:
        return
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and getattr(objects[0], f.attname) is None)]
    RowWriter(model).insert([{f.attname: getattr(obj, f.attname) for f in fields} for obj in objects])
