"""The routing and VIP models move here from tickets, keeping their tables (tickets_*) and rows.

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
                    name='Skill',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=120, verbose_name='name (English)')),
                        ('name_ru', models.CharField(blank=True, max_length=120, verbose_name='name (Russian)')),
                        ('code', models.SlugField(max_length=40, unique=True, verbose_name='code')),
                    ],
                    options={
                        'verbose_name': 'skill',
                        'verbose_name_plural': 'skills',
                        'db_table': 'tickets_skill',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='ClassificationRule',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('keywords', models.TextField(help_text='Comma- or line-separated words or phrases; any one matching is enough.', verbose_name='keywords')),
                        ('position', models.PositiveSmallIntegerField(default=100, help_text='Lower is tried first.', verbose_name='position')),
                        ('active', models.BooleanField(default=True, verbose_name='active')),
                        ('hits', models.PositiveIntegerField(default=0, editable=False, verbose_name='tickets classified')),
                        ('corrections', models.PositiveIntegerField(default=0, editable=False, verbose_name='corrected by dispatchers')),
                        ('ticket_type', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tickets.tickettype', verbose_name='type')),
                    ],
                    options={
                        'verbose_name': 'classification rule',
                        'verbose_name_plural': 'classification rules',
                        'db_table': 'tickets_classificationrule',
                        'ordering': ['position', 'pk'],
                    },
                ),
                migrations.CreateModel(
                    name='VipRule',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('turnover_threshold', 'Turnover over the last N months at least an amount'), ('top_percent', 'Top X percent of customers by turnover over the last N months'), ('strategic_partner', 'Strategic partner'), ('premium_contract', 'Premium contract (until it ends)')], max_length=24, verbose_name='kind')),
                        ('months', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='months')),
                        ('amount', models.DecimalField(blank=True, decimal_places=2, max_digits=16, null=True, verbose_name='amount')),
                        ('percent', models.DecimalField(blank=True, decimal_places=2, max_digits=5, null=True, verbose_name='percent')),
                        ('active', models.BooleanField(default=True, verbose_name='active')),
                        ('tier', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='rules', to='tickets.viptier', verbose_name='tier')),
                    ],
                    options={
                        'verbose_name': 'VIP rule',
                        'verbose_name_plural': 'VIP rules',
                        'db_table': 'tickets_viprule',
                        'ordering': ['-tier__rank', 'pk'],
                    },
                ),
                migrations.CreateModel(
                    name='CustomerTierChange',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('reason', models.CharField(max_length=300, verbose_name='reason')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='when')),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='who')),
                        ('customer', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='tier_changes', to='tickets.customer', verbose_name='customer')),
                        ('from_tier', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='tickets.viptier', verbose_name='from')),
                        ('to_tier', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='tickets.viptier', verbose_name='to')),
                    ],
                    options={
                        'verbose_name': 'tier change',
                        'verbose_name_plural': 'tier changes',
                        'db_table': 'tickets_customertierchange',
                        'ordering': ['-created_at', '-id'],
                        'indexes': [models.Index(fields=['customer', 'created_at'], name='tier_change_customer')],
                    },
                ),
                migrations.CreateModel(
                    name='CustomerTurnover',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('date', models.DateField(verbose_name='date')),
                        ('amount', models.DecimalField(decimal_places=2, max_digits=16, verbose_name='amount')),
                        ('reference', models.CharField(blank=True, max_length=120, verbose_name='reference')),
                        ('customer', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='turnover', to='tickets.customer', verbose_name='customer')),
                    ],
                    options={
                        'verbose_name': 'customer turnover',
                        'verbose_name_plural': 'customer turnover',
                        'db_table': 'tickets_customerturnover',
                        'ordering': ['-date', '-id'],
                        'indexes': [models.Index(fields=['date', 'customer'], name='turnover_date_customer')],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('reference', ''), _negated=True), fields=('customer', 'reference'), name='turnover_reference_once')],
                    },
                ),
                migrations.CreateModel(
                    name='AgentSkill',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('level', models.PositiveSmallIntegerField(choices=[(1, '1'), (2, '2'), (3, '3'), (4, '4'), (5, '5')], default=1, verbose_name='level')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='skills', to=settings.AUTH_USER_MODEL, verbose_name='agent')),
                        ('skill', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='agents', to='routing.skill', verbose_name='skill')),
                    ],
                    options={
                        'verbose_name': 'agent skill',
                        'verbose_name_plural': 'agent skills',
                        'db_table': 'tickets_agentskill',
                        'constraints': [models.UniqueConstraint(fields=('user', 'skill'), name='agent_skill_once')],
                    },
                ),
                migrations.CreateModel(
                    name='TicketSkip',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('reason', models.CharField(max_length=300, verbose_name='reason')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='when')),
                        ('queue', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='skips', to='tickets.queue', verbose_name='queue')),
                        ('ticket', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='skips', to='tickets.ticket', verbose_name='ticket')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='ticket_skips', to=settings.AUTH_USER_MODEL, verbose_name='agent')),
                    ],
                    options={
                        'verbose_name': 'skipped ticket',
                        'verbose_name_plural': 'skipped tickets',
                        'db_table': 'tickets_ticketskip',
                        'ordering': ['-created_at', '-id'],
                        'indexes': [models.Index(fields=['queue', 'created_at'], name='skip_queue_created')],
                        'constraints': [models.UniqueConstraint(fields=('ticket', 'user'), name='skip_once_per_agent')],
                    },
                ),
                migrations.CreateModel(
                    name='TicketTypeSkill',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('min_level', models.PositiveSmallIntegerField(choices=[(1, '1'), (2, '2'), (3, '3'), (4, '4'), (5, '5')], default=1, verbose_name='minimum level')),
                        ('skill', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='routing.skill', verbose_name='skill')),
                        ('ticket_type', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='required_skills', to='tickets.tickettype')),
                    ],
                    options={
                        'verbose_name': 'required skill',
                        'verbose_name_plural': 'required skills',
                        'db_table': 'tickets_tickettypeskill',
                        'constraints': [models.UniqueConstraint(fields=('ticket_type', 'skill'), name='ticket_type_skill_once')],
                    },
                ),
            ],
            database_operations=[],
        ),
        move_content_types("tickets", "routing", ['skill', 'agentskill', 'tickettypeskill', 'ticketskip', 'classificationrule', 'customerturnover', 'viprule', 'customertierchange']),
    ]
