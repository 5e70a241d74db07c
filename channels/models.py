"""Channels: the outbox of messages to customers and the mailboxes OpsDesk reads (docs/channels.md)."""
