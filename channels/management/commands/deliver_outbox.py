"""``manage.py deliver_outbox``: one delivery pass of the customer outbox, now, in this process."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from channels import outbox


class Command(BaseCommand):
    help = 'Send every due reply to customers once; prints {"sent": n, "failed": n, "retrying": n}.'

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(outbox.deliver_pending()))
