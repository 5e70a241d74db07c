"""Take one email from standard input, for an MTA's pipe transport (docs/channels.md, "Receiving email").

    manage.py email_receive --channel "Support mailbox" < message.eml

Prints one JSON line: ``{"ticket": id, "message": id, "created": bool, "attachments": [ids]}``
(``"duplicate": true`` is added for a redelivery), ``{"ignored": "<reason>"}`` or
``{"failed": "<reason>"}`` (kept for an admin). Exit codes follow sendmail's ``sysexits.h``:
0 taken, ignored or kept as failed; 65 (``EX_DATAERR``) not an email at all, so the MTA bounces it;
75 (``EX_TEMPFAIL``) the database is unavailable or the channel is unknown or switched off,
so the MTA keeps the mail and retries.
"""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand
from django.db import InterfaceError, OperationalError

from channels.inbound.parse import Unparseable
from channels.inbound.receive import email_receive, record_unparseable
from tickets.models import Channel, IntakeChannel

EX_OK, EX_DATAERR, EX_TEMPFAIL = 0, 65, 75


class Command(BaseCommand):
    help = "Read one RFC 5322 email on standard input and take it into the named email intake channel."

    def add_arguments(self, parser):
        parser.add_argument("--channel", required=True, help="The name of the email intake channel.")

    def handle(self, *args, channel: str, **options):
        raw = sys.stdin.buffer.read()
        try:
            code, line = self._receive(channel, raw)
        except (OperationalError, InterfaceError) as error:
            code, line = EX_TEMPFAIL, {"error": f"database unavailable: {error}"}
        self.stdout.write(json.dumps(line, ensure_ascii=False))
        sys.exit(code)

    def _receive(self, name: str, raw: bytes) -> tuple[int, dict]:
        channel = (
            IntakeChannel.objects.select_related("default_queue", "default_type__default_queue")
            .filter(name=name, channel=Channel.EMAIL)
            .first()
        )
        if channel is None or not channel.is_active or channel.revoked_at is not None:
            self.stderr.write(f"No active email intake channel called {name!r}; the MTA will retry.")
            return EX_TEMPFAIL, {"error": "unknown or inactive channel"}
        try:
            received = email_receive(channel, raw)
        except Unparseable as error:
            record_unparseable(channel, raw, str(error))
            return EX_DATAERR, {"error": "not an email"}
        return EX_OK, received.as_json()
