"""Channels: the outbox of messages to customers and the mailboxes OpsDesk reads (docs/channels.md)."""

from channels.inbound.models import InboundEmail, Mailbox  # noqa: F401 - receiving email
