"""WaitSegment (now in tickets) leaves the reports state.

State only: the table reports_waitsegment and its rows stay, the model in tickets 0009 uses them.
Nothing points at it, so no foreign key needs to be re-pointed first.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0006_ticket_rollups'),
        ('tickets', '0009_waitsegment_from_reports'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='WaitSegment'),
            ],
            database_operations=[],
        ),
    ]
