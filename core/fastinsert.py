"""New rows written with SQL compiled once per process: the hot inserts of a new ticket.

A new ticket writes about ten rows (customer, ticket, clocks, history, message, files, the received email).
For each, Django builds an ``InsertQuery`` and compiles it to SQL, and ``save()`` walks its parents, signals
and field checks: together more CPU than SQLite takes to write the row. :func:`insert` writes new objects of
one model the way ``bulk_create`` does (one ``INSERT … RETURNING`` with their primary keys set after it), but
compiles that statement once per model, row count and database, and from then on only computes the
parameters: each field's ``pre_save`` (``auto_now`` stamps, a file not yet stored) and ``get_db_prep_save``,
as Django's compiler does.

Whenever the plain path might do more, :func:`insert` takes it instead (``bulk_create`` for several objects,
``save(force_insert=True)`` for one): a model with its own ``save()``, a model someone listens to with
``pre_save``/``post_save``, a value that is an expression, a field with a placeholder of its own, a
database that cannot return the new keys, or returned columns that need converting. The result is the same
row either way; only the cost differs (``tests/core/test_fastinsert.py`` compares them column by column).

:func:`update` is ``save(update_fields=…)`` of a stored row the same way: the ``UPDATE`` of those columns by primary
key, written once per model, field list and database, prepared on PostgreSQL (Django's ``save()`` spent about as much
CPU building and compiling a routing assignment's update as the database took to run it).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models, transaction
from django.db.models import AutoField, Model
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery

from core import rowcache
from core.models import AppendOnlyModel

# ``save()`` methods that do nothing more for a new row than Django's (the append-only one only refuses updates).
_PLAIN_SAVES = frozenset({Model.save, AppendOnlyModel.save})
_compiled: dict[tuple[str, type, int], tuple[str, tuple, bool] | None] = {}
_lock = threading.Lock()


def insert(objs: Sequence[Model], *, using: str = DEFAULT_DB_ALIAS) -> list[Model]:
    """Write new (unsaved, keyless) ``objs`` of one model in one ``INSERT``; returns them with their keys."""
    objs = list(objs)
    if not objs:
        return objs
    model = type(objs[0])
    if not _plain(model, objs):
        return _slow(model, objs, using)
    opts = model._meta
    fields = _fields(model)
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="save")
    # An expression for a value (``F()``, ``Now()``, a database default) changes the SQL: the plain path.
    if any(hasattr(getattr(obj, field.attname), "resolve_expression") for obj in objs for field in fields):
        return _slow(model, objs, using)
    compiled = _statement(model, objs, fields, using)
    if compiled is None:
        return _slow(model, objs, using)
    sql, returning, columns = compiled
    # After compiling (which runs them too): ``pre_save`` stamps ``auto_now`` fields on the objects.
    connection = connections[using]
    preps = _preps(model, using)
    rows = [_row(obj, preps, connection) for obj in objs]
    # PostgreSQL's several-row form takes one array per column (``INSERT … SELECT * FROM UNNEST(…)``).
    params = [list(column) for column in zip(*rows, strict=True)] if columns else [v for row in rows for v in row]
    # Prepared on PostgreSQL (``core.rowcache.cursor``): an insert's plan does not depend on its values, and its text
    # is the same for any number of rows (one array per column).
    with transaction.mark_for_rollback_on_error(using), rowcache.cursor(connection, prepare=True) as cursor:
        cursor.execute(sql, params)
        if len(objs) == 1:
            keys = [connection.ops.fetch_returned_insert_columns(cursor, returning)]
        else:
            keys = connection.ops.fetch_returned_insert_rows(cursor)
    if len(keys) != len(objs):
        raise RuntimeError(f"{opts.label}: {len(objs)} rows inserted, {len(keys)} keys returned")
    for obj, row in zip(objs, keys, strict=True):
        for value, field in zip(row, opts.db_returning_fields, strict=True):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = using
    return objs


def create(model: type[Model], **fields) -> Model:
    """``model.objects.create(**fields)`` through :func:`insert`."""
    return insert([model(**fields)])[0]


def plain_for_new_rows(save):
    """Mark a model's own ``save()`` that, for a new row, does nothing more than Django's (it only changes how a
    stored row is updated): :func:`insert` may then write new rows of that model itself."""
    save.plain_for_new_rows = True
    return save


def plain_for_update_fields(save):
    """Mark a model's own ``save()`` that, given ``update_fields``, does nothing more than Django's: :func:`update` may
    then write those fields itself."""
    save.plain_for_update_fields = True
    return save


def _plain_save(model: type[Model]) -> bool:
    return model.save in _PLAIN_SAVES or getattr(model.save, "plain_for_new_rows", False)


def update(obj: Model, update_fields: Sequence[str], *, using: str | None = None) -> None:
    """``obj.save(update_fields=update_fields)`` for a stored row: the same columns written with the same values
    (``auto_now`` stamps included), and the same error when no row has its key. Django's own ``save()`` runs instead
    whenever it might do more: a model with its own ``save()`` (but a :func:`plain_for_update_fields` one), a listener
    of ``pre_save``/``post_save``, a parent model, a value that is an expression, a field with a placeholder of its own,
    a name that is not a concrete field."""
    model = type(obj)
    using = using or obj._state.db or DEFAULT_DB_ALIAS
    names = tuple(update_fields)
    compiled = None
    if not obj._state.adding and obj.pk is not None and _plain_update(model):
        compiled = _update_statement(model, names, using)
    if compiled is None:
        obj.save(update_fields=names, using=using)
        return
    sql, fields, preps = compiled
    obj._prepare_related_fields_for_save(operation_name="save", fields=fields)
    values = [field.pre_save(obj, False) for field in fields]
    if any(hasattr(value, "resolve_expression") for value in values):
        obj.save(update_fields=names, using=using)
        return
    connection = connections[using]
    params = _prepared(values, preps, connection)
    params.append(model._meta.pk.get_db_prep_value(obj.pk, connection))
    with transaction.mark_for_rollback_on_error(using), rowcache.cursor(connection, prepare=True) as cursor:
        cursor.execute(sql, params)
        if cursor.rowcount == 0:
            raise DatabaseError("Save with update_fields did not affect any rows.")
    obj._state.db = using


def _plain_update(model: type[Model]) -> bool:
    return (
        (model.save in _PLAIN_SAVES or getattr(model.save, "plain_for_update_fields", False))
        and not model._meta.parents
        and not pre_save.has_listeners(model)
        and not post_save.has_listeners(model)
    )


_compiled_updates: dict[tuple[str, type, tuple[str, ...]], tuple[str, list, list] | None] = {}


def _update_statement(model: type[Model], names: tuple[str, ...], using: str) -> tuple[str, list, list] | None:
    """``UPDATE table SET col = %s, … WHERE pk = %s`` for the fields ``names``, their shortcuts; None: Django's save."""
    key = (using, model, names)
    if key in _compiled_updates:
        return _compiled_updates[key]
    opts = model._meta
    by_name = {}
    for field in _fields(model):
        by_name[field.name] = by_name[field.attname] = field
    fields = [by_name.get(name) for name in names]
    compiled = None
    if names and None not in fields and len(set(fields)) == len(fields) and not any(
        field.primary_key or hasattr(field, "get_placeholder") for field in fields
    ):
        connection = connections[using]
        qn = connection.ops.quote_name
        assignments = ", ".join(f"{qn(field.column)} = %s" for field in fields)
        sql = f"UPDATE {qn(opts.db_table)} SET {assignments} WHERE {qn(opts.pk.column)} = %s"
        shortcuts = {field: (kind, convert) for field, kind, convert in _preps(model, using)}
        compiled = (sql, fields, [(field, *shortcuts[field]) for field in fields])
    with _lock:
        _compiled_updates[key] = compiled
    return compiled


