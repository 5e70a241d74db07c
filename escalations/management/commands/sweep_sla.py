import json
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from escalations.sweep import sweep


def _instant(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--now must be an ISO-8601 instant, not {value!r}") from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


class Command(BaseCommand):
    help = "Run one escalation sweep now (or as of --now) and print one JSON line with what it did."

    def add_arguments(self, parser):
        parser.add_argument("--now", type=_instant, default=None, help="ISO-8601 instant (default: now).")

    def handle(self, *args, now, **options):
        result = sweep(now)
        self.stdout.write(json.dumps(result, sort_keys=False))
