"""Row locks for services: re-read a row under ``SELECT … FOR UPDATE`` and refresh the caller's object."""

from __future__ import annotations

from django.db import models


def lock(obj: models.Model) -> models.Model:
    """Lock ``obj``'s row for the rest of the transaction and copy its fresh column values onto ``obj``.

    Callers keep their object (and its cached relations) while seeing the state another
    transaction may have committed just before the lock was granted.
    """
    model = type(obj)
    fresh = model._default_manager.select_for_update().get(pk=obj.pk)
    for field in model._meta.concrete_fields:
        setattr(obj, field.attname, getattr(fresh, field.attname))
    return obj