def _plain(model: type[Model], objs: list[Model]) -> bool:
    """Nothing but the row itself happens on ``save()``: no own ``save`` (but a :func:`plain_for_new_rows` one), no
    listener, no parent, no key set."""
    return (
        _plain_save(model)
        and all(type(obj) is model and obj.pk is None for obj in objs)
        and not model._meta.parents
        and not pre_save.has_listeners(model)
        and not post_save.has_listeners(model)
    )


@functools.cache  # per model: every insert asks
def _fields(model: type[Model]) -> list:
    return [f for f in model._meta.concrete_fields if not f.generated and not isinstance(f, AutoField)]


def _row(obj: Model, preps: list, connection) -> list:
    """The new row's parameters: each field's ``get_db_prep_save(pre_save(…))`` (:func:`_prepared`)."""
    return _prepared([field.pre_save(obj, True) for field, _kind, _convert in preps], preps, connection)


def _prepared(values: list, preps: list, connection) -> list:
    """Each value's ``get_db_prep_save``, taking ``_preps``' shortcut when the value is of the type it is for (``None``
    too: every such field writes it as NULL)."""
    params = []
    for value, (field, kind, convert) in zip(values, preps, strict=True):
        if value is None and kind is not None:
            params.append(None)
        elif type(value) is kind and (kind is not datetime or value.tzinfo is not None):
            params.append(value if convert is None else convert(value))
        else:
            params.append(field.get_db_prep_save(value, connection=connection))
    return params


