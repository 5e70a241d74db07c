"""Who may do what in routing: the queue monitor and pull queues."""

from __future__ import annotations

from tickets import access


def can_monitor(user) -> bool:
    """Dispatchers, managers and admins watch queues; engineers do not."""
    return bool(access.roles_of(user) & {access.DISPATCHER, access.MANAGER, access.ADMIN}) or user.is_superuser
