"""Notifications: one service (``notify``), an outbox delivered after commit, channels, preferences, digests.

See docs/notifications.md. Import the service from here::

    from escalations.notifications import notify
"""

from .service import notify

__all__ = ["notify"]