def _preps(model: type[Model], using: str) -> list[tuple]:
    key = (using, model)
    preps = _prepared_fields.get(key)
    if preps is None:
        connection = connections[using]
        preps = _prepared_fields[key] = [(field, *_shortcut(field, connection)) for field in _fields(model)]
    return preps


def _shortcut(field, connection) -> tuple[type | None, object]:
    """``(type, convert)``: for a value of exactly ``type`` (an aware one for datetimes), ``get_db_prep_save`` is
    ``convert(value)`` (the value itself when ``None``), which skips the field's ``get_prep_value``/``to_python``
    round (the identity for such a value) and does only what the database adapter adds. ``(None, None)``: no shortcut.
    Exact field classes only: a subclass may prepare values its own way. ``tests/core/test_fastinsert.py`` compares
    the two for every field of every model."""
    ops = connection.ops
    cls = type(field)
    if cls in (models.CharField, models.TextField, models.EmailField, models.SlugField, models.URLField):
        return str, None
    if cls is models.BooleanField:
        return bool, None
    if cls is models.DateTimeField:
        return datetime, ops.adapt_datetimefield_value
    if cls in _INTEGER_FIELDS:
        internal = field.get_internal_type()
        return int, lambda value: ops.adapt_integerfield_value(value, internal)
    if cls is models.ForeignKey and type(field.target_field) in (models.AutoField, models.BigAutoField):
        return int, ops.validate_autopk_value
    return None, None


_INTEGER_FIELDS = (
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.PositiveBigIntegerField,
)
_prepared_fields: dict[tuple[str, type], list[tuple]] = {}


def _statement(model: type[Model], objs: list[Model], fields: list, using: str) -> tuple[str, tuple, bool] | None:
    """The ``INSERT`` for ``len(objs)`` rows of ``model`` (compiled on first use), or None: not a plain one."""
    key = (using, model, len(objs))
    if key in _compiled:
        return _compiled[key]
    connection = connections[using]
    returning = tuple(model._meta.db_returning_fields)
    compiled = None
    plain = (
        connection.features.can_return_columns_from_insert
        and (len(objs) == 1 or connection.features.can_return_rows_from_bulk_insert)
        and not any(hasattr(field, "get_placeholder") for field in fields)
    )
    if plain:
        query = InsertQuery(model)
        query.insert_values(fields, objs)
        compiler = query.get_compiler(using=using)
        compiler.returning_fields = list(returning)
        statements = compiler.as_sql()
        converters = compiler.get_converters([field.get_col(model._meta.db_table) for field in returning])
        if len(statements) == 1 and not converters:
            sql, params = statements[0]
            # Django writes several rows either as VALUES (one parameter per value) or, on PostgreSQL, through
            # UNNEST (one array parameter per column). Anything else keeps the plain path.
            if len(params) == len(fields) * len(objs):
                compiled = (sql, returning, False)
            elif len(objs) > 1 and len(params) == len(fields) and "UNNEST" in sql:
                compiled = (sql, returning, True)
    with _lock:
        _compiled[key] = compiled
    return compiled


def _slow(model: type[Model], objs: list[Model], using: str) -> list[Model]:
    if len(objs) > 1 and _plain_save(model):
        return model._default_manager.using(using).bulk_create(objs)
    for obj in objs:
        obj.save(force_insert=True, using=using)
    return objs
