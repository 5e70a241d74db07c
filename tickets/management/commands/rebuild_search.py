"""``manage.py rebuild_search``: recompute the full-text search index (recovery only; docs/search.md)."""

from django.core.management.base import BaseCommand
from django.db import connection

from tickets import search_schema


class Command(BaseCommand):
    help = "Recompute the search index of every ticket title and message (not needed in normal operation)."

    def handle(self, *args, **options):
        count = search_schema.rebuild(connection)
        self.stdout.write(f"Search index rebuilt on {connection.vendor}: {count} rows.")
