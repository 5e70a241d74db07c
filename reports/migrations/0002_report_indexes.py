"""Indexes the report queries need on other apps' tables (not modelled there, so kept here as SQL).

- ``sla_slaclock (stopped_at, kind)``: clocks stopped in a period (compliance, times, calibration);
- ``tickets_ticket (done_at)``: tickets done in a period (closed on time, workload).
"""

from django.db import migrations

INDEXES = [
    ("reports_clock_stopped", "sla_slaclock", "stopped_at, kind"),
    ("reports_ticket_done", "tickets_ticket", "done_at"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_wait_segments"),
        ("sla", "0002_clock_generation_escalation_index"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, table, columns in INDEXES
    ]
