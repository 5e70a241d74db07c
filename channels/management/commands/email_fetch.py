"""Poll the IMAP mailboxes once (the django-q2 schedule does it every minute); docs/channels.md.

    manage.py email_fetch [--channel "Support mailbox"]

Prints one JSON line per mailbox: ``{"channel", "fetched", "created", "appended", "ignored", "failed"}``
(plus ``"error"`` when the mailbox could not be read). Exits 1 when any mailbox reported an error.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from channels.inbound.imap import poll_mailboxes


class Command(BaseCommand):
    help = "Read every active mailbox once (or the one of the named channel) and take its new emails."

    def add_arguments(self, parser):
        parser.add_argument("--channel", help="Only the mailbox of this intake channel (even when switched off).")

    def handle(self, *args, channel: str | None = None, **options):
        results = poll_mailboxes(channel)
        if channel and not results:
            raise CommandError(f"No mailbox for an intake channel called {channel!r}.")
        for result in results:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        if any("error" in result for result in results):
            raise CommandError('Some mailboxes could not be read (see "error" above).')
