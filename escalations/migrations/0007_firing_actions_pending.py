"""Firings keep a level's ticket-changing actions pending (``actions_due_at``) until the sweep's action step
runs them through the ticket services; a partial index covers only the pending ones.

Existing firings ran their actions in the sweep that fired them: NULL (nothing pending) is right for them.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('escalations', '0006_move_notifications_out'),
    ]

    operations = [
        migrations.AddField(
            model_name='firing',
            name='actions_due_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='actions due'),
        ),
        migrations.AddIndex(
            model_name='firing',
            index=models.Index(condition=models.Q(('actions_due_at__isnull', False)), fields=['actions_due_at', 'id'], name='firing_actions_pending'),
        ),
    ]
