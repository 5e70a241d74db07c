"""A level's name becomes optional: empty, it is derived from trigger, clock and audience (issue 19).

The names the shipped ladders carried ("Warning: 50 % used" …) are emptied where an admin has not changed
them, so they follow their trigger from now on; a name an admin wrote stays.
"""

from django.db import migrations, models

# The names escalations.defaults shipped before this migration: {ladder: {order: name}} (a copy, kept stable).
SHIPPED_NAMES = {
    "Default ladder": {10: "Warning: 50 % used", 15: "30 minutes left", 20: "Level 1: 80 % used",
                       25: "Deadline passed", 30: "Level 2: breached", 40: "Level 3: overdue by 100 %"},
    "VIP ladder": {10: "VIP threat: 50 % used", 20: "VIP threat: 80 % used", 25: "Deadline passed",
                   30: "VIP breached", 40: "VIP overdue by 100 %"},
}


def empty_shipped_names(apps, schema_editor):
    EscalationLevel = apps.get_model("escalations", "EscalationLevel")
    for ladder, names in SHIPPED_NAMES.items():
        for order, name in names.items():
            EscalationLevel.objects.filter(policy__name=ladder, order=order, name=name).update(name="")


def restore_shipped_names(apps, schema_editor):
    EscalationLevel = apps.get_model("escalations", "EscalationLevel")
    for ladder, names in SHIPPED_NAMES.items():
        for order, name in names.items():
            EscalationLevel.objects.filter(policy__name=ladder, order=order, name="").update(name=name)


class Migration(migrations.Migration):

    dependencies = [
        ("escalations", "0007_firing_actions_pending"),
    ]

    operations = [
        migrations.AlterField(
            model_name="escalationlevel",
            name="name",
            field=models.CharField(
                blank=True,
                help_text="Empty: named after its trigger, clock and audience in the reader's language.",
                max_length=120,
                verbose_name="name",
            ),
        ),
        migrations.RunPython(empty_shipped_names, restore_shipped_names),
    ]
