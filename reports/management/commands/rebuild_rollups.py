import json

from django.core.management.base import BaseCommand

from reports import rollups


class Command(BaseCommand):
    help = (
        "Rebuild the report rollups (clock facts and daily rollups per time zone) from the SLA clocks and print "
        "one JSON line with what was done; --refresh applies only the changes since the last run instead."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--refresh", action="store_true",
            help="Apply the changes since the previous run (what the every-minute schedule does).",
        )

    def handle(self, *args, refresh: bool, **options):
        result = rollups.refresh() if refresh else rollups.rebuild()
        self.stdout.write(json.dumps(result, default=str))
