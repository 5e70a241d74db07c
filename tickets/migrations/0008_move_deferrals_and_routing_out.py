"""The deferral models (now in deferrals) and the routing and VIP models (now in routing) leave the tickets state.

State only: the tables (tickets_deferral*, tickets_skill, ...) and rows stay, the models in deferrals 0001
and routing 0001 use them. No model outside the moved ones points at them, so no foreign key needs to be
re-pointed first; the models that point at another moved model go before it.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0007_vip_rule_kind_label'),
        ('deferrals', '0001_initial'),
        ('routing', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='DeferralRequest'),
                migrations.DeleteModel(name='DeferralCause'),
                migrations.DeleteModel(name='AgentSkill'),
                migrations.DeleteModel(name='TicketTypeSkill'),
                migrations.DeleteModel(name='Skill'),
                migrations.DeleteModel(name='TicketSkip'),
                migrations.DeleteModel(name='ClassificationRule'),
                migrations.DeleteModel(name='CustomerTurnover'),
                migrations.DeleteModel(name='VipRule'),
                migrations.DeleteModel(name='CustomerTierChange'),
            ],
            database_operations=[],
        ),
    ]
