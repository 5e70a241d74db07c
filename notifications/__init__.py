"""Notifications: one service (``notifications.service.notify``), an outbox delivered after commit,
channels, preferences, digests. See docs/notifications.md."""
