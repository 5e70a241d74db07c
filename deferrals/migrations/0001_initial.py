"""DeferralCause and DeferralRequest move here from tickets, keeping their tables (tickets_deferral*) and rows.

State only; the content types (and so the permissions) are re-labelled. tickets 0008 then removes the
models from the tickets state."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from core.contenttypes import move_content_types


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('tickets', '0007_vip_rule_kind_label'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The tables exist already: the models only change app in Django's state.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='DeferralCause',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=120, verbose_name='name (English)')),
                        ('name_ru', models.CharField(blank=True, max_length=120, verbose_name='name (Russian)')),
                        ('code', models.SlugField(max_length=40, unique=True, verbose_name='code')),
                        ('is_active', models.BooleanField(default=True, verbose_name='active')),
                        ('position', models.PositiveSmallIntegerField(default=100, verbose_name='position')),
                    ],
                    options={
                        'verbose_name': 'deferral cause',
                        'verbose_name_plural': 'deferral causes',
                        'db_table': 'tickets_deferralcause',
                        'ordering': ['position', 'name'],
                    },
                ),
                migrations.CreateModel(
                    name='DeferralRequest',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('automatic', models.BooleanField(default=False, verbose_name='started automatically')),
                        ('explanation', models.TextField(blank=True, verbose_name='explanation')),
                        ('old_deadline', models.DateTimeField(verbose_name='deadline when requested')),
                        ('proposed_deadline', models.DateTimeField(blank=True, null=True, verbose_name='proposed deadline')),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('objective', 'Objective'), ('subjective', 'Subjective'), ('declined', 'Declined')], default='pending', max_length=12, verbose_name='decision')),
                        ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='decided')),
                        ('new_deadline', models.DateTimeField(blank=True, null=True, verbose_name='new deadline')),
                        ('comment', models.TextField(blank=True, verbose_name="manager's comment")),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='requested')),
                        ('addressed_to', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='deferrals_to_decide', to=settings.AUTH_USER_MODEL, verbose_name='addressed to')),
                        ('cause', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='deferrals.deferralcause', verbose_name='cause')),
                        ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='deferrals_decided', to=settings.AUTH_USER_MODEL, verbose_name='decided by')),
                        ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='deferral_requests', to=settings.AUTH_USER_MODEL, verbose_name='requested by')),
                        ('ticket', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deferrals', to='tickets.ticket', verbose_name='ticket')),
                    ],
                    options={
                        'verbose_name': 'deferral request',
                        'verbose_name_plural': 'deferral requests',
                        'db_table': 'tickets_deferralrequest',
                        'ordering': ['-created_at', '-id'],
                        'indexes': [models.Index(fields=['addressed_to', 'status'], name='deferral_addressed_status'), models.Index(fields=['requested_by', 'decided_at'], name='deferral_requester_decided'), models.Index(fields=['status', 'decided_at'], name='deferral_status_decided')],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('status', 'pending')), fields=('ticket',), name='deferral_one_pending_per_ticket'), models.UniqueConstraint(condition=models.Q(('automatic', True)), fields=('ticket', 'old_deadline'), name='deferral_automatic_once'), models.CheckConstraint(condition=models.Q(models.Q(('decided_at__isnull', True), ('decided_by__isnull', True), ('new_deadline__isnull', True), ('status', 'pending')), models.Q(('decided_at__isnull', False), ('decided_by__isnull', False), ('new_deadline__isnull', True), ('status', 'declined')), models.Q(('decided_at__isnull', False), ('decided_by__isnull', False), ('new_deadline__isnull', False), ('status__in', ['objective', 'subjective'])), _connector='OR'), name='deferral_decision_complete'), models.CheckConstraint(condition=models.Q(('decided_by', models.F('requested_by')), _negated=True), name='deferral_not_self_decided')],
                    },
                ),
            ],
            database_operations=[],
        ),
        move_content_types("tickets", "deferrals", ['deferralcause', 'deferralrequest']),
    ]
