"""Django's ``ModelBackend`` with a person's permissions read in one query.

``ModelBackend`` reads permissions in two queries, the person's own and their groups', the first time a request
asks ``has_perm`` (every portal page does, through ``tickets.access``). :class:`ModelBackend` reads both in one
``UNION`` into the same cache (``user._perm_cache``); everything else is Django's. Django's own class stays listed
after it in ``AUTHENTICATION_BACKENDS``: sessions signed in through it before stay signed in, and its permission
checks answer from the cache this one filled.
"""

from __future__ import annotations

from django.contrib.auth import backends
from django.contrib.auth.models import Permission


class ModelBackend(backends.ModelBackend):
    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        """``ModelBackend.get_all_permissions``: the same set in the same cache, one query instead of two."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            columns = ("content_type__app_label", "codename")
            own = Permission.objects.filter(user=user_obj).order_by().values_list(*columns)
            of_groups = Permission.objects.filter(group__user=user_obj).order_by().values_list(*columns)
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in own.union(of_groups)}
        return user_obj._perm_cache
