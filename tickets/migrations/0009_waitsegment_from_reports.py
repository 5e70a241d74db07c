"""WaitSegment moves here from reports, keeping its table (reports_waitsegment) and rows.

State only; the content type (and so the permissions) is re-labelled. reports 0007 then removes the
model from the reports state."""

import django.db.models.deletion
from django.db import migrations, models

from core.contenttypes import move_content_types


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0008_move_deferrals_and_routing_out'),
        ('reports', '0006_ticket_rollups'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        # The table exists already: the model only changes app in Django's state.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='WaitSegment',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('started_at', models.DateTimeField(verbose_name='started')),
                        ('ended_at', models.DateTimeField(blank=True, null=True, verbose_name='ended')),
                        ('business_seconds', models.FloatField(blank=True, null=True, verbose_name='business time (s)')),
                        ('customer', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tickets.customer', verbose_name='customer')),
                        ('queue', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tickets.queue', verbose_name='queue')),
                        ('reason', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tickets.blockingreason', verbose_name='blocking reason')),
                        ('ticket', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='wait_segments', to='tickets.ticket')),
                    ],
                    options={
                        'verbose_name': 'waiting segment',
                        'verbose_name_plural': 'waiting segments',
                        'db_table': 'reports_waitsegment',
                        'ordering': ['started_at', 'id'],
                    },
                ),
                migrations.AddIndex(
                    model_name='waitsegment',
                    index=models.Index(fields=['ended_at', 'reason'], name='wait_ended_reason'),
                ),
                migrations.AddIndex(
                    model_name='waitsegment',
                    index=models.Index(fields=['ticket', 'started_at'], name='wait_ticket'),
                ),
                migrations.AddConstraint(
                    model_name='waitsegment',
                    constraint=models.UniqueConstraint(condition=models.Q(('ended_at__isnull', True)), fields=('ticket',), name='wait_one_open'),
                ),
            ],
            database_operations=[],
        ),
        move_content_types("reports", "tickets", ["waitsegment"]),
    ]
