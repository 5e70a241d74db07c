"""A partial covering index of the open tickets for the dashboard's "now" figures (issue 18).

Open, without performer, without next step, next step overdue, waiting by reason and the open work per person
and per queue are one grouped count over the open tickets in scope (``reports.dashboard.now.open_tickets``).
This index holds only the open tickets (its condition is the one ``status__in=OPEN_STATUSES`` renders) with
the columns that count reads, so the count reads the index alone, whatever the number of closed tickets, and
the viewer's visibility (queue, performer, owner, approver, type) is checked on the index entry. Without it
SQLite scanned the whole table for a queue manager (the OR of the visibility columns hides the status index).

PostgreSQL keys it on (queue, performer) and carries the rest (``INCLUDE``), ``id`` too for an index-only scan.
"""

from django.db import migrations

NAME = "reports_ticket_open"
OPEN = "status IN ('new', 'assigned', 'in_progress', 'waiting', 'on_approval')"
CARRIED = "status, blocking_reason_id, owner_id, approver_id, ticket_type_id, next_step_due, next_step"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        columns = f"queue_id, performer_id) INCLUDE (id, {CARRIED}"
    else:
        columns = f"queue_id, performer_id, {CARRIED}"
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {NAME} ON tickets_ticket ({columns}) WHERE {OPEN}")


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0007_move_waitsegment_out"),
        ("tickets", "0022_satisfaction_surveys"),
    ]

    operations = [migrations.RunPython(create, drop)]
