"""The notification models move here from escalations, keeping their tables (escalations_*) and rows.

State only; the content types (and so the permissions) are re-labelled. escalations 0006 then removes
the models from the escalations state."""

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import notifications.models
from django.conf import settings
from django.db import migrations, models

from core.contenttypes import move_content_types


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('escalations', '0005_level_clock_deadline'),
        ('tickets', '0007_vip_rule_kind_label'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The tables exist already: the models only change app in Django's state.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Digest',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('channel', models.CharField(choices=[('email', 'Email'), ('webhook', 'Messenger (webhook)'), ('sms', 'SMS')], max_length=10, verbose_name='channel')),
                        ('size', models.PositiveIntegerField(verbose_name='notifications')),
                        ('sent_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='sent')),
                        ('recipient', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='recipient')),
                    ],
                    options={
                        'verbose_name': 'digest',
                        'verbose_name_plural': 'digests',
                        'db_table': 'escalations_digest',
                        'ordering': ['-sent_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='Notification',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(help_text='What happened, e.g. escalation.level_1.', max_length=60, verbose_name='kind')),
                        ('urgency', models.CharField(choices=[('routine', 'Routine'), ('important', 'Important'), ('critical', 'Critical')], default='routine', max_length=10, verbose_name='urgency')),
                        ('title', models.CharField(max_length=200, verbose_name='title')),
                        ('body', models.TextField(blank=True, verbose_name='text')),
                        ('url', models.CharField(blank=True, max_length=500, verbose_name='link')),
                        ('dedupe_key', models.CharField(blank=True, max_length=200, null=True, verbose_name='deduplication key')),
                        ('in_app', models.BooleanField(default=True, help_text='Off when the recipient chose no in-app notices.', verbose_name='shown in the inbox')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created')),
                        ('read_at', models.DateTimeField(blank=True, null=True, verbose_name='read')),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='caused by')),
                        ('recipient', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL, verbose_name='recipient')),
                        ('ticket', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='notifications', to='tickets.ticket', verbose_name='ticket')),
                    ],
                    options={
                        'verbose_name': 'notification',
                        'verbose_name_plural': 'notifications',
                        'db_table': 'escalations_notification',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='Delivery',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('channel', models.CharField(choices=[('email', 'Email'), ('webhook', 'Messenger (webhook)'), ('sms', 'SMS')], max_length=10, verbose_name='channel')),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('sending', 'Sending'), ('sent', 'Sent'), ('failed', 'Failed'), ('skipped', 'Skipped')], default='pending', max_length=10, verbose_name='status')),
                        ('digestible', models.BooleanField(default=False, help_text='Routine notices are held and grouped into one message.', verbose_name='may join a digest')),
                        ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='attempts')),
                        ('next_attempt_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='next attempt')),
                        ('claimed_at', models.DateTimeField(blank=True, null=True, verbose_name='claimed')),
                        ('claim_token', models.UUIDField(blank=True, editable=False, null=True, verbose_name='claim')),
                        ('last_error', models.TextField(blank=True, verbose_name='last error')),
                        ('result', models.CharField(blank=True, max_length=300, verbose_name='result')),
                        ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='sent')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created')),
                        ('recipient', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='recipient')),
                        ('digest', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='deliveries', to='notifications.digest', verbose_name='digest')),
                        ('notification', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='notifications.notification', verbose_name='notification')),
                    ],
                    options={
                        'verbose_name': 'delivery',
                        'verbose_name_plural': 'deliveries',
                        'db_table': 'escalations_delivery',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='NotificationSettings',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('routine_channels', models.JSONField(blank=True, default=notifications.models.default_routine_channels, verbose_name='routine notices')),
                        ('important_channels', models.JSONField(blank=True, default=notifications.models.default_important_channels, verbose_name='important notices')),
                        ('critical_channels', models.JSONField(blank=True, default=notifications.models.default_critical_channels, verbose_name='critical notices')),
                        ('digest_window_minutes', models.PositiveSmallIntegerField(default=15, help_text='Routine notices within this window arrive as one message; 0 sends each at once.', validators=[django.core.validators.MaxValueValidator(240)], verbose_name='digest window (minutes)')),
                        ('quiet_hours', models.BooleanField(default=True, help_text='Off shift, non-critical notices wait for the start of your next working window.', verbose_name='quiet hours')),
                        ('messenger_handle', models.CharField(blank=True, max_length=64, verbose_name='messenger handle')),
                        ('phone', models.CharField(blank=True, max_length=32, verbose_name='phone for SMS')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                        ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='notification_settings', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'notification settings',
                        'verbose_name_plural': 'notification settings',
                        'db_table': 'escalations_notificationsettings',
                    },
                ),
                migrations.CreateModel(
                    name='WebhookEndpoint',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100, unique=True, verbose_name='name')),
                        ('url', models.CharField(max_length=500, validators=[django.core.validators.URLValidator(schemes=['http', 'https'])], verbose_name='URL')),
                        ('secret', models.CharField(default=notifications.models._new_secret, help_text='Shared with the bridge: it checks X-OpsDesk-Signature, an HMAC-SHA256 of the body.', max_length=200, verbose_name='signing secret')),
                        ('is_active', models.BooleanField(default=True, help_text='Only one endpoint can be active.', verbose_name='active')),
                        ('timeout', models.PositiveSmallIntegerField(default=5, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(60)], verbose_name='timeout (seconds)')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created')),
                    ],
                    options={
                        'verbose_name': 'webhook endpoint',
                        'verbose_name_plural': 'webhook endpoints',
                        'db_table': 'escalations_webhookendpoint',
                        'ordering': ['name'],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('is_active', True)), fields=('is_active',), name='webhook_one_active')],
                    },
                ),
                migrations.AddIndex(
                    model_name='notification',
                    index=models.Index(fields=['recipient', 'in_app', '-created_at'], name='notification_inbox'),
                ),
                migrations.AddIndex(
                    model_name='notification',
                    index=models.Index(condition=models.Q(('in_app', True), ('read_at__isnull', True)), fields=['recipient'], name='notification_unread'),
                ),
                migrations.AddConstraint(
                    model_name='notification',
                    constraint=models.UniqueConstraint(condition=models.Q(('dedupe_key__isnull', False)), fields=('recipient', 'dedupe_key'), name='notification_dedupe_once'),
                ),
                migrations.AddIndex(
                    model_name='delivery',
                    index=models.Index(condition=models.Q(('status', 'pending')), fields=['next_attempt_at'], name='delivery_pending_due'),
                ),
                migrations.AddIndex(
                    model_name='delivery',
                    index=models.Index(condition=models.Q(('digestible', True), ('status', 'pending')), fields=['recipient', 'channel', 'next_attempt_at'], name='delivery_digest_group'),
                ),
                migrations.AddIndex(
                    model_name='delivery',
                    index=models.Index(condition=models.Q(('status', 'sending')), fields=['claimed_at'], name='delivery_sending'),
                ),
                migrations.AddIndex(
                    model_name='delivery',
                    index=models.Index(condition=models.Q(('claim_token__isnull', False)), fields=['claim_token'], name='delivery_claim'),
                ),
                migrations.AddIndex(
                    model_name='delivery',
                    index=models.Index(fields=['status', '-created_at'], name='delivery_status_created'),
                ),
                migrations.AddConstraint(
                    model_name='delivery',
                    constraint=models.UniqueConstraint(fields=('notification', 'channel'), name='delivery_once_per_channel'),
                ),
            ],
            database_operations=[],
        ),
        move_content_types("escalations", "notifications", ['notification', 'digest', 'delivery', 'webhookendpoint', 'notificationsettings']),
    ]
