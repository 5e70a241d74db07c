"""The full-text search index (``tickets/search_schema.py``): on PostgreSQL generated ``tsvector`` columns with
GIN indexes, on SQLite FTS5 tables kept by triggers. Each branch is a no-op on the other database."""

from django.db import migrations

from tickets import search_schema


def create(apps, schema_editor):
    search_schema.create(schema_editor.connection)


def drop(apps, schema_editor):
    search_schema.drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0020_ticket_updated_index")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
