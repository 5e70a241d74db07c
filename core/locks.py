"""Row locks for services: re-read a row under ``SELECT … FOR UPDATE`` and refresh the caller's object."""

from __future__ import annotations

from django.db import models, router

from core.rowcache import Precompiled

_PLACEHOLDER_PK = -7_100_101  # stands for the key while the SQL is compiled: no row has it, and it fits 32 bits
_compiled: dict[type, Precompiled] = {}


def _locking_read(model: type[models.Model]) -> Precompiled:
    """``model``'s ``select_for_update().filter(pk=…)``, compiled once per process (it runs on every write)."""
    read = _compiled.get(model)
    if read is None:
        read = _compiled[model] = Precompiled(
            lambda pk: model._default_manager.select_for_update().filter(pk=pk), _PLACEHOLDER_PK, prepare=True
        )
    return read


def lock(obj: models.Model) -> models.Model:
    """Lock ``obj``'s row for the rest of the transaction and copy its fresh column values onto ``obj``.

    Callers keep their object (and its cached relations) while seeing the state another
    transaction may have committed just before the lock was granted.
    """
    model = type(obj)
    using = router.db_for_write(model)
    if isinstance(model._meta.pk, models.IntegerField):  # the placeholder is a number
        found = _locking_read(model).objects(obj.pk, using=using)
        if not found:
            raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")
        fresh = found[0]
    else:
        fresh = model._default_manager.select_for_update().get(pk=obj.pk)
    for field in model._meta.concrete_fields:
        setattr(obj, field.attname, getattr(fresh, field.attname))
    return obj
