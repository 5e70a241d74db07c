"""The notification models (now in notifications) leave the escalations state.

State only: the tables (escalations_notification, escalations_delivery, ...) and rows stay, the models
in notifications 0001 use them. No model outside the moved ones points at them, so no foreign key needs
to be re-pointed first; deliveries (which point at notifications and digests) go first.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('escalations', '0005_level_clock_deadline'),
        ('notifications', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='Delivery'),
                migrations.DeleteModel(name='Digest'),
                migrations.DeleteModel(name='Notification'),
                migrations.DeleteModel(name='WebhookEndpoint'),
                migrations.DeleteModel(name='NotificationSettings'),
            ],
            database_operations=[],
        ),
    ]
