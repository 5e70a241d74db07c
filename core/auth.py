"""Django's ``ModelBackend`` with the signed-in person and their permissions read by statements compiled once.

Every portal request loads its user from the session and asks ``has_perm`` (through ``tickets.access``). Django
compiles both queries anew each time, and reads permissions in two queries, the person's own and their groups'.
:class:`ModelBackend` reads the user with the relations every page uses (``AUTH_USER_SELECT_RELATED`` in the
settings, none if it is not set: OpsDesk names the profile with the person's time zone and language) in one query,
and both kinds of permission in one ``UNION`` into the same cache (``user._perm_cache``); each statement is
compiled once per process (``core.rowcache.Precompiled``). Everything else is Django's. Django's own class stays
listed after it in ``AUTHENTICATION_BACKENDS``: sessions signed in through it before stay signed in, and its
permission checks answer from the cache this one filled.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import backends, get_user_model
from django.contrib.auth.models import Permission
from django.db import router

from core.forms import PK_MAX
from core.rowcache import Precompiled


class ModelBackend(backends.ModelBackend):
    def get_user(self, user_id):
        """``ModelBackend.get_user``, with the ``AUTH_USER_SELECT_RELATED`` relations in the same query."""
        model = get_user_model()
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        found = _USER.objects(pk, using=router.db_for_read(model)) if abs(pk) <= PK_MAX else []
        return found[0] if found and self.user_can_authenticate(found[0]) else None

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        """``ModelBackend.get_all_permissions``: the same set in the same cache, one query instead of two."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            rows = _PERMISSIONS.rows(user_obj.pk, user_obj.pk, using=router.db_for_read(Permission))
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._perm_cache


# Stand for the person while the SQL is compiled: nobody has them.
_USER = Precompiled(
    lambda pk: get_user_model()
    ._default_manager.select_related(*getattr(settings, "AUTH_USER_SELECT_RELATED", ()))
    .filter(pk=pk),
    -7_100_903,
    prepare=True,
)
_COLUMNS = ("content_type__app_label", "codename")
_PERMISSIONS = Precompiled(
    lambda own, grouped: Permission.objects.filter(user__pk=own)
    .order_by()
    .values_list(*_COLUMNS)
    .union(Permission.objects.filter(group__user__pk=grouped).order_by().values_list(*_COLUMNS)),
    -7_100_904,
    -7_100_905,
    prepare=True,
)
