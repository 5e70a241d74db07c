"""Fast bulk writes for seeding and backfills: plain ``executemany`` with values adapted once.

``bulk_create`` spends most of its time compiling every value through the
field machinery; for hundreds of thousands of rows (``seed_demo``, the SLA
clock backfill) these helpers write the same rows several times faster. They
write no history and call no ``save()``: use them only where the caller builds
consistent state itself, inside a transaction.

``insert_rows`` is the same idea for the hot paths of the running system (the
escalation sweep, ``notify_many``): hundreds of rows given as tuples, written
in one statement, optionally skipping conflicts and returning the new ids.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import partial
from uuid import UUID

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import NOT_PROVIDED
from django.utils.duration import duration_microseconds

from core import rowcache


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


# --- Set-based writes on a live database: many rows in one statement ------------------------------------


def _json_default(value):
    """How ``insert_rows`` sends what JSON has no type for (PostgreSQL casts the text back)."""
    if isinstance(value, datetime):
        if value.tzinfo is None and settings.USE_TZ:
            raise ValueError(f"insert_rows needs aware datetimes, got {value!r}")
        return value.isoformat()
    if isinstance(value, date | time | UUID | Decimal):
        return value.isoformat() if isinstance(value, date | time) else str(value)
    raise TypeError(f"insert_rows cannot send a {type(value).__name__}")


def insert_rows(
    model,
    columns: Sequence[str],
    rows: Iterable[Sequence],
    *,
    on_conflict: Sequence[str] = (),
    on_conflict_where: str = "",
    ignore_conflicts: bool = False,
    returning: Sequence[str] = (),
    using: str = DEFAULT_DB_ALIAS,
) -> list[tuple]:
    """``INSERT`` ``rows`` (tuples of values for the fields ``columns``, by attname) in one statement.

    For the hot paths of a live system (the escalation sweep, ``notify_many``):
    no model instances, no ``save()``, no signals; the caller writes history itself.
    Fields not in ``columns`` get their model default (a callable one is called
    per row) unless the database fills them (the primary key, ``db_default``).
    ``on_conflict`` names the fields of a unique constraint: rows that would
    violate it are skipped (``ON CONFLICT (…) DO NOTHING``); for a partial
    unique index, ``on_conflict_where`` is its condition in SQL; ``ignore_conflicts``
    skips rows that would violate any unique constraint (``ON CONFLICT DO NOTHING``). ``returning``
    names the fields to read back from the rows actually inserted, in the order
    they were given (the order ``bulk_create`` relies on as well).

    PostgreSQL receives all the rows as one ``jsonb`` parameter expanded by
    ``jsonb_array_elements``: one value to send instead of one per cell, which
    is several times cheaper on the client than a ``VALUES`` list and needs no
    chunking. Datetimes must be aware. Other databases get ``VALUES`` lists in
    chunks under their parameter limit.
    """
    rows = list(rows)
    if not rows:
        return []
    connection = connections[using]
    key = (using, connection.vendor, model, tuple(columns), tuple(on_conflict), on_conflict_where, ignore_conflicts,
           tuple(returning))
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _plan(connection, model, columns, on_conflict, on_conflict_where, ignore_conflicts,
                                   returning)
    if plan.absent:
        if plan.constant is None:
            rows = [(*row, *(f.get_default() for f in plan.absent)) for row in rows]
        else:
            rows = [(*row, *plan.constant) for row in rows]
    fields = plan.fields
    if plan.select is not None:
        # One statement whatever the number of rows: prepared on PostgreSQL (``core.rowcache.cursor``).
        with rowcache.cursor(connection, prepare=True) as cursor:
            cursor.execute(plan.sql, [_jsonb_param(plan, rows)])
            return cursor.fetchall() if returning else []
    with connection.cursor() as cursor:
        found: list[tuple] = []
        per_chunk = max(1, (connection.features.max_query_params or 30000) // len(fields))
        placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
        for start in range(0, len(rows), per_chunk):
            chunk = rows[start:start + per_chunk]
            params = [f.get_db_prep_save(value, connection=connection)
                      for row in chunk for f, value in zip(fields, row, strict=True)]
            values = ", ".join([placeholder] * len(chunk))
            cursor.execute(f"{plan.sql} VALUES {values}{plan.tail}", params)
            if returning:
                found.extend(tuple(row) for row in cursor.fetchall())
        return found


@dataclass(frozen=True)
class _Plan:
    """What an ``insert_rows`` call works out from its arguments alone: worked out once per process (about a third
    of the client's cost of a one-row insert)."""

    fields: list
    absent: list
    constant: tuple | None  # the defaults of the absent fields, None if one of them is called per row
    sql: str  # PostgreSQL: the whole statement; others: up to VALUES
    tail: str
    select: str | None  # PostgreSQL's SELECT … FROM jsonb_array_elements(%s)
    converted: tuple = ()


_PLANS: dict[tuple, _Plan] = {}


def _plan(connection, model, columns, on_conflict, on_conflict_where, ignore_conflicts, returning) -> _Plan:
    meta = model._meta
    fields = [meta.get_field(name) for name in columns]
    named = {f.attname for f in fields}
    absent = [f for f in meta.concrete_fields
              if f.attname not in named and not f.primary_key and f.db_default is NOT_PROVIDED]
    constant = None
    if not any(f.has_default() and callable(f.default) for f in absent):
        constant = tuple(f.get_default() for f in absent)
    fields += absent
    quote = connection.ops.quote_name
    into = ", ".join(quote(f.column) for f in fields)
    tail = ""
    if on_conflict:
        target = ", ".join(quote(meta.get_field(n).column) for n in on_conflict)
        where = f" WHERE {on_conflict_where}" if on_conflict_where else ""
        tail += f" ON CONFLICT ({target}){where} DO NOTHING"
    elif ignore_conflicts:
        tail += " ON CONFLICT DO NOTHING"
    if returning:
        tail += f" RETURNING {', '.join(quote(meta.get_field(n).column) for n in returning)}"
    head = f"INSERT INTO {quote(meta.db_table)} ({into})"
    if connection.vendor != "postgresql":
        return _Plan(fields, absent, constant, head, tail, None)
    select, converted = _jsonb_select(connection, fields)
    return _Plan(fields, absent, constant, f"{head} {select}{tail}", tail, select, converted)


def _jsonb_select(connection, fields: list) -> tuple[str, tuple]:
    """``SELECT … FROM jsonb_array_elements(%s)`` reading each row as a JSON array, and the (index, conversion) of
    the values JSON cannot carry as they are."""
    selects = []
    converted = []
    for index, f in enumerate(fields):
        internal = f.get_internal_type()
        if internal == "JSONField":
            selects.append(f"NULLIF(r.e -> {index}, 'null'::jsonb)")
            if f.encoder is not None:
                converted.append((index, partial(_through_encoder, f.encoder)))
        elif internal == "DurationField":
            selects.append(f"(r.e ->> {index})::bigint * interval '1 microsecond'")
            converted.append((index, _duration_adapter))
        else:
            cast = f.db_type(connection)
            if cast.startswith(("varchar", "char")):
                # Not "::varchar(60)": an explicit cast would cut a longer value; text → column errors like the ORM.
                cast = "text"
            selects.append(f"(r.e ->> {index})::{cast}")
    return f"SELECT {', '.join(selects)} FROM jsonb_array_elements(%s::jsonb) AS r(e)", tuple(converted)


def _jsonb_param(plan: _Plan, rows: list) -> str:
    """The rows as the one ``jsonb`` parameter of ``plan``'s statement."""
    if plan.converted:
        rows = [list(row) for row in rows]
        for row in rows:
            for index, convert in plan.converted:
                row[index] = convert(row[index])
    return json.dumps(rows, default=_json_default, separators=(",", ":"))


def _through_encoder(encoder, value):
    return None if value is None else json.loads(json.dumps(value, cls=encoder))
