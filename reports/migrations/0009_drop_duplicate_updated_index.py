"""Drop ``reports_ticket_updated``: the same index as the ticket model's own ``ticket_updated`` (``updated_at``).

Both were written for every new version of every ticket row; the rollup upkeep's scan of changed tickets
(``reports.rollups.changed_tickets``) reads ``ticket_updated`` as well. Issue 18: a ticket row has fewer indexes to
write (this, and the single-column indexes of customer, owner and performer in ``tickets`` 0029).
"""

from django.db import migrations


def drop(apps, schema_editor):
    schema_editor.execute("DROP INDEX IF EXISTS reports_ticket_updated")


def create(apps, schema_editor):
    schema_editor.execute("CREATE INDEX IF NOT EXISTS reports_ticket_updated ON tickets_ticket (updated_at)")


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0008_open_ticket_index"),
    ]

    operations = [migrations.RunPython(drop, create)]
