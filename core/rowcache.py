"""Objects read by a queryset, reused for as long as the database gives back the same rows.

Some small tables are read on every new ticket (the SLA policies, the classification rules) and change
only when an administrator edits them. Compiling the ORM query and building the objects costs more than
running it, so :class:`RowCheckedCache` compiles the query once per process and runs its SQL each time;
while the rows (every selected column of every joined table) are the ones it saw last, it hands back the
objects it built then. Any change, from any process and by any means (admin, ``update()``, raw SQL, a
rolled-back test), changes the rows, and the next read builds the objects again: never stale, no signal
or version row to forget. The handed-out objects are shared: treat them as read-only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime

from django.conf import settings
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.db.models.sql import UpdateQuery
from django.db.transaction import TransactionManagementError


class RowCheckedCache:
    """``prepare=True``: the SQL is prepared on PostgreSQL (:func:`cursor`; for a statement whose plan does not
    depend on its values, as for ``Precompiled``)."""

    def __init__(self, queryset: Callable[[], QuerySet], *, prepare: bool = False):
        self._queryset = queryset
        self._prepare = prepare
        self._sql: dict[str, tuple] = {}  # database alias -> (sql, params)
        self._seen: dict[str, tuple[list, list]] = {}  # database alias -> (rows, objects)
        self._lock = threading.Lock()

    def get(self, using: str = "default") -> list:
        sql = self._sql.get(using)
        if sql is None:
            sql = self._queryset().using(using).query.get_compiler(using).as_sql()
            self._sql[using] = sql
        with cursor(connections[using], prepare=self._prepare) as db:
            db.execute(*sql)
            rows = db.fetchall()
        seen = self._seen.get(using)
        if seen is not None and seen[0] == rows:
            return list(seen[1])
        # Read after the rows: the objects are at least as new as ``rows``, so a change in between only
        # makes the next call build them again.
        objects = list(self._queryset().using(using))
        with self._lock:
            self._seen[using] = (rows, objects)
        return list(objects)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


class Precompiled:
    """A hot queryset's SQL compiled once per process, run each time with new values for its placeholders.

    ``queryset(*placeholders)`` builds the queryset; each placeholder (an int, a string, a date or an aware datetime
    no real call uses) must reach the SQL as one parameter of its own. Django compiles a query on every
    evaluation, which costs more than SQLite takes to run a lookup by index; this compiles it once. The
    objects are built as the ORM builds them (converters, ``select_related``), so the answer is the same.

    What is kept is plain data: the SQL, its parameters, how rows become objects, and the column converters as
    functions to bind to the connection that runs the query. Never the compiler, nor a converter bound to the
    connection that compiled: a module-level cache would keep that connection (a thread's, a finished one's)
    open for the life of the process.

    ``prepare=True``: on PostgreSQL the statement is prepared on the server (:func:`cursor`), so it is planned once
    per connection. For a statement whose plan does not depend on its values: a generic plan cannot use a partial
    index whose condition a placeholder stands in for.
    """

    def __init__(self, queryset: Callable[..., QuerySet], *placeholders, prepare: bool = False):
        self._queryset = queryset
        self._placeholders = placeholders
        self._prepare = prepare
        self._compiled: dict[str, tuple] = {}
        self._builders: dict[str, tuple] = {}

    def _compile(self, using: str) -> tuple:
        compiled = self._compiled.get(using)
        if compiled is None:
            compiler = self._queryset(*self._placeholders).using(using).query.get_compiler(using)
            sql, params = compiler.as_sql()
            params = list(params)
            positions = _placeholder_positions(params, self._placeholders, connections[using].ops)
            compiled = (sql, params, positions, bool(compiler.query.select_for_update))
            self._builders[using] = self._builder(compiler, using)
            self._compiled[using] = compiled
        return compiled

    def rows(self, *values, using: str = "default") -> list[tuple]:
        """The raw rows (no converters): for counts and existence checks."""
        return self._run(using, *self._compile(using), values, prepare=self._prepare)

    def value(self, *values, default=None, using: str = "default"):
        """The first column of the first row, or ``default`` without rows (a count grouped on a filtered column)."""
        rows = self.rows(*values, using=using)
        return rows[0][0] if rows else default

    def objects(self, *values, using: str = "default") -> list:
        """The model instances with their ``select_related`` objects and annotations: ``list(queryset(*values))``."""
        rows = self._run(using, *self._compile(using), values, prepare=self._prepare)
        if not rows:
            return []
        model, start, end, init_list, populators, annotations, converters = self._builders[using]
        if converters:
            rows = _convert(rows, converters, connections[using])
        found = []
        for row in rows:
            instance = model.from_db(using, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, instance)
            for name, position in annotations:
                setattr(instance, name, row[position])
            found.append(instance)
        return found

    @staticmethod
    def _builder(compiler, using: str) -> tuple:
        """How ``ModelIterable`` turns the rows into objects, worked out once (Django does it on every query)."""
        from django.db.models.query import get_related_populators

        select, klass_info = compiler.select, compiler.klass_info
        if klass_info is None:  # values(), values_list(): rows only
            return None, 0, 0, [], [], (), []
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        converters = compiler.get_converters([column[0] for column in select[: compiler.col_count]])
        return (
            klass_info["model"],
            start,
            end,
            [column[0].target.attname for column in select[start:end]],
            get_related_populators(klass_info, select, using),
            tuple(compiler.annotation_col_map.items()),
            [(position, _unbound(functions, compiler.connection), expression)
             for position, (functions, expression) in converters.items()],
        )

    @staticmethod
    def _run(using, sql, params, positions, select_for_update, values, *, prepare: bool) -> list[tuple]:
        connection = connections[using]
        if select_for_update and connection.features.has_select_for_update and connection.get_autocommit():
            # What the ORM says for ``select_for_update()`` outside a transaction (it checks when it compiles).
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        with cursor(connection, prepare=prepare) as db_cursor:
            db_cursor.execute(sql, _bind(params, positions, values, connection.ops))
            return db_cursor.fetchall()


def _unbound(functions, connection) -> list[tuple[str, Callable]]:
    """A column's converters, each with what to bind it to when it runs: the backend's converters are methods of
    the compiling connection's ``ops`` (or of the connection), the fields' are not tied to any connection."""
    found = []
    for function in functions:
        owner = getattr(function, "__self__", None)
        if owner is connection.ops:
            found.append(("ops", function.__func__))
        elif owner is connection:
            found.append(("connection", function.__func__))
        elif isinstance(owner, BaseDatabaseWrapper) or getattr(owner, "connection", None) is connection:
            raise ValueError(f"a converter bound to another part of the connection: {function!r}")
        else:
            found.append(("", function))
    return found


def _convert(rows: list[tuple], converters: list, connection) -> list[list]:
    """``SQLCompiler.apply_converters`` with the converters bound to ``connection``, the one that ran the query."""
    bound = [
        (
            position,
            [function.__get__(connection.ops) if kind == "ops" else function.__get__(connection) if kind else function
             for kind, function in functions],
            expression,
        )
        for position, functions, expression in converters
    ]
    converted = []
    for row in map(list, rows):
        for position, functions, expression in bound:
            value = row[position]
            for function in functions:
                value = function(value, expression, connection)
            row[position] = value
        converted.append(row)
    return converted


class PrecompiledUpdate:
    """A hot ``queryset.update(**values)`` compiled once per process, run each time with new placeholder values.

    ``queryset(*placeholders)`` builds the rows to update and ``values`` what to write (expressions included,
    compiled with the statement); the placeholders follow :class:`Precompiled`'s rule. Compiling an ``UPDATE``
    with a subquery costs the ORM about half a millisecond, thirty times what SQLite takes to run it.
    """

    def __init__(self, queryset: Callable[..., QuerySet], values: Callable[[], dict], *placeholders,
                 prepare: bool = False):
        self._queryset = queryset
        self._values = values
        self._placeholders = placeholders
        self._prepare = prepare
        self._compiled: dict[str, tuple[str, list, list[int]]] = {}

    def _compile(self, using: str) -> tuple[str, list, list[int]]:
        compiled = self._compiled.get(using)
        if compiled is None:
            query = self._queryset(*self._placeholders).using(using).query.chain(UpdateQuery)
            query.add_update_values(self._values())
            sql, params = query.get_compiler(using).as_sql()
            if query.related_updates or query.count_active_tables() != 1:
                raise ValueError("only an update of one table compiles to one statement")
            params = list(params)
            positions = _placeholder_positions(params, self._placeholders, connections[using].ops)
            compiled = self._compiled[using] = (sql, params, positions)
        return compiled

    def run(self, *values, using: str = "default") -> int:
        """Run the ``UPDATE`` for these placeholder values; returns the number of rows it changed."""
        sql, params, positions = self._compile(using)
        connection = connections[using]
        with transaction.mark_for_rollback_on_error(using), cursor(connection, prepare=self._prepare) as db_cursor:
            db_cursor.execute(sql, _bind(params, positions, values, connection.ops))
            return db_cursor.rowcount


def cursor(connection, *, prepare: bool = False):
    """``connection.cursor()``; with ``prepare`` on PostgreSQL (and ``DB_PREPARED_STATEMENTS`` on), a cursor whose
    statements are prepared on the server: the values are bound there, not written into the text, and the
    connection plans each statement once instead of on every run. Planning the wide joins of the hot lookups cost
    PostgreSQL several times what running them did (``bench/bench_intake.py``, the database server's CPU).

    Only for statements marked one by one (``Precompiled(…, prepare=True)``): after five runs PostgreSQL may keep a
    generic plan, which cannot use a partial index whose condition a placeholder stands in for; the ORM's queries
    (the lists, the boards) rely on such indexes and stay on Django's client-side binding. The cursor is Django's
    wrapper (error translation, ``execute_wrapper``, query logging) around psycopg's server-binding cursor.
    """
    if not (prepare and connection.vendor == "postgresql" and getattr(settings, "DB_PREPARED_STATEMENTS", True)):
        return connection.cursor()
    from core.prepared_cursor import PreparingCursor  # psycopg is imported only where PostgreSQL is used

    # What connection.cursor() does before it creates its cursor (CONN_HEALTH_CHECKS: often the request's first query)
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = PreparingCursor.on(connection)
    connection.validate_thread_sharing()
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)


def _placeholder_positions(params: list, placeholders: tuple, ops) -> list[int]:
    """Where each placeholder sits in the compiled statement's parameters; each must be one parameter of its own."""
    adapted = [_adapt(ops, value) for value in placeholders]
    if any(params.count(value) != 1 for value in adapted):
        raise ValueError("each placeholder must be one parameter of its own")
    return [params.index(value) for value in adapted]


def _bind(params: list, positions: list[int], values: tuple, ops) -> list:
    """The compiled statement's parameters with ``values`` in the placeholders' places."""
    params = list(params)
    for position, value in zip(positions, values, strict=True):
        params[position] = _adapt(ops, value)
    return params


def _adapt(ops, value):
    if isinstance(value, datetime):
        return ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return ops.adapt_datefield_value(value)
    return value


def set_prefetched(instance, name: str, objects: list) -> None:
    """Leave ``objects`` where ``prefetch_related(name)`` leaves them: ``instance.<name>.all()`` answers from them,
    and, for a reverse foreign key, each object's own relation answers ``instance``."""
    relation = instance._meta.get_field(name)
    if relation.one_to_many:
        for obj in objects:
            relation.field.set_cached_value(obj, instance)
    loaded = getattr(instance, name).all()
    loaded._result_cache, loaded._prefetch_done = list(objects), True
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[name] = loaded
