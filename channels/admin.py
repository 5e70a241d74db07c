"""Admin of the channels app (docs/channels.md)."""

from channels.inbound import admin as inbound_admin  # noqa: F401 - mailboxes and received emails
