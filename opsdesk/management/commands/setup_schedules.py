from django.core.management.base import BaseCommand

from opsdesk.schedules import register_schedules


class Command(BaseCommand):
    help = "Create or update the django-q2 schedules of OpsDesk (idempotent; run on every deploy)."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default", help="Database alias.")

    def handle(self, *args, database, **options):
        for name in register_schedules(using=database):
            self.stdout.write(f"schedule {name}: ok")
