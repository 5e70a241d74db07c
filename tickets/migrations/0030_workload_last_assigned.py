"""Each person's last automatic assignment moves from ``Profile`` to ``Workload`` (issue 18).

Routing wrote it with an ``UPDATE`` of the profile after every assignment, beside the upsert of the person's
open-ticket count; on the count's row it goes in that same upsert (``tickets.workload.routed``): one statement fewer
for every routed ticket. The times are copied over first (a workload row is created for anyone routed who has none).
"""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_forward(apps, schema_editor):
    Profile = apps.get_model("tickets", "Profile")
    Workload = apps.get_model("tickets", "Workload")
    db = schema_editor.connection.alias
    times = Profile.objects.using(db).filter(last_assigned_at__isnull=False).values_list("user_id", "last_assigned_at")
    Workload.objects.using(db).bulk_create(
        [Workload(user_id=user_id, last_assigned_at=at) for user_id, at in times],
        update_conflicts=True,
        unique_fields=["user"],
        update_fields=["last_assigned_at"],
        batch_size=1000,
    )


def copy_back(apps, schema_editor):
    Profile = apps.get_model("tickets", "Profile")
    Workload = apps.get_model("tickets", "Workload")
    db = schema_editor.connection.alias
    times = Workload.objects.using(db).filter(user_id=OuterRef("user_id")).values("last_assigned_at")[:1]
    Profile.objects.using(db).update(last_assigned_at=Subquery(times))  # one statement, as forward


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0029_ticket_fk_indexes_covered"),
    ]

    operations = [
        migrations.AddField(
            model_name="workload",
            name="last_assigned_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="last routed a ticket"),
        ),
        migrations.RunPython(copy_forward, copy_back),
        migrations.RemoveField(
            model_name="profile",
            name="last_assigned_at",
        ),
    ]
