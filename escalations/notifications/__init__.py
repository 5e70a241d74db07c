"""Notifications: one service (``notify``), an outbox delivered after commit, channels, preferences, digests.

See docs/notifications.md. Import the service from here::

    from escalations.notifications import notify
    from escalations.notifications import Notice, notify_many  # many at once, in a constant number of queries
"""

from .service import Notice, notify, notify_many

__all__ = ["Notice", "notify", "notify_many"]
